"""Screenshots of every page of S7/S8 (medical_insurance), offscreen, into docs/screenshots/mi/:
the kiosk at 1920x1080, the clerk window at 1280x800, and the printed 参保凭证 (pdftoppm).

    .venv/bin/python tools/screenshots_mi.py [OUT_DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QCoreApplication, QEvent
from PyQt6.QtWidgets import QApplication

from sandbox.server import SandboxServer
from workstation.config import Config, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import shoot, wait


def insured(server: SandboxServer, employee: bool) -> Any:
    record = server.mi_accounts.find(
        lambda r: r.status == "参保缴费" and r.has_account is employee
        and r.region_code.startswith("4212") and len(r.settlements) >= 4)
    assert record is not None
    return record


def sign_in(win: MainWindow, server: SandboxServer, record: Any, source: str) -> Any:
    win.go_home()
    win.open_scenario("medical_insurance")
    code, _ = server.issue_code(record.holder_id, kind="mi_voucher", source=source)
    win.code_scanned(code)
    wait(lambda: getattr(win.stack.currentWidget(), "overview", None) is not None
         and not win.stack.currentWidget().is_busy)
    return win.stack.currentWidget()


def idle(page: Any) -> None:
    wait(lambda: not page.is_busy)


def kiosk(app: QApplication, server: SandboxServer, data: Path, out: Path) -> None:
    apply_theme(app, kiosk=True)
    cfg = Config(data_dir=data / "k", mode="kiosk", demo_operator=True,
                 platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
    core = Workstation(cfg, server.url, load_plugins())
    win = MainWindow(kiosk=True)
    win.resize(1920, 1080)
    win.show()
    win.attach(core)
    win.idle.stop()
    shoot(win, out / "kiosk-launcher.png")
    win.open_scenario("medical_insurance")
    shoot(win, out / "kiosk-1-sign-in.png")
    employee = insured(server, True)
    page = sign_in(win, server, employee, "alipay")
    win.idle.stop()
    shoot(win, out / "kiosk-2-overview-employee.png")

    page.phone_button.click()
    for d in "1390000":
        page.keypad.buttons[d].click()
    page.phone_next.click()
    shoot(win, out / "kiosk-3-phone-keypad-error.png")
    for d in "2229":
        page.keypad.buttons[d].click()
    page.phone_next.click()
    shoot(win, out / "kiosk-4-phone-confirm.png")
    page.submit_button.click()
    wait(lambda: page.stack.currentWidget() is page.result_view)
    shoot(win, out / "kiosk-5-phone-submitted.png")

    page.load_overview()
    idle(page)
    page.filing_button.click()
    page.filing_next.click()
    shoot(win, out / "kiosk-6-filing-errors.png")
    page.province_combo.setCurrentIndex(page.province_combo.findText("广东省"))
    page.city_combo.setCurrentIndex(page.city_combo.findText("深圳市"))
    page.reason_buttons["常驻异地工作"].click()
    page.period_buttons[12].click()
    page.filing_next.click()
    page.stack.setCurrentWidget(page.filing_view)
    shoot(win, out / "kiosk-7-filing-filled.png")
    page.filing_next.click()
    shoot(win, out / "kiosk-8-filing-confirm.png")
    server.faults.update({"down": True})
    page.submit_button.click()
    wait(lambda: page.stack.currentWidget() is page.result_view)
    shoot(win, out / "kiosk-9-filing-queued.png")
    server.faults.update({"down": False})
    core.outbox.release(page.current.key)
    wait(lambda: page.result_title.text() == "已提交", 30)
    shoot(win, out / "kiosk-10-filing-sent.png")
    page.load_overview()
    idle(page)
    page.history_button.click()
    wait(lambda: page.stack.currentWidget() is page.history_view)
    shoot(win, out / "kiosk-11-history.png")

    from workstation.ui import print_preview

    print_preview.confirm_print = lambda *args: True  # the preview has its own screenshot
    page.show_overview()
    page.print_button.click()
    wait(lambda: page.print_outcome is not None, 30)
    shoot(win, out / "kiosk-12-voucher-saved.png")
    pdf = Path(page.prepared.path)

    server.faults.update({"down": True})
    page.load_overview()
    wait(lambda: page.query_error.isVisible())
    shoot(win, out / "kiosk-13-platform-down.png")
    server.faults.update({"down": False})

    resident = insured(server, False)
    win.end_session("finished")
    page = sign_in(win, server, resident, "hubei_mi_official_account")
    win.idle.stop()
    shoot(win, out / "kiosk-14-overview-resident.png")
    win.idle.countdown.emit(8)
    shoot(win, out / "kiosk-15-idle-countdown.png")
    win.idle.stop()
    close(win, core)
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(out / "voucher-pdf")],
                   check=True)
    print(out / "voucher-pdf-1.png")


def clerk(app: QApplication, server: SandboxServer, data: Path, out: Path) -> None:
    apply_theme(app, kiosk=False)
    cfg = Config(data_dir=data / "c", mode="clerk", demo_operator=True,
                 platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
    core = Workstation(cfg, server.url, load_plugins())
    core.sign_in("demo", "demo1234")
    win = MainWindow(kiosk=False)
    win.resize(1280, 800)
    win.show()
    win.attach(core)
    win._signed_in(None)
    win.open_scenario("medical_insurance")
    shoot(win, out / "clerk-1-sign-in.png")
    page = sign_in(win, server, insured(server, False), "nhsa_app")
    shoot(win, out / "clerk-2-overview.png")
    page.phone_button.click()
    page.phone_display.setText("158 1234 5678")
    shoot(win, out / "clerk-3-phone.png")
    page.show_overview()
    page.filing_button.click()
    page.province_combo.setCurrentIndex(page.province_combo.findText("湖北省"))
    page.city_combo.setCurrentIndex(page.city_combo.findText("武汉市"))
    page.reason_buttons["异地转诊"].click()
    page.period_buttons[3].click()
    shoot(win, out / "clerk-4-filing.png")
    page.filing_next.click()
    page.submit_button.click()
    wait(lambda: page.stack.currentWidget() is page.result_view)
    shoot(win, out / "clerk-5-filing-submitted.png")
    close(win, core)


def close(win: MainWindow, core: Workstation) -> None:
    win.close()
    core.close()
    win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    QCoreApplication.processEvents()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    server = SandboxServer()
    server.start()
    data = Path(tempfile.mkdtemp())
    try:
        kiosk(app, server, data, out)
        clerk(app, server, data, out)
    finally:
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots/mi"))
