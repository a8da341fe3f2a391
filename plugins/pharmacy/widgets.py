"""Widgets of the S1 page: the customer card, the refund dialog, tables and amounts, the
receipt's picture. They show; plugins.pharmacy.page decides."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QImage, QPainter, QPixmap
from PyQt6.QtPdf import QPdfDocument
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from plugins.pharmacy.logic import Customer, yuan
from workstation.api import Applicant
from workstation.api.ui import primary_button


def table_item(text: str, *, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def make_table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    vertical = table.verticalHeader()
    if vertical is not None:
        vertical.setVisible(False)
        vertical.setDefaultSectionSize(40)
    return table


def amount_grid(fields: tuple[tuple[str, str], ...], columns: int = 5
                 ) -> tuple[QGridLayout, dict[str, QLabel]]:
    """Large amounts under small captions (the split, the settled amounts)."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(28)
    labels: dict[str, QLabel] = {}
    for n, (key, text) in enumerate(fields):
        row, col = divmod(n, columns)
        caption = QLabel(text)
        caption.setStyleSheet("color: #52606d;")
        value = QLabel()
        value.setStyleSheet("font-size: 18pt; font-weight: bold;")
        grid.addWidget(caption, row * 2, col)
        grid.addWidget(value, row * 2 + 1, col)
        labels[key] = value
    return grid, labels


def pdf_picture(pdf: bytes, width: int) -> QPixmap | None:
    """The first page of a PDF as a picture ``width`` pixels wide (white background)."""
    data = QByteArray(pdf)
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument(None)
    document.load(buffer)
    if document.pageCount() < 1:
        return None
    size = document.pagePointSize(0)
    height = round(width * size.height() / max(1.0, size.width()))
    image = document.render(0, QSize(width, height))
    canvas = QImage(image.size(), QImage.Format.Format_RGB32)
    canvas.fill(Qt.GlobalColor.white)
    painter = QPainter(canvas)
    painter.drawImage(0, 0, image)
    painter.end()
    document.close()
    return QPixmap.fromImage(canvas)


class CustomerCard(QFrame):
    """Who is paying: name, masked ID number, scheme, status, personal-account balance."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CustomerCard")
        self.setStyleSheet("#CustomerCard { background: white; border: 1px solid #d0d7de;"
                           " border-radius: 8px; } #CustomerCard QLabel { padding: 1px; }")
        grid = QGridLayout(self)
        grid.setContentsMargins(14, 8, 14, 8)
        grid.setHorizontalSpacing(24)
        self.name = QLabel()
        self.name.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.id_number = QLabel()
        self.scheme = QLabel()
        self.status = QLabel()
        self.balance = QLabel()
        self.balance.setStyleSheet("font-size: 13pt; font-weight: bold; color: #1b5e20;")
        self.source = QLabel()
        self.source.setStyleSheet("color: #52606d;")
        grid.addWidget(self.name, 0, 0)
        grid.addWidget(self.id_number, 1, 0)
        grid.addWidget(self.scheme, 0, 1)
        grid.addWidget(self.status, 1, 1)
        grid.addWidget(self.balance, 0, 2)
        grid.addWidget(self.source, 1, 2)
        grid.setColumnStretch(2, 1)

    def show_customer(self, c: Customer) -> None:
        self.name.setText(f"顾客：{c.name}")
        self.id_number.setText(f"证件号码：{c.masked_id}")
        self.source.setText(f"医保电子凭证 · {c.source_label}" if c.source_label else
                            "医保电子凭证")
        if not c.insured:
            self.scheme.setText("参保险种：—")
            self.status.setText("参保状态：<span style='color:#c62828'>未查询到参保信息</span>")
            self.balance.setText("")
            return
        self.scheme.setText(f"参保险种：{c.insurance_type}")
        colour = "#1b5e20" if c.active else "#c62828"
        self.status.setText(f"参保状态：<span style='color:{colour}'>{c.status}</span>"
                            f"　参保地：{c.region}")
        self.balance.setText(f"个人账户余额：¥{yuan(c.balance_fen)}" if c.has_account
                             else "无个人账户（城乡居民）")

    def show_waiting(self, applicant: Applicant) -> None:
        self.name.setText(f"顾客：{applicant.name}")
        self.id_number.setText(f"证件号码：{applicant.masked_id}")
        for label in (self.scheme, self.status, self.balance, self.source):
            label.setText("")
        self.status.setText("正在查询参保信息…")


class RefundDialog(QDialog):
    """退费: the settlement, a reason (chosen) and what happened (free text)."""

    submitted = pyqtSignal(str, str)  # reason code, note

    def __init__(self, parent: QWidget, entry: dict[str, Any], reasons: dict[str, str]) -> None:
        super().__init__(parent)
        self.setWindowTitle("医保结算退费")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        title = QLabel("<b>医保结算退费</b>")
        title.setStyleSheet("font-size: 14pt;")
        layout.addWidget(title)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setText(
            f"结算单号：{entry['settlement_id']}<br>结算时间：{entry['settled_at']}<br>"
            f"顾客：{entry['customer']}　证件号码：{entry['masked_id']}<br>"
            f"合计 ¥{yuan(entry['total_fen'])}：统筹基金 {yuan(entry['fund_fen'])}，"
            f"个人账户 {yuan(entry['account_fen'])}，现金 {yuan(entry['cash_fen'])}")
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("退费原因："))
        self.reason = QComboBox()
        self.reason.addItem("请选择退费原因", "")
        for code, text in reasons.items():
            self.reason.addItem(text, code)
        layout.addWidget(self.reason)
        layout.addWidget(QLabel("退费说明（选“其他原因”时必填）："))
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("例如：药品未拆封，包装完好")
        self.note.setFixedHeight(72)
        layout.addWidget(self.note)
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        notice = QLabel("退费后，统筹基金和个人账户支付的金额原路退回，现金部分当面退还顾客；"
                        "同一笔结算只能退费一次。")
        notice.setWordWrap(True)
        notice.setStyleSheet("color: #52606d;")
        layout.addWidget(notice)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("取消")
        self.ok_button = primary_button("确认退费")
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button.clicked.connect(self._submit)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _submit(self) -> None:
        self.submitted.emit(str(self.reason.currentData() or ""), self.note.toPlainText())
