"""S4 pages: the kiosk (deposit, pickup) and the hall staff's page, thin over ``logic.py``."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from plugins.locker.logic import (
    DEPOSITED,
    DOOR_LABELS,
    FAULT,
    MATTERS,
    PROCESSED,
    RESULT_READY,
    SIZES,
    TAKEN,
    LockerFlowError,
    LockerService,
    Opened,
    bank_label,
    check_phone,
    describe_item,
    door_label,
    door_number,
    door_size,
    holder_of,
    slip_data,
)
from workstation.api import CHINA_TZ, DoorJammed, DoorState, ScenarioContext
from workstation.api.ui import Poller, ScenarioPage, error_message, primary_button

log = logging.getLogger(__name__)

WATCH_MS = 300  # how often an open door's sensor is read
LOCATION = "政务服务中心一楼 24 小时自助服务区"


def build_page(ctx: ScenarioContext) -> QWidget:
    if ctx.kiosk:
        return KioskLockerPage(ctx)
    return StaffLockerPage(ctx)


class NumericKeypad(QWidget):
    """An on-screen numeric keypad writing into a read-only line edit (no typing needed)."""

    changed = pyqtSignal(str)

    def __init__(self, target: QLineEdit, max_len: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target = target
        self.max_len = max_len
        grid = QGridLayout(self)
        grid.setSpacing(12)
        self.keys: dict[str, QPushButton] = {}
        labels = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "清空", "0", "删除"]
        for i, label in enumerate(labels):
            button = QPushButton(label)
            button.setMinimumSize(150, 84)
            button.setStyleSheet("font-size: 28pt;")
            button.setObjectName("KeypadKey")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, k=label: self.press(k))
            grid.addWidget(button, i // 3, i % 3)
            self.keys[label] = button

    def press(self, key: str) -> None:
        text = self.target.text()
        if key == "删除":
            text = text[:-1]
        elif key == "清空":
            text = ""
        elif len(text) < self.max_len:
            text += key
        self.target.setText(text)
        self.changed.emit(text)

    def type(self, digits: str) -> None:
        for d in digits:
            self.keys[d].click()


def _big(text: str = "", size: int = 28, bold: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet(f"font-size: {size}pt;" + (" font-weight: bold;" if bold else ""))
    return label


def _display() -> QLineEdit:
    edit = QLineEdit()
    edit.setReadOnly(True)
    edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
    edit.setMinimumHeight(84)
    edit.setMaximumWidth(560)
    edit.setStyleSheet("font-size: 32pt; letter-spacing: 4px;")
    return edit


class KioskLockerPage(ScenarioPage):
    """Deposit and pickup on the self-service kiosk."""

    # The citizen's choice (deposit / pickup) made before signing in survives the fresh page
    # the shell builds for the identified applicant (not personal data).
    _intent: ClassVar[tuple[str, float] | None] = None
    INTENT_S = 20.0  # long enough for a code to be verified online

    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, "综合收发件政务柜")
        board = ctx.locker()
        self.service: LockerService | None = (
            LockerService(ctx, board) if board is not None else None)
        self.applicant: Any = None
        self.holder: Any = None
        self.mode = ""
        self.opened: Opened | None = None
        self.deposited: Any = None
        self.prepared: Any = None
        self.print_outcome: Any = None
        self.pickup_item: Any = None
        self.watch = Poller(self.tasks, WATCH_MS, self)

        self.steps = QStackedWidget()
        self.layout_.addWidget(self.steps, 1)
        self._build_home()
        self._build_sign_in()
        self._build_phone()
        self._build_matter()
        self._build_door()
        self._build_done()
        self._build_code()
        self._build_locked()
        self.steps.setCurrentWidget(self.home)

        if self.service is None:
            self.notice.show_message("本机未配置储物柜，暂不能存取材料，请到窗口办理。", "error")
            self.deposit_button.setEnabled(False)
            self.pickup_button.setEnabled(False)
        else:
            self.run_busy("正在检查柜门状态…", self._prepare, lambda _r: None,
                          cancellable=False)
        intent = type(self)._intent
        if intent is not None and time.monotonic() - intent[1] < self.INTENT_S:
            self.mode = intent[0]
            self._show_sign_in()

    def _prepare(self) -> Any:
        assert self.service is not None
        self.service.ensure_doors()
        return self.service.recover()

    # -- building -----------------------------------------------------------------------

    def _step(self) -> tuple[QWidget, QVBoxLayout]:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(24)
        self.steps.addWidget(page)
        return page, layout

    def _build_home(self) -> None:
        self.home, layout = self._step()
        self.greeting = _big("", 26)
        self.greeting.hide()
        layout.addStretch(1)
        layout.addWidget(self.greeting)
        layout.addWidget(_big("请选择要办理的业务", 30, bold=True))
        row = QHBoxLayout()
        row.setSpacing(48)
        self.deposit_button = primary_button("资料投递\n存放办事材料")
        self.pickup_button = primary_button("领取证照\n凭短信取件码领取")
        for button in (self.deposit_button, self.pickup_button):
            button.setMinimumSize(480, 220)
            button.setStyleSheet("font-size: 30pt;")
        row.addStretch(1)
        row.addWidget(self.deposit_button)
        row.addWidget(self.pickup_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        self.deposit_button.clicked.connect(lambda: self.choose("deposit"))
        self.pickup_button.clicked.connect(lambda: self.choose("pickup"))

    def _build_sign_in(self) -> None:
        self.sign_in_step, layout = self._step()
        self.sign_in_title = _big("", 30, bold=True)
        layout.addWidget(self.sign_in_title)
        self.prompt = self.sign_in_prompt()
        self.prompt.heading.setText("请选择以下任一方式验证身份")
        layout.addWidget(self.prompt)
        layout.addStretch(1)
        self.sign_in_back = QPushButton("返回")
        layout.addWidget(self.sign_in_back, alignment=Qt.AlignmentFlag.AlignLeft)
        self.sign_in_back.clicked.connect(self.back_home)

    def _build_phone(self) -> None:
        self.phone_step, layout = self._step()
        layout.addWidget(_big("请输入您的手机号码", 30, bold=True))
        layout.addWidget(_big("用于工作人员联系您，以及发送领取结果证照的取件码", 22))
        self.phone_display = _display()
        self.phone_display.setPlaceholderText("11 位手机号码")
        layout.addWidget(self.phone_display, alignment=Qt.AlignmentFlag.AlignCenter)
        self.phone_error = _big("", 22)
        self.phone_error.setObjectName("FieldError")
        self.phone_error.hide()
        layout.addWidget(self.phone_error)
        self.phone_pad = NumericKeypad(self.phone_display, 11)
        self.phone_pad.changed.connect(lambda _t: self.phone_error.hide())
        layout.addWidget(self.phone_pad, alignment=Qt.AlignmentFlag.AlignCenter)
        row = QHBoxLayout()
        self.phone_back = QPushButton("返回")
        self.phone_next = primary_button("下一步")
        self.phone_next.setMinimumWidth(260)
        row.addWidget(self.phone_back)
        row.addStretch(1)
        row.addWidget(self.phone_next)
        layout.addLayout(row)
        self.phone_back.clicked.connect(self.back_home)
        self.phone_next.clicked.connect(self.phone_entered)

    def _build_matter(self) -> None:
        self.matter_step, layout = self._step()
        layout.addWidget(_big("请选择办理事项", 30, bold=True))
        grid = QGridLayout()
        grid.setSpacing(16)
        self.matter_group = QButtonGroup(self)
        self.matter_buttons: dict[str, QPushButton] = {}
        for i, (name, size) in enumerate(MATTERS):
            button = QPushButton(name)
            button.setCheckable(True)
            button.setMinimumHeight(84)
            button.setProperty("size", size)
            self.matter_group.addButton(button)
            self.matter_buttons[name] = button
            grid.addWidget(button, i // 4, i % 4)
            button.clicked.connect(lambda _c=False, s=size: self.pick_size(s))
        layout.addLayout(grid)
        layout.addWidget(_big("材料规格（按材料多少选择柜门大小）", 26, bold=True))
        sizes = QHBoxLayout()
        self.size_group = QButtonGroup(self)
        self.size_buttons: dict[str, QPushButton] = {}
        for key, text in SIZES.items():
            button = QPushButton(text)
            button.setCheckable(True)
            button.setMinimumHeight(84)
            self.size_group.addButton(button)
            self.size_buttons[key] = button
            sizes.addWidget(button)
        layout.addLayout(sizes)
        self.matter_error = _big("", 22)
        self.matter_error.setObjectName("FieldError")
        self.matter_error.hide()
        layout.addWidget(self.matter_error)
        layout.addStretch(1)
        row = QHBoxLayout()
        self.matter_back = QPushButton("上一步")
        self.open_button = primary_button("确认并开柜")
        self.open_button.setMinimumWidth(300)
        row.addWidget(self.matter_back)
        row.addStretch(1)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        self.matter_back.clicked.connect(lambda: self.steps.setCurrentWidget(self.phone_step))
        self.open_button.clicked.connect(self.open_for_deposit)
        self.setStyleSheet("QPushButton:checked { background: #b71c1c; color: white; }")

    def _build_door(self) -> None:
        self.door_step, layout = self._step()
        layout.addStretch(1)
        self.door_title = _big("", 44, bold=True)
        self.door_title.setStyleSheet(self.door_title.styleSheet() + " color: #b71c1c;")
        self.door_instruction = _big("", 34, bold=True)
        self.door_hint = _big("", 24)
        layout.addWidget(self.door_title)
        layout.addWidget(self.door_instruction)
        layout.addWidget(self.door_hint)
        layout.addStretch(2)

    def _build_done(self) -> None:
        self.done_step, layout = self._step()
        layout.addStretch(1)
        self.done_title = _big("", 40, bold=True)
        self.done_detail = _big("", 24)
        self.print_label = _big("", 22)
        layout.addWidget(self.done_title)
        layout.addWidget(self.done_detail)
        layout.addWidget(self.print_label)
        row = QHBoxLayout()
        self.reprint_button = QPushButton("重新打印凭条")
        self.reprint_button.hide()
        self.finish_button = primary_button("完成")
        self.finish_button.setMinimumWidth(300)
        row.addStretch(1)
        row.addWidget(self.reprint_button)
        row.addWidget(self.finish_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        self.reprint_button.clicked.connect(self.print_slip)
        self.finish_button.clicked.connect(self.finish)

    def _build_code(self) -> None:
        self.code_step, layout = self._step()
        self.code_greeting = _big("", 24)
        layout.addWidget(self.code_greeting)
        layout.addWidget(_big("请输入短信中的 6 位取件码", 30, bold=True))
        self.code_display = _display()
        self.code_display.setEchoMode(QLineEdit.EchoMode.Normal)
        layout.addWidget(self.code_display, alignment=Qt.AlignmentFlag.AlignCenter)
        self.code_error = _big("", 24)
        self.code_error.setObjectName("FieldError")
        self.code_error.hide()
        layout.addWidget(self.code_error)
        self.code_pad = NumericKeypad(self.code_display, 6)
        self.code_pad.changed.connect(lambda _t: self.code_error.hide())
        layout.addWidget(self.code_pad, alignment=Qt.AlignmentFlag.AlignCenter)
        row = QHBoxLayout()
        self.code_back = QPushButton("返回")
        self.code_button = primary_button("确认取件")
        self.code_button.setMinimumWidth(300)
        row.addWidget(self.code_back)
        row.addStretch(1)
        row.addWidget(self.code_button)
        layout.addLayout(row)
        self.code_back.clicked.connect(self.finish)
        self.code_button.clicked.connect(self.code_entered)

    def _build_locked(self) -> None:
        self.locked_step, layout = self._step()
        layout.addStretch(1)
        layout.addWidget(_big("取件码错误次数过多", 40, bold=True))
        self.locked_detail = _big("", 26)
        layout.addWidget(self.locked_detail)
        self.locked_home = primary_button("返回首页")
        self.locked_home.setMinimumWidth(300)
        layout.addWidget(self.locked_home, alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(2)
        self.locked_home.clicked.connect(self.finish)

    # -- flow -----------------------------------------------------------------------------

    def choose(self, mode: str) -> None:
        self.mode = mode
        if self.applicant is not None:
            self._start_mode()
            return
        type(self)._intent = (mode, time.monotonic())
        self._show_sign_in()

    def _show_sign_in(self) -> None:
        self.sign_in_title.setText("资料投递" if self.mode == "deposit" else "领取证照")
        self.steps.setCurrentWidget(self.sign_in_step)

    def back_home(self) -> None:
        type(self)._intent = None
        self.mode = ""
        self.steps.setCurrentWidget(self.home)

    def applicant_ready(self, applicant: Any) -> None:
        self.applicant = applicant
        self.holder = holder_of(applicant)
        type(self)._intent = None
        self.greeting.setText(f"您好，{applicant.masked_name}（{self.holder.id_masked}）")
        self.greeting.show()
        self.code_greeting.setText(f"您好，{applicant.masked_name}")
        if self.service is None:
            return
        if self.mode:
            self._start_mode()
        else:
            self.steps.setCurrentWidget(self.home)

    def _start_mode(self) -> None:
        if self.mode == "deposit":
            self.phone_display.clear()
            self.steps.setCurrentWidget(self.phone_step)
        else:
            self.code_display.clear()
            self.steps.setCurrentWidget(self.code_step)
            self.run_busy("正在查询待领取的办件…", self._pickup_state, self._pickup_checked)

    # deposit -----------------------------------------------------------------------------

    def phone_entered(self) -> None:
        try:
            self.phone = check_phone(self.phone_display.text())
        except LockerFlowError as exc:
            self.phone_error.setText(exc.message)
            self.phone_error.show()
            return
        self.steps.setCurrentWidget(self.matter_step)

    def pick_size(self, size: str) -> None:
        self.size_buttons[size].setChecked(True)
        self.matter_error.hide()

    def open_for_deposit(self) -> None:
        matter = self.matter_group.checkedButton()
        size = next((k for k, b in self.size_buttons.items() if b.isChecked()), "")
        if matter is None or not size:
            self.matter_error.setText("请选择办理事项和材料规格")
            self.matter_error.show()
            return
        service, holder, phone = self.service, self.holder, self.phone
        assert service is not None
        self.run_busy("正在为您分配柜门并开柜，请稍候…",
                      lambda: service.start_deposit(holder, phone, matter.text(), size),
                      self._door_opened, on_error=self._open_failed, cancellable=False)

    def _open_failed(self, exc: BaseException) -> None:
        self.matter_error.setText(error_message(exc))
        self.matter_error.show()

    def _door_opened(self, opened: Opened) -> None:
        self.opened = opened
        label = door_label(opened.door)
        self.door_title.setText(f"{label} 号柜门已打开")
        if opened.op == "deposit":
            self.door_instruction.setText("请放入材料并关门")
            self.door_hint.setText("关好柜门后本机自动确认投递")
        else:
            self.door_instruction.setText("请您领取证照后，关闭柜门")
            self.door_hint.setText("关好柜门后即完成领取")
        if opened.skipped:
            skipped = "、".join(door_label(d) for d in opened.skipped)
            self.notice.show_message(f"{skipped} 号柜门未能打开，已为您改用 {label} 号柜门。")
        self.steps.setCurrentWidget(self.door_step)
        self._watch(opened)

    def _watch(self, opened: Opened) -> None:
        service = self.service
        assert service is not None

        def on_state(state: DoorState) -> bool:
            if state is DoorState.OPEN:
                return True
            self.run_busy("柜门已关闭，正在确认…", lambda: service.complete(opened.door),
                          self._completed, cancellable=False)
            return False

        def on_error(exc: BaseException) -> bool:
            self.door_hint.setText(f"{error_message(exc)}（正在重试）")
            return True

        self.watch.start(lambda: service.door_state(opened.door), on_state, on_error)

    def _completed(self, item: Any) -> None:
        opened = self.opened
        assert opened is not None
        label = door_label(opened.door)
        self.reprint_button.hide()
        if opened.op == "deposit":
            self.deposited = item
            self.done_title.setText("投递成功")
            self.done_detail.setText(
                f"您的材料已存入 {bank_label(self.service.settings.bank if self.service else '1')}"
                f" {label} 号柜门\n投递编号：{item.key}\n工作人员将尽快取件办理，"
                "办结后取件码将以短信发送到您的手机")
            self.print_slip()
        else:
            self.done_title.setText("取件完成，感谢您的使用！")
            self.done_detail.setText(f"{label} 号柜门已关闭")
            self.print_label.setText("")
        self.steps.setCurrentWidget(self.done_step)

    def print_slip(self) -> None:
        item, opened, service = self.deposited, self.opened, self.service
        assert item is not None and opened is not None and service is not None
        ctx = self.ctx

        def work() -> Any:
            from workstation.api.printing import LockerSlip

            if self.prepared is None:
                fields = slip_data(item, opened.door, issuing_unit="赤壁市政务服务中心",
                                   bank=service.settings.bank, location=LOCATION,
                                   clock=ctx.clock)
                slip = LockerSlip(pickup_code="", expires_at=fields["deposited_at"],
                                  kind="deposit", **fields)
                self.prepared = ctx.printing.prepare(
                    "locker_slip", slip, purpose="政务柜资料投递凭条", case_number=item.key,
                    holder_id=self.holder.holder_id if self.holder else None)
            printing = ctx.printing
            if self.print_outcome is not None and not self.print_outcome.status.terminal:
                return printing.follow(self.prepared, self.print_outcome, timeout_s=20)
            return printing.print(self.prepared, timeout_s=30,
                                  until=lambda s: s.needs_attention)

        self.print_label.setText("正在打印凭条…")
        self.run_busy("正在打印凭条…", work, self._printed, on_error=self._print_failed,
                      cancellable=False)

    def _printed(self, outcome: Any) -> None:
        self.print_outcome = outcome
        state = outcome.status.state.value
        if state == "completed":
            self.print_label.setText("凭条已打印，请取走凭条")
            self.reprint_button.hide()
        elif state == "saved":
            self.print_label.setText("本机未连接凭条打印机，请记下投递编号")
        else:
            self.print_label.setText(
                f"凭条未能打印：{outcome.text}。您的材料已存入，投递编号已记录；可请工作人员处理后"
                "重新打印。")
            self.reprint_button.show()

    def _print_failed(self, exc: BaseException) -> None:
        self.print_label.setText(
            f"凭条未能打印：{error_message(exc)}。您的材料已存入，投递编号已记录。")
        self.reprint_button.show()

    def finish(self) -> None:
        self.watch.stop()
        type(self)._intent = None
        if self.ctx.sessions.applicant is not None:
            self.ctx.sessions.end("done")
        else:
            self.back_home()

    # pickup ------------------------------------------------------------------------------

    def _pickup_state(self) -> tuple[int, dt.datetime | None]:
        assert self.service is not None
        items = self.service.ready_items(self.holder.holder_id)
        return len(items), self.service.locked_until(items)

    def _pickup_checked(self, state: tuple[int, dt.datetime | None]) -> None:
        count, locked = state
        if locked is not None:
            self._show_locked(locked)
        elif count == 0:
            self.code_error.setText("没有查到您待领取的办件结果。办结后您会收到短信通知。")
            self.code_error.show()
            self.code_button.setEnabled(False)

    def _show_locked(self, until: dt.datetime) -> None:
        self.locked_detail.setText(
            f"为保护您的证照安全，取件已锁定至 {until.astimezone(CHINA_TZ):%H:%M}。\n"
            "如忘记取件码，请联系大厅工作人员。")
        self.steps.setCurrentWidget(self.locked_step)

    def code_entered(self) -> None:
        code, service, holder = self.code_display.text(), self.service, self.holder
        assert service is not None

        def work() -> Any:
            item, left = service.check_code(holder.holder_id, code)
            if item is None:
                return ("wrong", left, service.locked_until(service.ready_items(
                    holder.holder_id)))
            return ("open", service.start_pickup(item), None)

        self.run_busy("正在核验取件码…", work, self._code_checked,
                      on_error=self._code_failed, cancellable=False)

    def _code_checked(self, result: tuple[str, Any, Any]) -> None:
        kind, value, locked = result
        if kind == "open":
            self._door_opened(value)
            return
        self.code_display.clear()
        if locked is not None:
            self._show_locked(locked)
            return
        self.code_error.setText(f"取件码不正确，还可尝试 {value} 次")
        self.code_error.show()

    def _code_failed(self, exc: BaseException) -> None:
        if getattr(exc, "code", "") == "locked":
            self.run_busy("正在查询…", self._pickup_state, self._pickup_checked)
            return
        self.code_error.setText(error_message(exc))
        self.code_error.show()


class StaffLockerPage(ScenarioPage):
    """Hall staff: deposited items, take materials out, mark processed, put the result in."""

    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("item", "投递编号"), ("matter", "事项"), ("applicant", "申请人"), ("phone", "手机"),
        ("state", "状态"), ("door", "柜门"), ("at", "投递时间"), ("unconfirmed", "未确认"),
    ]

    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, "综合收发件政务柜 · 工作人员")
        board = ctx.locker()
        self.service: LockerService | None = (
            LockerService(ctx, board) if board is not None else None)
        self.items: list[Any] = []
        self.opened: Opened | None = None
        self.watch = Poller(self.tasks, WATCH_MS, self)

        self.doors_title = QLabel("<b>柜门</b>")
        self.layout_.addWidget(self.doors_title)
        self.doors_frame = QFrame()
        self.doors_grid = QGridLayout(self.doors_frame)
        self.doors_grid.setContentsMargins(0, 0, 0, 0)
        self.doors_grid.setSpacing(4)
        self.door_chips: dict[str, QLabel] = {}
        self.layout_.addWidget(self.doors_frame)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([title for _, title in self.COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header, vertical = self.table.horizontalHeader(), self.table.verticalHeader()
        assert header is not None and vertical is not None
        vertical.setVisible(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.layout_.addWidget(self.table, 1)
        self.door_status = QLabel()
        self.door_status.setWordWrap(True)
        self.door_status.setObjectName("Notice")
        self.door_status.hide()
        self.layout_.addWidget(self.door_status)
        row = QHBoxLayout()
        self.refresh_button = QPushButton("刷新")
        self.takeout_button = primary_button("开柜取件")
        self.processed_button = QPushButton("标记已办结")
        self.size_combo = QComboBox()
        for key, text in SIZES.items():
            self.size_combo.addItem(text, key)
        self.result_button = primary_button("放入结果证照")
        self.clear_button = QPushButton("恢复故障柜门")
        self.resend_button = QPushButton("重发取件码并解锁")
        for w in (self.refresh_button, self.takeout_button, self.processed_button,
                  self.resend_button):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.clear_button)
        self.layout_.addLayout(row)
        result_row = QHBoxLayout()
        result_row.addWidget(QLabel("结果证照规格："))
        result_row.addWidget(self.size_combo)
        result_row.addWidget(self.result_button)
        result_row.addStretch(1)
        self.layout_.addLayout(result_row)

        self.refresh_button.clicked.connect(self.refresh)
        self.takeout_button.clicked.connect(self.takeout)
        self.processed_button.clicked.connect(self.mark_processed)
        self.result_button.clicked.connect(self.put_result)
        self.clear_button.clicked.connect(self.clear_faults)
        self.resend_button.clicked.connect(self.resend_code)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()
        if self.service is None:
            self.notice.show_message("本机未配置储物柜（devices.locker），不能开柜。", "error")
            self.refresh_button.setEnabled(False)
        else:
            self.refresh()

    # -- list -------------------------------------------------------------------------------

    def refresh(self) -> None:
        service = self.service
        assert service is not None

        def work() -> tuple[list[Any], list[Any]]:
            service.ensure_doors()
            service.recover()
            return service.items(), service.door_records()

        self.run_busy("正在读取柜内办件…", work, self._show)

    def _show(self, result: tuple[list[Any], list[Any]]) -> None:
        self.items, doors = result
        self.table.setRowCount(len(self.items))
        for r, item in enumerate(self.items):
            shown = describe_item(item)
            for c, (key, _title) in enumerate(self.COLUMNS):
                self.table.setItem(r, c, QTableWidgetItem(shown[key]))
        count = len(doors)
        for door in doors:
            chip = self.door_chips.get(door.key)
            if chip is None:
                chip = QLabel()
                chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
                chip.setMinimumWidth(100)
                self.door_chips[door.key] = chip
                n = door_number(door.key) - 1
                self.doors_grid.addWidget(chip, n // 8, n % 8)
            self._chip(door.key, door.state, door_size(door_number(door.key), count))
        free = sum(1 for d in doors if d.state == "free")
        self.doors_title.setText(f"<b>柜门</b>（空闲 {free}/{count}；S 小、M 中、L 大）")
        self._update_buttons()

    CHIP_COLOURS: ClassVar[dict[str, str]] = {
        "free": "#e8f5e9", "occupied": "#e3f2fd", "fault": "#ffebee", "open": "#fff3e0"}

    def _chip(self, key: str, state: str, size: str) -> None:
        chip = self.door_chips.get(key)
        if chip is None:
            return
        chip.setText(f"{door_label(key)}（{size}）\n{DOOR_LABELS.get(state, state)}")
        colour = self.CHIP_COLOURS.get(state, "#fff3e0")
        chip.setStyleSheet(f"background: {colour}; border: 1px solid #d0d7de;"
                           " border-radius: 4px; padding: 2px;")
        chip.setProperty("state", state)

    def selected(self) -> Any:
        model = self.table.selectionModel()
        rows = model.selectedRows() if model is not None else []
        return self.items[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        item = self.selected()
        state = item.state if item is not None else ""
        busy = self.opened is not None
        self.takeout_button.setEnabled(state == DEPOSITED and not busy)
        self.processed_button.setEnabled(state == TAKEN and not busy)
        self.result_button.setEnabled(state == PROCESSED and not busy)
        self.resend_button.setEnabled(state == RESULT_READY)
        if item is not None and state == PROCESSED:
            self.size_combo.setCurrentIndex(max(0, self.size_combo.findData(
                item.data.get("size", "S"))))

    # -- actions ----------------------------------------------------------------------------

    def _act(self, text: str, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.run_busy(text, fn, done, on_error=self._failed, cancellable=False)

    def _failed(self, exc: BaseException) -> None:
        self.notice.show_message(error_message(exc), "error")
        if isinstance(exc, DoorJammed):
            self.refresh()

    def takeout(self) -> None:
        item, service = self.selected(), self.service
        if item is None or service is None:
            return
        self._act("正在开柜…", lambda: service.start_takeout(item.key), self._door_opened)

    def put_result(self) -> None:
        item, service = self.selected(), self.service
        if item is None or service is None:
            return
        size = self.size_combo.currentData()
        self._act("正在分配柜门并开柜…", lambda: service.start_result(item.key, size),
                  self._door_opened)

    def mark_processed(self) -> None:
        item, service = self.selected(), self.service
        if item is None or service is None:
            return
        self._act("正在保存…", lambda: service.mark_processed(item.key),
                  lambda _r: self._after("已标记为已办结，可放入结果证照。"))

    def resend_code(self) -> None:
        item, service = self.selected(), self.service
        if item is None or service is None:
            return
        self._act("正在重发…", lambda: service.resend_code(item.key),
                  lambda _r: self._after("已重新发送取件码短信，错误次数已清零。"))

    def clear_faults(self) -> None:
        service = self.service
        if service is None:
            return

        def work() -> int:
            doors = [d.key for d in service.door_records() if d.state == FAULT]
            for door in doors:
                service.clear_fault(door)
            return len(doors)

        self._act("正在恢复…", work, lambda n: self._after(f"已恢复 {n} 个故障柜门。"))

    def _after(self, message: str) -> None:
        self.notice.show_message(message)
        self.refresh()

    def _door_opened(self, opened: Opened) -> None:
        self.opened = opened
        service = self.service
        assert service is not None
        what = {"takeout": "取出材料", "result": "放入结果证照"}.get(opened.op, "操作")
        extra = ""
        if opened.skipped:
            skipped = "、".join(door_label(d) for d in opened.skipped)
            extra = f"（{skipped} 号柜门未能打开，已停用）"
        self.door_status.setText(f"{door_label(opened.door)} 号柜门已打开{extra}：请{what}后关门。")
        self.door_status.show()
        self._chip(opened.door, "open", door_size(door_number(opened.door),
                                                   len(self.door_chips) or 16))
        self._update_buttons()

        def on_state(state: DoorState) -> bool:
            if state is DoorState.OPEN:
                return True
            self._act("柜门已关闭，正在保存…", lambda: service.complete(opened.door),
                      self._completed)
            return False

        self.watch.start(lambda: service.door_state(opened.door), on_state, lambda _e: True)

    def _completed(self, item: Any) -> None:
        opened, self.opened = self.opened, None
        self.door_status.hide()
        if opened is not None and opened.op == "result":
            self._after(f"结果证照已放入 {door_label(opened.door)} 号柜门，"
                        "取件码已通过短信发送给申请人。")
        else:
            self._after("材料已取出，请办理后标记已办结。")
