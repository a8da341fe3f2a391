"""S9 page: thin widgets over plugins.trading_platform.logic.

Steps: login QR (confirmed on the representative's phone) → logged in as the enterprise (an
applicant session begins) → "获取电子营业执照信息" with a second authorization QR → the form,
filled from the licence and checked at each field → submitted through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from plugins.trading_platform.logic import (
    FILE_FIELD,
    Delivery,
    LicenceInfo,
    LoggedIn,
    check_registration,
    deliver,
    fetch_licence_info,
    load_licence_file,
    logged_in,
    login_status,
    open_authorization,
    open_login,
    queue_registration,
    today_in_china,
)
from workstation.api import EnterprisePlatform, ScenarioContext
from workstation.api.trading import (
    CERTIFICATE_NAMES,
    COUNTRIES,
    ENTERPRISE_TYPES,
    PERMANENT,
    STREET_MAX,
    LicenceFile,
    industry_classes,
    industry_sections,
    regions,
)
from workstation.api.ui import Poller, QrPanel, ScenarioPage, error_message, primary_button

PLEASE_PICK = "请选择"
ADDRESS_KEYS = ("province", "city", "district", "street")


def build_page(ctx: ScenarioContext) -> QWidget:
    return TradingPage(ctx)


def choose_licence_file(parent: QWidget) -> str | None:
    """Ask the clerk for a licence picture; replaced in tests (no modal dialog there)."""
    path, _filter = QFileDialog.getOpenFileName(
        parent, "选择营业执照文件", "", "营业执照图片 (*.jpg *.jpeg *.png)")
    return path or None


class FormField(QWidget):
    """A required field: its label, its input widgets in a row, and its error under them."""

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.label = QLabel(f"<span style='color:#c62828'>*</span> {label}")
        self.row = QHBoxLayout()
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.label)
        layout.addLayout(self.row)
        layout.addWidget(self.error)
        layout.addStretch(1)  # top-aligned: a neighbour's error must not move this label

    def add(self, widget: QWidget, stretch: int = 0) -> QWidget:
        self.row.addWidget(widget, stretch)
        return widget

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    def error_text(self) -> str:
        return self.error.text() if self.error.isVisible() else ""


def _combo(items: list[tuple[str, str]], placeholder: bool = True) -> QComboBox:
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    if placeholder:
        combo.addItem(PLEASE_PICK, "")
    for text, data in items:
        combo.addItem(text, data)
    return combo


def _select(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    combo.setCurrentIndex(index if index >= 0 else 0)


class RegistrationForm(QWidget):
    """The platform's 基本信息 form; values and errors by the field keys of trading_form."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(8)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.fields: dict[str, FormField] = {}
        self.edits: dict[str, QLineEdit] = {}

        def field(key: str, label: str, row: int, col: int, span: int = 1) -> FormField:
            f = FormField(label)
            self.fields[key] = f
            grid.addWidget(f, row, col, 1, span)
            return f

        def edit(key: str, f: FormField, placeholder: str = "") -> QLineEdit:
            e = QLineEdit()
            e.setPlaceholderText(placeholder)
            e.textEdited.connect(lambda _t: f.set_error(None))
            self.edits[key] = e
            f.add(e, 1)
            return e

        f = field("cert_name", "证书名称", 0, 0)
        self.cert_name = _combo([(n, n) for n in CERTIFICATE_NAMES])
        f.add(self.cert_name, 1)
        edit("cert_no", field("cert_no", "证书编号", 0, 1), "统一社会信用代码")
        edit("issuer", field("issuer", "颁发部门", 1, 0))
        edit("issued_on", field("issued_on", "颁发日期", 1, 1), "YYYY-MM-DD")
        f = field("valid_until", "证书有效期至", 2, 0)
        edit("valid_until", f, "YYYY-MM-DD")
        self.permanent = QCheckBox(PERMANENT)
        f.add(self.permanent)
        self.permanent.toggled.connect(self._permanent_toggled)
        f = field("country", "国别地区", 2, 1)
        self.country = _combo([(c, c) for c in COUNTRIES])
        f.add(self.country, 1)
        f = field("capital_wan", "注册资本", 3, 0)
        edit("capital_wan", f, "请输入")
        f.add(QLabel("万元"))
        edit("founded_on", field("founded_on", "成立日期", 3, 1), "YYYY-MM-DD")
        f = field("enterprise_type", "企业类型", 4, 0, 2)
        self.enterprise_type = _combo([(t, t) for t in ENTERPRISE_TYPES])
        f.add(self.enterprise_type, 1)

        f = field("industry_code", "国民经济行业分类（GB/T 4754-2017）", 5, 0, 2)
        self.industry_section = _combo([(f"{k} {v}", k) for k, v in industry_sections().items()])
        self.industry_class = _combo([])
        f.add(self.industry_section, 1)
        f.add(self.industry_class, 1)
        self.industry_section.currentIndexChanged.connect(self._section_changed)

        f = field("address", "单位地址", 6, 0, 2)
        self.province = _combo([(p, p) for p in regions()])
        self.city = _combo([])
        self.district = _combo([])
        self.street = QLineEdit()
        self.street.setPlaceholderText("请输入街道 小区 门牌号等信息")
        self.street_count = QLabel(f"0/{STREET_MAX}")
        self.street_count.setMinimumWidth(64)
        self.street_count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for w in (self.province, self.city, self.district):
            f.add(w, 1)
        f.add(self.street, 3)
        f.add(self.street_count)
        self.edits["street"] = self.street
        self.street.textChanged.connect(self._street_changed)
        self.province.currentIndexChanged.connect(self._province_changed)
        self.city.currentIndexChanged.connect(self._city_changed)
        for combo, key in ((self.cert_name, "cert_name"), (self.country, "country"),
                           (self.enterprise_type, "enterprise_type"),
                           (self.industry_class, "industry_code"),
                           (self.province, "address"), (self.city, "address"),
                           (self.district, "address")):
            combo.activated.connect(lambda _i, k=key: self.fields[k].set_error(None))

        f = field(FILE_FIELD, "营业执照证", 7, 0, 2)
        self.file_preview = QLabel("未上传")
        self.file_preview.setFixedSize(192, 120)
        self.file_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.file_preview.setFrameShape(QFrame.Shape.StyledPanel)
        self.file_label = QLabel("只能上传 jpg/png 文件，且不超过 1M")
        self.file_label.setWordWrap(True)
        self.file_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        buttons = QVBoxLayout()
        self.use_platform_file = QPushButton("使用电子营业执照照面")
        self.pick_file = QPushButton("选择本地文件…")
        buttons.addWidget(self.use_platform_file)
        buttons.addWidget(self.pick_file)
        buttons.addStretch(1)
        f.add(self.file_preview)
        f.add(self.file_label, 1)
        f.row.addLayout(buttons)

    # -- cascading pickers ------------------------------------------------------------------

    def _permanent_toggled(self, on: bool) -> None:
        self.edits["valid_until"].setEnabled(not on)
        self.fields["valid_until"].set_error(None)

    def _section_changed(self) -> None:
        section = self.industry_section.currentData() or ""
        self.industry_class.clear()
        self.industry_class.addItem(PLEASE_PICK, "")
        for code, name in industry_classes().items():
            if section and code.startswith(section):
                self.industry_class.addItem(f"{code} {name}", code)

    def _province_changed(self) -> None:
        self.city.clear()
        self.city.addItem(PLEASE_PICK, "")
        for city in regions().get(self.province.currentData() or "", {}):
            self.city.addItem(city, city)

    def _city_changed(self) -> None:
        self.district.clear()
        self.district.addItem(PLEASE_PICK, "")
        cities = regions().get(self.province.currentData() or "", {})
        for district in cities.get(self.city.currentData() or "", []):
            self.district.addItem(district, district)

    def _street_changed(self, text: str) -> None:
        over = len(text) > STREET_MAX
        self.street_count.setText(f"{len(text)}/{STREET_MAX}")
        self.street_count.setObjectName("FieldError" if over else "")
        style = self.street_count.style()
        if style is not None:
            style.unpolish(self.street_count)
            style.polish(self.street_count)

    # -- values -----------------------------------------------------------------------------

    def set_industry(self, code: str) -> None:
        _select(self.industry_section, code[:1] if code else "")
        _select(self.industry_class, code)

    def fill(self, form: dict[str, str]) -> None:
        for key in ("cert_no", "issuer", "issued_on", "capital_wan", "founded_on"):
            self.edits[key].setText(form.get(key, ""))
        _select(self.cert_name, form.get("cert_name", ""))
        permanent = form.get("valid_until") == PERMANENT
        self.permanent.setChecked(permanent)
        self.edits["valid_until"].setText("" if permanent else form.get("valid_until", ""))
        _select(self.country, form.get("country", ""))
        _select(self.enterprise_type, form.get("enterprise_type", ""))
        self.set_industry(form.get("industry_code", ""))
        _select(self.province, form.get("province", ""))
        _select(self.city, form.get("city", ""))
        _select(self.district, form.get("district", ""))
        self.street.setText(form.get("street", ""))
        self.show_errors({})

    def values(self) -> dict[str, str]:
        valid_until = PERMANENT if self.permanent.isChecked() else self.edits["valid_until"].text()
        return {
            "cert_name": self.cert_name.currentData() or "",
            "cert_no": self.edits["cert_no"].text(),
            "issuer": self.edits["issuer"].text(),
            "issued_on": self.edits["issued_on"].text(),
            "valid_until": valid_until,
            "country": self.country.currentData() or "",
            "capital_wan": self.edits["capital_wan"].text(),
            "founded_on": self.edits["founded_on"].text(),
            "enterprise_type": self.enterprise_type.currentData() or "",
            "industry_code": self.industry_class.currentData() or "",
            "province": self.province.currentData() or "",
            "city": self.city.currentData() or "",
            "district": self.district.currentData() or "",
            "street": self.street.text(),
        }

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, field in self.fields.items():
            if key == "address":
                field.set_error("；".join(errors[k] for k in ADDRESS_KEYS if k in errors) or None)
            else:
                field.set_error(errors.get(key))

    def error_of(self, key: str) -> str:
        return self.fields["address" if key in ADDRESS_KEYS else key].error_text()

    def show_file(self, file: LicenceFile | None, note: str = "") -> None:
        if file is None:
            self.file_preview.setPixmap(QPixmap())
            self.file_preview.setText("未上传")
            self.file_label.setText(note or "只能上传 jpg/png 文件，且不超过 1M")
            return
        pixmap = QPixmap()
        if pixmap.loadFromData(file.content):
            self.file_preview.setPixmap(pixmap.scaled(
                self.file_preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        else:
            self.file_preview.setText("（无法预览）")
        size = len(file.content) / 1024
        self.file_label.setText(f"已上传：{file.name}（{size:.0f} KB）{note}")
        self.fields[FILE_FIELD].set_error(None)


class TradingPage(ScenarioPage):
    def __init__(self, ctx: ScenarioContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "咸宁市公共资源电子交易平台 · 主体信息登记", parent)
        self.login_poller = Poller(self.tasks, 1000, self)
        self.auth_poller = Poller(self.tasks, 1000, self)
        self.submit_poller = Poller(self.tasks, 1000, self)
        self.choose_file: Callable[[QWidget], str | None] = choose_licence_file
        self.login: LoggedIn | None = None
        self.info: LicenceInfo | None = None
        self.licence_file: LicenceFile | None = None
        self.submission_key: str | None = None

        layout = self.layout_

        self.login_box = QGroupBox("电子营业执照登录")
        ll = QHBoxLayout(self.login_box)
        self.login_label = QLabel("请企业经办人用微信扫描电子营业执照登录二维码，"
                                  "选择要参与招投标的营业执照，输入密码后确认登录。")
        self.login_label.setWordWrap(True)
        self.login_button = primary_button("营业执照扫码登录")
        ll.addWidget(self.login_label, 1)
        ll.addWidget(self.login_button)
        layout.addWidget(self.login_box)
        self.login_qr = QrPanel("电子营业执照扫码登录")
        layout.addWidget(self.login_qr)

        self.home = QGroupBox("主体信息管理（法人）")
        hl = QVBoxLayout(self.home)
        row = QHBoxLayout()
        self.fetch_button = primary_button("获取电子营业执照信息")
        fetch_hint = QLabel("再次扫码授权后，自动获取营业执照信息并上传照面，无需手动填写。")
        fetch_hint.setWordWrap(True)
        row.addWidget(self.fetch_button)
        row.addWidget(fetch_hint, 1)
        hl.addLayout(row)
        self.auth_qr = QrPanel("扫码授权获取营业执照信息")
        hl.addWidget(self.auth_qr)
        self.form = RegistrationForm()
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setWidget(self.form)
        hl.addWidget(self.form_scroll, 1)
        actions = QHBoxLayout()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.submit_button = primary_button("提交登记")
        actions.addWidget(self.result_label, 1)
        actions.addWidget(self.submit_button)
        hl.addLayout(actions)
        self.home.hide()
        layout.addWidget(self.home, 1)
        layout.addStretch(0)

        self.login_button.clicked.connect(self.start_login)
        self.fetch_button.clicked.connect(self.request_authorization)
        self.submit_button.clicked.connect(self.submit)
        self.form.use_platform_file.clicked.connect(self.use_platform_file)
        self.form.pick_file.clicked.connect(self.pick_file)
        self.form.use_platform_file.setEnabled(False)

    # -- login ------------------------------------------------------------------------------

    def start_login(self) -> None:
        self.login_poller.stop()
        self.notice.clear_message()
        self.run_busy("正在生成登录二维码…", lambda: open_login(self.ctx), self._show_login_code)

    def _show_login_code(self, prompt: Any) -> None:
        self.login_qr.show_code(
            prompt.qr_text,
            "请用微信扫描左侧二维码，选择对应进行招投标的营业执照，输入电子营业执照密码后"
            "点击“确认登录”。", prompt.expires_at)
        self.login_poller.start(lambda: login_status(self.ctx, prompt.ref), self._login_answer,
                                lambda exc: self._poll_failed(self.login_qr, exc))

    def _poll_failed(self, panel: QrPanel, exc: BaseException) -> bool:
        panel.status.setText(f"暂时无法查询扫码结果：{error_message(exc)}，正在重试…")
        return True

    def _login_answer(self, result: Any) -> bool:
        if result.status == "pending":
            return True
        self.login_qr.clear()
        if result.status == "refused":
            self.notice.show_message("企业经办人已拒绝登录，请重新扫码。", "error")
        elif result.status == "expired":
            self.notice.show_message("登录二维码已过期，请点击“营业执照扫码登录”刷新二维码。",
                                     "error")
        elif result.status == "confirmed":
            try:
                self._logged_in(logged_in(result))
            except Exception as exc:  # a malformed answer: say so, stay logged out
                self.notice.show_message(error_message(exc), "error")
        return False

    def _logged_in(self, login: LoggedIn) -> None:
        self.login, self.info, self.licence_file, self.submission_key = login, None, None, None
        self.submit_poller.stop()
        if self.ctx.sessions.applicant != login.applicant:
            self.ctx.sessions.begin(login.applicant)
        self.login_label.setText(
            f"已登录：{login.applicant.name}（统一社会信用代码 {login.applicant.masked_id}）")
        self.login_button.setText("切换企业登录")
        self.notice.show_message("登录成功，请点击“获取电子营业执照信息”。")
        self.form.fill({})
        self.form.show_file(None)
        self.form.use_platform_file.setEnabled(False)
        self.result_label.setText("")
        self.submit_button.setEnabled(True)
        self.form_scroll.hide()
        self.submit_button.hide()
        self.home.show()

    # -- second authorization ---------------------------------------------------------------

    def request_authorization(self) -> None:
        login = self.login
        if login is None:
            return
        self.auth_poller.stop()
        self.notice.clear_message()
        self.run_busy("正在发起授权请求…", lambda: open_authorization(self.ctx, login),
                      self._show_auth_code)

    def _show_auth_code(self, prompt: Any) -> None:
        self.auth_qr.show_code(
            prompt.qr_text,
            "请企业经办人再次扫描左侧二维码，确认授权本平台调取营业执照信息"
            "（用途：公共资源交易平台主体信息登记）。", prompt.expires_at)
        platform = EnterprisePlatform(self.ctx.platform)
        self.auth_poller.start(lambda: platform.consent_status(prompt.ref), self._auth_answer,
                               lambda exc: self._poll_failed(self.auth_qr, exc))

    def _auth_answer(self, answer: Any) -> bool:
        if answer.status == "pending":
            return True
        self.auth_qr.clear()
        login = self.login
        if answer.status == "refused":
            self.notice.show_message("企业未同意授权，未调取营业执照信息，可手工填写。", "error")
            self._show_form()
        elif answer.status == "expired":
            self.notice.show_message("授权二维码已过期，请重新点击“获取电子营业执照信息”。",
                                     "error")
        elif answer.status == "approved" and login is not None:
            self.run_busy("正在获取电子营业执照信息…",
                          lambda: fetch_licence_info(self.ctx, login, answer), self._filled)
        return False

    def _filled(self, info: LicenceInfo) -> None:
        self.info = info
        if self.ctx.sessions.current is not None:
            self.ctx.sessions.add_consent(info.consent)
        self.form.fill(info.form)
        self.licence_file = info.file
        self.form.use_platform_file.setEnabled(info.file is not None)
        self.form.show_file(info.file, "，来自电子营业执照" if info.file else
                            f"电子营业执照照面无法使用：{info.file_problem}，请选择本地文件")
        self.notice.show_message("已获取电子营业执照信息，请核对并选择国民经济行业分类后提交。")
        self._show_form()

    def _show_form(self) -> None:
        self.form_scroll.show()
        self.submit_button.show()

    # -- the licence file -------------------------------------------------------------------

    def use_platform_file(self) -> None:
        if self.info is not None and self.info.file is not None:
            self.licence_file = self.info.file
            self.form.show_file(self.info.file, "，来自电子营业执照")

    def pick_file(self) -> None:
        path = self.choose_file(self)
        if not path:
            return
        self.run_busy("正在读取文件…", lambda: load_licence_file(path), self._file_loaded,
                      on_error=self._file_refused)

    def _file_loaded(self, file: LicenceFile) -> None:
        self.licence_file = file
        self.form.show_file(file)

    def _file_refused(self, exc: BaseException) -> None:
        self.form.fields[FILE_FIELD].set_error(error_message(exc))

    # -- submission -------------------------------------------------------------------------

    def submit(self) -> None:
        login = self.login
        if login is None:
            return
        values = self.form.values()
        errors = check_registration(values, self.licence_file, login, today_in_china(self.ctx))
        self.form.show_errors(errors)
        if errors:
            self.notice.show_message(f"有 {len(errors)} 项信息需要修改，请查看标红的字段。",
                                     "error")
            return
        file = self.licence_file
        assert file is not None
        self.notice.clear_message()
        self.submit_button.setEnabled(False)

        def work() -> tuple[str, Delivery]:
            key = queue_registration(self.ctx, login, values, file)
            return key, deliver(self.ctx, key)

        self.run_busy("正在提交交易平台…", work, self._queued, on_error=self._submit_failed)

    def _submit_failed(self, exc: BaseException) -> None:
        self.submit_button.setEnabled(True)
        self.notice.show_message(error_message(exc), "error")

    def _queued(self, result: tuple[str, Delivery]) -> None:
        key, state = result
        self.submission_key = key
        if self._delivered(state):
            key_now = key
            self.submit_poller.start(lambda: deliver(self.ctx, key_now), self._delivered,
                                     lambda _exc: True)

    def _delivered(self, state: Delivery) -> bool:
        """Show where the registration stands; True while it still waits to be sent."""
        if state.status == "sent":
            number = f"，登记编号 {state.registration_no}" if state.registration_no else ""
            self.notice.show_message(f"主体信息登记已提交交易平台{number}。")
            self.result_label.setText(f"已提交{number}")
            return False
        if state.status == "held":
            self.notice.show_message(f"交易平台未接受登记：{state.error or ''}", "error")
            self.submit_button.setEnabled(True)
            return False
        self.notice.show_message(
            "交易平台暂时无法连接：登记已保存在待发送队列，恢复后自动提交，不会重复提交。",
            "offline")
        self.result_label.setText("待发送")
        self.ctx.wake_outbox()
        return True
