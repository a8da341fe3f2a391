"""S6 page: thin widgets over plugins.social_security_print.logic.

Views, one at a time: the sign-in prompt → the query page (insured summary per type, years,
account balances) → certificate options or rights-record options (types / period / year and the
purpose, all touch buttons) → preview → print → “已打印，请取走…” and, on a kiosk, the session
ends. Printer faults (out of paper, stopped) are shown with a button to go on once fixed; a
platform failure keeps every choice and offers to retry.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from plugins.social_security_print.logic import (
    DEFAULT_PERIOD,
    DEFAULT_TYPES,
    INSURANCE,
    PERIOD_CHOICES,
    PURPOSES,
    CertificateChoice,
    ChoiceError,
    HrssError,
    RightsChoice,
    Summary,
    certificate_document,
    check_certificate,
    check_rights,
    load_summary,
    money_text,
    period_for,
    rights_document,
    sign_in_text,
)
from workstation.api import Applicant, ScenarioContext
from workstation.api.ui import ScenarioPage, error_message, primary_button, print_preview

log = logging.getLogger(__name__)

TEMPLATES = {"certificate": "insurance_certificate", "rights": "rights_record"}
DOC_NAMES = {"certificate": "参保证明", "rights": "个人权益记录单"}


def build_page(ctx: ScenarioContext) -> QWidget:
    return SocialSecurityPage(ctx)


def _style(kiosk: bool) -> str:
    """One style sheet for the whole page (per-widget style sheets are slow to apply)."""
    big, normal = (30, 22) if kiosk else (15, 11)
    pad, choice_h = ("14px 20px", 64) if kiosk else ("4px 10px", 28)
    return f"""
#SsText, #SsBold, #SsMuted, #SsAlert, #SsHead {{ font-size: {normal}pt; }}
#SsBold, #SsHead, #SsBig, #SsHuge, #SsBalance {{ font-weight: bold; }}
#SsBig {{ font-size: {big}pt; }}
#SsHuge {{ font-size: {big + 6}pt; }}
#SsBalance {{ font-size: {big - 4 if kiosk else normal}pt; }}
#SsHead, #SsMuted {{ color: #52606d; }}
#SsAlert {{ color: #8a1c1c; }}
#SsGrid {{ background: white; border: 1px solid #d0d7de; border-radius: 10px; padding: 6px; }}
#SsTrouble {{ background: #fdecea; border: 1px solid #e57373; border-radius: 10px; }}
#SsChoice {{ background: white; border: 2px solid #9aa5b1; border-radius: 8px; padding: {pad};
            font-size: {normal}pt; min-height: {choice_h}px; }}
#SsChoice:checked {{ background: #b71c1c; color: white; border-color: #b71c1c; }}
#SsChoice:disabled {{ color: #9aa5b1; border-color: #d0d7de; }}
"""


class SocialSecurityPage(ScenarioPage):
    """The whole scenario on one page (kiosk and clerk). The option and result views are built
    the first time they are needed, so signing in shows the first data page quickly."""

    EXIT_AFTER_S = 6  # kiosk: seconds between “已打印” and the end of the session

    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, "社保自助查询打印" if ctx.kiosk else "社保查询打印")
        self.kiosk = bool(ctx.kiosk)
        self.setStyleSheet(_style(self.kiosk))
        self.applicant: Applicant | None = None
        self.summary: Summary | None = None
        self.prepared: Any = None  # the document being printed
        self.outcome: Any = None  # its last print outcome
        self.printed: list[Any] = []  # documents printed in this session
        self._retry: Any = None  # what the retry button does after a platform failure
        self.exit_left = 0
        self.grid_rows: dict[str, list[str]] = {}  # insurance -> the cells shown
        self.certificate_view: QWidget | None = None
        self.rights_view: QWidget | None = None
        self.done_view: QWidget | None = None

        self.stack = QStackedWidget()
        self.layout_.addWidget(self.stack, 1)

        # -- sign-in prompt (not built when the citizen already signed in: the page opened
        # for them goes straight to their record)
        current = ctx.sessions.applicant
        signed_in = current if current is not None and self.accepts(current) else None
        self.prompt_view = QWidget()
        if signed_in is None:
            pv = QVBoxLayout(self.prompt_view)
            self.prompt = self.sign_in_prompt()
            pv.addWidget(self.prompt)
            self.prompt_hint = self._label(
                "无需身份证：用电子社保卡扫码或插入社保卡，即可查询参保缴费，"
                "打印参保证明、个人权益记录单。")
            pv.addWidget(self.prompt_hint)
            pv.addStretch(1)
        self.stack.addWidget(self.prompt_view)

        # -- query page
        self.query_view = QWidget()
        qv = QVBoxLayout(self.query_view)
        self.greeting = self._label("", "SsBig")
        qv.addWidget(self.greeting)
        self.signed_in_label = self._label("")
        qv.addWidget(self.signed_in_label)
        # one rich-text table: far quicker to show than a label per cell
        self.insurance_table = self._label("")
        self.insurance_table.setObjectName("SsGrid")
        self.insurance_table.setTextFormat(Qt.TextFormat.RichText)
        qv.addWidget(self.insurance_table)
        self.balances_label = self._label("", "SsBalance")
        qv.addWidget(self.balances_label)
        self.years_label = self._label("")
        qv.addWidget(self.years_label)
        qv.addStretch(1)
        actions = QHBoxLayout()
        self.certificate_button = primary_button("打印参保证明")
        self.rights_button = primary_button("打印个人权益记录单")
        self.exit_button = QPushButton("退出" if self.kiosk else "结束办理")
        for b in (self.certificate_button, self.rights_button, self.exit_button):
            actions.addWidget(b)
        qv.addLayout(actions)
        self.stack.addWidget(self.query_view)

        # -- trouble: platform failure (retry) or printer fault (go on)
        self.trouble = QFrame()
        self.trouble.setObjectName("SsTrouble")
        tl = QHBoxLayout(self.trouble)
        self.trouble_label = self._label("", "SsAlert")
        tl.addWidget(self.trouble_label, 1)
        self.retry_button = primary_button("重试")
        self.continue_button = primary_button("纸张已放好，继续打印")
        self.reprint_button = primary_button("重新打印")
        for b in (self.retry_button, self.continue_button, self.reprint_button):
            tl.addWidget(b)
        self.layout_.addWidget(self.trouble)
        self._hide_trouble()

        self.exit_timer = QTimer(self)
        self.exit_timer.setInterval(1000)
        self.exit_timer.timeout.connect(self._exit_tick)

        self.certificate_button.clicked.connect(self.open_certificate)
        self.rights_button.clicked.connect(self.open_rights)
        self.exit_button.clicked.connect(self.leave)
        self.retry_button.clicked.connect(self._do_retry)
        self.continue_button.clicked.connect(self.continue_printing)
        self.reprint_button.clicked.connect(self.reprint)
        self.stack.setCurrentWidget(self.prompt_view)
        if signed_in is not None:  # fetch now, while the shell shows the page
            self.applicant_ready(signed_in)

    # -- views built on first use ------------------------------------------------------------

    def _build_certificate_view(self) -> QWidget:
        view = QWidget()
        cv = QVBoxLayout(view)
        cv.addWidget(self._label("打印参保证明", "SsBig"))
        cv.addWidget(self._label("① 选择险种（可多选，最多 4 个）", "SsBold"))
        self.type_buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, (_full, short) in INSURANCE.items():
            button = self._choice(short)
            self.type_buttons[key] = button
            row.addWidget(button)
        cv.addLayout(row)
        cv.addWidget(self._label("② 选择缴费期间", "SsBold"))
        self.period_group = QButtonGroup(view)
        self.period_buttons: dict[int, QPushButton] = {}
        row = QHBoxLayout()
        for months, text in PERIOD_CHOICES:
            button = self._choice(text)
            self.period_group.addButton(button, months)
            self.period_buttons[months] = button
            row.addWidget(button)
        cv.addLayout(row)
        self.period_label = self._label("")
        cv.addWidget(self.period_label)
        cv.addWidget(self._label("③ 选择用途", "SsBold"))
        self.cert_purpose_group, cert_grid = self._purpose_grid(view)
        cv.addLayout(cert_grid)
        cv.addStretch(1)
        row = QHBoxLayout()
        self.cert_print_button = primary_button("预览并打印")
        self.cert_back_button = QPushButton("返回")
        row.addWidget(self.cert_print_button)
        row.addWidget(self.cert_back_button)
        cv.addLayout(row)
        self.cert_back_button.clicked.connect(self.show_query)
        self.cert_print_button.clicked.connect(self.print_certificate)
        self.period_group.idClicked.connect(self._show_period)
        self.stack.addWidget(view)
        return view

    def _build_rights_view(self) -> QWidget:
        view = QWidget()
        rv = QVBoxLayout(view)
        rv.addWidget(self._label("打印个人权益记录单", "SsBig"))
        rv.addWidget(self._label("① 选择年度", "SsBold"))
        self.year_group = QButtonGroup(view)
        self.year_grid = QGridLayout()
        self.year_buttons: dict[int, QPushButton] = {}
        rv.addLayout(self.year_grid)
        rv.addWidget(self._label("② 选择用途", "SsBold"))
        self.rights_purpose_group, rights_grid = self._purpose_grid(view)
        rv.addLayout(rights_grid)
        rv.addStretch(1)
        row = QHBoxLayout()
        self.rights_print_button = primary_button("预览并打印")
        self.rights_back_button = QPushButton("返回")
        row.addWidget(self.rights_print_button)
        row.addWidget(self.rights_back_button)
        rv.addLayout(row)
        self.rights_back_button.clicked.connect(self.show_query)
        self.rights_print_button.clicked.connect(self.print_rights)
        self.stack.addWidget(view)
        return view

    def _build_done_view(self) -> QWidget:
        view = QWidget()
        dv = QVBoxLayout(view)
        dv.setSpacing(18)
        dv.addStretch(1)
        self.done_label = self._label("", "SsHuge")
        self.done_detail = self._label("")
        self.done_purpose = self._label("")
        self.done_hint = self._label("可扫描文书上的二维码，或凭验证码核验真伪", "SsMuted")
        self.exit_label = self._label("", "SsAlert")
        for label in (self.done_label, self.done_detail, self.done_purpose, self.done_hint,
                      self.exit_label):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            dv.addWidget(label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.more_button = QPushButton("继续打印其他材料" if self.kiosk else "返回查询")
        self.leave_button = primary_button("立即退出" if self.kiosk else "结束办理")
        for b in (self.more_button, self.leave_button):
            b.setMinimumWidth(420 if self.kiosk else 180)
            row.addWidget(b)
        row.addStretch(1)
        dv.addLayout(row)
        dv.addStretch(2)
        self.more_button.clicked.connect(self._more)
        self.leave_button.clicked.connect(self.leave)
        self.stack.addWidget(view)
        return view

    # -- widgets ---------------------------------------------------------------------------

    @staticmethod
    def _label(text: str, role: str = "SsText") -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setObjectName(role)
        return label

    @staticmethod
    def _choice(text: str) -> QPushButton:
        button = QPushButton(text)
        button.setCheckable(True)
        button.setObjectName("SsChoice")
        return button

    def _purpose_grid(self, owner: QWidget) -> tuple[QButtonGroup, QGridLayout]:
        group = QButtonGroup(owner)
        grid = QGridLayout()
        for n, purpose in enumerate(PURPOSES):
            button = self._choice(purpose)
            group.addButton(button, n)
            grid.addWidget(button, n // 4, n % 4)
        return group, grid

    # -- sign-in and the query page --------------------------------------------------------

    def applicant_ready(self, applicant: Applicant) -> None:
        if self.applicant is not None:  # already taken at construction
            return
        self.applicant = applicant
        # show the (still empty) record page under the busy overlay right away: laying it out
        # overlaps with the platform call instead of following it
        self.greeting.setText(f"您好，{applicant.masked_name}" if self.kiosk
                              else f"参保人：{applicant.name}")
        self.signed_in_label.setText(f"已通过{sign_in_text(applicant)}登录 · "
                                     f"社会保障号码 {applicant.masked_id}")
        self.certificate_button.setEnabled(False)
        self.rights_button.setEnabled(False)
        self.stack.setCurrentWidget(self.query_view)
        self.load()

    def load(self) -> None:
        applicant = self.applicant
        if applicant is None:
            return
        self._hide_trouble()
        self.run_busy("正在查询您的参保信息…", lambda: load_summary(self.ctx, applicant),
                      self._loaded, on_error=lambda exc: self._platform_failed(exc, self.load))

    def _loaded(self, summary: Summary) -> None:
        self.summary = summary
        applicant = self.applicant
        assert applicant is not None
        self.greeting.setText(f"您好，{applicant.masked_name}" if self.kiosk
                              else f"参保人：{summary.person.name}")
        self.signed_in_label.setText(
            f"已通过{sign_in_text(applicant)}登录 · 社会保障号码 {applicant.masked_id} · "
            f"参保地 {summary.person.insured_place} · 数据截至 {summary.as_of:%Y年%m月%d日}")
        self._fill_grid(summary)
        self.balances_label.setText(
            f"养老保险个人账户 {money_text(summary.pension_balance)} 元　　"
            f"医保个人账户 {money_text(summary.medical_balance)} 元")
        years = summary.years
        self.years_label.setText(
            f"缴费年度：{years[0]}—{years[-1]}年，共 {len(years)} 个年度有缴费记录" if years
            else "暂无缴费记录")
        self.certificate_button.setEnabled(bool(summary.lines))
        self.rights_button.setEnabled(bool(years))
        self.show_query()

    def _fill_grid(self, summary: Summary) -> None:
        heads = ("险种", "参保状态", "参保期间", "累计缴费月数", "最近缴费基数（元）")
        self.grid_rows = {}
        for line in summary.lines:
            status = line.status + (f"（欠费 {line.arrears_months} 个月）"
                                    if line.arrears_months else "")
            self.grid_rows[line.insurance] = [
                INSURANCE[line.insurance][1], status, line.period_text, f"{line.months}",
                money_text(line.latest_base)]
        pad = 10 if self.kiosk else 4
        head = "".join(f"<th align='left' style='color:#52606d; padding:{pad}px'>{h}</th>"
                       for h in heads)
        rows = "".join(
            "<tr>" + "".join(f"<td style='padding:{pad}px'>{escape(c)}</td>" for c in cells)
            + "</tr>" for cells in self.grid_rows.values())
        if not rows:
            rows = f"<tr><td colspan='5' style='padding:{pad}px'>暂无参保记录</td></tr>"
        self.insurance_table.setText(
            f"<table width='100%' cellspacing='0'><tr>{head}</tr>{rows}</table>")

    def _fill_years(self, summary: Summary) -> None:
        columns = 8 if self.kiosk else 10
        for n, year in enumerate(sorted(summary.years, reverse=True)):
            button = self._choice(f"{year}年")
            self.year_group.addButton(button, year)
            self.year_grid.addWidget(button, n // columns, n % columns)
            self.year_buttons[year] = button

    def show_query(self) -> None:
        self._hide_trouble()
        self.notice.clear_message()
        self.stack.setCurrentWidget(self.query_view)

    def leave(self) -> None:
        """The citizen is done: end the session (the shell wipes the page)."""
        self.exit_timer.stop()
        self.ctx.sessions.end("finished")

    # -- options ---------------------------------------------------------------------------

    def open_certificate(self) -> None:
        summary = self.summary
        if summary is None:
            return
        if self.certificate_view is None:
            self.certificate_view = self._build_certificate_view()
        first_time = not any(b.isChecked() for b in self.type_buttons.values())
        for key, button in self.type_buttons.items():
            has = summary.line(key) is not None
            button.setEnabled(has)
            if first_time or not has:
                button.setChecked(has and key in DEFAULT_TYPES)
        if self.period_group.checkedId() == -1:
            self.period_buttons[DEFAULT_PERIOD].setChecked(True)
        self._show_period(self.period_group.checkedId())
        self._enter(self.certificate_view)

    def _show_period(self, months: int) -> None:
        if self.summary is not None and months > 0:
            start, end = period_for(self.summary, months)
            self.period_label.setText(f"证明期间：{start:%Y年%m月} 至 {end:%Y年%m月}")

    def open_rights(self) -> None:
        summary = self.summary
        if summary is None or not summary.years:
            return
        if self.rights_view is None:
            self.rights_view = self._build_rights_view()
            self._fill_years(summary)
        if self.year_group.checkedId() == -1:
            self.year_buttons[summary.years[-1]].setChecked(True)
        self._enter(self.rights_view)

    def _enter(self, view: QWidget) -> None:
        self._hide_trouble()
        self.notice.clear_message()
        self.stack.setCurrentWidget(view)

    def _purpose(self, group: QButtonGroup) -> str | None:
        n = group.checkedId()
        return PURPOSES[n] if n >= 0 else None

    def certificate_choice(self) -> CertificateChoice:
        assert self.summary is not None
        types = [k for k, b in self.type_buttons.items() if b.isChecked()]
        months = self.period_group.checkedId()
        return check_certificate(self.summary, types, months if months > 0 else None,
                                 self._purpose(self.cert_purpose_group))

    def rights_choice(self) -> RightsChoice:
        assert self.summary is not None
        year = self.year_group.checkedId()
        return check_rights(self.summary, year if year > 0 else None,
                            self._purpose(self.rights_purpose_group))

    # -- printing --------------------------------------------------------------------------

    def print_certificate(self) -> None:
        self._start_print("certificate")

    def print_rights(self) -> None:
        self._start_print("rights")

    def _start_print(self, which: str) -> None:
        applicant, summary = self.applicant, self.summary
        if applicant is None or summary is None:
            return
        self._hide_trouble()
        self.notice.clear_message()
        try:
            choice: Any = self.certificate_choice() if which == "certificate" \
                else self.rights_choice()
        except ChoiceError as exc:
            self.notice.show_message(exc.message, "error")
            return
        ctx = self.ctx
        case = ctx.new_case_number()

        def work() -> Any:
            if which == "certificate":
                data = certificate_document(ctx, applicant, summary, choice)
            else:
                data = rights_document(ctx, applicant, summary, choice)
            return ctx.printing.prepare(TEMPLATES[which], data, purpose=choice.purpose,
                                        case_number=case, holder_id=applicant.holder_id)

        self.run_busy(f"正在生成{DOC_NAMES[which]}…", work, self._preview,
                      on_error=lambda exc: self._platform_failed(
                          exc, lambda: self._start_print(which)))

    def _preview(self, prepared: Any) -> None:
        printer = self.ctx.printing.printer_for(prepared.paper)
        if not print_preview.confirm_print(self, prepared.pdf, prepared.title, printer):
            self.notice.show_message("已取消打印。")
            return
        self.prepared = prepared
        self.outcome = None
        self._send()

    FOLLOW_S = 20.0  # after “继续打印”: how long to wait for the job before asking again

    def _send(self, *, reprint: bool = False, follow: bool = False) -> None:
        prepared, printing, outcome = self.prepared, self.ctx.printing, self.outcome
        if prepared is None:
            return
        self._hide_trouble()

        def work() -> Any:
            if follow and outcome is not None:  # the same job: never a second copy
                return printing.follow(prepared, outcome, timeout_s=self.FOLLOW_S)
            if reprint:
                return printing.reprint(prepared, until=lambda s: s.needs_attention)
            return printing.print(prepared, until=lambda s: s.needs_attention)

        self.run_busy(f"正在打印{prepared.title}…", work, self._printed,
                      on_error=self._print_refused, cancellable=False)

    def continue_printing(self) -> None:
        """After the fault is fixed: follow the same job until it is printed."""
        outcome = self.outcome
        waiting = outcome is not None and not outcome.status.terminal \
            and outcome.status.job_id is not None
        self._send(follow=waiting)

    def reprint(self) -> None:
        """The job failed or was refused: print the same document again."""
        failed_job = self.outcome is not None and self.outcome.status.terminal
        self._send(reprint=failed_job)

    def _printed(self, outcome: Any) -> None:
        self.outcome = outcome
        status = outcome.status
        if status.state.value in ("completed", "saved"):
            self._done()
        elif not status.terminal:  # waiting: out of paper, stopped, still queued
            hint = "放好后请点“继续打印”，或联系工作人员。" if status.problem is not None \
                else "请稍候，或点“继续打印”查看进度。"
            self._show_trouble(f"{status.text}。{hint}", self.continue_button)
        else:
            self._show_trouble(f"{status.text}，请联系工作人员处理后重新打印。",
                               self.reprint_button)

    def _print_refused(self, exc: BaseException) -> None:
        self._show_trouble(f"{error_message(exc)}。处理后请点“重新打印”。", self.reprint_button)

    def _done(self) -> None:
        prepared = self.prepared
        assert prepared is not None
        self.printed.append(prepared)
        if self.done_view is None:
            self.done_view = self._build_done_view()
        name = DOC_NAMES["certificate" if prepared.template_key == TEMPLATES["certificate"]
                         else "rights"]
        if self.outcome is not None and self.outcome.destination == "printer":
            self.done_label.setText(f"已打印，请取走您的{name}")
        else:  # no printer configured here: the PDF in the case folder is the document
            self.done_label.setText(f"已生成{name}（未配置打印机，已保存为 PDF 文件）")
        self.done_detail.setText(f"验证码：{prepared.stamp.display_code}")
        self.done_purpose.setText(f"用途：{prepared.purpose}")
        self._enter(self.done_view)
        if self.kiosk:
            self.exit_left = self.EXIT_AFTER_S
            self._show_exit()
            self.exit_timer.start()
        else:
            self.exit_label.setText("")

    def _show_exit(self) -> None:
        self.exit_label.setText(f"正在退出，{self.exit_left} 秒后清除您的信息…")

    def _exit_tick(self) -> None:
        self.exit_left -= 1
        if self.exit_left <= 0:
            self.leave()
            return
        self._show_exit()

    def _more(self) -> None:
        self.exit_timer.stop()
        self.exit_label.setText("")
        self.show_query()

    # -- trouble ---------------------------------------------------------------------------

    def _platform_failed(self, exc: BaseException, retry: Any) -> None:
        if isinstance(exc, HrssError) and not exc.unavailable:
            self.notice.show_message(exc.message, "error")
            return
        self._retry = retry
        self._show_trouble(error_message(exc), self.retry_button)

    def _do_retry(self) -> None:
        retry, self._retry = self._retry, None
        self._hide_trouble()
        if retry is not None:
            retry()

    def _show_trouble(self, text: str, button: QPushButton) -> None:
        self.trouble_label.setText(text)
        for b in (self.retry_button, self.continue_button, self.reprint_button):
            b.setVisible(b is button)
        self.trouble.show()

    def _hide_trouble(self) -> None:
        self.trouble.hide()
