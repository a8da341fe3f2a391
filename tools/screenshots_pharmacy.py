"""Screenshots of S1 药店买药 (clerk, 1280x800, offscreen) and its receipts as PNG, into
docs/screenshots/pharmacy/.

    .venv/bin/python tools/screenshots_pharmacy.py [OUT_DIR]

Pages: waiting for the e-voucher, customer identified with a basket, the split to confirm,
done with the receipt, the refund dialog, the till's settlement log, the platform-down message;
the settlement receipt and the refund receipt (PDF → PNG with pdftoppm -r 80).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QCoreApplication, QEventLoop
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QApplication, QWidget

from sandbox.mi_accounts import ACTIVE, EMPLOYEE
from sandbox.server import SandboxServer
from workstation.config import Config, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

ROOT = Path(__file__).resolve().parent.parent


def wait(cond: Callable[[], object], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def settle() -> None:
    for _ in range(10):
        QCoreApplication.processEvents()


def shoot(widget: QWidget, path: Path) -> None:
    settle()
    widget.grab().save(str(path))
    print(path)


def shoot_with_dialog(win: QWidget, dialog: QWidget, path: Path) -> None:
    """The window with the (top-level, window-modal) dialog drawn over its centre, dimmed
    behind, as the clerk sees it (offscreen, a top-level dialog is grabbed on its own)."""
    settle()
    picture = win.grab()
    painter = QPainter(picture)
    painter.fillRect(picture.rect(), QColor(0, 0, 0, 70))
    box = dialog.grab()
    painter.drawPixmap((picture.width() - box.width()) // 2,
                       (picture.height() - box.height()) // 2, box)
    painter.setPen(QColor("#8a8f98"))
    painter.drawRect((picture.width() - box.width()) // 2, (picture.height() - box.height()) // 2,
                     box.width() - 1, box.height() - 1)
    painter.end()
    picture.save(str(path))
    print(path)


def pdf_to_png(pdf: Path, png: Path) -> None:
    stem = png.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(stem)],
                   check=True)
    print(png)


def main(out: Path) -> None:
    from plugins.pharmacy.page import PharmacyPage

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    apply_theme(app, kiosk=False)
    server = SandboxServer()
    server.start()
    data = Path(tempfile.mkdtemp())
    try:
        cfg = Config(data_dir=data, mode="clerk", demo_operator=True, workstation_id="CB-YD-01",
                     platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
        core = Workstation(cfg, server.url, load_plugins())
        core.sign_in("demo", "demo1234")
        win = MainWindow(kiosk=False)
        win.resize(1280, 800)
        win.show()
        win.attach(core)
        win.open_scenario("pharmacy")
        till = win.stack.currentWidget()
        assert isinstance(till, PharmacyPage)
        wait(lambda: till.catalogue is not None and not till.is_busy)
        shoot(win, out / "01-waiting-for-voucher.png")

        person = server.mi_accounts.find(lambda r: r.insurance_type == EMPLOYEE
                                         and r.status == ACTIVE
                                         and r.account_balance_fen > 100_000)
        assert person is not None
        code, _ = server.issue_code(person.holder_id, kind="mi_voucher", source="alipay")
        win.code_scanned(code)

        def page() -> PharmacyPage:
            current = win.stack.currentWidget()
            assert isinstance(current, PharmacyPage)
            return current

        wait(lambda: page() is not till and page().customer is not None and not page().is_busy
             and page().showing("sale"))
        p = page()
        assert p.catalogue is not None
        for name, qty in (("阿莫西林胶囊", 2), ("苯磺酸氨氯地平片", 1), ("氯雷他定片", 1),
                          ("维生素C片", 1)):
            drug = next(d for d in p.catalogue.drugs if d.name == name)
            p.add_drug(drug, qty)
        for name, number in (("阿莫西林胶囊", "CF20261128-0031"),
                             ("苯磺酸氨氯地平片", "CF20261128-0031")):
            drug = next(d for d in p.catalogue.drugs if d.name == name)
            tick, field = p.rx_fields(drug.code)
            assert tick is not None and field is not None
            tick.setChecked(True)
            field.setText(number)
        p.search_field.setText("lh")
        shoot(win, out / "02-customer-and-basket.png")
        p.settle_button.click()
        wait(lambda: p.stack.currentWidget() is p.confirm_view and not p.is_busy)
        shoot(win, out / "03-split-to-confirm.png")
        p.confirm_button.click()
        wait(lambda: p.stack.currentWidget() is p.done_view and p.receipt is not None
             and not p.is_busy)
        shoot(win, out / "04-done-with-receipt.png")
        pdf_to_png(Path(p.receipt.path), out / "receipt-settlement.png")

        p.refund_button.click()
        wait(lambda: p.refund_dialog is not None and p.refund_dialog.isVisible())
        dialog = p.refund_dialog
        assert dialog is not None
        dialog.reason.setCurrentIndex(dialog.reason.findData("returned"))
        dialog.note.setPlainText("药品未拆封，包装完好")
        shoot_with_dialog(win, dialog, out / "05-refund-dialog.png")
        dialog.ok_button.click()
        wait(lambda: p.refund_outcome is not None and not p.is_busy)
        pdf_to_png(Path(p.receipt.path), out / "receipt-refund.png")
        shoot(win, out / "06-refunded.png")
        p.show_log()
        wait(lambda: p.stack.currentWidget() is p.log_view and not p.is_busy)
        shoot(win, out / "07-settlement-log.png")

        # the platform down while settling: the basket stays, the clerk is told
        p.finish()
        wait(lambda: core.sessions.current is None)
        win.open_scenario("pharmacy")
        code, _ = server.issue_code(person.holder_id, kind="mi_voucher", source="nhsa_app")
        win.code_scanned(code)
        wait(lambda: page().customer is not None and not page().is_busy and page().showing("sale"))
        p = page()
        assert p.catalogue is not None
        p.add_drug(next(d for d in p.catalogue.drugs if d.name == "氯雷他定片"), 2)
        p.add_drug(next(d for d in p.catalogue.drugs if d.name == "板蓝根颗粒"), 1)
        p.settle_button.click()
        wait(lambda: p.stack.currentWidget() is p.confirm_view and not p.is_busy)
        server.faults.update({"down": True})
        p.confirm_button.click()
        wait(lambda: not p.is_busy and p.notice.isVisible())
        shoot(win, out / "08-platform-down-basket-kept.png")
        server.faults.update({"down": False})
        win.idle.stop()
        win.close()
        core.close()
    finally:
        server.stop()
    del app


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots" / "pharmacy")
