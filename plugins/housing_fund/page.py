"""S10 page: thin widgets over plugins.housing_fund.logic."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QIcon, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from plugins.housing_fund.logic import (
    BUSINESSES,
    CaseStart,
    Downloaded,
    FormError,
    case_applicant,
    check_case,
    download,
    open_consent_request,
    queue_archive,
    upload_state,
)
from workstation.api import LICENCE_TYPES, EnterprisePlatform, ScenarioContext
from workstation.api.ui import (
    FieldRow,
    Poller,
    QrPanel,
    ScenarioPage,
    error_message,
    primary_button,
)


def build_page(ctx: ScenarioContext) -> QWidget:
    return HousingFundPage(ctx)


class HousingFundPage(ScenarioPage):
    def __init__(self, ctx: ScenarioContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "公积金综合业务 · 外联协查 · 电子证照下载", parent)
        self.poller = Poller(self.tasks, 1000, self)
        self.upload_poller = Poller(self.tasks, 1000, self)
        self.case: CaseStart | None = None
        self.case_no: str | None = None
        self.downloaded: Downloaded | None = None
        self.upload_keys: list[str] = []

        layout = self.layout_
        form = QGroupBox("受理信息")
        fl = QVBoxLayout(form)
        row = QHBoxLayout()
        row.addWidget(QLabel("业务类型："))
        self.business_combo = QComboBox()
        for key, name in BUSINESSES.items():
            self.business_combo.addItem(name, key)
        row.addWidget(self.business_combo)
        self.id_field = FieldRow("申请人公民身份号码", "18 位身份证号码")
        row.addWidget(self.id_field, 1)
        fl.addLayout(row)
        types = QHBoxLayout()
        types.addWidget(QLabel("下载证照类型："))
        self.type_boxes: dict[str, QCheckBox] = {}
        for key in ctx.manifest.licence_types:
            box = QCheckBox(LICENCE_TYPES[key].name)
            box.setChecked(key in ("id_card", "marriage_cert", "property_cert"))
            self.type_boxes[key] = box
            types.addWidget(box)
        types.addStretch(1)
        fl.addLayout(types)
        self.types_error = QLabel()
        self.types_error.setObjectName("FieldError")
        self.types_error.hide()
        fl.addWidget(self.types_error)
        actions = QHBoxLayout()
        actions.addStretch(1)
        self.request_button = primary_button("确认用户授权")
        actions.addWidget(self.request_button)
        fl.addLayout(actions)
        layout.insertWidget(layout.indexOf(self.notice), form)  # the notice under the form
        self.qr_panel = QrPanel("申请人授权")
        layout.addWidget(self.qr_panel)

        self.results = QGroupBox("电子证照检索与下载")
        rl = QVBoxLayout(self.results)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["证照类型", "检索结果", "证照标识", "缩略图"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(120, 76))
        # long GB/T 36904 identifiers: keep both ends readable (the full one is the tooltip)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header, vertical = self.table.horizontalHeader(), self.table.verticalHeader()
        assert header is not None and vertical is not None
        vertical.setVisible(False)
        vertical.setDefaultSectionSize(84)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(3, 136)
        rl.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.upload_label = QLabel()
        self.upload_label.setWordWrap(True)
        self.upload_button = primary_button("上传档案系统并提交审批")
        bottom.addWidget(self.upload_label, 1)
        bottom.addWidget(self.upload_button)
        rl.addLayout(bottom)
        self.results.hide()
        layout.addWidget(self.results, 1)
        layout.addStretch(0)

        self.request_button.clicked.connect(self.request_consent)
        self.upload_button.clicked.connect(self.upload)

    # -- consent ----------------------------------------------------------------------------

    def request_consent(self) -> None:
        self.poller.stop()
        self.upload_poller.stop()
        self.notice.clear_message()
        self.id_field.set_error(None)
        self.types_error.hide()
        self.results.hide()
        types = [k for k, box in self.type_boxes.items() if box.isChecked()]
        try:
            case = check_case(self.business_combo.currentData(), self.id_field.text(), types,
                              self.ctx.manifest.licence_types)
        except FormError as exc:
            self.id_field.set_error(exc.errors.get("id_number"))
            if "types" in exc.errors:
                self.types_error.setText(exc.errors["types"])
                self.types_error.show()
            return
        self.case = case
        self._forget_case()
        applicant = case_applicant(case)
        current = self.ctx.sessions.applicant
        if current is None or (current.kind, current.holder_id) != (applicant.kind,
                                                                    applicant.holder_id):
            # a new citizen at the window: the previous one's session (and pages) end here
            self.ctx.sessions.begin(applicant)
        self.run_busy("正在发起授权请求…", lambda: open_consent_request(self.ctx, case),
                  self._show_code)

    def _forget_case(self) -> None:
        """Drop what the page shows of an earlier case (it may be another citizen's)."""
        self.downloaded, self.case_no, self.upload_keys = None, None, []
        self.table.setRowCount(0)
        self.upload_label.setText("")

    def _show_code(self, prompt: Any) -> None:
        names = "、".join(LICENCE_TYPES[t].name for t in self.case.types) if self.case else ""
        self.qr_panel.show_code(
            prompt.qr_text,
            f"已向申请人手机（鄂汇办）推送授权请求，也可请申请人扫描左侧二维码授权。"
            f"将调取：{names}；用途：{BUSINESSES[self.case.business] if self.case else ''}。",
            prompt.expires_at)
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
        case = self.case
        if answer.status == "refused":
            self.notice.show_message("申请人拒绝授权，未调取任何电子证照。", "error")
        elif answer.status == "expired":
            self.notice.show_message("授权请求已过期，请重新发起。", "error")
        elif answer.status == "approved" and case is not None:
            self.run_busy("正在检索并下载电子证照…", lambda: download(self.ctx, case, answer),
                      self._downloaded)
        return False

    def _downloaded(self, downloaded: Downloaded) -> None:
        self.downloaded = downloaded
        sessions = self.ctx.sessions
        current = sessions.applicant
        if current is not None and current.holder_id == downloaded.applicant.holder_id:
            if current.name != downloaded.applicant.name:
                sessions.update_applicant(downloaded.applicant)  # the name the platform knows
            sessions.add_consent(downloaded.consent)  # revoked when the session ends
        self.case_no = self.ctx.new_case_number()
        self.upload_keys = []
        rows: list[tuple[str, str, str, bytes | None]] = [
            (lic.type_name, "有此证照，已下载", lic.licence_id, png)
            for lic, png in downloaded.found
        ] + [(LICENCE_TYPES[t].name, "未查到该类证照", "", None) for t in downloaded.missing]
        self.table.setRowCount(len(rows))
        for r, (name, state, ident, png) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            self.table.setItem(r, 1, QTableWidgetItem(state))
            ident_item = QTableWidgetItem(ident)
            ident_item.setToolTip(ident)
            self.table.setItem(r, 2, ident_item)
            thumb = QTableWidgetItem("" if png else "—")
            pixmap = QPixmap()
            if png and pixmap.loadFromData(png, "PNG"):
                thumb.setIcon(QIcon(pixmap))
            self.table.setItem(r, 3, thumb)
        self.upload_label.setText(f"案卷号 {self.case_no}：共下载 {len(downloaded.found)} 份缩略图")
        self.upload_button.setEnabled(bool(downloaded.found))
        self.results.show()

    # -- archive ----------------------------------------------------------------------------

    def upload(self) -> None:
        downloaded, case, case_no = self.downloaded, self.case, self.case_no
        if downloaded is None or case is None or case_no is None:
            return

        def work() -> tuple[int, int]:
            self.upload_keys = queue_archive(self.ctx, case_no, case.business, downloaded)
            self.ctx.outbox.deliver_due()
            return upload_state(self.ctx, self.upload_keys)

        self.upload_button.setEnabled(False)
        self.run_busy("正在上传档案系统…", work, self._upload_progress)

    def _upload_progress(self, state: tuple[int, int]) -> bool:
        sent, total = state
        if sent == total:
            self.upload_label.setText(
                f"案卷号 {self.case_no}：{total - 1} 份证照及清单已上传档案系统，"
                "已提交后台审批岗审批。")
            self.notice.show_message("已提交后台审批。")
            self.upload_poller.stop()
            return False
        self.upload_label.setText(
            f"已上传 {sent}/{total} 项；档案系统暂时无法连接，已保存在待发送队列，恢复后自动续传。")
        if not self.upload_poller.active:
            def check() -> tuple[int, int]:
                self.ctx.wake_outbox()
                return upload_state(self.ctx, self.upload_keys)

            self.upload_poller.start(check, self._upload_progress, lambda _e: True)
        return True

    # -- background -------------------------------------------------------------------------
