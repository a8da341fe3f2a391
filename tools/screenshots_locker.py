"""Screenshots of every S4 locker page (offscreen) into docs/screenshots/locker/.

Kiosk pages at 1920x1080 (sign-in, phone entry with the keypad, door open, done; pickup code
entry, wrong code, locked), the staff page at 1280x800, and the deposit slip PDF as PNG.

    .venv/bin/python tools/screenshots_locker.py [OUT_DIR]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QCoreApplication, QEventLoop
from PyQt6.QtWidgets import QApplication, QWidget

from plugins.locker.logic import LockerService, door_number
from sandbox.server import SandboxServer
from workstation.config import Config, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

PHONE = "13807151234"


def wait(cond: Callable[[], object], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def settle() -> None:
    for _ in range(20):
        QCoreApplication.processEvents()


def shoot(widget: QWidget, path: Path) -> None:
    settle()
    widget.grab().save(str(path))
    print(path)


def page_of(win: MainWindow) -> object:
    return win.stack.currentWidget()


def idle(win: MainWindow) -> object:
    wait(lambda: not getattr(page_of(win), "is_busy", True))
    return page_of(win)


def scan(win: MainWindow, server: SandboxServer, holder: str) -> object:
    before = page_of(win)
    code, _ = server.issue_code(holder)
    win.code_scanned(code)
    wait(lambda: page_of(win) is not before and getattr(page_of(win), "applicant", None))
    return idle(win)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    server = SandboxServer()
    server.start()
    data = Path(tempfile.mkdtemp())
    person = server.world.sample_person(21)
    try:
        # -- kiosk: deposit --------------------------------------------------------------
        apply_theme(app, kiosk=True)
        cfg = Config(data_dir=data / "k", mode="kiosk", workstation_id="CB-KIOSK-01",
                     platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
        core = Workstation(cfg, server.url, load_plugins())
        win = MainWindow(kiosk=True)
        win.resize(1920, 1080)
        win.show()
        win.attach(core)
        wait(lambda: "locker" in win.launcher.tiles)
        win.launcher.tiles["locker"].click()
        page: object = idle(win)
        shoot(win, out / "01-kiosk-home.png")
        page.deposit_button.click()  # type: ignore[attr-defined]
        shoot(win, out / "02-kiosk-sign-in.png")
        page = scan(win, server, person.id_number)
        for d in "1380715":
            page.phone_pad.keys[d].click()  # type: ignore[attr-defined]
        shoot(win, out / "03-kiosk-phone-keypad.png")
        page.phone_pad.keys["9"].click()  # type: ignore[attr-defined]
        page.phone_next.click()  # type: ignore[attr-defined]
        shoot(win, out / "04-kiosk-phone-error.png")
        page.phone_pad.keys["清空"].click()  # type: ignore[attr-defined]
        for d in PHONE:
            page.phone_pad.keys[d].click()  # type: ignore[attr-defined]
        page.phone_next.click()  # type: ignore[attr-defined]
        page.matter_buttons["不动产登记"].click()  # type: ignore[attr-defined]
        shoot(win, out / "05-kiosk-matter-size.png")
        page.open_button.click()  # type: ignore[attr-defined]
        wait(lambda: page.steps.currentWidget() is page.door_step)  # type: ignore[attr-defined]
        shoot(win, out / "06-kiosk-door-open.png")
        opened = page.opened  # type: ignore[attr-defined]
        core.locker_simulator.close_door(door_number(opened.door))
        wait(lambda: page.steps.currentWidget() is page.done_step)  # type: ignore[attr-defined]
        idle(win)
        shoot(win, out / "07-kiosk-deposit-done.png")
        slip = page.prepared.path  # type: ignore[attr-defined]
        item_key = page.deposited.key  # type: ignore[attr-defined]
        page.finish_button.click()  # type: ignore[attr-defined]
        wait(lambda: core.sessions.current is None)

        # the staff put the result in (service calls, as the staff page does)
        ctx = core.context_for(core.plugins.scenario("locker"))
        svc = LockerService(ctx, ctx.locker())
        taken = svc.start_takeout(item_key)
        core.locker_simulator.close_door(door_number(taken.door))
        svc.complete(taken.door)
        svc.mark_processed(item_key)
        result = svc.start_result(item_key)
        core.locker_simulator.close_door(door_number(result.door))
        code = svc.complete(result.door).data["code"]

        # -- kiosk: pickup ---------------------------------------------------------------
        win.launcher.tiles["locker"].click()
        page = idle(win)
        page.pickup_button.click()  # type: ignore[attr-defined]
        page = scan(win, server, person.id_number)
        for d in "5382":
            page.code_pad.keys[d].click()  # type: ignore[attr-defined]
        shoot(win, out / "08-kiosk-pickup-code.png")
        page.code_pad.keys["清空"].click()  # type: ignore[attr-defined]
        wrong = "000000" if code != "000000" else "111111"
        for d in wrong:
            page.code_pad.keys[d].click()  # type: ignore[attr-defined]
        page.code_button.click()  # type: ignore[attr-defined]
        wait(lambda: page.code_error.isVisible())  # type: ignore[attr-defined]
        shoot(win, out / "09-kiosk-wrong-code.png")
        for d in code:
            page.code_pad.keys[d].click()  # type: ignore[attr-defined]
        page.code_button.click()  # type: ignore[attr-defined]
        wait(lambda: page.steps.currentWidget() is page.door_step)  # type: ignore[attr-defined]
        shoot(win, out / "10-kiosk-pickup-door-open.png")
        core.locker_simulator.close_door(door_number(page.opened.door))  # type: ignore
        wait(lambda: page.steps.currentWidget() is page.done_step)  # type: ignore[attr-defined]
        shoot(win, out / "11-kiosk-pickup-done.png")
        page.finish_button.click()  # type: ignore[attr-defined]
        wait(lambda: core.sessions.current is None)

        # locked: a second item and five wrong codes
        other = server.world.sample_person(22)
        from plugins.locker.logic import holder_of
        from workstation.api import Applicant, HolderKind, IdentifiedBy

        who = Applicant(HolderKind.PERSON, other.id_number, other.name, IdentifiedBy.CARD)
        dep = svc.start_deposit(holder_of(who), PHONE, "户籍办理", "S")
        core.locker_simulator.close_door(door_number(dep.door))
        svc.complete(dep.door)
        svc.start_takeout(dep.item)
        core.locker_simulator.close_door(door_number(dep.door))
        svc.complete(dep.door)
        svc.mark_processed(dep.item)
        res = svc.start_result(dep.item)
        core.locker_simulator.close_door(door_number(res.door))
        svc.complete(res.door)
        for _ in range(5):
            svc.check_code(other.id_number, "000001")
        win.launcher.tiles["locker"].click()
        page = idle(win)
        page.pickup_button.click()  # type: ignore[attr-defined]
        page = scan(win, server, other.id_number)
        wait(lambda: page.steps.currentWidget() is page.locked_step)  # type: ignore
        shoot(win, out / "12-kiosk-locked.png")
        win.idle.stop()
        win.close()

        # -- staff page (clerk, 1280x800) on the same database ---------------------------
        apply_theme(app, kiosk=False)
        ccfg = Config(data_dir=data / "k", mode="clerk", demo_operator=True,
                      workstation_id="CB-HALL-01",
                      platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
        clerk = Workstation(ccfg, server.url, load_plugins())
        clerk.sign_in("demo", "demo1234")
        cwin = MainWindow(kiosk=False)
        cwin.resize(1280, 800)
        cwin.show()
        cwin.attach(clerk)
        wait(lambda: "locker" in cwin.launcher.tiles)
        # a few more deposits to list
        for i in (23, 24):
            p = server.world.sample_person(i)
            a = Applicant(HolderKind.PERSON, p.id_number, p.name, IdentifiedBy.CARD)
            d = svc.start_deposit(holder_of(a), "1390716" + f"{i:04d}", "企业开办", "M")
            core.locker_simulator.close_door(door_number(d.door))
            svc.complete(d.door)
        cwin.launcher.tiles["locker"].click()
        cpage = idle(cwin)
        cpage.table.selectRow(0)  # type: ignore[attr-defined]
        shoot(cwin, out / "13-staff-list.png")
        cpage.takeout_button.click()  # type: ignore[attr-defined]
        wait(lambda: cpage.door_status.isVisible())  # type: ignore[attr-defined]
        idle(cwin)
        shoot(cwin, out / "14-staff-door-open.png")
        cwin.close()
        clerk.close()
        core.close()

        # -- the slip ----------------------------------------------------------------------
        shutil.copy(slip, out / "deposit-slip.pdf")
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(slip),
                        str(out / "15-deposit-slip")], check=True)
        print(out / "15-deposit-slip.png")
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else root / "docs" / "screenshots" / "locker")
