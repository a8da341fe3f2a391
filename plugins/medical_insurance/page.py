"""S7/S8 page: thin widgets over plugins.medical_insurance.logic.

One page, several views in a stack: how to sign in → the insured overview (status, personal
account, recent settlements) with the actions → change of contact phone (on-screen keypad) /
异地就医备案 (pickers only) → confirmation → the result, followed until the platform has it →
the applicant's record of transactions. Every platform, outbox, records and printing call runs
off the GUI thread through ``run_busy`` or a poller. The shell destroys the page when the
session ends (idle kiosk, 办结, a new applicant): personal data lives only in its attributes.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

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

from plugins.medical_insurance import logic, regions
from plugins.medical_insurance.logic import (
    FILING_REASONS,
    REASON_HINTS,
    FilingDraft,
    FormError,
    Overview,
    Transaction,
    TransactionState,
)
from workstation.api import CHINA_TZ, Applicant, ScenarioContext, mask_phone
from workstation.api.ui import Poller, ScenarioPage, error_message, primary_button, print_preview

log = logging.getLogger(__name__)


def build_page(ctx: ScenarioContext) -> QWidget:
    return MedicalInsurancePage(ctx)


def _label(text: str = "", *, size: int | None = None, bold: bool = False,
           colour: str | None = None, name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    style = []
    if size:
        style.append(f"font-size: {size}pt;")
    if bold:
        style.append("font-weight: bold;")
    if colour:
        style.append(f"color: {colour};")
    if style:
        label.setStyleSheet(" ".join(style))
    if name:
        label.setObjectName(name)
    return label


def _error_label() -> QLabel:
    label = _label(colour="#b71c1c")
    label.setObjectName("FieldError")
    label.hide()
    return label


def _show_error(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


def _card(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("MiCard")
    frame.setStyleSheet("#MiCard { background: white; border: 1px solid #d0d7de;"
                        " border-radius: 10px; }")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(20, 14, 20, 14)
    heading = _label(title, bold=True, colour="#52606d")
    layout.addWidget(heading)
    return frame, layout


# ---------------------------------------------------------------------------------------------
# Touch widgets
# ---------------------------------------------------------------------------------------------


class NumericKeypad(QWidget):
    """0-9, 删除 and 清空 as large buttons: a kiosk has no keyboard."""

    key = pyqtSignal(str)  # a digit, "back" or "clear"

    def __init__(self, kiosk: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setSpacing(12 if kiosk else 6)
        side = 96 if kiosk else 44
        self.buttons: dict[str, QPushButton] = {}
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back"]
        names = {"clear": "清空", "back": "删除"}
        for n, k in enumerate(keys):
            button = QPushButton(names.get(k, k))
            button.setMinimumSize(side * 2, side)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            if k.isdigit():
                button.setStyleSheet(f"font-size: {36 if kiosk else 16}pt; font-weight: bold;")
            button.clicked.connect(lambda _c=False, k=k: self.key.emit(k))
            grid.addWidget(button, n // 3, n % 3)
            self.buttons[k] = button


class DatePicker(QWidget):
    """年 / 月 / 日 pickers (no typing); ``date()`` is None until a whole date is picked."""

    changed = pyqtSignal()

    def __init__(self, first_year: int, years: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.year, self.month, self.day = QComboBox(), QComboBox(), QComboBox()
        self.year.addItem("年", None)
        for y in range(first_year, first_year + years):
            self.year.addItem(f"{y}年", y)
        self.month.addItem("月", None)
        for m in range(1, 13):
            self.month.addItem(f"{m}月", m)
        self._fill_days()
        for combo in (self.year, self.month, self.day):
            combo.setMinimumContentsLength(5)
            row.addWidget(combo)
        row.addStretch(1)
        self.year.currentIndexChanged.connect(self._fill_days)
        self.month.currentIndexChanged.connect(self._fill_days)
        self.day.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def _fill_days(self) -> None:
        year, month = self.year.currentData(), self.month.currentData()
        keep = self.day.currentData()
        count = 31
        if year and month:
            nxt = dt.date(year + month // 12, month % 12 + 1, 1)
            count = (nxt - dt.timedelta(days=1)).day
        self.day.blockSignals(True)
        self.day.clear()
        self.day.addItem("日", None)
        for d in range(1, count + 1):
            self.day.addItem(f"{d}日", d)
        if keep:
            self.day.setCurrentIndex(min(keep, count))
        self.day.blockSignals(False)
        self.changed.emit()

    def date(self) -> dt.date | None:
        year, month, day = (c.currentData() for c in (self.year, self.month, self.day))
        if not (year and month and day):
            return None
        return dt.date(year, month, day)

    def set_date(self, value: dt.date | None) -> None:
        """Pick a date, as a person would with the three pickers."""
        if value is None:
            self.year.setCurrentIndex(0)
            self.month.setCurrentIndex(0)
            self.day.setCurrentIndex(0)
            return
        index = self.year.findData(value.year)
        if index < 0:
            raise ValueError("year outside the picker")
        self.year.setCurrentIndex(index)
        self.month.setCurrentIndex(value.month)
        self.day.setCurrentIndex(value.day)


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


class MedicalInsurancePage(ScenarioPage):
    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, "医保自助服务")
        self.kiosk = bool(getattr(ctx, "kiosk", False))
        self.big = 30 if self.kiosk else 15
        self.applicant: Applicant | None = None
        self.overview: Overview | None = None
        self.pending: Transaction | None = None
        self._form = "overview"  # the form a confirmation came from
        self.current: TransactionState | None = None
        self.prepared: Any = None
        self.print_outcome: Any = None
        self.poller = Poller(self.tasks, 1000, self)

        self.stack = QStackedWidget()
        self.layout_.addWidget(self.stack, 1)
        self.prompt_view = self._build_prompt()
        self.overview_view = self._build_overview()
        self.stack.addWidget(self.prompt_view)
        self.stack.addWidget(self.overview_view)
        self.stack.setCurrentWidget(self.prompt_view)
        # the forms are built when first opened: the first data page shows sooner
        self.phone_view: QWidget | None = None
        self.filing_view: QWidget | None = None
        self.confirm_view: QWidget | None = None
        self.result_view: QWidget | None = None
        self.history_view: QWidget | None = None
        applicant = ctx.sessions.applicant
        if applicant is not None and self.accepts(applicant):
            # signed in already (the scan that opened this page): query while the page shows
            self.applicant_ready(applicant)

    def _view(self, name: str) -> QWidget:
        view: QWidget | None = getattr(self, f"{name}_view")
        if view is None:
            view = getattr(self, f"_build_{name}")()
            assert view is not None
            setattr(self, f"{name}_view", view)
            self.stack.addWidget(view)
        return view

    def _show(self, name: str) -> None:
        self.stack.setCurrentWidget(self._view(name))

    # -- views ------------------------------------------------------------------------------

    def _build_prompt(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        self.prompt = self.sign_in_prompt()
        self.prompt.heading.setText("请出示医保电子凭证二维码，对准下方扫码口")
        layout.addWidget(self.prompt)
        layout.addWidget(_label(
            "支持：微信“湖北医疗保障”公众号、“我的医保凭证”小程序、支付宝“医保电子凭证”、"
            "国家医保服务平台App 中的医保码。无需身份证。", colour="#52606d"))
        layout.addStretch(1)
        return view

    def _build_overview(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        self.greeting = _label(size=self.big - 4 if self.kiosk else 14, bold=True)
        layout.addWidget(self.greeting)
        self.login_label = _label(colour="#52606d")
        layout.addWidget(self.login_label)
        self.query_error = QFrame()
        qe = QHBoxLayout(self.query_error)
        self.query_error_label = _label(colour="#b71c1c", bold=True)
        qe.addWidget(self.query_error_label, 1)
        self.retry_button = primary_button("重新查询")
        qe.addWidget(self.retry_button)
        self.query_error.hide()
        layout.addWidget(self.query_error)

        cards = QHBoxLayout()
        frame, cl = _card("参保信息")
        self.status_label = _label(size=self.big - 6 if self.kiosk else 13, bold=True)
        self.insurance_label = _label()
        self.insurance_label.setTextFormat(Qt.TextFormat.RichText)
        cl.addWidget(self.status_label)
        cl.addWidget(self.insurance_label)
        cards.addWidget(frame, 4)
        frame, cl = _card("个人账户余额")
        self.balance_label = _label(size=self.big if self.kiosk else 18, bold=True,
                                    colour="#0b6e4f")
        self.balance_note = _label(colour="#52606d")
        cl.addWidget(self.balance_label)
        cl.addWidget(self.balance_note)
        cards.addWidget(frame, 2)
        frame, cl = _card("联系电话")
        self.phone_label = _label(size=self.big - 6 if self.kiosk else 13, bold=True)
        cl.addWidget(self.phone_label)
        cl.addStretch(1)
        cards.addWidget(frame, 2)
        self.cards = QWidget()
        self.cards.setLayout(cards)
        cards.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.cards)

        self.settlements_heading = _label("近期医保结算记录", bold=True)
        layout.addWidget(self.settlements_heading)
        self.settlements = QTableWidget(0, 6)
        self.settlements.setHorizontalHeaderLabels(
            ["结算日期", "医药机构", "类别", "总费用(元)", "统筹支付(元)", "个人账户(元)"])
        self.settlements.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.settlements.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header, vertical = self.settlements.horizontalHeader(), self.settlements.verticalHeader()
        assert header is not None and vertical is not None
        vertical.setVisible(False)
        vertical.setDefaultSectionSize(48 if self.kiosk else 28)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.settlements, 1)

        actions = QHBoxLayout()
        self.print_button = primary_button("打印参保凭证")
        self.phone_button = primary_button("变更联系电话")
        self.filing_button = primary_button("异地就医备案")
        self.history_button = QPushButton("我的办理记录")
        for button in (self.print_button, self.phone_button, self.filing_button,
                       self.history_button):
            if self.kiosk:
                button.setMinimumHeight(88)
            actions.addWidget(button)
        layout.addLayout(actions)

        self.retry_button.clicked.connect(self.load_overview)
        self.print_button.clicked.connect(self.print_voucher)
        self.phone_button.clicked.connect(self.open_phone)
        self.filing_button.clicked.connect(self.open_filing)
        self.history_button.clicked.connect(self.open_history)
        return view

    def _build_phone(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        layout.addWidget(_label("变更联系电话", size=self.big - 4 if self.kiosk else 15,
                                bold=True))
        self.current_phone_label = _label(colour="#52606d")
        layout.addWidget(self.current_phone_label)
        row = QHBoxLayout()
        row.addWidget(_label("新手机号码："))
        self.phone_display = QLineEdit()
        self.phone_display.setPlaceholderText("请用下方数字键输入 11 位手机号码")
        self.phone_display.setMaxLength(13)  # 11 digits and two spaces
        if self.kiosk:
            self.phone_display.setReadOnly(True)  # no keyboard on a kiosk: the keypad types
            self.phone_display.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.phone_display.setStyleSheet("font-size: 34pt; font-weight: bold;"
                                             " letter-spacing: 2px; min-height: 80px;")
        row.addWidget(self.phone_display, 1)
        layout.addLayout(row)
        self.phone_error = _error_label()
        layout.addWidget(self.phone_error)
        self.keypad = NumericKeypad(self.kiosk)
        layout.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.phone_back = QPushButton("返回")
        self.phone_next = primary_button("下一步")
        buttons.addWidget(self.phone_back)
        buttons.addStretch(1)
        buttons.addWidget(self.phone_next)
        layout.addLayout(buttons)
        self.keypad.key.connect(self._keypad)
        self.phone_display.textEdited.connect(self._typed_phone)
        self.phone_back.clicked.connect(self.show_overview)
        self.phone_next.clicked.connect(self.confirm_phone)
        return view

    def _build_filing(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        layout.addWidget(_label("异地就医备案", size=self.big - 4 if self.kiosk else 15,
                                bold=True))
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(6 if self.kiosk else 4)
        r = 0
        grid.addWidget(_label("就医地："), r, 0)
        place = QHBoxLayout()
        self.province_combo = QComboBox()
        self.province_combo.addItem("请选择省份", None)
        for p in regions.PROVINCES:
            self.province_combo.addItem(p.name, p.code)
        self.city_combo = QComboBox()
        self.city_combo.addItem("请选择城市", None)
        self.city_combo.setMinimumContentsLength(8)
        place.addWidget(self.province_combo)
        place.addWidget(self.city_combo)
        place.addStretch(1)
        grid.addLayout(place, r, 1)
        r += 1
        self.destination_error = _error_label()
        grid.addWidget(self.destination_error, r, 1)
        r += 1
        grid.addWidget(_label("备案类型："), r, 0, Qt.AlignmentFlag.AlignTop)
        reasons = QGridLayout()
        self.reason_group = QButtonGroup(self)
        self.reason_group.setExclusive(True)
        self.reason_buttons: dict[str, QPushButton] = {}
        for n, reason in enumerate(FILING_REASONS):
            button = QPushButton(reason)
            button.setCheckable(True)
            button.setObjectName("ReasonButton")
            button.setStyleSheet("#ReasonButton:checked { background: #b71c1c; color: white;"
                                 " font-weight: bold; }")
            if self.kiosk:
                button.setMinimumHeight(64)
            self.reason_group.addButton(button)
            self.reason_buttons[reason] = button
            reasons.addWidget(button, n // 2, n % 2)
        grid.addLayout(reasons, r, 1)
        r += 1
        self.reason_hint = _label(colour="#52606d")
        grid.addWidget(self.reason_hint, r, 1)
        r += 1
        self.reason_error = _error_label()
        grid.addWidget(self.reason_error, r, 1)
        r += 1
        today = self.ctx.clock().astimezone(CHINA_TZ).date()
        grid.addWidget(_label("开始日期："), r, 0)
        self.start_picker = DatePicker(today.year, 2)
        grid.addWidget(self.start_picker, r, 1)
        r += 1
        self.start_error = _error_label()
        grid.addWidget(self.start_error, r, 1)
        r += 1
        grid.addWidget(_label("结束日期："), r, 0)
        end_row = QHBoxLayout()
        self.end_picker = DatePicker(today.year, 7)
        end_row.addWidget(self.end_picker)
        end_row.addSpacing(16)
        end_row.addWidget(_label("或按期限："))
        self.period_buttons: dict[int, QPushButton] = {}
        for months, text in ((3, "3个月"), (6, "6个月"), (12, "1年"), (24, "2年")):
            button = QPushButton(text)
            button.setToolTip(f"结束日期设为开始日期后{text}")
            button.clicked.connect(lambda _c=False, m=months: self._set_period(m))
            self.period_buttons[months] = button
            end_row.addWidget(button)
        end_row.addStretch(1)
        grid.addLayout(end_row, r, 1)
        r += 1
        self.end_error = _error_label()
        grid.addWidget(self.end_error, r, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.filing_back = QPushButton("返回")
        self.filing_next = primary_button("下一步")
        buttons.addWidget(self.filing_back)
        buttons.addStretch(1)
        buttons.addWidget(self.filing_next)
        layout.addLayout(buttons)
        self.province_combo.currentIndexChanged.connect(self._province_changed)
        self.reason_group.buttonClicked.connect(self._reason_changed)
        self.filing_back.clicked.connect(self.show_overview)
        self.filing_next.clicked.connect(self.confirm_filing)
        return view

    def _build_confirm(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        layout.addWidget(_label("请核对以下信息，确认无误后提交",
                                size=self.big - 4 if self.kiosk else 15, bold=True))
        self.confirm_lines = _label()
        self.confirm_lines.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.confirm_lines)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.confirm_back = QPushButton("返回修改")
        self.submit_button = primary_button("确认提交")
        if self.kiosk:
            self.submit_button.setMinimumHeight(88)
            self.confirm_back.setMinimumHeight(88)
        buttons.addWidget(self.confirm_back)
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)
        layout.addLayout(buttons)
        self.confirm_back.clicked.connect(self._back_to_form)
        self.submit_button.clicked.connect(self.submit)
        return view

    def _build_result(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        self.result_title = _label(size=self.big if self.kiosk else 16, bold=True)
        layout.addWidget(self.result_title)
        self.result_state = _label(size=self.big - 6 if self.kiosk else 13)
        layout.addWidget(self.result_state)
        self.result_lines = _label()
        self.result_lines.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.result_lines)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.result_home = primary_button("返回医保首页")
        self.result_history = QPushButton("我的办理记录")
        buttons.addWidget(self.result_history)
        buttons.addStretch(1)
        buttons.addWidget(self.result_home)
        layout.addLayout(buttons)
        self.result_home.clicked.connect(self.load_overview)
        self.result_history.clicked.connect(self.open_history)
        return view

    def _build_history(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        layout.addWidget(_label("我的办理记录", size=self.big - 4 if self.kiosk else 15,
                                bold=True))
        self.history_table = QTableWidget(0, 4)
        self.history_table.setHorizontalHeaderLabels(["提交时间", "办理事项", "内容", "办理状态"])
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.history_table.setWordWrap(True)
        table = self.history_table
        header, vertical = table.horizontalHeader(), table.verticalHeader()
        assert header is not None and vertical is not None
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.history_table, 1)
        self.history_empty = _label("暂无办理记录。", colour="#52606d")
        layout.addWidget(self.history_empty)
        buttons = QHBoxLayout()
        self.history_back = primary_button("返回医保首页")
        buttons.addStretch(1)
        buttons.addWidget(self.history_back)
        layout.addLayout(buttons)
        self.history_back.clicked.connect(self.show_overview)
        return view

    # -- sign-in and overview ---------------------------------------------------------------

    def applicant_ready(self, applicant: Applicant) -> None:
        if self.applicant is not None:
            return  # offered again by the shell: already being served
        self.applicant = applicant
        self.greeting.setText(f"您好，{applicant.masked_name}（{applicant.masked_id}）")
        self.login_label.setText(f"已通过 {logic.login_label(applicant)} 登录")
        self.load_overview(first=True)

    def load_overview(self, first: bool = False) -> None:
        applicant = self.applicant
        if applicant is None:
            return
        self.poller.stop()
        self.notice.clear_message()
        ctx = self.ctx

        def work() -> Overview:
            return logic.query_overview(ctx, applicant, sign_in=first)

        self.run_busy("正在查询参保信息…", work, self._show_overview,
                      on_error=self._overview_failed)

    def _show_overview(self, overview: Overview) -> None:
        self.overview = overview
        self.query_error.hide()
        self.cards.show()
        if not overview.insured:
            self.status_label.setText("未查询到参保信息")
            self.insurance_label.setText("如有疑问，请到医保窗口咨询。")
            self.balance_label.setText("—")
            self.balance_note.setText("")
            self.phone_label.setText("—")
        else:
            colour = "#0b6e4f" if overview.active else "#b71c1c"
            self.status_label.setText(
                f"<span style='color:{colour}'>{overview.status}</span>"
                f"　{overview.insurance_type}")
            since = f"{overview.insured_since:%Y年%m月%d日}" if overview.insured_since else "—"
            lines = [f"参保地：{overview.region}", f"参保日期：{since}"]
            if overview.employer:
                lines.append(f"参保单位：{overview.employer}")
            today = self.ctx.clock().astimezone(CHINA_TZ).date()
            lines += [f"异地就医备案：{f.destination}（至 {f.end:%Y-%m-%d}）"
                      for f in overview.filings if f.status == "备案成功" and f.end >= today]
            self.insurance_label.setText("<br>".join(lines))
            if overview.has_account:
                self.balance_label.setText(f"{logic.yuan(overview.balance_fen)} 元")
                self.balance_note.setText("职工医保个人账户")
            else:
                self.balance_label.setText("—")
                self.balance_note.setText("居民医保无个人账户")
            self.phone_label.setText(mask_phone(overview.phone) if overview.phone else "未预留")
        self._fill_settlements(overview)
        self.print_button.setEnabled(overview.insured)
        self.filing_button.setEnabled(overview.insured)
        self.phone_button.setEnabled(overview.insured)
        self.stack.setCurrentWidget(self.overview_view)

    def _fill_settlements(self, overview: Overview) -> None:
        rows = overview.settlements
        self.settlements.setRowCount(len(rows))
        for r, s in enumerate(rows):
            cells = [f"{s.settled_at.astimezone(CHINA_TZ):%Y-%m-%d}", s.institution,
                     s.kind if s.status == "settled" else f"{s.kind}（{s.status_label}）",
                     logic.yuan(s.total_fen), logic.yuan(s.fund_fen), logic.yuan(s.account_fen)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.settlements.setItem(r, c, item)
        self.settlements_heading.setText(
            f"近期医保结算记录（最近 {len(rows)} 笔）" if rows else "近期无医保结算记录")

    def _overview_failed(self, exc: BaseException) -> None:
        """The query failed: say so plainly; the phone change can still be filed (queued)."""
        self.overview = None
        self.query_error_label.setText(error_message(exc))
        self.query_error.show()
        self.cards.hide()
        self.settlements.setRowCount(0)
        self.settlements_heading.setText("")
        self.print_button.setEnabled(False)
        self.filing_button.setEnabled(True)
        self.phone_button.setEnabled(True)
        self.stack.setCurrentWidget(self.overview_view)

    def show_overview(self) -> None:
        self.poller.stop()
        self.notice.clear_message()
        self.stack.setCurrentWidget(self.overview_view)

    # -- contact phone ----------------------------------------------------------------------

    def open_phone(self) -> None:
        self._view("phone")
        self.notice.clear_message()
        current = self.overview.phone if self.overview else ""
        self.current_phone_label.setText(
            f"当前预留联系电话：{mask_phone(current)}" if current else
            "当前预留联系电话：暂时无法查询")
        self.phone_display.clear()
        _show_error(self.phone_error, None)
        self._show("phone")

    def phone_digits(self) -> str:
        return "".join(ch for ch in self.phone_display.text() if ch.isdigit())

    def _keypad(self, key: str) -> None:
        digits = self.phone_digits()
        if key == "clear":
            digits = ""
        elif key == "back":
            digits = digits[:-1]
        elif len(digits) < 11:
            digits += key
        self.phone_display.setText(logic.format_phone(digits))
        _show_error(self.phone_error, None)

    def _typed_phone(self, text: str) -> None:  # the clerk's keyboard
        digits = "".join(ch for ch in text if ch.isdigit())[:11]
        self.phone_display.setText(logic.format_phone(digits))

    def confirm_phone(self) -> None:
        assert self.applicant is not None
        current = self.overview.phone if self.overview else None
        try:
            tx = logic.phone_transaction(self.ctx, self.applicant, self.phone_digits(), current)
        except FormError as exc:
            _show_error(self.phone_error, exc.errors.get("phone"))
            return
        self._confirm(tx, "phone")

    # -- 异地就医备案 -------------------------------------------------------------------------

    def open_filing(self) -> None:
        overview = self.overview
        if overview is not None and overview.insured and not overview.active:
            self.notice.show_message(
                f"参保状态为{overview.status}，暂不能办理异地就医备案，请到医保窗口咨询。", "error")
            return
        self._view("filing")
        self.notice.clear_message()
        for label in (self.destination_error, self.reason_error, self.start_error,
                      self.end_error):
            _show_error(label, None)
        if self.start_picker.date() is None:
            self.start_picker.set_date(self.ctx.clock().astimezone(CHINA_TZ).date())
        self._show("filing")

    def _province_changed(self) -> None:
        code = self.province_combo.currentData()
        self.city_combo.clear()
        self.city_combo.addItem("请选择城市", None)
        province = regions.province(code) if code else None
        for c in province.cities if province else ():
            self.city_combo.addItem(c.name, c.code)
        if province is not None and len(province.cities) == 1:
            self.city_combo.setCurrentIndex(1)  # a municipality: nothing more to pick

    def _reason_changed(self) -> None:
        reason = self.selected_reason()
        self.reason_hint.setText(REASON_HINTS.get(reason or "", ""))

    def selected_reason(self) -> str | None:
        button = self.reason_group.checkedButton()
        return button.text() if button is not None else None

    def _set_period(self, months: int) -> None:
        start = self.start_picker.date() or self.ctx.clock().astimezone(CHINA_TZ).date()
        self.end_picker.set_date(logic.add_months(start, months))

    def filing_draft(self) -> FilingDraft:
        return FilingDraft(city_code=self.city_combo.currentData(),
                           reason=self.selected_reason(), start=self.start_picker.date(),
                           end=self.end_picker.date())

    def confirm_filing(self) -> None:
        assert self.applicant is not None
        home = self.overview.region_code if self.overview else None
        today = self.ctx.clock().astimezone(CHINA_TZ).date()
        try:
            request = logic.check_filing(self.filing_draft(), today=today, home_code=home)
        except FormError as exc:
            for key, label in (("destination", self.destination_error),
                               ("reason", self.reason_error), ("start", self.start_error),
                               ("end", self.end_error)):
                _show_error(label, exc.errors.get(key))
            return
        for label in (self.destination_error, self.reason_error, self.start_error,
                      self.end_error):
            _show_error(label, None)
        self._confirm(logic.filing_transaction(self.ctx, self.applicant, request), "filing")

    # -- confirmation, submission, result ---------------------------------------------------

    def _confirm(self, tx: Transaction, form: str) -> None:
        self._view("confirm")
        self.pending = tx
        self._form = form
        self.confirm_lines.setText(self._lines_html(tx.summary))
        self.submit_button.setEnabled(True)
        self._show("confirm")

    def _lines_html(self, lines: Any) -> str:
        rows = "".join(
            f"<tr><td style='color:#52606d; padding:6px 24px 6px 0'>{a}</td>"
            f"<td style='font-weight:bold; padding:6px 0'>{b}</td></tr>" for a, b in lines)
        return f"<table>{rows}</table>"

    def _back_to_form(self) -> None:
        self.pending = None
        self._show(self._form)

    def submit(self) -> None:
        tx, applicant = self.pending, self.applicant
        if tx is None or applicant is None:
            return
        self.submit_button.setEnabled(False)  # one tap; the key makes a second one harmless
        ctx = self.ctx

        def work() -> TransactionState:
            return logic.submit(ctx, applicant, tx)

        def failed(exc: BaseException) -> None:
            self.submit_button.setEnabled(True)
            self.notice.show_message(error_message(exc), "error")

        self.run_busy("正在提交…", work, self._submitted, on_error=failed, cancellable=False)

    def _submitted(self, state: TransactionState) -> None:
        self._view("result")
        tx = self.pending
        self.pending = None
        self.current = state
        self.result_lines.setText(self._lines_html(tx.summary if tx else state.summary))
        self._show_state(state, first=True)
        self._show("result")
        if state.state == logic.QUEUED:
            self.poller.start(self._check_state, self._state_polled, lambda _e: True)

    def _show_state(self, state: TransactionState, first: bool = False) -> None:
        if state.state == logic.DONE:
            self.result_title.setText("已提交")
            self.result_state.setText(f"办理状态：{state.label}")
            self.result_title.setStyleSheet(
                f"font-size: {self.big}pt; font-weight: bold; color: #0b6e4f;")
        elif state.state == logic.QUEUED:
            self.result_title.setText("平台暂不可用，已保存，恢复后自动提交")
            self.result_state.setText("办理状态：已保存，等待医保信息平台恢复（离开后也会自动提交）")
            self.result_title.setStyleSheet(
                f"font-size: {self.big}pt; font-weight: bold; color: #8a5a00;")
        else:
            self.result_title.setText("提交未成功")
            self.result_state.setText(f"办理状态：{state.label}")
            self.result_title.setStyleSheet(
                f"font-size: {self.big}pt; font-weight: bold; color: #b71c1c;")

    def _check_state(self) -> TransactionState:
        assert self.current is not None and self.applicant is not None
        self.ctx.wake_outbox()
        state = logic.reconcile(self.ctx, self.current.key)
        if (state.state == logic.DONE and state.kind == logic.KIND_FILING
                and not state.result.get("filing_no")):
            # sent in the background: the platform's answer is its filing list
            overview = logic.query_overview(self.ctx, self.applicant)
            state = logic.reconcile(self.ctx, state.key, filings=overview.filings)
        return state

    def _state_polled(self, state: TransactionState) -> bool:
        self.current = state
        self._show_state(state)
        if state.state == logic.DONE:
            self.result_title.setText("已提交")
            self.result_state.setText(f"平台已恢复，已自动提交。办理状态：{state.label}")
        return state.state == logic.QUEUED

    # -- the applicant's record -------------------------------------------------------------

    def open_history(self) -> None:
        applicant = self.applicant
        if applicant is None:
            return
        self.poller.stop()
        ctx = self.ctx
        filings = self.overview.filings if self.overview else ()

        def work() -> list[TransactionState]:
            return logic.history(ctx, applicant, filings)

        self.run_busy("正在读取办理记录…", work, self._show_history)

    def _show_history(self, states: list[TransactionState]) -> None:
        self._view("history")
        self.history_table.setRowCount(len(states))
        for r, s in enumerate(states):
            when = (f"{s.submitted_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"
                    if s.submitted_at else "—")
            content = "；".join(f"{a}：{b}" for a, b in s.summary
                               if a not in ("办理事项", "参保人"))
            for c, text in enumerate((when, s.title, content, s.label)):
                self.history_table.setItem(r, c, QTableWidgetItem(text))
        self.history_table.setVisible(bool(states))
        self.history_empty.setVisible(not states)
        self._show("history")

    # -- 参保凭证 -----------------------------------------------------------------------------

    def print_voucher(self) -> None:
        applicant, overview = self.applicant, self.overview
        if applicant is None or overview is None:
            return
        ctx = self.ctx
        self.notice.clear_message()

        def work() -> Any:
            case = ctx.new_case_number()
            doc = logic.voucher_document(ctx, applicant, overview, case)
            return ctx.printing.prepare(logic.TEMPLATE_KEY, doc, purpose="打印医疗保险参保凭证",
                                        case_number=case, holder_id=applicant.holder_id,
                                        filename="医疗保险参保凭证.pdf")

        self.run_busy("正在生成参保凭证…", work, self._preview)

    def _preview(self, prepared: Any) -> None:
        self.prepared = prepared
        printer = self.ctx.printing.printer_for(prepared.paper)
        if not print_preview.confirm_print(self, prepared.pdf, prepared.title, printer):
            self.notice.show_message("已取消打印。")
            return
        cancelled = threading.Event()
        printing = self.ctx.printing

        def work() -> Any:
            return printing.print(prepared, cancelled=cancelled, timeout_s=60,
                                  until=lambda s: s.needs_attention)

        self.run_busy("正在打印参保凭证…", work, self._printed, on_cancel=cancelled.set,
                      keep_busy_on_cancel=True)

    def _printed(self, outcome: Any) -> None:
        self.print_outcome = outcome
        code = self.prepared.stamp.display_code if self.prepared is not None else ""
        if outcome.destination == "file":
            self.notice.show_message(
                f"参保凭证已生成（验证码 {code}）。本机未配置打印机，已保存为 PDF。")
            return
        if outcome.status.needs_attention and not outcome.status.terminal:
            # out of paper, printer offline...: the job waits; follow it until it ends
            self.notice.show_message(f"{outcome.text}。请联系工作人员处理，处理后将自动继续打印，"
                                     "不会重复打印。", "error")
            printing, prepared = self.ctx.printing, self.prepared
            self.tasks.submit(lambda: printing.follow(prepared, outcome, timeout_s=600),
                              self._printed, self._print_failed)
            return
        if outcome.status.state.value == "completed":
            self.notice.show_message(f"参保凭证已打印，请在出纸口取走（验证码 {code}）。")
        else:
            self.notice.show_message(f"打印未完成：{outcome.text}", "error")

    def _print_failed(self, exc: BaseException) -> None:
        self.notice.show_message(error_message(exc), "error")
