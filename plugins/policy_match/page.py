"""S11 page: thin widgets over plugins.policy_match.logic (QR authorization, results, apply)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from plugins.policy_match.logic import Gathered, apply_all, gather, open_authorization
from plugins.policy_match.rules import PolicyCatalogue, Status
from workstation.api import ScenarioContext
from workstation.api.ui import Poller, QrPanel, ScenarioPage, error_message, primary_button

MARK = {Status.PASSED: "✔ 符合", Status.FAILED: "✘ 不符合", Status.MISSING: "？缺少数据"}


def build_page(ctx: ScenarioContext) -> QWidget:
    return PolicyPage(ctx)


class PolicyPage(ScenarioPage):
    def __init__(self, ctx: ScenarioContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "企心协力 · 惠企政策匹配（免申即享）", parent)
        self.poller = Poller(self.tasks, 1000, self)
        self.catalogue = PolicyCatalogue()
        self.gathered: Gathered | None = None
        self.request_ref: str | None = None

        layout = self.layout_
        intro = QLabel("企业用鄂汇办扫描授权二维码，授权调取营业执照和用工数据后，"
                       "系统逐项核对政策条件。")
        intro.setWordWrap(True)
        row = QHBoxLayout()
        self.authorize_button = primary_button("生成企业授权二维码")
        row.addWidget(self.authorize_button)
        row.addStretch(1)
        layout.insertWidget(layout.indexOf(self.notice), intro)  # the notice under the button
        layout.insertLayout(layout.indexOf(self.notice), row)
        self.qr_panel = QrPanel("企业扫码授权")
        layout.addWidget(self.qr_panel)

        self.results = QGroupBox("政策匹配结果")
        rl = QVBoxLayout(self.results)
        self.enterprise_label = QLabel()
        self.enterprise_label.setWordWrap(True)
        rl.addWidget(self.enterprise_label)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["政策 / 条件", "结果", "依据"])
        self.tree.setWordWrap(True)
        self.tree.setColumnWidth(0, 330)
        self.tree.setColumnWidth(1, 150)
        rl.addWidget(self.tree, 1)
        actions = QHBoxLayout()
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.apply_button = primary_button("一键申请符合条件的政策")
        actions.addWidget(self.summary_label, 1)
        actions.addWidget(self.apply_button)
        rl.addLayout(actions)
        self.results.hide()
        layout.addWidget(self.results, 1)
        layout.addStretch(0)

        self.authorize_button.clicked.connect(self.request_authorization)
        self.apply_button.clicked.connect(self.apply)

    # -- authorization ----------------------------------------------------------------------

    def request_authorization(self) -> None:
        self.poller.stop()
        self.notice.clear_message()
        self.results.hide()
        self.run_busy("正在生成授权二维码…", lambda: open_authorization(self.ctx), self._show_code)

    def _show_code(self, prompt: Any) -> None:
        self.request_ref = prompt.ref
        self.qr_panel.show_code(
            prompt.qr_text,
            "请企业经办人打开鄂汇办 APP，点击“扫一扫”扫描左侧二维码，选择本企业营业执照并确认授权"
            "（授权调取：营业执照、企业用工数据）。", prompt.expires_at)
        from workstation.api import EnterprisePlatform

        platform = EnterprisePlatform(self.ctx.platform)
        self.poller.start(lambda: platform.consent_status(prompt.ref), self._answered,
                          self._poll_failed)

    def _poll_failed(self, exc: BaseException) -> bool:
        self.qr_panel.status.setText(f"暂时无法查询授权结果：{error_message(exc)}，正在重试…")
        return True

    def _answered(self, answer: Any) -> bool:
        if answer.status == "pending":
            return True
        self.qr_panel.clear()
        if answer.status == "refused":
            self.notice.show_message("企业未同意授权，未调取任何证照和数据。", "error")
        elif answer.status == "expired":
            self.notice.show_message("授权二维码已过期，请重新生成。", "error")
        elif answer.status == "approved":
            self.run_busy("正在调取营业执照和用工数据并匹配政策…",
                      lambda: gather(self.ctx, answer, self.catalogue), self._gathered)
        return False

    def _gathered(self, gathered: Gathered) -> None:
        self.gathered = gathered
        if self.ctx.sessions.applicant != gathered.applicant:
            self.ctx.sessions.begin(gathered.applicant)
        self.ctx.sessions.add_consent(gathered.consent)
        people = len(gathered.employment.get("employees") or [])
        licence = {True: "有效", False: "无效或未查到", None: "平台离线，未核验"}[
            gathered.licence_valid]
        self.enterprise_label.setText(
            f"企业：{gathered.applicant.name}（{gathered.applicant.masked_id}）"
            f"　营业执照：{licence}"
            f"　{gathered.year} 年新招用 {people} 人")
        self.tree.clear()
        green, red, amber = QColor("#e8f5e9"), QColor("#fdecea"), QColor("#fff8e1")
        for result in gathered.results:
            outcome = f"符合 · {result.amount_yuan} 元" if result.eligible else "不符合"
            top = QTreeWidgetItem([result.name, outcome, result.summary])
            top.setToolTip(2, result.summary)
            for col in range(3):
                top.setBackground(col, QBrush(green if result.eligible else red))
            for cond in result.conditions:
                child = QTreeWidgetItem([cond.label, MARK[cond.status], cond.evidence])
                child.setToolTip(2, cond.evidence)
                colour = {Status.PASSED: green, Status.FAILED: red, Status.MISSING: amber}
                child.setBackground(1, QBrush(colour[cond.status]))
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(result.eligible)
        eligible = gathered.eligible
        total = sum(r.amount_yuan for r in eligible)
        self.summary_label.setText(
            f"符合 {len(eligible)} 项政策，预计可享 {total} 元；不符合的政策已列出原因。")
        self.apply_button.setEnabled(bool(eligible))
        self.results.show()

    # -- applying ---------------------------------------------------------------------------

    def apply(self) -> None:
        gathered = self.gathered
        if gathered is None or not gathered.eligible:
            return

        def work() -> tuple[int, int]:
            keys = apply_all(self.ctx, gathered)
            report = self.ctx.outbox.deliver_due()
            sent = sum(1 for k in keys if self.ctx.outbox.get(k).sent)
            del report
            return len(keys), sent

        def done(counts: tuple[int, int]) -> None:
            queued, sent = counts
            self.apply_button.setEnabled(False)
            if sent == queued:
                self.notice.show_message(
                    f"已提交 {queued} 项政策申请，无需再填写申请表（免申即享）。")
            else:
                self.notice.show_message(
                    f"已保存 {queued} 项政策申请，平台暂时无法连接，恢复后自动提交"
                    f"（已提交 {sent} 项）。", "offline")
                self.ctx.wake_outbox()

        self.run_busy("正在提交政策申请…", work, done)
