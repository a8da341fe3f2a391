"""The page of 户籍信息核验: thin widgets over household_check.logic and the context's services.

Slots gather input, call the logic, and run every blocking service call off the GUI thread
through ``run_busy``. The shell destroys the page when the applicant's session ends.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QWidget
from workstation.api import CHINA_TZ, Applicant, ConsentRequest, FetchResult, ScenarioContext
from workstation.api.ui import ConsentPanel, FieldRow, ScenarioPage, primary_button

from household_check import MATTER_CODE, SHEET_TEMPLATE
from household_check.logic import (
    Finding,
    InputErrors,
    applicant_from_input,
    assess,
    consent_request,
    household_facts,
    make_sheet,
)


def build_page(ctx: ScenarioContext) -> QWidget:
    """The factory named in the manifest: called when the page is opened."""
    return Page(ctx)


class Page(ScenarioPage):
    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, title="户籍信息核验")
        self.matter = ctx.matters[MATTER_CODE]
        self.applicant: Applicant | None = None
        self.request: ConsentRequest | None = None
        self.result: FetchResult | None = None
        self.findings: list[Finding] = []
        self.document_path: str | None = None

        row = QHBoxLayout()
        self.name_field = FieldRow("姓名", "与身份证一致")
        self.id_field = FieldRow("公民身份号码", "18 位身份证号码")
        row.addWidget(self.name_field, 1)
        row.addWidget(self.id_field, 1)
        self.layout_.addLayout(row)
        self.start_button = primary_button("申请授权并核验材料")
        self.layout_.addWidget(self.start_button)
        self.consent_panel = ConsentPanel()
        self.consent_panel.hide()
        self.layout_.addWidget(self.consent_panel)
        self.findings_label = QLabel()
        self.findings_label.setWordWrap(True)
        self.layout_.addWidget(self.findings_label)
        self.print_button = primary_button("打印核验单")
        self.print_button.hide()
        self.layout_.addWidget(self.print_button)
        self.layout_.addStretch(1)

        self.start_button.clicked.connect(self.ask_consent)
        self.consent_panel.accepted.connect(self.fetch)
        self.consent_panel.declined.connect(self.decline)
        self.print_button.clicked.connect(self.print_sheet)
        current = ctx.sessions.applicant  # identified by card or code before the page opened
        if current is not None:
            self.name_field.edit.setText(current.name)
            self.id_field.edit.setText(current.holder_id)

    def ask_consent(self) -> None:
        self.notice.clear_message()
        try:
            applicant = applicant_from_input(self.name_field.text(), self.id_field.text())
        except InputErrors as exc:
            self.name_field.set_error(exc.errors.get("name"))
            self.id_field.set_error(exc.errors.get("id_number"))
            return
        current = self.ctx.sessions.applicant
        if current is not None and current.holder_id == applicant.holder_id:
            applicant = current  # keep how they were identified (card, code)
        else:
            self.ctx.sessions.begin(applicant)
        self.applicant = applicant
        self.request = consent_request(applicant, self.matter, self.ctx.manifest.id)
        self.consent_panel.show_preview(self.request.preview_lines())

    def fetch(self) -> None:
        request, operator = self.request, self.ctx.operator()
        assert request is not None
        self.consent_panel.hide()

        def work() -> tuple[Any, FetchResult]:  # off the GUI thread
            consent = self.ctx.consents.grant(request, operator=operator)
            # Name the types: one the manifest does not declare raises ScopeError (audited)
            # instead of being skipped.
            result = self.ctx.licences.fetch(
                consent, self.matter.licence_types,
                reason=f"办理“{self.matter.name}”核验申请材料", operator=operator)
            return consent, result

        def done(outcome: tuple[Any, FetchResult]) -> None:
            consent, self.result = outcome
            self.ctx.sessions.add_consent(consent)  # revoked when the session ends
            self.show_findings()

        self.run_busy("正在调取电子证照…", work, done)

    def decline(self) -> None:
        request, operator = self.request, self.ctx.operator()
        assert request is not None
        self.consent_panel.hide()
        self.result = None

        def done(_: Any) -> None:
            self.notice.show_message("申请人未同意调取电子证照，未调取任何证照。")
            self.show_findings()

        self.run_busy("正在记录…", lambda: self.ctx.consents.decline(request, operator=operator),
                      done)

    def show_findings(self) -> None:
        today = self.ctx.clock().astimezone(CHINA_TZ).date()
        self.findings = assess(self.matter, self.result, today)
        lines = [f"{'✔ 免提交' if f.provided else '✘ 需提交'}　{f.material}：{f.detail}"
                 for f in self.findings]
        facts = household_facts(self.result)
        if facts:
            lines += ["", "户籍信息：" + "，".join(f"{k}：{v}" for k, v in facts)]
        if self.result is not None and self.result.offline:
            lines.insert(0, "离线：电子证照平台暂时无法连接，以下为本机缓存数据")
        self.findings_label.setText("\n".join(lines))
        self.print_button.show()

    def print_sheet(self) -> None:
        applicant = self.applicant
        assert applicant is not None
        case_number = self.ctx.new_case_number()
        sheet = make_sheet(applicant, self.matter, self.findings, case_number=case_number,
                           workstation_id=self.ctx.workstation_id,
                           generated_at=self.ctx.clock(), result=self.result)
        template = self.ctx.templates.get(SHEET_TEMPLATE)

        def work() -> str:  # off the GUI thread: render, save privately, audit
            pdf = template.render(sheet)
            path = self.ctx.write_case_file(case_number, "证照核验单.pdf", pdf)
            self.ctx.audit.record("print", holder_id=applicant.holder_id,
                                  document=SHEET_TEMPLATE, case=case_number, bytes=len(pdf))
            return str(path)

        def done(path: str) -> None:
            self.document_path = path
            self.notice.show_message(f"核验单已生成：{path}")

        self.run_busy("正在生成核验单…", work, done)
