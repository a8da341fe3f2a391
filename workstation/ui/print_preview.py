"""Print preview on QtPdf: the exact PDF that will be printed, its pages, zoom, print / cancel.

Scenario pages call :func:`confirm_print` (a small function, so tests replace it to accept or
decline without a modal loop). The PDF is shown from memory (never written to a temporary
file): a ``QBuffer`` over the bytes feeds ``QPdfDocument``. ``QPdfView`` is built with no
parent, as QtPdf requires, then put into the layout.
"""

from __future__ import annotations

import contextlib

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt
from PyQt6.QtPdf import QPdfDocument
from PyQt6.QtPdfWidgets import QPdfView
from PyQt6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workstation.ui.widgets import primary_button

ZOOM_STEPS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)


class PrintPreviewDialog(QDialog):
    """Shows a PDF; ``accept()`` means "print it", ``reject()`` means "do not"."""

    def __init__(self, pdf: bytes, title: str, destination: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"打印预览 - {title}")
        self.setObjectName("PrintPreview")
        self.resize(820, 900)
        self._bytes = QByteArray(pdf)
        self._buffer = QBuffer(self._bytes, self)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)

        self.view = QPdfView(None)  # QtPdf: construct without a parent, then lay it out
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)

        self.page_label = QLabel()
        self.prev_button = QPushButton("上一页")
        self.next_button = QPushButton("下一页")
        self.zoom_out_button = QPushButton("缩小")
        self.zoom_in_button = QPushButton("放大")
        self.fit_button = QPushButton("适合宽度")
        self.zoom_label = QLabel()
        tools = QHBoxLayout()
        for w in (self.prev_button, self.page_label, self.next_button):
            tools.addWidget(w)
        tools.addStretch(1)
        for w in (self.zoom_out_button, self.zoom_label, self.zoom_in_button, self.fit_button):
            tools.addWidget(w)

        self.destination_label = QLabel(destination)
        self.destination_label.setWordWrap(True)
        self.print_button = primary_button("打印")
        self.cancel_button = QPushButton("取消")
        buttons = QHBoxLayout()
        buttons.addWidget(self.destination_label, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.print_button)

        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

        self.print_button.clicked.connect(self.accept)
        self.cancel_button.clicked.connect(self.reject)
        self.prev_button.clicked.connect(lambda: self.go_to(self.current_page - 1))
        self.next_button.clicked.connect(lambda: self.go_to(self.current_page + 1))
        self.zoom_in_button.clicked.connect(lambda: self.step_zoom(+1))
        self.zoom_out_button.clicked.connect(lambda: self.step_zoom(-1))
        self.fit_button.clicked.connect(self.fit_width)
        navigator = self.view.pageNavigator()
        if navigator is not None:
            navigator.currentPageChanged.connect(self._changed)
        self.view.zoomFactorChanged.connect(self._changed)
        self.print_button.setDefault(True)
        self._refresh()

    @property
    def page_count(self) -> int:
        return self.document.pageCount()

    @property
    def current_page(self) -> int:
        navigator = self.view.pageNavigator()
        return navigator.currentPage() if navigator is not None else 0

    def go_to(self, page: int) -> None:
        page = max(0, min(self.page_count - 1, page))
        navigator = self.view.pageNavigator()
        if navigator is not None:
            navigator.jump(page, QPointF(), navigator.currentZoom())
        self._refresh()

    def step_zoom(self, direction: int) -> None:
        current = self.view.zoomFactor()
        if self.view.zoomMode() is not QPdfView.ZoomMode.Custom:
            current = 1.0
        candidates = [z for z in ZOOM_STEPS if (z > current + 1e-6 if direction > 0
                                                else z < current - 1e-6)]
        target = (min(candidates) if direction > 0 else max(candidates)) if candidates \
            else current
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(target)
        self._refresh()

    def fit_width(self) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self._refresh()

    def _changed(self, _value: object) -> None:
        # the view may report a change while the dialog is being destroyed
        with contextlib.suppress(RuntimeError):
            self._refresh()

    def _refresh(self) -> None:
        total = max(1, self.page_count)
        page = self.current_page + 1
        self.page_label.setText(f"第 {page} 页 共 {total} 页")
        self.prev_button.setEnabled(page > 1)
        self.next_button.setEnabled(page < total)
        if self.view.zoomMode() is QPdfView.ZoomMode.Custom:
            self.zoom_label.setText(f"{round(self.view.zoomFactor() * 100)}%")
        else:
            self.zoom_label.setText("自动")


def destination_text(printer: str | None) -> str:
    if printer:
        return f"打印到：{printer}（PDF 同时保存在案卷文件夹）"
    return "未配置打印机：文书将保存为 PDF 文件（案卷文件夹）"


def confirm_print(parent: QWidget | None, pdf: bytes, title: str,
                  printer: str | None) -> bool:
    """Show the preview modally; True when the user chose to print. Tests replace this."""
    dialog = PrintPreviewDialog(pdf, title, destination_text(printer), parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    try:
        return dialog.exec() == QDialog.DialogCode.Accepted
    finally:
        dialog.deleteLater()
