"""The shell: launcher, scenario pages, applicant panel, status bar; clerk and kiosk modes.

The window owns no business rules: it shows the Workstation core, and every blocking call goes
through the TaskRunner. A session's end destroys every scenario page, so no widget keeps the
applicant's data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import QObject, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCloseEvent, QResizeEvent
from PyQt6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from workstation.ui.kiosk import CountdownOverlay, IdleWatcher
from workstation.ui.tasks import TaskRunner
from workstation.ui.widgets import BusyOverlay, FieldRow, Notice, primary_button

if TYPE_CHECKING:  # the core's modules are imported when it arrives, after the first paint
    from workstation.manifest import Audience, ScenarioManifest
    from workstation.plugins import PluginLoadError
    from workstation.services.session import ApplicantSession

log = logging.getLogger(__name__)


class _Bridge(QObject):
    """Carries core callbacks to the GUI thread (directly from it, queued from workers)."""

    session_changed = pyqtSignal(str)
    link_changed = pyqtSignal()


class SignInPage(QWidget):
    submitted = pyqtSignal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setMaximumWidth(420)
        layout = QVBoxLayout(box)
        title = QLabel("<h2>窗口人员登录</h2>")
        self.username = FieldRow("用户名")
        self.password = FieldRow("密码")
        self.password.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.notice = Notice()
        self.hint = QLabel("演示环境账号：demo　密码：demo1234")
        self.hint.hide()
        self.button = primary_button("登录")
        layout.addWidget(title)
        layout.addWidget(self.username)
        layout.addWidget(self.password)
        layout.addWidget(self.notice)
        layout.addWidget(self.button)
        layout.addWidget(self.hint)
        outer.addWidget(box, alignment=Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.button.clicked.connect(self._submit)
        self.password.edit.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        self.notice.clear_message()
        self.submitted.emit(self.username.text().strip(), self.password.text())

    def reset(self) -> None:
        self.password.edit.clear()
        self.notice.clear_message()


class ApplicantPanel(QWidget):
    finish_requested = pyqtSignal()

    def __init__(self, kiosk: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ApplicantPanel")
        self.kiosk = kiosk
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # The text scrolls instead of being squeezed: word-wrapped labels in a layout that is
        # short of height get less than their height-for-width and draw over each other.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("ApplicantPanelBody")
        layout = QVBoxLayout(body)
        layout.setSpacing(10)
        self.heading = QLabel("<b>当前办事人</b>")
        self.who = QLabel()
        self.consents = QLabel()
        for label in (self.who, self.consents):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.finish = QPushButton("办结 / 清除信息")
        layout.addWidget(self.heading)
        layout.addWidget(self.who)
        layout.addWidget(self.consents)
        layout.addWidget(self.finish)
        layout.addStretch(1)
        scroll.setWidget(body)
        outer.addWidget(scroll)
        self.finish.clicked.connect(self.finish_requested)
        self.show_session(None)

    def show_session(self, session: ApplicantSession | None) -> None:
        applicant = session.applicant if session else None
        if applicant is None:
            self.who.setText("暂无办事人")
            self.consents.setText("")
            self.finish.setEnabled(False)
            return
        kind = "个人" if applicant.kind.value == "person" else "企业"
        label = "证件号码" if applicant.kind.value == "person" else "统一社会信用代码"
        name = (applicant.masked_name if self.kiosk else applicant.name) or "姓名待授权后显示"
        self.who.setText(
            f"{name}（{kind}）\n{label}：{applicant.masked_id}\n"
            f"核验方式：{applicant.identified_by.label}"
        )
        from workstation.services.model import CHINA_TZ, LICENCE_TYPES

        lines = []
        assert session is not None
        for c in session.consents:
            until = c.expires_at.astimezone(CHINA_TZ).strftime("%H:%M")
            types = "、".join(LICENCE_TYPES[t].name for t in c.request.licence_types)
            lines.append(f"• {c.request.purpose}\n   调取：{types}\n   有效至 {until}")
        self.consents.setText("已授权：\n" + "\n".join(lines) if lines else "尚未授权调取证照")
        self.finish.setEnabled(True)


class _Tile(QPushButton):
    """A launcher tile: a button laid out as badge, title and a word-wrapped description. It
    is as tall as its text needs at its width (a plain button sizes itself by its own, empty,
    text, and a long description would be cut off)."""

    def __init__(self) -> None:
        super().__init__()
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        needed = layout.totalHeightForWidth(width) if layout is not None else 0
        if needed <= 0 and layout is not None:  # not laid out yet: the layout's own hint
            needed = layout.totalSizeHint().height()
        return max(needed, self.minimumHeight(), super().sizeHint().height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), self.heightForWidth(max(hint.width(), 240)))


class LauncherPage(QWidget):
    open_scenario = pyqtSignal(str)
    show_error = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self._layout = QVBoxLayout(self)
        self.tiles: dict[str, QPushButton] = {}

    def populate(
        self,
        groups: list[tuple[Audience, list[ScenarioManifest]]],
        failures: list[PluginLoadError],
        columns: int,
        *,
        greeting: str = "",
    ) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()  # type: ignore[union-attr]
        self.tiles.clear()
        if greeting:
            hello = QLabel(greeting)
            hello.setObjectName("Greeting")
            hello.setWordWrap(True)
            hello.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._layout.addWidget(hello)
        if not any(manifests for _, manifests in groups):
            empty = QLabel("暂无可办理的业务，请联系大厅工作人员。")
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._layout.addWidget(empty)
        for audience, manifests in groups:
            if not manifests:
                continue
            grid = self._group(audience.label, columns)
            for i, m in enumerate(manifests):
                tile = self._tile(m.title, m.description, m.icon or m.title[:1])
                tile.clicked.connect(lambda _c=False, sid=m.id: self.open_scenario.emit(sid))
                self.tiles[m.id] = tile
                grid.addWidget(tile, i // columns, i % columns)
        if failures:
            grid = self._group("未能加载的插件", columns)
            for i, f in enumerate(failures):
                name = f.title or f.scenario_id or f.plugin
                tile = self._tile(name, f"加载失败：{f.message}", "!")
                tile.setProperty("failed", True)
                msg = f"插件 {f.plugin}（{f.stage}）加载失败：\n{f.message}"
                tile.clicked.connect(lambda _c=False, m=msg: self.show_error.emit(m))
                self.tiles[f"failed:{f.plugin}:{f.scenario_id or ''}"] = tile
                grid.addWidget(tile, i // columns, i % columns)
        self._layout.addStretch(1)

    def _group(self, title: str, columns: int) -> QGridLayout:
        """A titled group of tiles in equal-width columns."""
        label = QLabel(title)
        label.setObjectName("GroupTitle")
        self._layout.addWidget(label)
        host = QWidget()
        grid = QGridLayout(host)
        for col in range(columns):
            grid.setColumnStretch(col, 1)
        self._layout.addWidget(host)
        return grid

    def mark_failed(self, scenario_id: str, message: str) -> None:
        tile = self.tiles.get(scenario_id)
        if tile is not None:
            tile.setProperty("failed", True)
            tile.setToolTip(message)
            style = tile.style()
            if style is not None:
                style.unpolish(tile)
                style.polish(tile)

    @staticmethod
    def _tile(title: str, description: str, badge: str) -> QPushButton:
        tile = _Tile()
        tile.setObjectName("Tile")
        tile.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(tile)
        head = QHBoxLayout()
        icon = QLabel(badge[:2])
        icon.setObjectName("TileIcon")
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        icon.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        t = QLabel(f"<b>{title}</b>")
        t.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        head.addWidget(icon)
        head.addWidget(t, 1)
        d = QLabel(description)
        d.setWordWrap(True)
        d.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout.addLayout(head)
        layout.addWidget(d)
        tile.setAccessibleName(title)
        return tile


class FailedPage(QWidget):
    def __init__(self, title: str, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        notice = Notice()
        notice.show_message(
            f"“{title}”无法打开：\n{message}\n\n其他业务不受影响，请返回首页。", "error"
        )
        layout.addWidget(notice)
        layout.addStretch(1)


class MainWindow(QMainWindow):
    """Shows a Workstation core. ``core`` may arrive after the first paint (see attach())."""

    core_ready = pyqtSignal()
    scan_error = pyqtSignal(str)

    def __init__(self, *, kiosk: bool, title: str = "免证办工作台") -> None:
        super().__init__()
        self.kiosk = kiosk
        self.core: Any = None
        self.tasks = TaskRunner(self)
        self.pages: dict[str, QWidget] = {}
        self.current_scenario: str | None = None
        self.error_dialog: Callable[[str], None] = self._show_error_page
        self._bridge = _Bridge()
        # Auto connection: direct when the core calls from the GUI thread (session changes
        # always do, so pages close before anything else runs), queued from worker threads
        # (the platform link changes during background calls).
        self._bridge.session_changed.connect(self._refresh_session)
        self._bridge.link_changed.connect(self._refresh_status)
        self.setWindowTitle(title)

        # Only the frame is built before the first paint: the first use of a Qt.* enum costs
        # ~16 ms (PyQt6 builds the whole namespace) and the pages ~20 ms more; they are built
        # by build_body() when the core arrives.
        self._central = QWidget()
        root = QVBoxLayout(self._central)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        header = QFrame()
        header.setObjectName("Header")
        hl = QHBoxLayout(header)
        self.home_button = QPushButton("⌂ 首页")
        self.title_label = QLabel(title)
        self.title_label.setObjectName("HeaderTitle")
        self.station_label = QLabel()
        self.sign_out_button = QPushButton("退出登录")
        hl.addWidget(self.home_button)
        hl.addWidget(self.title_label)
        hl.addStretch(1)
        hl.addWidget(self.station_label)
        hl.addWidget(self.sign_out_button)
        root.addWidget(header)
        self.banner = Notice()
        self.banner.setContentsMargins(8, 4, 8, 4)
        root.addWidget(self.banner)
        self._body = QHBoxLayout()
        self._body.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.starting = QLabel("<br><br><p align='center'>正在启动，请稍候…</p>")
        self.stack.addWidget(self.starting)
        self._body.addWidget(self.stack, 1)
        root.addLayout(self._body, 1)
        self.setCentralWidget(self._central)

        self.link_label = QLabel("平台：连接中…")
        self.reader_label = QLabel("○ 读卡器：未配置")
        self.reader_label.setObjectName("ReaderState")
        self.device_label = QLabel()
        self.operator_label = QLabel()
        status = QStatusBar()
        self._status = status
        status.addWidget(self.link_label)
        status.addWidget(self.reader_label)
        status.addWidget(self.device_label)
        self.outbox_label = QLabel()  # submissions waiting in the outbox (hidden when none)
        self.outbox_label.hide()
        status.addWidget(self.outbox_label)
        status.addPermanentWidget(self.operator_label)
        self.setStatusBar(status)
        self.home_button.setVisible(False)
        self.sign_out_button.setVisible(False)
        self.home_button.clicked.connect(self.go_home)
        self.sign_out_button.clicked.connect(self.sign_out)
        self.scan_error.connect(lambda m: self.banner.show_message(m, "error"))
        self._built = False
        self.card_bridges: list[Any] = []  # one CardReaderBridge per card reader
        self._card_session_id: int | None = None
        self.scanners: list[Any] = []  # QR sources to stop on close
        self.wedge: Any = None
        self.scanner_bridge: Any = None

    def build_body(self) -> None:
        """Build the pages, the applicant panel and the overlays (once)."""
        if self._built:
            return
        self._built = True
        kiosk = self.kiosk
        self.sign_in = SignInPage()
        self.launcher = LauncherPage()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.launcher)
        self.launcher_scroll = scroll
        for w in (self.sign_in, scroll):
            self.stack.addWidget(w)
        self.applicant_panel = ApplicantPanel(kiosk)
        self.applicant_panel.setFixedWidth(320 if not kiosk else 420)
        self._body.addWidget(self.applicant_panel)

        self.busy = BusyOverlay(self._central)
        self.countdown = CountdownOverlay(self._central)
        self.idle = IdleWatcher(60, 10, self)
        self.idle.countdown.connect(self.countdown.show_seconds)
        self.idle.expired.connect(self._idle_expired)
        self.idle.activity.connect(self.countdown.hide)
        self.countdown.keep_going.connect(self._keep_going)
        self._health_timer = QTimer(self)
        self._health_timer.timeout.connect(self.check_platform)
        self._health_check_running = False

        self.sign_in.submitted.connect(self._sign_in)
        self.launcher.open_scenario.connect(self.open_scenario)
        self.launcher.show_error.connect(lambda m: self.error_dialog(m))
        self.applicant_panel.finish_requested.connect(lambda: self.end_session("finished"))

    # -- start-up -------------------------------------------------------------------------

    def attach(self, core: Any) -> None:
        """Connect a ready core (built off the GUI thread) and show the first page."""
        self.build_body()
        from workstation.manifest import Audience

        self.core = core
        cfg = core.config
        self.sign_in.hint.setVisible(cfg.wants_demo_operator)
        suffix = "（自助）" if self.kiosk else ""
        self.station_label.setText(f"工作站 {cfg.workstation_id}{suffix}")
        self.device_label.setText(f"扫码器：{_device_label(cfg.devices.qr_scanner)}")
        if not self.scanners and self.wedge is None:
            from workstation.ui.scanners import start_scanners

            self.scanners = start_scanners(self, cfg.devices)
        core.sessions.subscribe(lambda _s, event: self._bridge.session_changed.emit(event))
        core.link.listeners.append(lambda _l: self._bridge.link_changed.emit())
        outbox = getattr(core, "outbox", None)
        if outbox is not None:  # counts arrive from the outbox thread: queued to the GUI
            outbox.listeners.append(lambda _n: self._bridge.link_changed.emit())
        audiences = [Audience.KIOSK] if self.kiosk else [Audience.CLERK, Audience.KIOSK]
        groups = [(a, core.scenarios_for(a)) for a in audiences]
        if self.kiosk:  # a clerk scenario never shows on a kiosk, not even twice
            groups = [(Audience.KIOSK, core.scenarios_for(Audience.KIOSK))]
        else:
            clerk_ids = {m.id for m in groups[0][1]}
            groups[1] = (Audience.KIOSK, [m for m in groups[1][1] if m.id not in clerk_ids])
        greeting = (
            "您好！请选择要办理的业务，再按页面提示扫码、插卡或刷身份证登录。" if self.kiosk else ""
        )
        self.launcher.populate(
            groups, list(core.plugins.errors), 2 if self.kiosk else 3, greeting=greeting
        )
        if self.kiosk:
            self.idle.idle_s = cfg.kiosk.idle_timeout_s
            self.idle.countdown_s = cfg.kiosk.countdown_s
            app = _app()
            if app is not None:
                app.installEventFilter(self.idle)
            self.idle.start()
        self._health_timer.start(int(cfg.platform.health_interval_s * 1000))
        self.check_platform()
        self._refresh_status()
        if self.kiosk or core.operator is not None:
            self.go_home()
        else:
            self.stack.setCurrentWidget(self.sign_in)
        self.core_ready.emit()

    # -- operator -------------------------------------------------------------------------

    def _sign_in(self, username: str, password: str) -> None:
        if not username or not password:
            self.sign_in.notice.show_message("请输入用户名和密码", "error")
            return
        self.run_busy(
            "正在登录…",
            lambda: self.core.sign_in(username, password),
            self._signed_in,
            lambda exc: self.sign_in.notice.show_message(_message(exc), "error"),
            cancellable=False,
        )

    def _signed_in(self, _operator: Any) -> None:
        self.sign_in.reset()
        self._refresh_status()
        self.go_home()

    def sign_out(self) -> None:
        self.close_pages()
        self.core.sign_out()
        self._refresh_status()
        self.home_button.setVisible(False)
        self.sign_out_button.setVisible(False)
        self.stack.setCurrentWidget(self.sign_in)

    # -- navigation -----------------------------------------------------------------------

    def go_home(self) -> None:
        self.current_scenario = None
        self.stack.setCurrentWidget(self.launcher_scroll)
        self.home_button.setVisible(True)
        self.sign_out_button.setVisible(not self.kiosk)

    def open_scenario(self, scenario_id: str) -> None:
        manifest = self.core.plugins.scenario(scenario_id)
        page = self.pages.get(scenario_id)
        if page is None:
            try:
                from workstation.plugins import resolve_factory

                factory = resolve_factory(manifest.page)
                page = factory(self.core.context_for(manifest))
                if not isinstance(page, QWidget):
                    raise TypeError(f"页面工厂应返回 QWidget，得到 {type(page).__name__}")
            except Exception as exc:  # a broken page must not take the shell down
                log.warning("scenario %s failed to build its page: %s", scenario_id, exc)
                message = f"{type(exc).__name__}: {exc}"
                self.core.in_background(
                    self.core.audit.record,
                    "plugin_error", operator=self.core.operator_name(), scenario=scenario_id,
                    details={"stage": "page", "error": type(exc).__name__},
                )
                self.launcher.mark_failed(scenario_id, message)
                page = FailedPage(manifest.title, message)
            page.setProperty("scenario_id", scenario_id)
            self.pages[scenario_id] = page
            self.stack.addWidget(page)
        self.current_scenario = scenario_id
        self.stack.setCurrentWidget(page)

    def close_pages(self, keep: QWidget | None = None) -> None:
        """Destroy every scenario page: the only sure way no widget keeps personal data."""
        for key, page in list(self.pages.items()):
            if page is keep:
                continue
            for runner in page.findChildren(TaskRunner):
                runner.cancel_all()  # their results have nowhere to go
            self.stack.removeWidget(page)
            page.deleteLater()
            del self.pages[key]

    def _show_error_page(self, message: str) -> None:
        page = FailedPage("插件", message)
        self.pages[f"error:{id(page)}"] = page
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)

    # -- session --------------------------------------------------------------------------

    def end_session(self, reason: str) -> None:
        self.busy.stop()
        self.countdown.hide()
        self.close_pages()
        serving = self.core is not None and self.core.sessions.current is not None
        if self.core is not None:
            self.core.sessions.end(reason)  # its "ended:" event navigates (_refresh_session)
        self.applicant_panel.show_session(None)
        if not serving and self.core is not None and (
                self.kiosk or self.core.operator is not None):
            self.go_home()

    def _refresh_session(self, event: str) -> None:
        self.banner.clear_message()
        if event == "ended:replaced":  # a page began a new applicant: other pages must forget
            current = self.pages.get(self.current_scenario or "")
            self.close_pages(keep=current)
        elif event.startswith("ended:"):
            scenario = self.current_scenario
            self.close_pages()
            if scenario is not None and self.core is not None and (
                self.kiosk or self.core.operator is not None
            ):
                if (not self.kiosk and event not in ("ended:signed_out", "ended:shutdown")
                        and self._signs_in_itself(scenario)):
                    # a window serving one citizen after another (a pharmacy till): a fresh
                    # page of the same scenario waits for the next scan or card
                    self.open_scenario(scenario)
                else:
                    self.go_home()
        if self.core is not None:
            self.applicant_panel.show_session(self.core.sessions.current)

    def _signs_in_itself(self, scenario: str) -> bool:
        try:
            return bool(self.core.plugins.scenario(scenario).sign_in)
        except Exception:  # the scenario's plugin failed: nothing to reopen
            return False

    def _idle_expired(self) -> None:
        self.countdown.hide()
        self.end_session("idle")

    def _keep_going(self) -> None:
        self.idle.reset()
        self.countdown.hide()

    def show_internal_error(self, kind: str) -> None:
        self.banner.show_message(
            f"系统内部错误（{kind}），本次操作未完成，已记录日志。请重试，或联系管理员。", "error"
        )

    # -- identification by code ----------------------------------------------------------

    def code_bytes_scanned(self, data: bytes) -> None:
        """Raw bytes from a camera or serial scanner: UTF-8, else GB18030, else refused."""
        from devices.qr.payload import ScanRejected, text_from_bytes

        try:
            text = text_from_bytes(data)
        except ScanRejected as exc:
            self.scan_error.emit(exc.message)
            return
        self.code_scanned(text)

    def code_scanned(self, payload: str) -> None:
        """A QR payload from any scanner: checked here (oversized input, control characters,
        binary junk, unknown format get a message and change nothing), then verified and
        resolved off the GUI thread, then the applicant session begins."""
        if self.core is None or (not self.kiosk and self.core.operator is None):
            return
        from devices.qr.payload import ScanRejected, check_scanned_text
        from workstation.services.codes import CodeRefused

        try:
            payload = check_scanned_text(payload)
            self.core.codes.format_for(payload)
        except (ScanRejected, CodeRefused) as exc:
            self.scan_error.emit(exc.message)
            return
        self.run_busy(
            "正在核验身份码…",
            lambda: self.core.identify_by_code(payload),
            self._identified,
            lambda exc: self.scan_error.emit(_message(exc)),
        )

    def _identified(self, applicant: Any) -> bool:
        """A new applicant from a scan or a card: every open page belonged to the previous one.

        On a scenario page that signs citizens in itself (``manifest.sign_in``), a method it
        accepts starts the session on a fresh page of that scenario (its ``applicant_ready``
        follows); another method is refused with a message and changes nothing. Elsewhere the
        session starts and the launcher shows. Returns whether a session began."""
        from workstation.manifest import SIGN_IN_METHODS
        from workstation.services.session import sign_in_method

        scenario = self.current_scenario
        methods: tuple[str, ...] = ()
        if scenario is not None and scenario in self.pages:
            try:
                methods = tuple(self.core.plugins.scenario(scenario).sign_in)
            except Exception:  # the scenario's plugin failed: behave as on the launcher
                methods = ()
        if scenario is not None and methods:
            method = sign_in_method(applicant)
            if method not in methods:
                names = "或".join(SIGN_IN_METHODS.get(m, (m, ""))[0] for m in methods)
                self.scan_error.emit(f"本业务请使用{names}办理")
                self.core.in_background(
                    self.core.audit.record, "refusal", operator=self.core.operator_name(),
                    details={"what": "sign_in_method", "reason": method or "unknown",
                             "scenario": scenario},
                )
                return False
            self.close_pages()
            self.core.begin_session(applicant)
            self.open_scenario(scenario)  # a fresh page; it is offered the applicant
            return True
        self.close_pages()
        if self.current_scenario is not None:
            self.go_home()
        self.core.begin_session(applicant)
        return True

    # -- identification by card ----------------------------------------------------------

    def attach_card_reader(self, reader: Any) -> None:
        """Watch a card reader (devices.cards.reader.SmartCardReader) through a Qt bridge.

        The first reader shows in ``reader_label``; further ones (the ID-card reader) get a
        label of their own in the status bar."""
        from workstation.ui.devices import CardReaderBridge

        bridge = CardReaderBridge(reader, self)
        if not self.card_bridges:
            bridge.label = self.reader_label
        else:
            bridge.label = QLabel()
            self._status.insertWidget(1 + len(self.card_bridges), bridge.label)
        self.card_bridges.append(bridge)
        bridge.card_event.connect(lambda event, b=bridge: self._card_event(event, b))
        self._show_reader_state(bridge, reader.state, None)
        bridge.start()

    def card_reader_failed(self, exc: BaseException) -> None:
        """A configured card reader could not be set up: say so in the status bar."""
        log.error("card reader unavailable: %s", type(exc).__name__)
        label = self.reader_label if not self.card_bridges else QLabel()
        if label is not self.reader_label:
            self._status.insertWidget(1 + len(self.card_bridges), label)
        name = getattr(exc, "reader_label", "读卡器")
        label.setText(f"○ {name}：不可用")
        label.setStyleSheet("color: #b26a00;")
        label.setToolTip(_message(exc))

    def stop_scanners(self) -> None:
        for scanner in self.scanners:
            scanner.stop()
        self.scanners = []
        if self.wedge is not None:
            app = _app()
            if app is not None:
                app.removeEventFilter(self.wedge)
            self.wedge = None

    def detach_card_reader(self) -> None:
        """Stop watching every card reader."""
        for bridge in self.card_bridges:
            bridge.stop()
            bridge.deleteLater()
        self.card_bridges = []

    def _show_reader_state(self, bridge: Any, state: Any, error: Any) -> None:
        ok = state.value in ("empty", "card", "reading")
        name = getattr(bridge.reader, "label", "读卡器")
        text = bridge.reader.state_text(state) if hasattr(bridge.reader, "state_text") \
            else state.label
        bridge.label.setText(("● " if ok else "○ ") + f"{name}：{text}")
        bridge.label.setStyleSheet("color: #1b7f3b;" if ok else "color: #b26a00;")
        bridge.label.setToolTip(getattr(error, "message", "") or "")

    def _card_event(self, event: Any, bridge: Any) -> None:
        """A reader event, on the GUI thread (queued from the reader's thread)."""
        self._show_reader_state(bridge, event.state, event.error)
        kind = event.kind.value
        if self._built and kind in ("inserted", "identity", "removed"):
            self.idle.reset()  # a card going in or out is the citizen's activity
        if kind == "identity":
            self._card_identity(event.identity)
        elif kind == "read_failed" and event.error is not None:
            self.scan_error.emit(event.error.message)
        elif kind == "removed" and getattr(bridge.reader, "ends_session_on_removal", True):
            self._card_removed()
        elif kind == "inserted":
            self.banner.clear_message()

    def _card_identity(self, identity: Any) -> None:
        if self.core is None:
            return
        if not self.kiosk and self.core.operator is None:
            self.scan_error.emit("请先登录，再读卡")
            return
        from workstation.devices import applicant_from_card

        try:
            applicant = applicant_from_card(identity)
        except Exception as exc:  # CardDataError: a clear message, nothing changes
            self.scan_error.emit(_message(exc))
            self.core.in_background(
                self.core.audit.record, "refusal", operator=self.core.operator_name(),
                details={"what": "card", "reason": getattr(exc, "code", type(exc).__name__)},
            )
            return
        if not self._identified(applicant):
            return
        session = self.core.sessions.current
        self._card_session_id = session.session_id if session is not None else None

    def _card_removed(self) -> None:
        """The card left: in kiosk mode (where configured) the card's session ends with it."""
        session_id, self._card_session_id = self._card_session_id, None
        if self.core is None or not self.kiosk:
            return
        if not self.core.config.kiosk.end_session_on_card_removal:
            return
        session = self.core.sessions.current
        if session is not None and session.session_id == session_id:
            self.end_session("card_removed")

    # -- platform link and status ---------------------------------------------------------

    def check_platform(self) -> None:
        if self.core is None or self._health_check_running:
            return  # a hung check must not pile up behind itself in the thread pool
        self._health_check_running = True

        def done(_result: object) -> None:
            self._health_check_running = False
            self._refresh_status()

        self.tasks.submit(self.core.check_platform, done, done)

    def _refresh_status(self) -> None:
        if self.core is None:
            return
        link = self.core.link
        self.link_label.setText(("● " if link.online else "○ ") + link.label)
        self.link_label.setStyleSheet("color: #1b7f3b;" if link.online else "color: #b26a00;")
        outbox = getattr(self.core, "outbox", None)
        waiting = outbox.waiting if outbox is not None else 0  # cached count: no query here
        self.outbox_label.setText(f"待发送 {waiting} 件")
        self.outbox_label.setVisible(waiting > 0)
        op = self.core.operator
        self.operator_label.setText(
            "自助终端" if self.kiosk else (f"操作员：{op.display_name}" if op else "操作员：未登录")
        )

    # -- background work ------------------------------------------------------------------

    def run_busy(
        self,
        text: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], object],
        on_error: Callable[[BaseException], None],
        *,
        cancellable: bool = True,
    ) -> None:
        task = None

        def finished_ok(result: Any) -> None:
            self.busy.stop()
            on_done(result)

        def finished_err(exc: BaseException) -> None:
            self.busy.stop()
            on_error(exc)

        task = self.tasks.submit(fn, finished_ok, finished_err)
        self.busy.start(text, task.cancel if cancellable else None)

    # -- Qt events ------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        if self._built and self.busy.isVisible():
            self.busy.setGeometry(self._central.rect())

    def closeEvent(self, event: QCloseEvent | None) -> None:
        self.detach_card_reader()
        self.stop_scanners()
        if self._built:
            self.idle.stop()
            self._health_timer.stop()
        self.close_pages()
        if self.core is not None:
            self.core.sessions.end("shutdown")
        super().closeEvent(event)


def _device_label(spec: str) -> str:
    return {"simulated": "模拟（键盘口）", "wedge": "键盘口", "none": "未配置",
            "": "未配置"}.get(spec, spec)


def _message(exc: BaseException) -> str:
    """The user-facing text of an exception raised by a service (they carry Chinese messages)."""
    text = getattr(exc, "message", None)
    if isinstance(text, str) and text:
        return text
    return f"操作失败：{type(exc).__name__}"


def _app() -> Any:
    from PyQt6.QtWidgets import QApplication

    return QApplication.instance()
