"""S2 page: thin widgets over plugins.unified_intake.logic and the scoped services."""

from __future__ import annotations

import logging
import threading
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from plugins.unified_intake.logic import (
    FieldErrors,
    MaterialAssessment,
    MaterialState,
    assess_materials,
    consent_request_for,
    material_list_document,
    summary,
    validate_applicant,
)
from workstation.api import (
    CHINA_TZ,
    Applicant,
    HolderKind,
    LicencesUnavailable,
    Matter,
    ScenarioContext,
)
from workstation.api.ui import (
    ConsentPanel,
    FieldRow,
    Notice,
    ScenarioPage,
    error_message,
    gui_callback,
    primary_button,
    print_preview,
    show_licence_dialog,
)

log = logging.getLogger(__name__)


def build_page(ctx: ScenarioContext) -> QWidget:
    return IntakePage(ctx)


_message = error_message


class IntakePage(ScenarioPage):
    def __init__(self, ctx: ScenarioContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "统一受理 · 电子证照免提交", parent)
        self.applicant: Applicant | None = None
        self.matter: Matter | None = None
        self.request: Any = None
        self.assessments: list[MaterialAssessment] = []
        self.offline_as_of: Any = None
        self.case_number: str | None = None
        self.document_path: str | None = None
        self.prepared: Any = None  # the material list, rendered and recorded
        self.print_outcome: Any = None

        layout = self.layout_
        form = QGroupBox("办事人信息")
        fl = QVBoxLayout(form)
        kinds = QHBoxLayout()
        self.person_radio = QRadioButton("个人")
        self.enterprise_radio = QRadioButton("企业")
        self.person_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.person_radio)
        group.addButton(self.enterprise_radio)
        kinds.addWidget(QLabel("办事人类型："))
        kinds.addWidget(self.person_radio)
        kinds.addWidget(self.enterprise_radio)
        kinds.addStretch(1)
        fl.addLayout(kinds)
        row = QHBoxLayout()
        self.name_field = FieldRow("姓名", "与证件一致的姓名")
        self.id_field = FieldRow("公民身份号码", "18 位身份证号码")
        row.addWidget(self.name_field, 1)
        row.addWidget(self.id_field, 1)
        fl.addLayout(row)
        fl.addWidget(QLabel("办理事项"))
        self.matter_combo = QComboBox()
        fl.addWidget(self.matter_combo)
        self.matter_error = QLabel()
        self.matter_error.setObjectName("FieldError")
        self.matter_error.hide()
        fl.addWidget(self.matter_error)
        actions = QHBoxLayout()
        actions.addStretch(1)
        self.submit_button = primary_button("核验身份并申请授权")
        actions.addWidget(self.submit_button)
        fl.addLayout(actions)
        layout.insertWidget(layout.indexOf(self.notice), form)  # the notice under the form
        self.consent_panel = ConsentPanel()
        self.consent_panel.hide()
        layout.addWidget(self.consent_panel)

        self.results = QGroupBox("申请材料")
        rl = QVBoxLayout(self.results)
        self.offline_marker = Notice()
        rl.addWidget(self.offline_marker)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["序号", "材料名称", "提交方式", "电子证照", "说明"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        vertical, header = self.table.verticalHeader(), self.table.horizontalHeader()
        assert vertical is not None and header is not None
        vertical.setVisible(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        rl.addWidget(self.table)
        self.summary_label = QLabel()
        rl.addWidget(self.summary_label)
        buttons = QHBoxLayout()
        self.document_label = QLabel()
        self.document_label.setWordWrap(True)
        self.document_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view_button = QPushButton("查看所选证照")
        self.view_button.setEnabled(False)
        self.generate_button = primary_button("打印材料清单")
        self.finish_button = QPushButton("办结")
        self.reprint_button = QPushButton("再打印一份")
        self.reprint_button.hide()
        buttons.addWidget(self.document_label, 1)
        buttons.addWidget(self.view_button)
        buttons.addWidget(self.reprint_button)
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.finish_button)
        rl.addLayout(buttons)
        self.results.hide()
        layout.addWidget(self.results, 1)
        layout.addStretch(0)

        self.person_radio.toggled.connect(self._kind_changed)
        self.submit_button.clicked.connect(self.submit)
        self.consent_panel.accepted.connect(self.accept_consent)
        self.consent_panel.declined.connect(self.decline_consent)
        self.generate_button.clicked.connect(self.generate_material_list)
        self.view_button.clicked.connect(self.view_selected_licence)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.cellDoubleClicked.connect(lambda _r, _c: self.view_selected_licence())
        self.licence_dialog = show_licence_dialog  # tests replace it
        self.consent: Any = None
        self.reprint_button.clicked.connect(self.reprint)
        self.finish_button.clicked.connect(lambda: self.ctx.sessions.end("finished"))
        self._kind_changed()
        self._prefill_from_session()

    # -- form -----------------------------------------------------------------------------

    @property
    def kind(self) -> HolderKind:
        return HolderKind.PERSON if self.person_radio.isChecked() else HolderKind.ENTERPRISE

    def _kind_changed(self) -> None:
        person = self.kind is HolderKind.PERSON
        self.name_field.label.setText("姓名" if person else "企业名称")
        self.name_field.edit.setPlaceholderText("与证件一致的姓名" if person else "与营业执照一致")
        self.id_field.label.setText("公民身份号码" if person else "统一社会信用代码")
        self.id_field.edit.setPlaceholderText("18 位身份证号码" if person else "18 位信用代码")
        self.matter_combo.clear()
        for m in sorted(self.ctx.matters.values(), key=lambda m: m.code):
            if m.holder_kind is self.kind:
                self.matter_combo.addItem(f"{m.name}（{m.department}）", m.code)
        self.name_field.set_error(None)
        self.id_field.set_error(None)
        self.matter_error.hide()

    def _prefill_from_session(self) -> None:
        applicant = self.ctx.sessions.applicant
        if applicant is None:
            return
        (self.person_radio if applicant.kind is HolderKind.PERSON
         else self.enterprise_radio).setChecked(True)
        self.name_field.edit.setText(applicant.name)
        self.id_field.edit.setText(applicant.holder_id)

    def selected_matter(self) -> Matter | None:
        code = self.matter_combo.currentData()
        return self.ctx.matters.get(code) if code else None

    def submit(self) -> None:
        self.notice.clear_message()
        self.name_field.set_error(None)
        self.id_field.set_error(None)
        self.matter_error.hide()
        self.consent_panel.hide()
        self.results.hide()
        try:
            validated = validate_applicant(
                self.kind, self.name_field.text(), self.id_field.text(), self.selected_matter()
            )
        except FieldErrors as exc:
            self.name_field.set_error(exc.errors.get("name"))
            self.id_field.set_error(exc.errors.get("holder_id"))
            if "matter" in exc.errors:
                self.matter_error.setText(exc.errors["matter"])
                self.matter_error.show()
            return
        applicant = validated.applicant
        current = self.ctx.sessions.applicant
        if current is not None and current.holder_id == applicant.holder_id:
            applicant = current  # keep how the applicant was identified (card, code)
        self.matter = self.selected_matter()
        if validated.warnings:
            self.notice.show_message("；".join(validated.warnings))
        self.run_busy(
            "正在核验办事人身份…",
            lambda: self.ctx.verify_holder(applicant.kind.value, applicant.holder_id,
                                           applicant.name),
            lambda match: self._verified(applicant, match),
        )

    def _verified(self, applicant: Applicant, match: bool | None) -> None:
        if match is False:
            self.name_field.set_error("姓名与证件号码不一致（电子证照平台核验），请核对")
            return
        if match is None:
            self.notice.show_message(
                "电子证照平台暂时无法连接，未能在线核验身份，请核对申请人实体证件。", "offline"
            )
        if self.ctx.sessions.applicant != applicant:
            self.ctx.sessions.begin(applicant)
        self.applicant = applicant
        assert self.matter is not None
        self.request = consent_request_for(applicant, self.matter, self.ctx.manifest.id)
        self.consent_panel.show_preview(self.request.preview_lines())

    # -- consent and licences -------------------------------------------------------------

    def accept_consent(self) -> None:
        request = self.request
        matter = self.matter
        assert request is not None and matter is not None
        operator = self.ctx.operator()
        cancelled = threading.Event()

        def work() -> tuple[Any, Any, BaseException | None] | None:
            consent = self.ctx.consents.grant(request, operator=operator)
            if cancelled.is_set():  # the clerk cancelled: this consent must not be used
                self.ctx.consents.revoke(consent, operator=operator)
                return None
            try:
                result = self.ctx.licences.fetch(
                    consent, reason=f"办理“{matter.name}”核验申请材料", operator=operator
                )
            except Exception as exc:  # shown to the clerk; the consent stays recorded
                return consent, None, exc
            if cancelled.is_set():
                self.ctx.consents.revoke(consent, operator=operator)
                return None
            return consent, result, None

        self.consent_panel.hide()
        self.run_busy("正在调取电子证照…", work, self._fetched, on_cancel=cancelled.set)

    def _fetched(self, outcome: tuple[Any, Any, BaseException | None] | None) -> None:
        if outcome is None:
            return
        consent, result, error = outcome
        self.consent = consent
        current = self.ctx.sessions.applicant
        if current is not None and current.holder_id == consent.request.applicant.holder_id:
            self.ctx.sessions.add_consent(consent)
        assert self.matter is not None
        today = self.ctx.clock().astimezone(CHINA_TZ).date()
        self.offline_as_of = None
        if error is not None:
            self.notice.show_message(_message(error), "error")
            self.offline_marker.clear_message()
            reason = ("电子证照平台暂时无法连接" if isinstance(error, LicencesUnavailable)
                      else _message(error))
            self.assessments = assess_materials(self.matter, [], today, failure_reason=reason)
        else:
            if result.offline:
                self.offline_as_of = result.as_of
                as_of = result.as_of.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
                self.offline_marker.show_message(
                    f"离线：电子证照平台暂时无法连接，以下为本机缓存数据（截至 {as_of}）", "offline"
                )
            else:
                self.offline_marker.clear_message()
            self.assessments = assess_materials(
                self.matter, list(result.licences), today, unavailable=tuple(result.unavailable),
                reasons={f.type_key: f.reason for f in result.failures},
            )
        self._show_results()

    def decline_consent(self) -> None:
        request = self.request
        assert request is not None and self.matter is not None
        operator = self.ctx.operator()
        self.consent_panel.hide()
        today = self.ctx.clock().astimezone(CHINA_TZ).date()
        matter = self.matter

        def declined(_: Any) -> None:
            self.notice.show_message("申请人未同意调取电子证照，未调取任何证照；证照类材料需提交纸质件。")
            self.offline_marker.clear_message()
            self.assessments = assess_materials(matter, [], today, consent_declined=True)
            self._show_results()

        self.run_busy("正在记录…", lambda: self.ctx.consents.decline(request, operator=operator),
                      declined)

    def _show_results(self) -> None:
        self.table.setRowCount(len(self.assessments))
        green, amber = QColor("#e8f5e9"), QColor("#fff8e1")
        for row, a in enumerate(self.assessments):
            licence = ""
            if a.licence is not None:
                # a zero-width space after each dot lets the long identifier wrap
                ident = a.licence.licence_id.replace(".", ".\u200b")
                licence = f"{a.licence.type_name}\n{ident}"
            cells = [str(row + 1), a.material.name, a.label, licence, a.reason]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(QBrush(green if a.state is MaterialState.PROVIDED else amber))
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        provided, to_submit = summary(self.assessments)
        self.summary_label.setText(f"免提交 {provided} 项，需提交纸质材料 {to_submit} 项")
        self.document_label.clear()
        self.document_path = None
        self.prepared = None
        self.print_outcome = None
        self.reprint_button.hide()
        self.case_number = self.ctx.new_case_number()
        self.results.show()

    # -- viewing a licence -----------------------------------------------------------------

    def selected_licence(self) -> Any:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        return self.assessments[rows.pop()].licence

    def _selection_changed(self) -> None:
        self.view_button.setEnabled(self.selected_licence() is not None)

    def view_selected_licence(self) -> None:
        licence, consent, matter = self.selected_licence(), self.consent, self.matter
        if licence is None or matter is None:
            return
        operator = self.ctx.operator()

        def picture() -> bytes | None:
            try:
                return bytes(self.ctx.licences.thumbnail(
                    consent, licence, f"办理“{matter.name}”查看证照", operator=operator))
            except Exception as exc:  # the data is still worth showing without the picture
                log.info("licence picture unavailable: %s", type(exc).__name__)
                return None

        self.run_busy("正在获取证照图像…", picture,
                      lambda png: self.licence_dialog(self, licence, png))

    # -- material list --------------------------------------------------------------------

    def generate_material_list(self) -> None:
        """Render the material list (off the GUI thread), preview it, then print it through the
        queue (or save it where no printer is configured); the PDF stays in the case folder."""
        applicant, matter = self.applicant, self.matter
        assert applicant is not None and matter is not None and self.case_number is not None
        case_number = self.case_number
        doc = material_list_document(
            matter=matter, applicant=applicant, assessments=self.assessments,
            case_number=case_number, workstation_id=self.ctx.workstation_id,
            operator=self.ctx.operator(), generated_at=self.ctx.clock(),
            offline_as_of=self.offline_as_of,
        )
        printing = self.ctx.printing

        def work() -> Any:
            return printing.prepare(
                "material_list", doc, purpose=f"办理{matter.name}", case_number=case_number,
                holder_id=applicant.holder_id, filename="申请材料清单.pdf",
            )

        self.run_busy("正在生成材料清单…", work, self._preview)

    def _preview(self, prepared: Any) -> None:
        self.prepared = prepared
        self.document_path = str(prepared.path)
        printer = self.ctx.printing.printer_for(prepared.paper)
        if not print_preview.confirm_print(self, prepared.pdf, prepared.title, printer):
            self.document_label.setText(f"已生成，未打印（验证码 {prepared.stamp.display_code}）："
                                        f"{prepared.path}")
            return
        self.print_prepared(prepared)

    def print_prepared(self, prepared: Any, *, reprint: bool = False) -> None:
        cancelled = threading.Event()
        printing = self.ctx.printing
        emit = gui_callback(self, self._print_progress)  # from the printing thread

        def work() -> Any:
            if reprint:
                return printing.reprint(prepared, on_update=emit, cancelled=cancelled)
            return printing.print(prepared, on_update=emit, cancelled=cancelled)

        self.run_busy("正在打印材料清单…", work, self._printed, on_cancel=cancelled.set,
                      keep_busy_on_cancel=True)

    def reprint(self) -> None:
        if self.prepared is not None:
            self.print_prepared(self.prepared, reprint=True)

    def _print_progress(self, status: Any) -> None:
        if self.busy.isVisible():
            self.busy.label.setText(status.text)

    def _printed(self, outcome: Any) -> None:
        self.print_outcome = outcome
        prepared = self.prepared
        code = prepared.stamp.display_code if prepared is not None else ""
        if outcome.destination == "file":  # the status text already names the file
            self.document_label.setText(f"已保存为 PDF 文件（验证码 {code}）：{self.document_path}")
        else:
            self.document_label.setText(f"{outcome.text}（验证码 {code}）：{self.document_path}")
        self.reprint_button.setVisible(outcome.destination == "printer")
        if outcome.status.needs_attention:
            self.notice.show_message(outcome.text, "error")
