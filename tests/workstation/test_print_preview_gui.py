"""The print-preview dialog on QtPdf: pages, zoom, print / cancel."""

from __future__ import annotations

import dataclasses

from PyQt6.QtCore import Qt

from printing.insurance import render_insurance_certificate, sample_insurance_certificate
from printing.material_list import render_material_list, sample_material_list
from workstation.ui.print_preview import PrintPreviewDialog, destination_text


def _dialog(qtbot, pdf: bytes) -> PrintPreviewDialog:
    dialog = PrintPreviewDialog(pdf, "参保证明", destination_text("hall-a4"))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_pages_and_navigation(qtbot):
    pdf = render_insurance_certificate(sample_insurance_certificate())
    dialog = _dialog(qtbot, pdf)
    assert dialog.page_count == 2
    assert dialog.page_label.text() == "第 1 页 共 2 页"
    assert not dialog.prev_button.isEnabled()
    qtbot.mouseClick(dialog.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.page_label.text() == "第 2 页 共 2 页")
    assert not dialog.next_button.isEnabled()
    assert "hall-a4" in dialog.destination_label.text()


def test_zoom(qtbot):
    dialog = _dialog(qtbot, render_material_list(sample_material_list()))
    assert dialog.zoom_label.text() == "自动"
    qtbot.mouseClick(dialog.zoom_in_button, Qt.MouseButton.LeftButton)
    assert dialog.zoom_label.text() == "125%"
    qtbot.mouseClick(dialog.zoom_out_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.zoom_out_button, Qt.MouseButton.LeftButton)
    assert dialog.zoom_label.text() == "75%"
    qtbot.mouseClick(dialog.fit_button, Qt.MouseButton.LeftButton)
    assert dialog.zoom_label.text() == "自动"


def test_print_accepts_and_cancel_rejects(qtbot):
    pdf = render_material_list(dataclasses.replace(sample_material_list()))
    dialog = _dialog(qtbot, pdf)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
    other = _dialog(qtbot, pdf)
    with qtbot.waitSignal(other.rejected):
        qtbot.mouseClick(other.cancel_button, Qt.MouseButton.LeftButton)
    assert "保存为 PDF" in destination_text(None)
