"""Screenshots of S6 社保自助查询打印 (offscreen) into docs/screenshots/social_security_print/:
every kiosk page at 1920x1080, the clerk page at 1280x800, and both printed documents (the PDFs
the private CUPS queue received, converted with ``pdftoppm -png -r 80``).

    .venv/bin/python tools/screenshots_social_security_print.py [OUT_DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QCoreApplication, QEvent, QEventLoop
from PyQt6.QtWidgets import QApplication, QWidget

from sandbox.server import SandboxServer
from sandbox.social_security import ACTIVE
from workstation.config import Config, PlatformConfig, PrintersConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

SCENARIO = "social_security_print"


def wait(cond: Callable[[], object], timeout_s: float = 20.0) -> None:
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


def pdf_pages(pdf: Path, stem: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(stem)], check=True)
    for png in sorted(stem.parent.glob(stem.name + "-*.png")):
        print(png)


def pick_citizen(server: SandboxServer) -> str:
    world = server.world

    def fits(h: Any) -> bool:
        card = world.licence_of(h.holder_id, "social_security_card")
        return (h.status_of("pension") == ACTIVE and len(h.years()) >= 10
                and card is not None and card.status == "valid")

    history = server.social_security.find(fits)
    assert history is not None
    return history.holder_id


def signed_in(win: MainWindow) -> Any:
    from plugins.social_security_print.page import SocialSecurityPage

    def ready() -> bool:
        page = win.stack.currentWidget()
        return isinstance(page, SocialSecurityPage) and page.applicant is not None \
            and page.stack.currentWidget() is page.query_view \
            and page.summary is not None and not page.is_busy

    wait(ready)
    return win.stack.currentWidget()


def main(out: Path) -> None:
    from tests.helpers.cups_fixtures import start_private_cups
    from workstation.ui import print_preview

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    server = SandboxServer()
    server.start()
    data = Path(tempfile.mkdtemp())
    print_preview.confirm_print = lambda *args: True  # modal: it has its own screenshot
    try:
        with start_private_cups() as cups:
            queue, queue_pdf = cups.add_file_queue()
            holder = pick_citizen(server)
            # -- kiosk, 1920x1080
            apply_theme(app, kiosk=True)
            cfg = Config(data_dir=data / "k", mode="kiosk", demo_operator=True,
                         platform=PlatformConfig(base_url=server.url, health_interval_s=3600),
                         printers=PrintersConfig(a4=queue, cups_server=cups.socket))
            core = Workstation(cfg, server.url, load_plugins())
            win = MainWindow(kiosk=True)
            win.resize(1920, 1080)
            win.show()
            win.attach(core)
            wait(lambda: SCENARIO in win.launcher.tiles)
            shoot(win, out / "kiosk-0-home.png")
            win.open_scenario(SCENARIO)
            shoot(win, out / "kiosk-1-sign-in.png")
            code, _ = server.issue_code(holder, kind="essc", source="wechat_miniprogram")
            win.code_scanned(code)
            page = signed_in(win)
            shoot(win, out / "kiosk-2-query.png")
            page.certificate_button.click()
            page.period_buttons[24].click()
            page.cert_purpose_group.button(0).click()
            shoot(win, out / "kiosk-3-certificate-options.png")
            page.cert_print_button.click()
            wait(lambda: page.stack.currentWidget() is page.done_view)
            page.exit_timer.stop()
            shoot(win, out / "kiosk-5-printed.png")
            wait(lambda: queue_pdf.exists())
            cert_pdf = out / "certificate.pdf"
            cert_pdf.write_bytes(queue_pdf.read_bytes())
            page.more_button.click()
            page.rights_button.click()
            page.year_buttons[page.summary.years[-2]].click()
            page.rights_purpose_group.button(7).click()
            shoot(win, out / "kiosk-4-rights-options.png")
            queue_pdf.unlink()
            page.rights_print_button.click()
            wait(lambda: page.stack.currentWidget() is page.done_view)
            page.exit_timer.stop()
            wait(lambda: queue_pdf.exists())
            rights_pdf = out / "rights-record.pdf"
            rights_pdf.write_bytes(queue_pdf.read_bytes())
            page.more_button.click()
            page.certificate_button.click()
            server.faults.update({"down": True})
            page.cert_print_button.click()
            wait(lambda: page.trouble.isVisible() and not page.is_busy)
            shoot(win, out / "kiosk-6-platform-down.png")
            server.faults.reset()
            win.idle.stop()
            win.close()
            core.close()
            win.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            QCoreApplication.processEvents()
            for pdf in (cert_pdf, rights_pdf):
                pdf_pages(pdf, out / pdf.stem)
                pdf.unlink()

            # -- clerk, 1280x800
            apply_theme(app, kiosk=False)
            cfg = Config(data_dir=data / "c", mode="clerk", demo_operator=True,
                         platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
            core = Workstation(cfg, server.url, load_plugins())
            core.sign_in("demo", "demo1234")
            win = MainWindow(kiosk=False)
            win.resize(1280, 800)
            win.show()
            win.attach(core)
            wait(lambda: SCENARIO in win.launcher.tiles)
            win.open_scenario(SCENARIO)
            win.code_scanned(server.issue_code(holder, kind="essc", source="hubei_12333")[0])
            signed_in(win)
            shoot(win, out / "clerk-query.png")
            win.close()
            core.close()
            win.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            QCoreApplication.processEvents()
    finally:
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1
         else Path("docs/screenshots/social_security_print"))
