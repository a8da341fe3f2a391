"""The S12/S13 page (one class for gas and water): thin widgets over ``forms`` and ``service``.

Steps: 报装说明 and sign-in → 居民/企业 → licence consent (residential: the citizen agrees on
screen to fetch the 不动产权证书; enterprise: the enterprise authorizes on its phone by scanning
a QR, the business licence follows) → the form, pre-filled → 暂存 / 下一步 → submitted (print the
受理回执) → progress of every application at both utilities.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from PyQt6.QtCore import QEvent, QObject, QRegularExpression, Qt, QTimer
from PyQt6.QtGui import QRegularExpressionValidator
from PyQt6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from plugins.utility_connection import service
from plugins.utility_connection.forms import (
    CHOICE,
    COUNT,
    CREDIT_CODE,
    ENTERPRISE,
    ID_NUMBER,
    MULTI,
    PENDING_LABEL,
    PHONE,
    RESIDENTIAL,
    VOLUME,
    FieldSpec,
    FormInvalid,
    Prefill,
    Utility,
    check_field,
    merge_draft,
    prefill_enterprise,
    prefill_person,
    validate_form,
)
from plugins.utility_connection.printout import receipt_data
from workstation.api import (
    CHINA_TZ,
    Applicant,
    EnterprisePlatform,
    HolderKind,
    IdentifiedBy,
    IdentityError,
    LicencesUnavailable,
    ScenarioContext,
    mask_id_number,
    mask_name,
    validate_id_number,
    validate_person_name,
)
from workstation.api.ui import (
    ConsentPanel,
    FieldRow,
    Poller,
    QrPanel,
    ScenarioPage,
    gui_callback,
    primary_button,
    print_preview,
)

log = logging.getLogger(__name__)

NUMERIC = (PHONE, COUNT, VOLUME)
REASON = "报装申请表自动填写"


def _label(text: str = "", *, wrap: bool = True, name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    if name:
        label.setObjectName(name)
    return label


_CHOICE_STYLE = ("QPushButton:checked { background: #b71c1c; color: white; border: none;"
                 " border-radius: 6px; font-weight: bold; }")


class ChoiceButtons(QWidget):
    """A touch picker: one checkable button per choice (exclusive or several)."""

    def __init__(self, choices: tuple[str, ...], *, exclusive: bool, columns: int) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.group.setExclusive(exclusive)
        self.buttons: dict[str, QPushButton] = {}
        for i, choice in enumerate(choices):
            button = QPushButton(choice)
            button.setCheckable(True)
            button.setObjectName("Choice")
            button.setStyleSheet(_CHOICE_STYLE)
            self.group.addButton(button)
            grid.addWidget(button, i // columns, i % columns)
            self.buttons[choice] = button

    def value(self) -> list[str]:
        return [c for c, b in self.buttons.items() if b.isChecked()]

    def set_value(self, value: Any) -> None:
        chosen = set(value) if isinstance(value, list | tuple) else {value}
        exclusive = self.group.exclusive()
        self.group.setExclusive(False)
        for choice, button in self.buttons.items():
            button.setChecked(choice in chosen)
        self.group.setExclusive(exclusive)


class FieldBox(QWidget):
    """One form field: label (with where the value came from), editor, error under it."""

    def __init__(self, spec: FieldSpec, *, kiosk: bool) -> None:
        super().__init__()
        self.spec = spec
        self.locked_value: str | None = None  # an ID number shown masked, not editable
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.label = _label(spec.label, wrap=False)
        layout.addWidget(self.label)
        self.edit: QLineEdit | None = None
        self.combo: QComboBox | None = None
        self.choices: ChoiceButtons | None = None
        if spec.kind == CHOICE and spec.key == "region":
            self.combo = QComboBox()
            for choice in spec.choices:  # the first office is the usual one: preselected
                self.combo.addItem(choice, choice)
            layout.addWidget(self.combo)
        elif spec.kind in (CHOICE, MULTI):
            columns = 5 if not kiosk else (3 if len(spec.choices) > 3 else len(spec.choices))
            self.choices = ChoiceButtons(spec.choices, exclusive=spec.kind == CHOICE,
                                         columns=columns)
            layout.addWidget(self.choices)
        else:
            self.edit = QLineEdit()
            placeholder = spec.placeholder + (f"（{spec.unit}）" if spec.unit else "")
            self.edit.setPlaceholderText(placeholder)
            if spec.kind in NUMERIC:
                self.edit.setValidator(QRegularExpressionValidator(
                    QRegularExpression(r"\d{0,11}" if spec.kind == PHONE else r"\d{0,6}")))
                self.edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
            elif spec.kind in (ID_NUMBER, CREDIT_CODE):
                self.edit.setMaxLength(18)
            layout.addWidget(self.edit)
            self.edit.textEdited.connect(lambda _t: self.set_error(None))
        self.error = _label(name="FieldError")
        self.error.hide()
        layout.addWidget(self.error)

    def set_source(self, source: str | None) -> None:
        self.label.setText(f"{self.spec.label}　<span style='color:#2e7d32'>（{source}）</span>"
                           if source else self.spec.label)

    def value(self) -> Any:
        if self.locked_value is not None:
            return self.locked_value
        if self.combo is not None:
            return self.combo.currentData() or ""
        if self.choices is not None:
            chosen = self.choices.value()
            return chosen if self.spec.kind == MULTI else (chosen[0] if chosen else "")
        assert self.edit is not None
        return self.edit.text().strip()

    def set_value(self, value: Any, *, lock: bool = False) -> None:
        if self.combo is not None:
            index = self.combo.findData(value)
            self.combo.setCurrentIndex(max(index, 0))
        elif self.choices is not None:
            self.choices.set_value(value)
        elif self.edit is not None:
            if lock and value:
                self.locked_value = str(value)
                shown = str(value)
                if self.spec.kind == ID_NUMBER:
                    shown = mask_id_number(shown)
                elif self.spec.key in ("owner_name", "agent_name"):
                    shown = mask_name(shown)
                self.edit.setText(shown)
                self.edit.setReadOnly(True)
            else:
                self.locked_value = None
                self.edit.setReadOnly(False)
                self.edit.setText("" if value is None else str(value))

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    def error_text(self) -> str:
        return self.error.text() if self.error.isVisible() else ""


class Keypad(QFrame):
    """A numeric keypad for the phone, people and volume fields (touch; never takes focus)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("Keypad")
        self.target: QLineEdit | None = None
        grid = QGridLayout(self)
        grid.setSpacing(8)
        self.title = _label("数字键盘", wrap=False)
        grid.addWidget(self.title, 0, 0, 1, 3)
        self.keys: dict[str, QPushButton] = {}
        for i, key in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "9", "清空", "0", "退格"]):
            button = QPushButton(key)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(72)
            button.clicked.connect(lambda _c=False, k=key: self.press(k))
            grid.addWidget(button, 1 + i // 3, i % 3)
            self.keys[key] = button

    def attach(self, edit: QLineEdit | None, label: str = "") -> None:
        self.target = edit
        self.title.setText(f"数字键盘：{label}" if edit is not None else "数字键盘")

    def press(self, key: str) -> None:
        edit = self.target
        if edit is None or edit.isReadOnly():
            return
        if key == "清空":
            edit.clear()
        elif key == "退格":
            edit.backspace()
        else:
            edit.insert(key)
        edit.textEdited.emit(edit.text())


class UtilityPage(ScenarioPage):
    def __init__(self, ctx: ScenarioContext, utility: Utility) -> None:
        super().__init__(ctx, f"{utility.company} · {utility.business}")
        self.utility = utility
        self.kiosk = bool(ctx.kiosk)
        self.applicant: Applicant | None = None
        self.variant = RESIDENTIAL
        self.prefill = Prefill()
        self.licences_used: list[str] = []
        self.draft: service.Draft | None = None
        self.client_ref: str | None = None
        self.submission: service.Submission | None = None
        self.prepared: Any = None
        self.print_outcome: Any = None
        self.progress_rows: tuple[service.ProgressRow, ...] = ()
        self.fields: dict[str, FieldBox] = {}
        self.consent_request: Any = None
        self.poller = Poller(self.tasks, 1000, self)
        self.sync_poller = Poller(self.tasks, 2000, self)

        self.steps = QStackedWidget()
        self.layout_.addWidget(self.steps, 1)
        self._build_welcome()
        self._build_choose()
        self._build_consent()
        self._build_enterprise()
        self._build_form()
        self._build_done()
        self._build_progress()
        self.steps.setCurrentWidget(self.welcome_step)
        if self.kiosk:
            for label in (self.done_title, self.done_label):
                label.setStyleSheet("font-size: 26pt;")
        else:
            # at the counter an applicant the clerk already identified elsewhere is taken too
            current = ctx.sessions.applicant
            if current is not None and current.kind is HolderKind.PERSON \
                    and not self.accepts(current):
                offer = QTimer(self)  # owned by the page: never fires after it is gone
                offer.setSingleShot(True)
                offer.timeout.connect(lambda: self.applicant_ready(current))
                offer.start(0)

    # -- building ---------------------------------------------------------------------------

    def _notes_label(self) -> QLabel:
        notes = "".join(f"<li style='margin-bottom:6px'>{n}</li>" for n in self.utility.notes)
        label = _label(f"<b>报装说明</b><ol style='margin-left:-12px'>{notes}</ol>")
        label.setTextFormat(Qt.TextFormat.RichText)
        return label

    def _build_welcome(self) -> None:
        self.welcome_step = QWidget()
        row = QHBoxLayout(self.welcome_step)
        left = QVBoxLayout()
        self.welcome_notes = self._notes_label()
        left.addWidget(self.welcome_notes)
        left.addStretch(1)
        row.addLayout(left, 3)
        right = QVBoxLayout()
        self.prompt = self.sign_in_prompt()
        right.addWidget(self.prompt)
        self.clerk_box = QFrame()
        cl = QVBoxLayout(self.clerk_box)
        cl.addWidget(_label("<b>或由窗口人员录入办事人</b>"))
        self.clerk_name = FieldRow("姓名", "办事人姓名")
        self.clerk_id = FieldRow("公民身份号码", "18 位身份证号码")
        self.clerk_id.edit.setMaxLength(18)
        self.clerk_button = primary_button("录入办事人")
        cl.addWidget(self.clerk_name)
        cl.addWidget(self.clerk_id)
        cl.addWidget(self.clerk_button, alignment=Qt.AlignmentFlag.AlignRight)
        right.addWidget(self.clerk_box)
        self.clerk_box.setVisible(not self.kiosk)
        right.addStretch(1)
        row.addLayout(right, 2)
        self.steps.addWidget(self.welcome_step)
        self.clerk_button.clicked.connect(self.clerk_identify)

    def _build_choose(self) -> None:
        self.choose_step = QWidget()
        row = QHBoxLayout(self.choose_step)
        left = QVBoxLayout()
        self.greeting = _label()
        left.addWidget(self.greeting)
        self.residential_button = primary_button(self.utility.title(RESIDENTIAL))
        self.enterprise_button = primary_button(self.utility.title(ENTERPRISE))
        for button in (self.residential_button, self.enterprise_button):
            button.setMinimumHeight(110 if self.kiosk else 56)
            left.addWidget(button)
        self.draft_label = _label()
        self.draft_label.hide()
        left.addWidget(self.draft_label)
        self.progress_button = QPushButton("查询办理进度")
        left.addWidget(self.progress_button)
        left.addStretch(1)
        row.addLayout(left, 2)
        row.addWidget(self._notes_label(), 3)
        self.steps.addWidget(self.choose_step)
        self.residential_button.clicked.connect(lambda: self.choose(RESIDENTIAL))
        self.enterprise_button.clicked.connect(lambda: self.choose(ENTERPRISE))
        self.progress_button.clicked.connect(self.show_progress)

    def _build_consent(self) -> None:
        self.consent_step = QWidget()
        col = QVBoxLayout(self.consent_step)
        col.addWidget(_label("经您同意，将从湖北省电子证照库调取您名下的不动产权证书，自动填写业主、"
                             "地址和小区名称，无需提交实体证照。不同意也可以继续，手工填写即可。"))
        self.consent_panel = ConsentPanel(kiosk=self.kiosk)
        if self.kiosk:
            self.consent_panel.decline_button.setText("不同意，手工填写")
        col.addWidget(self.consent_panel)
        col.addStretch(1)
        self.steps.addWidget(self.consent_step)
        self.consent_panel.accepted.connect(self.consent_accepted)
        self.consent_panel.declined.connect(self.consent_declined)

    def _build_enterprise(self) -> None:
        self.enterprise_step = QWidget()
        col = QVBoxLayout(self.enterprise_step)
        col.addWidget(_label("企业用户请由企业法定代表人或授权管理员打开鄂汇办 App，"
                             "扫描下方二维码，授权本次报装调取营业执照。"))
        self.qr_panel = QrPanel("企业授权调取营业执照")
        col.addWidget(self.qr_panel)
        buttons = QHBoxLayout()
        self.manual_enterprise_button = QPushButton("不调取，由窗口人员录入企业信息")
        self.manual_enterprise_button.setVisible(not self.kiosk)
        self.enterprise_back = QPushButton("返回")
        buttons.addWidget(self.enterprise_back)
        buttons.addStretch(1)
        buttons.addWidget(self.manual_enterprise_button)
        col.addLayout(buttons)
        col.addStretch(1)
        self.steps.addWidget(self.enterprise_step)
        self.manual_enterprise_button.clicked.connect(self.enterprise_manual)
        self.enterprise_back.clicked.connect(self.back_to_choose)

    def _build_form(self) -> None:
        self.form_step = QWidget()
        row = QHBoxLayout(self.form_step)
        row.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        self.form_title = _label()
        left.addWidget(self.form_title)
        self.prefill_label = _label(name="Notice")
        left.addWidget(self.prefill_label)
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_body = QWidget()
        self.form_grid = QGridLayout(self.form_body)
        self.form_grid.setHorizontalSpacing(24)
        self.form_grid.setVerticalSpacing(10 if self.kiosk else 4)
        self.form_scroll.setWidget(self.form_body)
        left.addWidget(self.form_scroll, 1)
        row.addLayout(left, 1)
        side = QVBoxLayout()
        self.keypad = Keypad()
        self.keypad.setVisible(self.kiosk)
        side.addWidget(self.keypad)
        side.addStretch(1)
        self.save_button = QPushButton("暂存")
        self.submit_button = primary_button("下一步")
        self.form_back = QPushButton("返回")
        for button in (self.save_button, self.submit_button, self.form_back):
            side.addWidget(button)
        holder = QWidget()
        holder.setLayout(side)
        holder.setFixedWidth(460 if self.kiosk else 180)
        row.addWidget(holder)
        self.steps.addWidget(self.form_step)
        self.save_button.clicked.connect(self.save_draft)
        self.submit_button.clicked.connect(self.submit)
        self.form_back.clicked.connect(self.back_to_choose)

    def _build_done(self) -> None:
        self.done_step = QWidget()
        col = QVBoxLayout(self.done_step)
        self.done_title = _label()
        col.addWidget(self.done_title)
        self.done_label = _label()
        self.done_label.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.done_label)
        self.print_label = _label()
        col.addWidget(self.print_label)
        buttons = QHBoxLayout()
        self.print_button = primary_button("打印受理回执")
        self.done_progress_button = QPushButton("查询办理进度")
        self.finish_button = QPushButton("完成")
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.done_progress_button)
        buttons.addStretch(1)
        buttons.addWidget(self.finish_button)
        col.addLayout(buttons)
        col.addStretch(1)
        self.steps.addWidget(self.done_step)
        self.print_button.clicked.connect(self.print_receipt)
        self.done_progress_button.clicked.connect(self.show_progress)
        self.finish_button.clicked.connect(self.finish)

    def _build_progress(self) -> None:
        self.progress_step = QWidget()
        col = QVBoxLayout(self.progress_step)
        self.progress_title = _label("<b>我的报装申请（燃气、用水）</b>")
        col.addWidget(self.progress_title)
        self.progress_scroll = QScrollArea()
        self.progress_scroll.setWidgetResizable(True)
        self.progress_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.progress_body = QWidget()
        self.progress_list = QVBoxLayout(self.progress_body)
        self.progress_scroll.setWidget(self.progress_body)
        col.addWidget(self.progress_scroll, 1)
        buttons = QHBoxLayout()
        self.refresh_button = QPushButton("刷新")
        self.progress_back = QPushButton("返回")
        buttons.addWidget(self.progress_back)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        col.addLayout(buttons)
        self.steps.addWidget(self.progress_step)
        self.refresh_button.clicked.connect(self.show_progress)
        self.progress_back.clicked.connect(self.back_to_choose)

    # -- sign-in ----------------------------------------------------------------------------

    def applicant_ready(self, applicant: Applicant) -> None:
        if applicant.kind is not HolderKind.PERSON:
            self.notice.show_message("报装请由业主或经办人本人登录（个人身份码或证件）。", "error")
            return
        self.applicant = applicant
        self.greeting.setText(f"您好，{applicant.masked_name}（{applicant.masked_id}）。"
                              "请选择办理类型：")
        self.steps.setCurrentWidget(self.choose_step)
        holder = applicant.holder_id
        self.run_busy("正在查询您暂存的申请…", lambda: service.load_draft(self.ctx, holder),
                      self._draft_loaded)

    def _draft_loaded(self, draft: service.Draft | None) -> None:
        self.draft = draft
        if draft is None:
            self.draft_label.hide()
            return
        saved = draft.saved_at.astimezone(CHINA_TZ)
        self.draft_label.setText(f"您有一份暂存的{self.utility.title(draft.variant)}"
                                 f"（{saved:%m月%d日 %H:%M}暂存），选择该类型后将自动恢复。")
        self.draft_label.show()

    def clerk_identify(self) -> None:
        """At the counter: the clerk types the applicant (checked at the fields)."""
        errors = False
        try:
            name = validate_person_name(self.clerk_name.text())
            self.clerk_name.set_error(None)
        except IdentityError as exc:
            self.clerk_name.set_error(exc.message)
            errors = True
        try:
            number = validate_id_number(self.clerk_id.text())
            self.clerk_id.set_error(None)
        except IdentityError as exc:
            self.clerk_id.set_error(exc.message)
            errors = True
        if errors:
            return
        applicant = Applicant(kind=HolderKind.PERSON, holder_id=number, name=name,
                              identified_by=IdentifiedBy.CLERK)
        self.ctx.sessions.begin(applicant)  # the previous applicant's pages close
        self.clerk_name.edit.clear()
        self.clerk_id.edit.clear()
        self.applicant_ready(applicant)

    # -- variant and licences ---------------------------------------------------------------

    def choose(self, variant: str) -> None:
        if self.applicant is None:
            return
        self.notice.clear_message()
        self.variant = variant
        self.licences_used = []
        self.client_ref = None
        if variant == RESIDENTIAL:
            request = service.licence_consent_request(self.ctx, self.utility, variant,
                                                      self.applicant, ("property_cert",))
            self.consent_request = request
            self.consent_panel.show_preview(request.preview_lines())
            self.steps.setCurrentWidget(self.consent_step)
        else:
            self.start_enterprise_authorization()

    def consent_accepted(self) -> None:
        request, applicant = self.consent_request, self.applicant
        assert applicant is not None
        operator = self.ctx.operator()

        def work() -> tuple[Any, Any, bool]:
            consent = self.ctx.consents.grant(request, operator=operator)
            try:
                result = self.ctx.licences.fetch(consent, ("property_cert",), reason=REASON,
                                                 operator=operator)
            except LicencesUnavailable:
                return consent, None, False
            valid = [lic for lic in result.of_type("property_cert") if lic.status == "valid"]
            return consent, (valid[0] if valid else None), True

        def done(outcome: tuple[Any, Any, bool]) -> None:
            consent, licence, checked = outcome
            self.ctx.sessions.add_consent(consent)
            if licence is not None:
                self.licences_used = ["property_cert"]
            self.show_form(prefill_person(self.utility, name=applicant.name,
                                          id_number=applicant.holder_id,
                                          property_licence=licence, property_checked=checked))
            if not checked:
                self.notice.show_message("电子证照库暂时无法连接，请手工填写地址。", "offline")

        self.run_busy("正在调取不动产权证书…", work, done)

    def consent_declined(self) -> None:
        request, applicant = self.consent_request, self.applicant
        assert applicant is not None
        operator = self.ctx.operator()

        def done(_consent: Any) -> None:
            self.show_form(prefill_person(self.utility, name=applicant.name,
                                          id_number=applicant.holder_id,
                                          property_licence=None, property_checked=False))

        self.run_busy("正在记录…", lambda: self.ctx.consents.decline(request, operator=operator),
                      done)

    def start_enterprise_authorization(self) -> None:
        platform = EnterprisePlatform(self.ctx.platform)
        ctx = self.ctx
        variant = self.variant

        def work() -> Any:
            return platform.request_consent(
                kind=HolderKind.ENTERPRISE, holder_id=None, purpose=self.utility.business,
                matter_code=self.utility.matter_codes[variant],
                licence_types=("business_licence",),
                expires_at=ctx.clock() + dt.timedelta(minutes=30),
                workstation_id=ctx.workstation_id)

        def failed(exc: BaseException) -> None:
            self.steps.setCurrentWidget(self.enterprise_step)
            self.qr_panel.clear()
            self.notice.show_message(
                "暂时无法发起企业授权（平台无法连接）。" + (
                    "可由窗口人员录入企业信息。" if not self.kiosk else "请稍后再试或到窗口办理。"),
                "offline")

        self.steps.setCurrentWidget(self.enterprise_step)
        self.run_busy("正在发起企业授权…", work, self._show_enterprise_code, on_error=failed)

    def _show_enterprise_code(self, prompt: Any) -> None:
        self.qr_panel.show_code(prompt.qr_text, "请用鄂汇办 App 扫码，确认授权调取营业执照。",
                                prompt.expires_at)
        platform = EnterprisePlatform(self.ctx.platform)
        self.poller.start(lambda: platform.consent_status(prompt.ref), self._enterprise_answer,
                          lambda _exc: True)

    def _enterprise_answer(self, answer: Any) -> bool:
        if answer.status == "pending":
            return True
        self.qr_panel.clear()
        if answer.status != "approved":
            self.notice.show_message("企业未授权（已拒绝或已过期），未调取营业执照。", "error")
            return False
        applicant = self.applicant
        assert applicant is not None
        ctx, operator = self.ctx, self.ctx.operator()
        enterprise = Applicant(kind=HolderKind.ENTERPRISE, holder_id=str(answer.holder_id),
                               name=str(answer.holder_name or ""), identified_by=IdentifiedBy.CODE,
                               agent_name=applicant.name)
        request = service.licence_consent_request(ctx, self.utility, ENTERPRISE, enterprise,
                                                  ("business_licence",))

        def work() -> tuple[Any, Any]:
            consent = ctx.consents.record_remote(request, answer.consent_ref,
                                                 answer.consent_expires_at, operator=operator)
            result = ctx.licences.fetch(consent, ("business_licence",), reason=REASON,
                                        operator=operator)
            valid = [lic for lic in result.of_type("business_licence") if lic.status == "valid"]
            return consent, (valid[0] if valid else None)

        def done(outcome: tuple[Any, Any]) -> None:
            consent, licence = outcome
            self.ctx.sessions.add_consent(consent)
            if licence is None:
                self.notice.show_message("该企业没有有效的营业执照，不能办理企业报装。", "error")
                self.steps.setCurrentWidget(self.choose_step)
                return
            self.licences_used = ["business_licence"]
            self.show_form(prefill_enterprise(self.utility, agent_name=applicant.name,
                                              agent_id=applicant.holder_id,
                                              business_licence=licence))

        self.run_busy("正在调取营业执照…", work, done)
        return False

    def enterprise_manual(self) -> None:
        applicant = self.applicant
        assert applicant is not None
        self.poller.stop()
        self.qr_panel.clear()
        self.notice.clear_message()
        prefill = prefill_enterprise(self.utility, agent_name=applicant.name,
                                     agent_id=applicant.holder_id, business_licence=None)
        prefill.notes.append("未调取营业执照：请录入用水（用气）单位名称和统一社会信用代码，并核验企业证照原件。")
        self.show_form(prefill)

    def back_to_choose(self) -> None:
        self.poller.stop()
        self.qr_panel.clear()
        self.steps.setCurrentWidget(self.choose_step if self.applicant else self.welcome_step)

    # -- the form ---------------------------------------------------------------------------

    def show_form(self, prefill: Prefill) -> None:
        self.prefill = prefill
        variant = self.variant
        while self.form_grid.count():
            item = self.form_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()
        self.fields = {}
        self.keypad.attach(None)
        columns = 2
        r = c = 0
        for spec in self.utility.fields(variant):
            box = FieldBox(spec, kiosk=self.kiosk)
            box.setObjectName(f"field_{spec.key}")
            if box.edit is not None and spec.kind in NUMERIC:
                box.edit.installEventFilter(self)
            self.fields[spec.key] = box
            wide = spec.key == "address" or (spec.kind in (CHOICE, MULTI)
                                             and spec.key != "region")
            if wide:
                if c:
                    r, c = r + 1, 0
                self.form_grid.addWidget(box, r, 0, 1, columns)
                r += 1
            else:
                self.form_grid.addWidget(box, r, c)
                c += 1
                if c == columns:
                    r, c = r + 1, 0
        self.form_grid.setRowStretch(r + 1, 1)
        values: dict[str, Any] = dict(prefill.values)
        notes = list(prefill.notes)
        if self.draft is not None and self.draft.variant == variant:
            values = merge_draft(values, self.draft.values)
            saved = self.draft.saved_at.astimezone(CHINA_TZ)
            notes.append(f"已恢复您 {saved:%m月%d日 %H:%M} 暂存的内容，请继续填写。")
        # from the identity: never retyped; on a kiosk the licence's names and codes neither
        # (shown masked: the screen may be seen by others)
        locked = {k for k, src in prefill.sources.items() if src == "身份信息"}
        if self.kiosk:
            locked |= {k for k in ("owner_name", "agent_name", "credit_code", "unit_name")
                       if k in prefill.values}
        elif prefill.sources.get("credit_code") == "营业执照":
            locked.add("credit_code")
        for key, box in self.fields.items():
            if key in values:
                box.set_value(values[key], lock=key in locked)
            box.set_source(prefill.sources.get(key))
        self.form_title.setText(f"<b>{self.utility.title(variant)}</b>　"
                                f"{self.utility.intro(variant)}")
        self.prefill_label.setText("\n".join(notes))
        self.prefill_label.setVisible(bool(notes))
        self.steps.setCurrentWidget(self.form_step)

    def form_values(self) -> dict[str, Any]:
        return {key: box.value() for key, box in self.fields.items()}

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        """A numeric field touched (or focused): the keypad types into it."""
        if event is not None and event.type() in (QEvent.Type.MouseButtonPress,
                                                   QEvent.Type.FocusIn):
            for box in self.fields.values():
                if box.edit is watched and box.spec.kind in NUMERIC:
                    self.keypad.attach(box.edit, box.spec.label)
        return super().eventFilter(watched, event)

    def save_draft(self) -> None:
        applicant = self.applicant
        if applicant is None:
            return
        values, variant = self.form_values(), self.variant
        holder = applicant.holder_id

        def done(draft: service.Draft) -> None:
            self.draft = draft
            self.notice.show_message("已暂存。下次使用同一身份登录本业务时，将自动恢复已填写的内容。")

        self.run_busy("正在暂存…", lambda: service.save_draft(self.ctx, holder, variant, values),
                      done)

    def submit(self) -> None:
        applicant = self.applicant
        if applicant is None:
            return
        values = self.form_values()
        for key, box in self.fields.items():
            box.set_error(check_field(box.spec, values.get(key))[1])
        try:
            form = validate_form(self.utility, self.variant, values)
        except FormInvalid as exc:
            self.notice.show_message(f"有 {len(exc.errors)} 项需要修改，请按红字提示填写。",
                                     "error")
            first = next(iter(self.fields[k] for k in self.fields if k in exc.errors))
            self.form_scroll.ensureWidgetVisible(first)
            return
        self.notice.clear_message()
        if self.client_ref is None:  # one reference per filled form: a retry sends it once
            self.client_ref = service.new_client_ref(self.ctx, self.utility)
        ref, variant, used = self.client_ref, self.variant, list(self.licences_used)
        holder = applicant.holder_id

        def work() -> service.Submission:
            return service.submit(self.ctx, self.utility, variant, form, holder_id=holder,
                                  licences_used=used, client_ref=ref)

        self.run_busy("正在提交报装申请…", work, self._submitted, cancellable=False)

    def _submitted(self, submission: service.Submission) -> None:
        self.submission = submission
        self.draft = None
        self.prepared, self.print_outcome = None, None
        self.print_label.setText("")
        self.print_button.setText("打印受理回执")
        self._show_submission()
        self.steps.setCurrentWidget(self.done_step)
        if submission.pending:
            self.ctx.wake_outbox()
            self.sync_poller.start(self._sync, self._synced, lambda _exc: True)

    def _sync(self) -> service.Submission:
        sub, applicant = self.submission, self.applicant
        assert sub is not None and applicant is not None
        copy = service.Submission.from_json(sub.to_json())  # the GUI thread owns ``sub``
        self.ctx.outbox.deliver_due()
        return service.sync_one(self.ctx, self.utility, copy, applicant.holder_id)

    def _synced(self, submission: service.Submission) -> bool:
        self.submission = submission
        self._show_submission()
        return submission.pending

    def _show_submission(self) -> None:
        sub = self.submission
        assert sub is not None
        used = "、".join({"property_cert": "不动产权证书", "business_licence": "营业执照"}[t]
                        for t in self.licences_used) or "无（手工填写）"
        if sub.pending:
            self.done_title.setText(f"<b>{self.utility.title(sub.variant)}已保存</b>")
            state = f"<span style='color:#b26a00'><b>{PENDING_LABEL}</b></span>"
            number = f"{sub.client_ref}（本机编号，提交后由{self.utility.company}分配受理编号）"
        else:
            self.done_title.setText(f"<b>{self.utility.title(sub.variant)}已受理</b>")
            state = f"<span style='color:#2e7d32'><b>{sub.state}</b></span>"
            number = sub.application_no or ""
        self.done_label.setText(
            f"受理编号：<b>{number}</b><br>办理状态：{state}<br>"
            f"预约上门：{sub.visit_text()}<br>"
            f"免提交材料：{used}<br>"
            f"关键节点将以短信通知您（{self._masked_phone(sub)}）。")

    @staticmethod
    def _masked_phone(sub: service.Submission) -> str:
        from workstation.api import mask_phone

        return mask_phone(str(sub.form.get("phone", "")))

    # -- printing ---------------------------------------------------------------------------

    def print_receipt(self) -> None:
        sub, applicant = self.submission, self.applicant
        if sub is None or applicant is None:
            return
        if self.prepared is not None and self.print_outcome is not None \
                and self.print_outcome.status.needs_attention:
            self._follow(self.prepared, self.print_outcome)  # the same job: never a 2nd copy
            return
        data = receipt_data(self.utility, sub, applicant_name=applicant.name,
                            applicant_id=applicant.holder_id, licences_used=self.licences_used,
                            workstation_id=self.ctx.workstation_id)
        key = f"{self.utility.scenario}.receipt"
        case = sub.number

        def work() -> Any:
            return self.ctx.printing.prepare(key, data, purpose=self.utility.business,
                                             case_number=case, holder_id=applicant.holder_id,
                                             filename="受理回执.pdf")

        self.run_busy("正在生成受理回执…", work, self._preview)

    def _preview(self, prepared: Any) -> None:
        self.prepared = prepared
        printer = self.ctx.printing.printer_for(prepared.paper)
        if not print_preview.confirm_print(self, prepared.pdf, prepared.title, printer):
            self.print_label.setText("未打印受理回执。")
            return
        self._print(prepared)

    def _print(self, prepared: Any) -> None:
        cancelled = threading.Event()
        emit = gui_callback(self, self._print_update)  # from the printing thread

        def work() -> Any:
            return self.ctx.printing.print(prepared, on_update=emit, cancelled=cancelled,
                                           until=lambda s: s.needs_attention)

        self.run_busy("正在打印受理回执…", work, self._printed, on_cancel=cancelled.set,
                      keep_busy_on_cancel=True)

    def _follow(self, prepared: Any, outcome: Any) -> None:
        """Wait for the printer that needed attention to finish the same job (cancellable)."""
        cancelled = threading.Event()
        emit = gui_callback(self, self._print_update)  # from the printing thread

        def work() -> Any:
            return self.ctx.printing.follow(prepared, outcome, on_update=emit,
                                            cancelled=cancelled, timeout_s=90)

        self.run_busy("正在等待打印机…", work, self._printed, on_cancel=cancelled.set,
                      keep_busy_on_cancel=True)

    def _print_update(self, status: Any) -> None:
        if self.busy.isVisible():
            self.busy.label.setText(status.text)

    def _printed(self, outcome: Any) -> None:
        self.print_outcome = outcome
        if outcome.status.needs_attention:
            self.print_label.setText(f"{outcome.text}。请联系工作人员处理后点“继续打印”；"
                                     "您的申请已提交，不受影响。")
            self.notice.show_message(outcome.text, "error")
            self.print_button.setText("继续打印")
            return
        self.notice.clear_message()
        self.print_button.setText("打印受理回执")
        self.print_label.setText(outcome.text)

    # -- progress ---------------------------------------------------------------------------

    def show_progress(self) -> None:
        applicant = self.applicant
        if applicant is None:
            return
        holder = applicant.holder_id
        self.run_busy("正在查询办理进度…", lambda: service.progress(self.ctx, holder),
                      self._show_progress)

    def _show_progress(self, progress: service.Progress) -> None:
        self.progress_rows = progress.rows
        while self.progress_list.count():
            item = self.progress_list.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()
        if not progress.online:
            self.notice.show_message("燃气、水务公司平台暂时无法连接，仅显示本机待提交的申请。",
                                     "offline")
        else:
            self.notice.clear_message()
        if not progress.rows:
            self.progress_list.addWidget(_label("暂无报装申请。"))
        for row in progress.rows:
            self.progress_list.addWidget(self._progress_card(row))
        self.progress_list.addStretch(1)
        self.steps.setCurrentWidget(self.progress_step)

    def _progress_card(self, row: service.ProgressRow) -> QFrame:
        card = QFrame()
        card.setObjectName("ProgressCard")
        card.setStyleSheet("#ProgressCard { background: white; border: 1px solid #d0d7de;"
                           " border-radius: 8px; }")
        layout = QVBoxLayout(card)
        kind = "燃气" if row.utility == "gas" else "用水"
        head = _label(f"<b>{row.company} · {kind}报装</b>　受理编号 {row.number}")
        layout.addWidget(head)
        reached = dict(row.history)
        steps = []
        for state in row.states:
            if state in reached:
                steps.append(f"<span style='color:#2e7d32'><b>● {state}</b> "
                             f"{reached[state][5:]}</span>")
            else:
                steps.append(f"<span style='color:#9aa5b1'>○ {state}</span>")
        if row.pending:
            steps = [f"<span style='color:#b26a00'><b>{PENDING_LABEL}</b></span>"]
        states = _label("　→　".join(steps))
        states.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(states)
        layout.addWidget(_label(f"当前状态：{row.state}　预约上门：{row.visit}"))
        return card

    def finish(self) -> None:
        self.sync_poller.stop()
        self.ctx.sessions.end("finished")
