"""Take screenshots of the shell and the S2 pages (offscreen) into docs/screenshots/.

    .venv/bin/python tools/screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QCoreApplication, QEvent, QEventLoop
from PyQt6.QtWidgets import QApplication, QDialog, QWidget

from sandbox.server import SandboxServer
from workstation.config import Config, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme


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


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    server = SandboxServer()
    server.start()
    data = Path(tempfile.mkdtemp())
    try:
        for kiosk in (False, True):
            apply_theme(app, kiosk=kiosk)
            cfg = Config(
                data_dir=data / ("k" if kiosk else "c"), mode="kiosk" if kiosk else "clerk",
                demo_operator=True,
                platform=PlatformConfig(base_url=server.url, health_interval_s=3600),
            )
            core = Workstation(cfg, server.url, load_plugins())
            win = MainWindow(kiosk=kiosk)
            win.resize(1280, 800)
            win.show()
            win.attach(core)
            if kiosk:
                shoot(win, out / "kiosk-home.png")
                person = server.world.person_with_all_licences
                code, _ = server.issue_code(person.id_number)
                win.code_scanned(code)
                wait(lambda core=core: core.sessions.current is not None)
                wait(lambda win=win: "扫码" in win.applicant_panel.who.text())
                shoot(win, out / "kiosk-identified.png")
                win.idle.countdown.emit(8)
                shoot(win, out / "kiosk-countdown.png")
                win.idle.stop()
                continue
            shoot(win, out / "clerk-sign-in.png")
            core.sign_in("demo", "demo1234")
            win._signed_in(None)
            shoot(win, out / "launcher.png")
            win.open_scenario("unified_intake")
            page = win.stack.currentWidget()
            page.id_field.edit.setText("110105194912310021")
            page.name_field.edit.setText("张")
            page.submit_button.click()
            shoot(win, out / "intake-field-errors.png")
            person = server.world.person_with_all_licences
            page.name_field.edit.setText(person.name)
            page.id_field.edit.setText(person.id_number)
            page.matter_combo.setCurrentIndex(page.matter_combo.findData("CB-BDC-003"))
            page.submit_button.click()
            wait(lambda page=page: page.consent_panel.isVisible())
            shoot(win, out / "intake-consent.png")
            page.consent_panel.accept_button.click()
            wait(lambda page=page: page.results.isVisible())
            shoot(win, out / "intake-results.png")
            page.table.selectRow(1)
            page.view_selected_licence()
            wait(lambda app=app: any(isinstance(w, QDialog) and w.isVisible()
                                     for w in app.topLevelWidgets()))
            dialog = next(w for w in app.topLevelWidgets()
                          if isinstance(w, QDialog) and w.isVisible())
            shoot(dialog, out / "intake-licence.png")
            dialog.close()
            from workstation.ui import print_preview

            # the preview is modal: accept it at once here (it has its own screenshot,
            # docs/screenshots/print-preview.png)
            print_preview.confirm_print = lambda *args: True
            page.generate_button.click()
            wait(lambda page=page: page.print_outcome is not None)
            shoot(win, out / "intake-document.png")
            print(page.document_path)
            server.faults.update({"down": True})
            page.submit_button.click()
            wait(lambda page=page: page.consent_panel.isVisible())
            page.consent_panel.accept_button.click()
            wait(lambda page=page: page.results.isVisible() and not page.busy.isVisible())
            wait(lambda win=win: "离线" in win.link_label.text())
            shoot(win, out / "intake-offline.png")
            server.faults.reset()
            win.close()
            core.close()
            # destroy the widgets while the QApplication still exists (the other order
            # crashes at interpreter exit)
            win.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            QCoreApplication.processEvents()
    finally:
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
