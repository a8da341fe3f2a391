"""S1 page at the pharmacy till: thin widgets over plugins.pharmacy.logic.

States (one stacked widget): waiting for the e-voucher → customer and basket → split for the
customer to confirm → done (receipt) ; the till's settlement log (refunds, reprints, attempts
whose outcome is unknown) is reachable from the waiting and done states. Every platform,
database and printer call runs through ``run_busy``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from plugins.pharmacy import RECEIPT_TEMPLATE, REFUND_TEMPLATE
from plugins.pharmacy.logic import (
    ATTEMPT,
    CATEGORY_LABELS,
    SETTLEMENT,
    Basket,
    BasketError,
    Catalogue,
    Customer,
    Drug,
    LogEntry,
    PharmacyClient,
    PharmacyError,
    PharmacyUnavailable,
    RefundOutcome,
    SettleOutcome,
    Split,
    check_refund_reason,
    confirm_attempt,
    looks_like_code_payload,
    pharmacy_of,
    refund,
    refund_receipt,
    settle,
    settlement_log,
    settlement_receipt,
    totals,
    yuan,
)
from plugins.pharmacy.widgets import (
    CustomerCard,
    RefundDialog,
    amount_grid,
    make_table,
    pdf_picture,
    table_item,
)
from workstation.api import CHINA_TZ, Applicant, ScenarioContext, mask_id_number, mask_name
from workstation.api.ui import ScenarioPage, error_message, gui_callback, primary_button

log = logging.getLogger(__name__)

RECEIPT_PX = 250  # the receipt's picture on the done page
DEFAULT_REFUND_REASONS = {
    "returned": "顾客退药（药品未拆封）",
    "wrong_charge": "收费错误",
    "prescription_changed": "处方错误或医师更改处方",
    "duplicate": "重复收费",
    "other": "其他原因",
}


def build_page(ctx: ScenarioContext) -> QWidget:
    return PharmacyPage(ctx)


class PharmacyPage(ScenarioPage):
    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, "药店买药 · 医保电子凭证结算")
        self.client = PharmacyClient(ctx.platform)
        self.catalogue: Catalogue | None = None
        self.applicant: Applicant | None = None
        self.customer: Customer | None = None
        self.basket = Basket()
        self.split: Split | None = None
        self.outcome: SettleOutcome | None = None
        self.refund_outcome: RefundOutcome | None = None
        self.receipt: Any = None  # the last prepared receipt
        self.receipt_text = ""  # where it stands (printed, saved, waiting for paper)
        self.print_outcome: Any = None
        self.refund_dialog: RefundDialog | None = None
        self.log_entries: list[LogEntry] = []
        self._settling = False

        self.retry_button = QPushButton()
        self.retry_button.hide()
        self._retry: Callable[[], None] | None = None
        self.retry_button.clicked.connect(self._retry_clicked)
        self.continue_print_button = primary_button("已装纸，继续打印")
        self.continue_print_button.hide()
        self.continue_print_button.clicked.connect(self.continue_printing)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.continue_print_button)
        actions.addWidget(self.retry_button)
        self.layout_.addLayout(actions)
        self.card = CustomerCard()
        self.card.hide()
        self.layout_.addWidget(self.card)
        self.stack = QStackedWidget()
        self.layout_.addWidget(self.stack, 1)
        # views are built when first shown: a scan opens a fresh page straight onto the
        # customer and the basket, so the page appears without building the rest
        self._views: dict[str, QWidget] = {}
        self._rx_widgets: dict[str, tuple[QCheckBox, QLineEdit]] = {}
        # after the base class's offer of an earlier identification (queued first): the
        # catalogue is read with the customer then, or alone here while the till waits
        self._later(self._start)

    def _later(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the event loop is back (a child timer: never after the page is
        destroyed)."""
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(fn)
        timer.timeout.connect(timer.deleteLater)
        timer.start(0)

    def _start(self) -> None:
        if self.applicant is None:
            self.stack.setCurrentWidget(self.waiting_view)
            if self.catalogue is None:
                self.load_catalogue()

    def _view(self, name: str) -> QWidget:
        view = self._views.get(name)
        if view is None:
            view = getattr(self, f"_build_{name}")()
        return view

    def showing(self, name: str) -> bool:
        """Whether the view ``name`` (waiting, sale, confirm, done, log) is the one shown."""
        view = self._views.get(name)
        return view is not None and self.stack.currentWidget() is view

    @property
    def waiting_view(self) -> QWidget:
        return self._view("waiting")

    @property
    def sale_view(self) -> QWidget:
        return self._view("sale")

    @property
    def confirm_view(self) -> QWidget:
        return self._view("confirm")

    @property
    def done_view(self) -> QWidget:
        return self._view("done")

    @property
    def log_view(self) -> QWidget:
        return self._view("log")

    # -- building -----------------------------------------------------------------------------

    def _build_waiting(self) -> QWidget:
        view = QWidget()
        lay = QVBoxLayout(view)
        self.prompt = self.sign_in_prompt()
        self.prompt.heading.setText("请顾客出示医保电子凭证二维码")
        lay.addWidget(self.prompt)
        hint = QLabel("支持湖北医疗保障公众号、我的医保凭证小程序、支付宝、国家医保服务平台App "
                      "出示的医保电子凭证。顾客无需出示社保卡、无需输入密码；扫码后自动查询"
                      "参保信息和个人账户余额。")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #52606d;")
        lay.addWidget(hint)
        row = QHBoxLayout()
        row.addStretch(1)
        self.log_button = QPushButton("结算记录 · 退费 · 补打")
        row.addWidget(self.log_button)
        lay.addLayout(row)
        lay.addStretch(1)
        self.stack.addWidget(view)
        self._views["waiting"] = view
        self.log_button.clicked.connect(self.show_log)
        return view

    def _build_sale(self) -> QWidget:
        view = QWidget()
        lay = QHBoxLayout(view)
        lay.setContentsMargins(0, 0, 0, 0)
        left = QGroupBox("查找药品")
        ll = QVBoxLayout(left)
        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText("药品名称 / 拼音首字母 / 扫描条码")
        self.search_field.setClearButtonEnabled(True)
        ll.addWidget(self.search_field)
        self.results = QListWidget()
        ll.addWidget(self.results, 1)
        self.search_hint = QLabel("回车或双击加入购药清单")
        self.search_hint.setStyleSheet("color: #52606d;")
        self.search_hint.setWordWrap(True)
        ll.addWidget(self.search_hint)
        self.add_button = QPushButton("加入购药清单")
        ll.addWidget(self.add_button)
        left.setMaximumWidth(300)
        lay.addWidget(left)

        right = QGroupBox("购药清单")
        rl = QVBoxLayout(right)
        self.basket_table = make_table(["药品", "单价", "数量", "金额", "处方核验", ""])
        header = self.basket_table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 56), (2, 74), (3, 64), (4, 236), (5, 56)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.basket_table.setColumnWidth(col, width)
        self.basket_table.verticalHeader().setDefaultSectionSize(52)  # type: ignore[union-attr]
        rl.addWidget(self.basket_table, 1)
        self.problems_label = QLabel()
        self.problems_label.setObjectName("FieldError")
        self.problems_label.setWordWrap(True)
        self.problems_label.hide()
        rl.addWidget(self.problems_label)
        bottom = QHBoxLayout()
        self.total_label = QLabel()
        self.total_label.setStyleSheet("font-size: 14pt; font-weight: bold;")
        bottom.addWidget(self.total_label, 1)
        self.cancel_sale_button = QPushButton("取消本单")
        self.settle_button = primary_button("医保结算")
        self.settle_button.setMinimumHeight(40)
        bottom.addWidget(self.cancel_sale_button)
        bottom.addWidget(self.settle_button)
        rl.addLayout(bottom)
        lay.addWidget(right, 1)
        self.stack.addWidget(view)
        self._views["sale"] = view

        self.search_field.textChanged.connect(self._search)
        self.search_field.returnPressed.connect(self._search_enter)
        self.results.itemDoubleClicked.connect(lambda item: self._add_item(item))
        self.add_button.clicked.connect(self._add_selected)
        self.settle_button.clicked.connect(self.preview)
        self.cancel_sale_button.clicked.connect(self.finish)
        return view

    def _build_confirm(self) -> QWidget:
        view = QWidget()
        lay = QVBoxLayout(view)
        lay.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("医保预结算 · 请顾客核对并确认支付")
        bl = QVBoxLayout(box)
        grid, self.split_labels = amount_grid((("total", "合计"), ("fund", "统筹基金支付"),
                                                ("account", "个人账户支付"), ("cash", "现金支付"),
                                                ("balance", "支付后个人账户余额")))
        bl.addLayout(grid)
        self.split_note = QLabel()
        self.split_note.setWordWrap(True)
        bl.addWidget(self.split_note)
        self.split_table = make_table(["药品", "数量", "金额", "类别", "统筹支付", "先行自付",
                                       "自费"])
        header = self.split_table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 7):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.split_table.setColumnWidth(col, 76)
        self.split_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.split_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        bl.addWidget(self.split_table, 1)
        buttons = QHBoxLayout()
        self.confirm_hint = QLabel("顾客确认后完成医保结算，个人账户即时扣款。")
        self.confirm_hint.setWordWrap(True)
        buttons.addWidget(self.confirm_hint, 1)
        self.back_button = QPushButton("返回修改")
        self.confirm_button = primary_button("顾客确认支付")
        self.confirm_button.setMinimumHeight(40)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.confirm_button)
        bl.addLayout(buttons)
        lay.addWidget(box, 1)
        self.stack.addWidget(view)
        self._views["confirm"] = view
        self.back_button.clicked.connect(self._back_to_basket)
        self.confirm_button.clicked.connect(self.confirm)
        return view

    def _build_done(self) -> QWidget:
        view = QWidget()
        lay = QHBoxLayout(view)
        lay.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("结算完成")
        bl = QVBoxLayout(box)
        self.done_title = QLabel()
        self.done_title.setStyleSheet("font-size: 18pt; font-weight: bold; color: #1b5e20;")
        bl.addWidget(self.done_title)
        self.done_body = QLabel()
        self.done_body.setWordWrap(True)
        self.done_body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bl.addWidget(self.done_body)
        grid, self.done_labels = amount_grid((("total", "合计"), ("fund", "统筹基金支付"),
                                               ("account", "个人账户支付"), ("cash", "现金支付"),
                                               ("balance", "个人账户余额")), columns=3)
        bl.addLayout(grid)
        self.cash_prompt = QLabel()
        self.cash_prompt.setWordWrap(True)
        self.cash_prompt.setStyleSheet("font-size: 14pt; font-weight: bold; color: #8a1c1c;")
        bl.addWidget(self.cash_prompt)
        self.receipt_label = QLabel()
        self.receipt_label.setWordWrap(True)
        self.receipt_label.setStyleSheet("color: #52606d;")
        bl.addWidget(self.receipt_label)
        bl.addStretch(1)
        buttons = QGridLayout()
        self.reprint_button = QPushButton("补打小票")
        self.refund_button = QPushButton("退费")
        self.done_log_button = QPushButton("结算记录")
        self.next_button = primary_button("下一位顾客")
        self.next_button.setMinimumHeight(40)
        buttons.addWidget(self.reprint_button, 1, 0)
        buttons.addWidget(self.refund_button, 1, 1)
        buttons.addWidget(self.done_log_button, 1, 2)
        buttons.addWidget(self.next_button, 2, 0, 1, 3)
        bl.addLayout(buttons)
        lay.addWidget(box, 1)
        shown = QGroupBox("小票")
        sl = QVBoxLayout(shown)
        self.receipt_image = QLabel("正在生成小票…")
        self.receipt_image.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.receipt_image.setStyleSheet("background: white;")
        scroll = QScrollArea()
        scroll.setWidget(self.receipt_image)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(RECEIPT_PX + 24)
        sl.addWidget(scroll)
        lay.addWidget(shown)
        self.stack.addWidget(view)
        self._views["done"] = view
        self.reprint_button.clicked.connect(self.reprint_receipt)
        self.refund_button.clicked.connect(self._refund_current)
        self.done_log_button.clicked.connect(self.show_log)
        self.next_button.clicked.connect(self.finish)
        return view

    def _build_log(self) -> QWidget:
        view = QWidget()
        lay = QVBoxLayout(view)
        lay.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("结算记录（最近 100 笔）")
        bl = QVBoxLayout(box)
        self.log_table = make_table(["时间", "结算单号", "顾客", "金额", "状态"])
        header = self.log_table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in (0, 2, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        bl.addWidget(self.log_table, 1)
        buttons = QHBoxLayout()
        self.log_refund_button = QPushButton("退费")
        self.log_reprint_button = QPushButton("补打小票")
        self.log_confirm_button = QPushButton("查询结算结果")
        self.log_refresh_button = QPushButton("刷新")
        self.log_back_button = QPushButton("返回")
        for b in (self.log_refund_button, self.log_reprint_button, self.log_confirm_button,
                  self.log_refresh_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.log_back_button)
        bl.addLayout(buttons)
        lay.addWidget(box, 1)
        self.stack.addWidget(view)
        self._views["log"] = view
        self.log_table.itemSelectionChanged.connect(self._log_selection)
        self.log_refund_button.clicked.connect(self._refund_selected)
        self.log_reprint_button.clicked.connect(self._reprint_selected)
        self.log_confirm_button.clicked.connect(self._confirm_selected)
        self.log_refresh_button.clicked.connect(self.show_log)
        self.log_back_button.clicked.connect(self._leave_log)

    # -- catalogue and customer -------------------------------------------------------------
        return view

    def load_catalogue(self) -> None:
        def done(catalogue: Catalogue) -> None:
            self.catalogue = catalogue
            self.notice.clear_message()
            if "sale" in self._views:
                self._search(self.search_field.text())

        def failed(exc: BaseException) -> None:
            self.notice.show_message(error_message(exc), "error")
            self._offer_retry("重新读取药品目录", self.load_catalogue)

        self.run_busy("正在读取药品目录…", self.client.catalogue, done, on_error=failed)

    def _offer_retry(self, text: str, again: Callable[[], None]) -> None:
        self.retry_button.setText(text)
        self._retry = again
        self.retry_button.show()

    def _retry_clicked(self) -> None:
        self.retry_button.hide()
        again, self._retry = self._retry, None
        if again is not None:
            again()

    def applicant_ready(self, applicant: Applicant) -> None:
        """The customer showed their e-voucher (GUI thread): look them up."""
        self.applicant = applicant
        self.card.show_waiting(applicant)
        self.card.show()

        known = self.catalogue

        def work() -> tuple[Customer, Catalogue]:
            if known is not None:
                return self.client.customer(applicant), known
            # the catalogue and the customer at once: two round trips in the time of one
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ph-catalogue") as pool:
                catalogue = pool.submit(self.client.catalogue)
                customer = self.client.customer(applicant)
                return customer, catalogue.result()

        def done(result: tuple[Customer, Catalogue]) -> None:
            self.customer, self.catalogue = result
            self.card.show_customer(self.customer)
            refusal = self.customer.refusal
            if refusal:
                self.notice.show_message(refusal, "error")
            else:
                self.notice.clear_message()
            self._later(self._show_sale)  # the customer is drawn first, the basket next

        def failed(exc: BaseException) -> None:
            self.card.status.setText("参保信息查询失败")
            self.notice.show_message(error_message(exc), "error")
            self._offer_retry("重新查询参保信息", lambda: self.applicant_ready(applicant))

        self.run_busy("正在查询参保信息…", work, done, on_error=failed)

    # -- basket -------------------------------------------------------------------------------

    def _show_sale(self) -> None:
        self.stack.setCurrentWidget(self.sale_view)
        can = self.customer is not None and self.customer.can_settle
        self.settle_button.setEnabled(can)
        self._refresh_basket()
        self.search_field.setFocus()
        if not self.results.count():  # the whole catalogue, once the page has been drawn
            self._later(lambda: self._search(self.search_field.text()))

    def _search(self, text: str) -> None:
        self.results.clear()
        if self.catalogue is None:
            return
        if looks_like_code_payload(text):
            self.search_hint.setText("这是二维码内容，不是药品条码。请先完成本单，"
                                     "下一位顾客再扫医保码。")
            return
        self.search_hint.setText("回车或双击加入购药清单")
        drugs = self.catalogue.search(text) if text.strip() else list(self.catalogue.drugs)
        for drug in drugs:
            rx = "　处方药" if drug.rx else ""
            item = QListWidgetItem(f"{drug.name}　{drug.spec}\n"
                                   f"¥{yuan(drug.price_fen)}/{drug.unit}　"
                                   f"{drug.category_label}{rx}")
            item.setData(Qt.ItemDataRole.UserRole, drug.code)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def _search_enter(self) -> None:
        text = self.search_field.text().strip()
        if self.catalogue is None or not text:
            return
        if looks_like_code_payload(text):
            self.search_field.clear()
            self.notice.show_message("扫到的是二维码，不是药品条码：请先完成或取消本单，"
                                     "再为下一位顾客扫医保码。", "error")
            return
        found = self.catalogue.search(text)
        exact = self.catalogue.by_barcode(text) or self.catalogue.by_code(text)
        if exact is not None or len(found) == 1:
            self.add_drug(exact or found[0])
            self.search_field.clear()
        elif not found:
            self.notice.show_message(f"未找到“{text}”：请核对药品名称、拼音首字母或条码", "error")
        else:
            self._add_selected()

    def _add_item(self, item: QListWidgetItem | None) -> None:
        if item is None or self.catalogue is None:
            return
        drug = self.catalogue.by_code(str(item.data(Qt.ItemDataRole.UserRole)))
        if drug is not None:
            self.add_drug(drug)
            self.search_field.clear()
            self.search_field.setFocus()

    def _add_selected(self) -> None:
        self._add_item(self.results.currentItem())

    def add_drug(self, drug: Drug, qty: int = 1) -> None:
        if self._settling:
            return
        try:
            self.basket.add(drug, qty)
        except BasketError as exc:
            self.notice.show_message(exc.message, "error")
            return
        if self.notice.isVisible() and (self.customer is None or self.customer.can_settle):
            self.notice.clear_message()
        self._refresh_basket()

    def remove_drug(self, code: str) -> None:
        if self._settling:
            return
        self.basket.remove(code)
        self._refresh_basket()

    def _refresh_basket(self) -> None:
        table = self.basket_table
        table.setRowCount(0)  # drops the old rows' widgets
        table.setRowCount(len(self.basket.lines))
        self._rx_widgets = {}
        for row, line in enumerate(self.basket.lines):
            drug = line.drug
            name = table_item(f"{drug.name}\n{drug.spec} · {drug.category}类")
            name.setToolTip(f"{drug.name} {drug.spec}\n{drug.maker}\n条码 {drug.barcode}")
            table.setItem(row, 0, name)
            table.setItem(row, 1, table_item(yuan(drug.price_fen), right=True))
            qty = QSpinBox()
            qty.setRange(1, 99)
            qty.setValue(line.qty)
            qty.setSuffix(drug.unit)
            qty.setObjectName(f"qty:{drug.code}")
            qty.valueChanged.connect(lambda v, c=drug.code: self._qty_changed(c, v))
            table.setCellWidget(row, 2, qty)
            table.setItem(row, 3, table_item(yuan(line.amount_fen), right=True))
            if drug.rx:
                cell = QWidget()
                cl = QHBoxLayout(cell)
                cl.setContentsMargins(4, 0, 4, 0)
                tick = QCheckBox("已核验")
                tick.setObjectName(f"rx_checked:{drug.code}")
                tick.setChecked(line.rx_checked)
                number = QLineEdit(line.rx_no)
                number.setObjectName(f"rx_no:{drug.code}")
                number.setPlaceholderText("处方编号")
                tick.toggled.connect(lambda _v, c=drug.code: self._rx_changed(c))
                number.textChanged.connect(lambda _t, c=drug.code: self._rx_changed(c))
                cl.addWidget(tick)
                cl.addWidget(number, 1)
                table.setCellWidget(row, 4, cell)
                self._rx_widgets[drug.code] = (tick, number)
            else:
                table.setItem(row, 4, table_item("非处方药，无需处方"))
            remove = QPushButton("删除")
            remove.setObjectName(f"remove:{drug.code}")
            remove.clicked.connect(lambda _c=False, c=drug.code: self.remove_drug(c))
            table.setCellWidget(row, 5, remove)
        self._refresh_totals()

    def _qty_changed(self, code: str, value: int) -> None:
        self.basket.set_qty(code, value)
        line = self.basket.line(code)
        row = next((i for i, ln in enumerate(self.basket.lines) if ln.drug.code == code), None)
        if line is not None and row is not None:
            self.basket_table.setItem(row, 3, table_item(yuan(line.amount_fen), right=True))
        self._refresh_totals()

    def _rx_changed(self, code: str) -> None:
        widgets = self._rx_widgets.get(code)
        if widgets is not None:
            self.basket.set_prescription(code, widgets[0].isChecked(), widgets[1].text())
        self.problems_label.hide()

    def _refresh_totals(self) -> None:
        packs, total = totals(self.basket.lines)
        self.total_label.setText(f"共 {len(self.basket)} 种 {packs} 件　合计 ¥{yuan(total)}")
        self.problems_label.hide()

    def rx_fields(self, code: str) -> tuple[QCheckBox | None, QLineEdit | None]:
        """The prescription tick and number of a basket line (tests, screenshots)."""
        tick, number = self._rx_widgets.get(code, (None, None))
        return tick, number

    # -- pre-settlement and settlement ----------------------------------------------------

    def preview(self) -> None:
        customer = self.customer
        if customer is None or not customer.can_settle or self._settling:
            return
        problems = self.basket.problems()
        if problems:
            self.problems_label.setText("\n".join(problems.values()))
            self.problems_label.show()
            return
        self.notice.clear_message()

        def done(split: Split) -> None:
            self.split = split
            self._show_split(split)

        lines = self.basket.request_lines()  # read here: the basket is the GUI thread's
        self.run_busy("正在医保预结算…", lambda: self.client.preview(customer, lines), done)

    def _show_split(self, split: Split) -> None:
        labels = self.split_labels
        labels["total"].setText(f"¥{yuan(split.total_fen)}")
        labels["fund"].setText(yuan(split.fund_fen))
        labels["account"].setText(yuan(split.account_fen))
        labels["cash"].setText(yuan(split.cash_fen))
        has_account = self.customer is not None and self.customer.has_account
        labels["balance"].setText(yuan(split.balance_after_fen) if has_account else "—")
        notes = [f"处方药凭处方由统筹基金按 {split.fund_ratio_pct}% 支付政策范围内费用；"
                 "乙类药品个人先行自付 10%；丙类（目录外）药品自费。"]
        if split.account_short_fen:
            notes.append(f"<span style='color:#c62828'>个人账户余额不足："
                         f"{yuan(split.account_short_fen)} 元转为现金支付。</span>")
        self.split_note.setText("<br>".join(notes))
        table = self.split_table
        table.setRowCount(len(split.lines))
        for row, ln in enumerate(split.lines):
            values = [f"{ln.name}　{ln.spec}", f"{ln.qty}{ln.unit}", yuan(ln.amount_fen),
                      CATEGORY_LABELS.get(ln.category, ln.category), yuan(ln.fund_fen),
                      yuan(ln.self_pay_first_fen), yuan(ln.out_of_scope_fen)]
            for col, value in enumerate(values):
                table.setItem(row, col, table_item(value, right=col in (2, 4, 5, 6)))
        self.confirm_button.setText("顾客确认支付")
        self.confirm_button.setEnabled(True)
        self.back_button.setEnabled(True)
        self.stack.setCurrentWidget(self.confirm_view)

    def _back_to_basket(self) -> None:
        if not self._settling:
            self.stack.setCurrentWidget(self.sale_view)

    def confirm(self) -> None:
        """The customer confirmed the split: settle (once, whatever is clicked meanwhile)."""
        customer = self.customer
        if customer is None or self._settling:
            return
        self._settling = True
        self.confirm_button.setEnabled(False)
        self.back_button.setEnabled(False)
        key = self.basket.ensure_key()  # made before the first try, kept until success
        lines, total = self.basket.request_lines(), self.basket.total_fen

        def failed(exc: BaseException) -> None:
            self._settling = False
            self.confirm_button.setEnabled(True)
            self.back_button.setEnabled(True)
            self.confirm_button.setText("重新结算")
            kind = "offline" if isinstance(exc, PharmacyUnavailable) else "error"
            self.notice.show_message(error_message(exc), kind)

        self.run_busy("正在医保结算，请稍候…",
                      lambda: settle(self.ctx, self.client, customer, lines, total, key),
                      self._settled, on_error=failed, cancellable=False)

    def _settled(self, outcome: SettleOutcome) -> None:
        self._settling = False
        self.outcome = outcome
        self.basket.clear()
        s = outcome.settlement
        split = s.split
        self.notice.clear_message()
        if outcome.earlier:
            self.notice.show_message("平台确认：本单此前的一次结算已经成功（结算结果在网络中断时未能"
                                     "返回），以下为该次结算，未重复扣费。请核对购药清单。")
        elif s.duplicate:
            self.notice.show_message("平台确认本单已结算（上次结算的结果未能及时返回），未重复扣费。")
        has_account = self.customer is not None and self.customer.has_account
        self.done_title.setText("医保结算成功")
        self.done_title.setStyleSheet("font-size: 18pt; font-weight: bold; color: #1b5e20;")
        self.done_body.setText(f"结算单号：{s.settlement_id}<br>结算时间："
                               f"{s.settled_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}")
        d = self.done_labels
        d["total"].setText(f"¥{yuan(split.total_fen)}")
        d["fund"].setText(yuan(split.fund_fen))
        d["account"].setText(yuan(split.account_fen))
        d["cash"].setText(yuan(split.cash_fen))
        d["balance"].setText(yuan(split.balance_after_fen) if has_account else "—")
        prompts = []
        if split.account_short_fen:
            prompts.append(f"个人账户余额不足，{yuan(split.account_short_fen)} 元已转为现金支付。")
        prompts.append(f"请收取现金 ¥{yuan(split.cash_fen)}" if split.cash_fen
                       else "无需收取现金")
        self.cash_prompt.setText("<br>".join(prompts))
        self.receipt_image.setPixmap(QPixmap())
        self.receipt_image.setText("正在生成小票…")
        self.refund_button.setEnabled(True)
        self.refund_button.show()
        if self.customer is not None and self.customer.has_account:
            self.card.balance.setText(f"个人账户余额：¥{yuan(split.balance_after_fen)}")
        self.stack.setCurrentWidget(self.done_view)
        self.print_settlement_receipt(outcome.record)

    # -- receipts -----------------------------------------------------------------------------

    def _pharmacy(self, data: dict[str, Any]) -> Any:
        return pharmacy_of(data, self.catalogue.pharmacy if self.catalogue else None)

    def print_settlement_receipt(self, data: dict[str, Any], *, reprint: bool = False) -> None:
        receipt = settlement_receipt(data, self._pharmacy(data), reprint=reprint)
        holder = str(data.get("customer", {}).get("holder_id") or "") or None
        self._print(RECEIPT_TEMPLATE, receipt, receipt.settlement_id, holder,
                    "药店购药医保结算", "结算小票")

    def print_refund_receipt(self, data: dict[str, Any]) -> None:
        receipt = refund_receipt(data, self._pharmacy(data))
        holder = str(data.get("customer", {}).get("holder_id") or "") or None
        self._print(REFUND_TEMPLATE, receipt, receipt.settlement_id, holder,
                    "药店购药医保退费", "退费凭条")

    def _print(self, template: str, receipt: Any, case: str, holder: str | None,
               purpose: str, what: str) -> None:
        printing = self.ctx.printing
        emit = gui_callback(self, self._print_progress)  # from the printing thread

        def work() -> tuple[Any, Any]:
            prepared = printing.prepare(template, receipt, purpose=purpose, case_number=case,
                                        holder_id=holder)
            outcome = printing.print(prepared, on_update=emit,
                                     until=lambda s: s.needs_attention)
            return prepared, outcome

        def failed(exc: BaseException) -> None:
            self._receipt_status(f"{what}未打印：{error_message(exc)}（结算已完成，"
                                 "排除故障后点“补打小票”）")
            self.notice.show_message(f"{what}未打印：{error_message(exc)}", "error")

        self._receipt_status(f"正在打印{what}…")
        self.run_busy(f"正在打印{what}…", work, lambda r: self._printed(r, what),
                      on_error=failed, cancellable=False)

    def _print_progress(self, status: Any) -> None:
        if self.busy.isVisible():
            self.busy.label.setText(status.text)

    def _receipt_status(self, text: str) -> None:
        """Where the receipt stands: on the done view, else (from the log) in the notice."""
        self.receipt_text = text
        if "done" in self._views:
            self.receipt_label.setText(text)

    def _printed(self, result: tuple[Any, Any], what: str) -> None:
        self.receipt, self.print_outcome = result
        outcome = self.print_outcome
        if "done" in self._views:
            picture = pdf_picture(self.receipt.pdf, RECEIPT_PX)
            if picture is not None:
                self.receipt_image.setPixmap(picture)
        code = self.receipt.stamp.display_code
        if outcome.status.needs_attention:
            self._receipt_status(f"{what}：{outcome.text}。请处理后点“已装纸，继续打印”。")
            self.notice.show_message(f"小票打印机：{outcome.text}（结算已完成，小票等待打印）",
                                     "error")
            self.continue_print_button.show()
            return
        self.continue_print_button.hide()
        if outcome.destination == "file":
            self._receipt_status(f"未配置小票打印机，{what}已保存为 PDF（验证码 {code}）："
                                 f"{self.receipt.path}")
        else:
            self._receipt_status(f"{what}：{outcome.text}（验证码 {code}）")
            if outcome.status.state.value != "completed":
                self.notice.show_message(f"{what}：{outcome.text}", "error")

    def continue_printing(self) -> None:
        """Paper is back: follow the waiting job to its end (printed once)."""
        prepared, outcome = self.receipt, self.print_outcome
        if prepared is None or outcome is None:
            return
        cancelled = threading.Event()
        emit = gui_callback(self, self._print_progress)  # from the printing thread
        self.continue_print_button.hide()
        self.notice.clear_message()

        def work() -> tuple[Any, Any]:
            return prepared, self.ctx.printing.follow(prepared, outcome, on_update=emit,
                                                      timeout_s=60, cancelled=cancelled)

        self.run_busy("正在打印…", work, lambda r: self._printed(r, "小票"),
                      on_cancel=cancelled.set, keep_busy_on_cancel=True)

    def reprint_receipt(self) -> None:
        if self.outcome is not None:
            self.print_settlement_receipt(self.outcome.record, reprint=True)

    # -- refunds ------------------------------------------------------------------------------

    def _refund_current(self) -> None:
        if self.outcome is not None:
            self.open_refund(self.outcome.settlement.settlement_id)

    def open_refund(self, settlement_id: str) -> None:
        """Show the refund dialog for a settlement of this till's log."""

        def loaded(rec: Any) -> None:
            if rec is None:
                self.notice.show_message("本机结算记录中没有该结算单号，不能退费", "error")
                return
            s, c = rec.data["settlement"], rec.data.get("customer", {})
            entry = {"settlement_id": rec.key, "settled_at": str(s["settled_at"])[:16]
                     .replace("T", " "), "customer": mask_name(str(c.get("name", ""))),
                     "masked_id": mask_id_number(str(c.get("holder_id", ""))),
                     "total_fen": int(s["total_fen"]), "fund_fen": int(s["fund_fen"]),
                     "account_fen": int(s["account_fen"]), "cash_fen": int(s["cash_fen"])}
            reasons = (self.catalogue.refund_reasons if self.catalogue and
                       self.catalogue.refund_reasons else DEFAULT_REFUND_REASONS)
            dialog = RefundDialog(self, entry, reasons)
            self.refund_dialog = dialog
            dialog.submitted.connect(lambda code, note: self._refund_submitted(
                dialog, rec.key, reasons, code, note))
            dialog.open()

        self.run_busy("正在读取结算记录…", lambda: self.ctx.records.get(SETTLEMENT,
                                                                     settlement_id), loaded)

    def _refund_submitted(self, dialog: RefundDialog, sid: str, reasons: dict[str, str],
                          code: str, note: str) -> None:
        try:
            check_refund_reason(reasons, code, note)
        except PharmacyError as exc:
            dialog.show_error(exc.message)
            return
        dialog.accept()

        def done(result: RefundOutcome) -> None:
            self.refund_outcome = result
            r = result.refund
            self.notice.show_message(
                f"退费成功：退费单号 {r.refund_id}，退回统筹基金 {yuan(r.fund_fen)} 元、"
                f"个人账户 {yuan(r.account_fen)} 元，退还现金 {yuan(r.cash_fen)} 元。")
            if self.outcome is not None and self.outcome.settlement.settlement_id == sid:
                self.refund_button.setEnabled(False)
                self.refund_button.hide()
                self.done_title.setText("已退费")
                self.done_title.setStyleSheet("font-size: 18pt; font-weight: bold;"
                                              " color: #8a1c1c;")
                self.cash_prompt.setText(f"请退还顾客现金 ¥{yuan(r.cash_fen)}" if r.cash_fen
                                         else "无现金需退还")
                if self.customer is not None and self.customer.has_account:
                    self.done_labels["balance"].setText(yuan(r.balance_after_fen))
            if (self.customer is not None and self.customer.has_account
                    and self.customer.holder_id == result.record.get("customer", {}).get(
                        "holder_id")):
                self.card.balance.setText(f"个人账户余额：¥{yuan(r.balance_after_fen)}")
            if self.showing("log"):
                self.show_log()
            self.print_refund_receipt(result.record)

        def failed(exc: BaseException) -> None:
            kind = "offline" if isinstance(exc, PharmacyUnavailable) else "error"
            self.notice.show_message(error_message(exc), kind)
            if self.showing("log"):
                self.show_log()

        self.run_busy("正在办理退费…",
                      lambda: refund(self.ctx, self.client, sid, code, note), done,
                      on_error=failed, cancellable=False)

    # -- the till's log -------------------------------------------------------------------

    def show_log(self) -> None:
        def done(entries: list[LogEntry]) -> None:
            self.log_entries = entries
            table = self.log_table
            table.setRowCount(len(entries))
            for row, e in enumerate(entries):
                when = e.at.astimezone(CHINA_TZ) if e.at.tzinfo else e.at
                ident = e.key if e.kind == SETTLEMENT else "（结算结果待确认）"
                for col, value in enumerate((f"{when:%m-%d %H:%M}", ident, e.masked_name,
                                             yuan(e.total_fen), e.state_label)):
                    table.setItem(row, col, table_item(value, right=col == 3))
            self._log_selection()
            self.stack.setCurrentWidget(self.log_view)

        self.run_busy("正在读取结算记录…", lambda: settlement_log(self.ctx), done)

    def _selected_entry(self) -> LogEntry | None:
        row = self.log_table.currentRow()
        rows = self.log_table.selectionModel()
        if rows is None or not rows.hasSelection() or not 0 <= row < len(self.log_entries):
            return None
        return self.log_entries[row]

    def _log_selection(self) -> None:
        e = self._selected_entry()
        self.log_refund_button.setEnabled(e is not None and e.kind == SETTLEMENT
                                          and e.state != "refunded")
        self.log_reprint_button.setEnabled(e is not None and e.kind == SETTLEMENT)
        self.log_confirm_button.setEnabled(e is not None and e.kind == ATTEMPT)

    def select_log_entry(self, key: str) -> None:
        for row, e in enumerate(self.log_entries):
            if e.key == key:
                self.log_table.selectRow(row)
                return

    def _refund_selected(self) -> None:
        e = self._selected_entry()
        if e is not None and e.kind == SETTLEMENT:
            self.open_refund(e.key)

    def _reprint_selected(self) -> None:
        e = self._selected_entry()
        if e is None or e.kind != SETTLEMENT:
            return

        def loaded(rec: Any) -> None:
            if rec is None:
                return
            if rec.state == "refunded" and rec.data.get("refund"):
                self.print_refund_receipt(rec.data)
            else:
                self.print_settlement_receipt(rec.data, reprint=True)

        self.run_busy("正在读取结算记录…",
                      lambda: self.ctx.records.get(SETTLEMENT, e.key), loaded)

    def _confirm_selected(self) -> None:
        e = self._selected_entry()
        if e is None or e.kind != ATTEMPT:
            return

        def done(found: Any) -> None:
            if found is None:
                self.notice.show_message("平台确认：该次结算未成功，未扣费。")
            else:
                self.notice.show_message(f"平台确认：该次结算已成功，结算单号 "
                                         f"{found.settlement_id}，已记入结算记录。")
            self.show_log()

        self.run_busy("正在向医保信息平台查询结算结果…",
                      lambda: confirm_attempt(self.ctx, self.client, e.key), done)

    def _leave_log(self) -> None:
        if self.outcome is not None:
            self.stack.setCurrentWidget(self.done_view)
        elif self.customer is not None:
            self._show_sale()
        else:
            self.stack.setCurrentWidget(self.waiting_view)

    # -- the end --------------------------------------------------------------------------

    def finish(self) -> None:
        """下一位顾客 / 取消本单: the customer's session ends (this page with it)."""
        if self._settling:
            return
        self.basket.clear()
        self.ctx.sessions.end("finished")

