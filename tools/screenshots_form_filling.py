"""Screenshots of S3 电子填单 (offscreen): every kiosk step at 1920x1080, the clerk page at
1280x800, and the printed form (PDF pages through pdftoppm) into docs/screenshots/form_filling/.

    .venv/bin/python tools/screenshots_form_filling.py [OUT_DIR]
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QCoreApplication, QEvent, QEventLoop
from PyQt6.QtWidgets import QApplication, QWidget

from sandbox.server import SandboxServer
from workstation.config import Config, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme


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


def page_of(win: MainWindow) -> object:
    from plugins.form_filling.page import FormFillingPage

    page = win.stack.currentWidget()
    assert isinstance(page, FormFillingPage)
    return page


def sign_in(win: MainWindow, server: SandboxServer, id_number: str) -> object:
    from plugins.form_filling.page import FormFillingPage

    win.open_scenario("form_filling")
    code, _ = server.issue_code(id_number)
    win.code_scanned(code)

    def ready() -> bool:
        page = win.stack.currentWidget()
        return isinstance(page, FormFillingPage) and page.steps.currentWidget() is \
            page.list_step and not page.is_busy

    wait(ready)
    return page_of(win)


def open_form(page: object, code: str, consent: bool = True) -> None:
    p: object = page
    p.form_buttons[code].click()  # type: ignore[attr-defined]
    (p.accept_button if consent else p.decline_button).click()  # type: ignore[attr-defined]
    wait(lambda: p.steps.currentWidget() is p.editor_step and not p.is_busy)  # type: ignore


def fill(page: object) -> None:
    p: object = page
    rows = p.rows  # type: ignore[attr-defined]
    values = {"hukou_type": "非农业户口", "phone": "13972581234", "register_kind": "灵活就业人员",
              "start_date": dt.date.today().isoformat(), "contact_name": "张秀英",
              "contact_relation": "配偶", "contact_phone": "13807150000",
              "education": "高中", "occupation": "个体经营者",
              "address": "湖北省赤壁市蒲圻街道河北社区河北大道88号"}
    for key, value in values.items():
        rows[key].set_value(value)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    server = SandboxServer()
    server.start()
    data = Path(tempfile.mkdtemp())
    from workstation.ui import print_preview

    print_preview.confirm_print = lambda *args: True  # modal: accepted at once here
    person = server.world.person_with_all_licences
    try:
        # -- kiosk, 1920x1080 -------------------------------------------------------------------
        apply_theme(app, kiosk=True)
        cfg = Config(data_dir=data / "k", mode="kiosk", demo_operator=True,
                     platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
        core = Workstation(cfg, server.url, load_plugins())
        win = MainWindow(kiosk=True)
        win.resize(1920, 1080)
        win.show()
        win.attach(core)
        win.idle.stop()
        win.open_scenario("form_filling")
        shoot(win, out / "01-kiosk-sign-in.png")
        page = sign_in(win, server, person.id_number)
        shoot(win, out / "02-kiosk-form-list.png")
        page.form_buttons["CB-RS-SB01"].click()
        shoot(win, out / "03-kiosk-consent.png")
        page.accept_button.click()
        wait(lambda: page.steps.currentWidget() is page.editor_step and not page.is_busy)
        shoot(win, out / "04-kiosk-form-prefilled.png")
        page.activate("contact_name")
        wait(lambda: page.keyboard.ready)
        for ch in "zhang":
            page.keyboard.press(ch)
        shoot(win, out / "05-kiosk-pinyin-keyboard.png")
        page.keyboard.reset()
        page.activate("phone")
        for ch in "1397258":
            page.keypad.commit.emit(ch)
        shoot(win, out / "06-kiosk-numeric-keypad.png")
        page.activate("address")
        page.picker.choose("蒲圻街道")
        shoot(win, out / "07-kiosk-address-picker.png")
        page.address_steps = []
        page._set_active(None)
        page.rows["address"].set_value("")
        page.rows["phone"].set_value("1397258")
        page.submit_button.click()
        settle()
        shoot(win, out / "08-kiosk-validation-errors.png")
        fill(page)
        page.submit_button.click()
        wait(lambda: page.steps.currentWidget() is page.done_step and not page.is_busy)
        page.print_button.click()
        wait(lambda: page.print_outcome is not None)
        shoot(win, out / "10-kiosk-done-printed.png")
        pdf = page.prepared.pdf
        win.end_session("finished")

        page = sign_in(win, server, person.id_number)
        open_form(page, "CB-RS-SB01", consent=False)
        shoot(win, out / "09-kiosk-reuse-offer.png")
        page.reuse_button.click()
        page.rows["start_date"].set_value(dt.date.today().isoformat())
        server.faults.update({"down": True})
        page.submit_button.click()
        wait(lambda: page.steps.currentWidget() is page.done_step and not page.is_busy)
        shoot(win, out / "11-kiosk-done-offline.png")
        server.faults.reset()
        win.end_session("finished")
        win.close()
        core.close()
        win.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        QCoreApplication.processEvents()

        # -- clerk, 1280x800 --------------------------------------------------------------------
        apply_theme(app, kiosk=False)
        cfg = Config(data_dir=data / "c", mode="clerk", demo_operator=True,
                     platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
        core = Workstation(cfg, server.url, load_plugins())
        win = MainWindow(kiosk=False)
        win.resize(1280, 800)
        win.show()
        core.sign_in("demo", "demo1234")
        win.attach(core)
        page = sign_in(win, server, server.world.sample_person(3).id_number)
        shoot(win, out / "12-clerk-form-list.png")
        open_form(page, "CB-YB-JM01")
        page.activate("relation")
        shoot(win, out / "13-clerk-form.png")
        win.close()
        core.close()
        win.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        QCoreApplication.processEvents()

        # -- the printed form -------------------------------------------------------------------
        for old in out.glob("14-printed-form*.png"):
            old.unlink()
        pdf_path = out / "printed-form.pdf"
        pdf_path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf_path),
                        str(out / "14-printed-form")], check=True)
        pdf_path.unlink()
        for png in sorted(out.glob("14-printed-form*.png")):
            print(png)
    finally:
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots/form_filling"))
