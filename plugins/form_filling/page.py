"""S3 page: sign in → pick a form → consent → pre-filled form with on-screen input → submit →
print. Thin: the rules are in ``plugins.form_filling.logic``; the keyboards in ``keyboard``.

On a kiosk the fields are filled with the on-screen pinyin keyboard, the keypad and pickers
(nobody types an ID number: it comes from the sign-in); on a clerk's desk the same page takes
the physical keyboard. The shell destroys the page when the session ends (idle, card removed,
办结, another citizen), so the form being filled lives only here.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCompleter,
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

from plugins.form_filling.keyboard import NumericKeypad, OptionPicker, PinyinKeyboard
from plugins.form_filling.logic import (
    Fetched,
    FieldSpec,
    FormInvalid,
    FormSpec,
    PrintData,
    Submission,
    Submitted,
    consent_request,
    fetch_licences,
    history,
    is_sent,
    latest_values,
    load_forms,
    prefill,
    previous_of,
    regions,
    reuse,
    submit,
    validate,
)
from workstation.api import CHINA_TZ, LICENCE_TYPES, Applicant, ScenarioContext, mask_id_number
from workstation.api.ui import Poller, ScenarioPage, primary_button, print_preview

log = logging.getLogger(__name__)

OTHER_PLACE = "用键盘输入或修改"
NO_ROAD = "不需要道路"

_KIOSK_STYLE = """
#Key { background: white; border: 1px solid #9aa5b1; border-radius: 8px; }
#Key:pressed { background: #e3e8ee; }
#Candidate { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 8px; }
#Keyboard, #Keypad, #Picker { background: #e9edf1; border-top: 2px solid #b71c1c; }
#FieldRow[active="true"] QLineEdit { border: 3px solid #b71c1c; }
#FieldRow[invalid="true"] QLineEdit { border: 2px solid #c62828; background: #fdecea; }
#Source { color: #1b7f3b; }
#FormCard { background: white; border: 1px solid #d0d7de; border-radius: 12px;
            text-align: left; padding: 16px; min-height: 210px; }
#FormCard:pressed { background: #fff8e1; }
#Reuse { background: #e8f5e9; border: 1px solid #66bb6a; border-radius: 10px; }
#SectionTitle { color: #8a1c1c; font-weight: bold; }
#DoneTitle { color: #1b7f3b; font-weight: bold; }
#DoneTitle[waiting="true"] { color: #b26a00; }
"""


def build_page(ctx: ScenarioContext) -> QWidget:
    return FormFillingPage(ctx)


class _Press(QObject):
    """A press on a field (mouse or touch) activates it for on-screen input."""

    def __init__(self, row: FieldRowWidget) -> None:
        super().__init__(row)
        self.row = row

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() in (QEvent.Type.MouseButtonPress,
                                                  QEvent.Type.TouchBegin):
            self.row.activated.emit(self.row.spec.key)
        return False


class FieldRowWidget(QFrame):
    """One field: label (* when required), where its value came from, the value, the error."""

    activated = pyqtSignal(str)

    def __init__(self, spec: FieldSpec, *, kiosk: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FieldRow")
        self.spec = spec
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        head = QHBoxLayout()
        self.label = QLabel(("<span style='color:#c62828'>*</span>" if spec.required else "")
                            + spec.label)
        head.addWidget(self.label)
        self.source = QLabel()
        self.source.setObjectName("Source")
        head.addStretch(1)
        head.addWidget(self.source)
        layout.addLayout(head)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(spec.hint or _placeholder(spec))
        if spec.from_identity:
            self.edit.setReadOnly(True)  # it is who signed in
        elif kiosk:
            # the on-screen input writes here; a physical key (or a scanner's burst) does not
            self.edit.setReadOnly(True)
            self.edit.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        if spec.type in ("choice", "region") and not kiosk:
            options = spec.options if spec.type == "choice" else regions().names
            completer = QCompleter(list(options), self.edit)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            self.edit.setCompleter(completer)
        self.edit.installEventFilter(_Press(self))
        layout.addWidget(self.edit)
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.edit.textChanged.connect(lambda _t: self.set_error(None))

    def value(self) -> str:
        return self.edit.text()

    def set_value(self, value: str, source: str = "") -> None:
        self.edit.setText(value)
        self.source.setText(f"来自{source}" if source else "")

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        self._flag("invalid", bool(message))

    def error_text(self) -> str:
        return self.error.text() if self.error.isVisible() else ""

    def set_active(self, active: bool) -> None:
        self._flag("active", active)

    def _flag(self, name: str, on: bool) -> None:
        if bool(self.property(name)) == on:
            return
        self.setProperty(name, on)
        for w in (self, self.edit):
            style = w.style()
            if style is not None:
                style.unpolish(w)
                style.polish(w)


def _placeholder(spec: FieldSpec) -> str:
    return {"date": "年-月-日，如 2025-03-01", "phone": "11 位手机号码",
            "choice": "请点击选择", "region": "请点击选择", "address": "点击选择街道、社区",
            "name": "点击用拼音输入", "text": "点击用拼音输入", "number": "点击输入数字",
            "id_number": ""}.get(spec.type, "")


class FormFillingPage(ScenarioPage):
    """The whole scenario on one page (a stack of steps)."""

    def __init__(self, ctx: ScenarioContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "电子填单", parent)
        self.kiosk = bool(ctx.kiosk)
        if self.kiosk:  # a finger-wide scroll bar, a title to read from a metre away
            self.setStyleSheet(_KIOSK_STYLE + "QScrollBar:vertical { width: 40px; }\n"
                               "#DoneTitle { font-size: 28pt; }")
        else:
            self.setStyleSheet(_KIOSK_STYLE.replace("border-radius: 8px", "border-radius: 4px")
                               .replace("min-height: 210px", "min-height: 100px"))
        self.applicant: Applicant | None = None
        self.submissions: list[Submission] = []
        self.form: FormSpec | None = None
        self.fetched: Fetched | None = None
        self.rows: dict[str, FieldRowWidget] = {}
        self.active: FieldRowWidget | None = None
        self.result: Submitted | None = None
        self.prepared: Any = None
        self.print_outcome: Any = None
        self.address_steps: list[str] = []
        self.status_poller = Poller(self.tasks, 2000, self)

        self.steps = QStackedWidget()
        self.layout_.addWidget(self.steps, 1)
        self._build_prompt()
        self._build_list()
        # the other steps are built when first needed: the first data page (the form list)
        # shows sooner after the sign-in
        self._built: set[str] = set()
        self.steps.setCurrentWidget(self.prompt_step)

    def _ensure(self, step: str) -> None:
        if step not in self._built:
            self._built.add(step)
            {"consent": self._build_consent, "editor": self._build_editor,
             "done": self._build_done}[step]()

    # -- steps ----------------------------------------------------------------------------------

    def _build_prompt(self) -> None:
        self.prompt_step = QWidget()
        layout = QVBoxLayout(self.prompt_step)
        intro = QLabel("填写社会保险、医疗保险等高频事项申请表：登录后自动填写您的基本信息，"
                       "并可回填您以前填写过的内容。")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.prompt = self.sign_in_prompt()
        layout.addWidget(self.prompt)
        layout.addStretch(1)
        self.steps.addWidget(self.prompt_step)

    def _build_list(self) -> None:
        self.list_step = QWidget()
        layout = QVBoxLayout(self.list_step)
        self.greeting = QLabel()
        self.greeting.setWordWrap(True)
        layout.addWidget(self.greeting)
        grid = QGridLayout()
        grid.setSpacing(16)
        self.form_buttons: dict[str, QPushButton] = {}
        self.form_notes: dict[str, QLabel] = {}
        for i, form in enumerate(load_forms()):
            card = QPushButton()
            card.setObjectName("FormCard")
            inner = QVBoxLayout(card)
            inner.setContentsMargins(20, 16, 20, 16)
            title = QLabel(f"<b>{form.title}</b>")
            title.setWordWrap(True)
            summary = QLabel(f"{form.department} · {form.summary}")
            summary.setWordWrap(True)
            note = QLabel()
            note.setObjectName("Source")
            for w in (title, summary, note):
                w.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
                inner.addWidget(w)
            card.clicked.connect(lambda _c=False, f=form: self.choose_form(f))
            self.form_buttons[form.code] = card
            self.form_notes[form.code] = note
            grid.addWidget(card, i // 2, i % 2)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.steps.addWidget(self.list_step)

    def _build_consent(self) -> None:
        self.consent_step = QWidget()
        layout = QVBoxLayout(self.consent_step)
        self.consent_title = QLabel()
        self.consent_title.setWordWrap(True)
        layout.addWidget(self.consent_title)
        self.consent_body = QLabel()
        self.consent_body.setWordWrap(True)
        self.consent_body.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.consent_body)
        buttons = QHBoxLayout()
        self.decline_button = QPushButton("不同意，我自己填写")
        self.accept_button = primary_button("同意调取并预填")
        for b in (self.decline_button, self.accept_button):
            b.setMinimumHeight(72)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.accept_button.clicked.connect(self.accept_consent)
        self.decline_button.clicked.connect(self.decline_consent)
        self.steps.addWidget(self.consent_step)

    def _build_editor(self) -> None:
        self.editor_step = QWidget()
        layout = QVBoxLayout(self.editor_step)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.form_title = QLabel()
        head.addWidget(self.form_title, 1)
        self.back_button = QPushButton("返回表单列表")
        self.submit_button = primary_button("检查并提交")
        head.addWidget(self.back_button)
        head.addWidget(self.submit_button)
        layout.addLayout(head)
        self.reuse_frame = QFrame()
        self.reuse_frame.setObjectName("Reuse")
        reuse_layout = QHBoxLayout(self.reuse_frame)
        self.reuse_label = QLabel()
        self.reuse_label.setWordWrap(True)
        self.reuse_button = primary_button("回填上次内容")
        self.reuse_dismiss = QPushButton("不用")
        reuse_layout.addWidget(self.reuse_label, 1)
        reuse_layout.addWidget(self.reuse_dismiss)
        reuse_layout.addWidget(self.reuse_button)
        self.reuse_frame.hide()
        layout.addWidget(self.reuse_frame)
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout.addWidget(self.form_scroll, 1)
        self.inputs = QStackedWidget()
        self.keyboard = PinyinKeyboard()
        self.keypad = NumericKeypad()
        self.picker = OptionPicker()
        for w in (self.keyboard, self.keypad, self.picker):
            self.inputs.addWidget(w)
        self.inputs.hide()
        layout.addWidget(self.inputs)
        self.steps.addWidget(self.editor_step)

        self.back_button.clicked.connect(self.show_list)
        self.submit_button.clicked.connect(self.submit_form)
        self.reuse_button.clicked.connect(self.reuse_previous)
        self.reuse_dismiss.clicked.connect(self.reuse_frame.hide)
        self.keyboard.commit.connect(self._insert)
        self.keyboard.backspace.connect(self._backspace)
        self.keyboard.done.connect(self._next_field)
        self.keypad.commit.connect(self._insert)
        self.keypad.backspace.connect(self._backspace)
        self.keypad.clear.connect(lambda: self.active.edit.clear() if self.active else None)
        self.keypad.done.connect(self._next_field)
        self.picker.picked.connect(self._picked)
        self.picker.back_button.clicked.connect(self._address_back)
        self._load_dictionary()

    def _build_done(self) -> None:
        self.done_step = QWidget()
        layout = QVBoxLayout(self.done_step)
        self.done_title = QLabel()
        self.done_title.setObjectName("DoneTitle")
        self.done_title.setWordWrap(True)
        self.done_text = QLabel()
        self.done_text.setWordWrap(True)
        self.print_label = QLabel()
        self.print_label.setWordWrap(True)
        layout.addWidget(self.done_title)
        layout.addWidget(self.done_text)
        layout.addWidget(self.print_label)
        buttons = QHBoxLayout()
        self.print_button = primary_button("打印申请表")
        self.more_button = QPushButton("填写其他表单")
        for b in (self.more_button, self.print_button):
            b.setMinimumHeight(72)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.print_button.clicked.connect(self.print_form)
        self.more_button.clicked.connect(self.show_list)
        self.steps.addWidget(self.done_step)

    def _load_dictionary(self) -> None:
        from plugins.form_filling.pinyin import dictionary

        self.tasks.submit(dictionary, self.keyboard.set_dictionary,
                          lambda exc: log.error("pinyin dictionary: %s", type(exc).__name__))

    # -- sign-in and the form list --------------------------------------------------------------

    def applicant_ready(self, applicant: Applicant) -> None:
        self.applicant = applicant
        self.run_busy("正在读取您的填写记录…", lambda: history(self.ctx, applicant),
                      self._history_loaded, cancellable=False)

    def _history_loaded(self, submissions: list[Submission]) -> None:
        self.submissions = submissions
        self.show_list()

    def show_list(self) -> None:
        applicant = self.applicant
        if applicant is None:
            return
        self.status_poller.stop()
        self.notice.clear_message()
        if "editor" in self._built:
            self._set_active(None)
        name = applicant.masked_name if self.kiosk else applicant.name
        self.greeting.setText(f"您好，{name}（{applicant.masked_id}）。请选择要填写的表单：")
        for form in load_forms():
            earlier = previous_of(form, self.submissions)
            self.form_notes[form.code].setText(
                f"您于 {earlier.when} 填写过，可回填" if earlier else "")
        self.steps.setCurrentWidget(self.list_step)

    def choose_form(self, form: FormSpec) -> None:
        applicant = self.applicant
        if applicant is None:
            return
        self.form = form
        self.fetched = None
        self.notice.clear_message()
        for step in ("consent", "editor", "done"):  # the editor's pinyin dictionary loads
            self._ensure(step)                      # while the citizen reads the consent
        if not form.licence_types:
            self.open_editor()
            return
        request = consent_request(self.ctx, applicant, form)
        names = "、".join(LICENCE_TYPES[t].name for t in form.licence_types)
        self.consent_title.setText(f"<b>填写《{form.title}》</b>")
        self.consent_body.setText(
            f"为自动填写本表，需要调取您的电子证照：{names}。\n"
            + "\n".join(request.preview_lines())
            + "\n\n不同意也可以继续：只预填身份信息，其余由您自己填写。")
        self.steps.setCurrentWidget(self.consent_step)

    def accept_consent(self) -> None:
        applicant, form = self.applicant, self.form
        if applicant is None or form is None:
            return
        request = consent_request(self.ctx, applicant, form)
        ctx = self.ctx

        def work() -> Fetched:
            consent = ctx.consents.grant(request, operator=ctx.operator())
            return fetch_licences(ctx, consent, form)

        self.run_busy("正在调取电子证照…", work, self._fetched,
                      on_error=self._fetch_failed)

    def _fetched(self, fetched: Fetched) -> None:
        self.fetched = fetched
        self.ctx.sessions.add_consent(fetched.consent)  # revoked when the citizen leaves
        self.open_editor()
        if fetched.offline:
            self.notice.show_message("证照平台暂时无法连接，已使用本机缓存的电子证照预填。",
                                     "offline")
        elif fetched.missing:
            names = "、".join(LICENCE_TYPES[t].name for t in fetched.missing)
            self.notice.show_message(f"未查到您的{names}，相关项目请自己填写。")

    def _fetch_failed(self, exc: BaseException) -> None:
        from workstation.api.ui import error_message

        self.open_editor()
        self.notice.show_message(f"{error_message(exc)}。已只预填身份信息，其余请自己填写。",
                                 "error")

    def decline_consent(self) -> None:
        applicant, form = self.applicant, self.form
        if applicant is None or form is None:
            return
        request = consent_request(self.ctx, applicant, form)
        ctx = self.ctx
        self.tasks.submit(lambda: ctx.consents.decline(request, operator=ctx.operator()),
                          lambda _c: None, lambda exc: log.warning("decline: %s",
                                                                  type(exc).__name__))
        self.open_editor()

    # -- the editor -----------------------------------------------------------------------------

    def open_editor(self) -> None:
        applicant, form = self.applicant, self.form
        if applicant is None or form is None:
            return
        self._ensure("editor")
        licences = self.fetched.licences if self.fetched is not None else {}
        filled = prefill(form, applicant, licences, latest_values(self.submissions))
        body = QWidget()
        grid = QGridLayout(body)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(6)
        self.rows = {}
        self.active = None
        r = 0
        for section in form.sections:
            title = QLabel(section.title)
            title.setObjectName("SectionTitle")
            grid.addWidget(title, r, 0, 1, 2)
            r += 1
            col = 0
            for spec in section.fields:
                row = FieldRowWidget(spec, kiosk=self.kiosk)
                row.set_value(filled.values.get(spec.key, ""), filled.sources.get(spec.key, ""))
                if spec.type == "id_number":  # who signed in; masked on screen
                    row.edit.setText(mask_id_number(filled.values.get(spec.key, "")))
                    row.setProperty("full_value", filled.values.get(spec.key, ""))
                row.activated.connect(self.activate)
                self.rows[spec.key] = row
                if spec.full_width:
                    if col:
                        r += 1
                    grid.addWidget(row, r, 0, 1, 2)
                    r, col = r + 1, 0
                else:
                    grid.addWidget(row, r, col)
                    col = 1 - col
                    if col == 0:
                        r += 1
            if col:
                r += 1
        grid.setRowStretch(r, 1)
        self.form_scroll.setWidget(body)
        self.form_title.setText(f"<b>{form.title}</b>　{form.department}")
        earlier = previous_of(form, self.submissions)
        if earlier is not None:
            self.reuse_label.setText(f"您于 {earlier.when} 填写过本表，可以用上次填写的内容回填"
                                     "（姓名、证件号码仍以本次登录为准）。")
            self.reuse_frame.show()
        else:
            self.reuse_frame.hide()
        self.inputs.hide()
        self.steps.setCurrentWidget(self.editor_step)

    def values(self) -> dict[str, str]:
        out = {}
        for key, row in self.rows.items():
            full = row.property("full_value")
            out[key] = str(full) if full else row.value()
        return out

    def reuse_previous(self) -> None:
        form = self.form
        earlier = previous_of(form, self.submissions) if form is not None else None
        if form is None or earlier is None:
            return
        current = self.values()
        merged = reuse(form, current, earlier)
        for key, value in merged.items():
            row = self.rows.get(key)
            if row is not None and value != current.get(key) and not row.spec.from_identity:
                row.set_value(value, "上次填写")
        self.reuse_frame.hide()
        self.notice.show_message("已回填上次填写的内容，请核对后提交。")

    # -- on-screen input ------------------------------------------------------------------------

    def activate(self, key: str) -> None:
        row = self.rows.get(key)
        if row is None or row.spec.from_identity:
            return
        self._set_active(row)
        spec = row.spec
        kind = spec.input
        if not self.kiosk:  # the clerk types; a list drops down for choices
            self.inputs.hide()
            completer = row.edit.completer()
            if completer is not None and not row.value():
                completer.setCompletionPrefix("")
                completer.complete()
            return
        if kind == "pinyin":
            self.keyboard.reset()
            self.inputs.setCurrentWidget(self.keyboard)
        elif kind in ("keypad", "date"):
            hint = {"date": "日期：年-月-日，如 2025-03-01", "phone": "手机号码：11 位数字",
                    }.get(spec.type if kind == "keypad" else "date", f"{spec.label}：数字")
            self.keypad.configure(hint, dash=kind == "date" or spec.type == "phone")
            self.inputs.setCurrentWidget(self.keypad)
        elif kind == "picker":
            self.picker.back_button.hide()
            self.picker.show_options(f"请选择{spec.label}", spec.options, row.value())
            self.inputs.setCurrentWidget(self.picker)
        elif kind == "region":
            self.picker.back_button.hide()
            self.picker.show_options(f"请选择{spec.label}", regions().names, row.value())
            self.inputs.setCurrentWidget(self.picker)
        elif kind == "address":
            self.address_steps = []
            self._address_step()
        self.inputs.show()
        QTimer.singleShot(0, lambda: self.form_scroll.ensureWidgetVisible(row))

    def _set_active(self, row: FieldRowWidget | None) -> None:
        if self.active is not None and self.active is not row:
            with contextlib.suppress(RuntimeError):  # the editor was rebuilt
                self.active.set_active(False)
        self.active = row
        if row is not None:
            row.set_active(True)
        else:
            self.inputs.hide()

    def _address_step(self) -> None:
        steps = self.address_steps
        self.picker.back_button.setVisible(bool(steps))
        if not steps:
            names = [s for s, _ in regions().streets] + [OTHER_PLACE]
            self.picker.show_options("请选择街道（乡镇）——赤壁市", names)
        elif len(steps) == 1:
            communities = dict(regions().streets)[steps[0]]
            self.picker.show_options(f"请选择社区（村）——{steps[0]}", communities)
        else:
            self.picker.show_options("请选择道路", [*regions().roads, NO_ROAD])
        self.inputs.setCurrentWidget(self.picker)

    def _address_back(self) -> None:
        if self.address_steps:
            self.address_steps.pop()
            self._address_step()

    def _picked(self, option: str) -> None:
        row = self.active
        if row is None:
            return
        if row.spec.input != "address":
            row.set_value(option)
            self._next_field()
            return
        if option == OTHER_PLACE:
            self._start_keyboard()
            return
        self.address_steps.append(option)
        if len(self.address_steps) < 3:
            self._address_step()
            return
        street, community, road = self.address_steps
        prefix = regions().divisions[0].address_prefix + street + community
        row.set_value(prefix + ("" if road == NO_ROAD else road))
        self._start_keyboard()
        self.notice.show_message("请继续输入门牌号，如 8号3栋2单元501室。")

    def _start_keyboard(self) -> None:
        self.keyboard.reset()
        self.picker.back_button.hide()
        self.inputs.setCurrentWidget(self.keyboard)

    def _insert(self, text: str) -> None:
        row = self.active
        if row is None:
            return
        row.edit.setText(row.edit.text() + text)
        row.source.setText("")

    def _backspace(self) -> None:
        if self.active is not None:
            self.active.edit.setText(self.active.edit.text()[:-1])

    def _next_field(self) -> None:
        """完成: the next empty field gets the input, else the panel closes."""
        keys = list(self.rows)
        start = keys.index(self.active.spec.key) + 1 if self.active is not None else 0
        for key in keys[start:]:
            row = self.rows[key]
            if not row.value() and not row.spec.from_identity:
                self.activate(key)
                return
        self._set_active(None)

    # -- submitting -----------------------------------------------------------------------------

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, row in self.rows.items():
            row.set_error(errors.get(key))
        first = next((self.rows[k] for k in self.rows if k in errors), None)
        self.notice.show_message(f"有 {len(errors)} 处需要修改，请查看标红的项目。", "error")
        if first is not None:
            self._set_active(None)
            QTimer.singleShot(0, lambda: self.form_scroll.ensureWidgetVisible(first))

    def submit_form(self) -> None:
        applicant, form = self.applicant, self.form
        if applicant is None or form is None:
            return
        values = self.values()
        today = self.ctx.clock().astimezone(CHINA_TZ).date()
        errors = validate(form, values, today)
        if errors:
            self.show_errors(errors)
            return
        self._set_active(None)
        ctx = self.ctx
        self.run_busy("正在提交…", lambda: submit(ctx, applicant, form, values), self._submitted,
                      on_error=self._submit_failed, cancellable=False)

    def _submit_failed(self, exc: BaseException) -> None:
        from workstation.api.ui import error_message

        if isinstance(exc, FormInvalid):
            self.show_errors(exc.errors)
        else:
            self.notice.show_message(error_message(exc), "error")

    def _submitted(self, result: Submitted) -> None:
        self._ensure("done")
        self.result = result
        self.prepared = None
        self.print_outcome = None
        self.submissions.insert(0, result.submission)
        self.notice.clear_message()
        self._show_sent(result.sent)
        self.print_label.setText("")
        self.print_button.setEnabled(True)
        self.steps.setCurrentWidget(self.done_step)
        if not result.sent:
            self.status_poller.start(self._check_sent, self._sent_state, lambda _e: True)

    def _show_sent(self, sent: bool) -> None:
        result = self.result
        if result is None:
            return
        sub = result.submission
        self.done_title.setText(f"《{sub.title}》" + ("已提交" if sent else "已保存，等待提交"))
        self.done_title.setProperty("waiting", not sent)
        style = self.done_title.style()
        if style is not None:
            style.unpolish(self.done_title)
            style.polish(self.done_title)
        if sent:
            self.done_text.setText(f"已提交至{self.form.department if self.form else '经办机构'}，"
                                   f"受理编号 {sub.case_number}。可打印申请表留存。")
        else:
            self.done_text.setText(
                f"受理编号 {sub.case_number}。电子填单平台暂时无法连接，表单已安全保存，"
                "平台恢复后自动提交（只提交一次），无需重新填写。")

    def _check_sent(self) -> bool:
        self.ctx.wake_outbox()
        result = self.result
        return result is not None and is_sent(self.ctx, result.submission)

    def _sent_state(self, sent: bool) -> bool:
        if sent:
            self._show_sent(True)
            return False
        return True

    # -- printing -------------------------------------------------------------------------------

    def print_form(self) -> None:
        result, form = self.result, self.form
        applicant = self.applicant
        if result is None or form is None or applicant is None:
            return
        if self.prepared is not None:  # the same document: printing it again is a reprint
            self._print(self.prepared, reprint=True)
            return
        sub = result.submission
        data = PrintData(form=form, values=sub.values, filled_at=sub.submitted_at.astimezone(
            CHINA_TZ).replace(tzinfo=None), case_number=sub.case_number,
            workstation_id=self.ctx.workstation_id)
        printing = self.ctx.printing

        def work() -> Any:
            from plugins.form_filling.printout import TEMPLATE_KEY, printout

            return printing.prepare(TEMPLATE_KEY, printout(data), purpose=f"填写{form.title}",
                                    case_number=sub.case_number, holder_id=applicant.holder_id,
                                    filename=f"{form.title}.pdf")

        self.run_busy("正在生成申请表…", work, self._preview)

    def _preview(self, prepared: Any) -> None:
        printer = self.ctx.printing.printer_for(prepared.paper)
        if not print_preview.confirm_print(self, prepared.pdf, prepared.title, printer):
            self.print_label.setText(f"未打印。申请表验证码 {prepared.stamp.display_code}。")
            return
        self.prepared = prepared
        self._print(prepared)

    def _print(self, prepared: Any, *, reprint: bool = False) -> None:
        printing = self.ctx.printing
        cancelled = threading.Event()

        def work() -> Any:
            if reprint:
                return printing.reprint(prepared, cancelled=cancelled,
                                        until=lambda s: s.needs_attention)
            return printing.print(prepared, cancelled=cancelled,
                                  until=lambda s: s.needs_attention)

        self.run_busy("正在打印申请表…", work, self._printed, on_cancel=cancelled.set)

    def _printed(self, outcome: Any) -> None:
        self.print_outcome = outcome
        prepared = self.prepared
        code = prepared.stamp.display_code if prepared is not None else ""
        if outcome.destination == "file":
            self.print_label.setText(f"未配置打印机，申请表已保存为 PDF（验证码 {code}）。")
        elif outcome.status.needs_attention:
            self.print_label.setText(f"{outcome.text}。请联系大厅工作人员处理，处理后将自动继续打印"
                                     f"（不会重复打印）。验证码 {code}。")
            self.notice.show_message(outcome.text, "error")
            self._follow(outcome)
        else:
            self.print_label.setText(f"{outcome.text}（验证码 {code}）。请在出纸口取走申请表。")
            if outcome.status.state.value == "completed":
                self.notice.clear_message()
        if outcome.destination == "printer":
            self.print_button.setText("再打印一份")

    def _follow(self, outcome: Any) -> None:
        prepared, printing = self.prepared, self.ctx.printing

        def done(final: Any) -> None:
            self.print_outcome = final
            if not final.status.needs_attention:
                self._printed(final)

        self.tasks.submit(lambda: printing.follow(prepared, outcome, timeout_s=300), done,
                          lambda exc: self.notice.show_message(
                              getattr(exc, "message", "") or "打印失败", "error"))
