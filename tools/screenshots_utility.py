"""Screenshots of every page of S12 燃气报装 and S13 用水报装, offscreen, into
docs/screenshots/utility/: the kiosk at 1920x1080 (notes and sign-in, choice, consent,
residential form pre-filled, field errors, enterprise authorization, enterprise form, submitted,
submitted offline, progress) and the counter at 1280x800, plus the printed receipt (PNG of the
PDF, ``pdftoppm -png -r 80``).

    .venv/bin/python tools/screenshots_utility.py [OUT_DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtWidgets import QApplication

from sandbox.phone import PhoneClient
from sandbox.server import SandboxServer
from workstation.config import Config, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui import print_preview
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import settle, shoot, wait

PHONE = "13972601234"


def page_of(win: MainWindow) -> Any:
    return win.stack.currentWidget()


def sign_in(win: MainWindow, server: SandboxServer, id_number: str) -> Any:
    code, _ = server.issue_code(id_number)
    win.code_scanned(code)
    wait(lambda: getattr(page_of(win), "applicant", None) is not None
         and not page_of(win).is_busy)
    return page_of(win)


def residential(page: Any) -> None:
    page.residential_button.click()
    wait(lambda: page.consent_panel.isVisible())


def accept(page: Any) -> None:
    page.consent_panel.accept_button.click()
    wait(lambda: page.steps.currentWidget() is page.form_step and not page.is_busy)


def fill(page: Any, values: dict[str, Any]) -> None:
    for key, value in values.items():
        page.fields[key].set_value(value)


def kiosk(app: QApplication, server: SandboxServer, data: Path, out: Path) -> None:
    apply_theme(app, kiosk=True)
    cfg = Config(data_dir=data / "k", mode="kiosk", demo_operator=True,
                 platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
    core = Workstation(cfg, server.url, load_plugins())
    win = MainWindow(kiosk=True)
    win.resize(1920, 1080)
    win.show()
    win.attach(core)
    phone = PhoneClient(server.url)
    try:
        shoot(win, out / "kiosk-home.png")
        win.open_scenario("water_connection")
        shoot(win, out / "kiosk-water-notes-sign-in.png")
        person = server.world.sample_person(9)
        page = sign_in(win, server, person.id_number)
        shoot(win, out / "kiosk-water-choose.png")
        residential(page)
        shoot(win, out / "kiosk-water-consent.png")
        accept(page)
        shoot(win, out / "kiosk-water-residential-prefilled.png")
        fill(page, {"region": "赤壁市水务集团赤壁市供水", "phone": "12345", "people": "0",
                    "volume": "900"})
        page.submit_button.click()
        shoot(win, out / "kiosk-water-field-errors.png")
        fill(page, {"phone": PHONE, "people": "4", "volume": "25", "reason": "首次报装"})
        page.fields["phone"].edit.setFocus()
        page.keypad.attach(page.fields["phone"].edit, "手机号码")
        page.submit_button.click()
        wait(lambda: page.steps.currentWidget() is page.done_step and not page.is_busy)
        shoot(win, out / "kiosk-water-submitted.png")
        print_preview.confirm_print = lambda *args: True  # modal in real use
        page.print_button.click()
        wait(lambda: page.print_outcome is not None and not page.is_busy)
        pdf = Path(page.prepared.path)
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(out / "receipt-water")],
                       check=True)
        print(out / "receipt-water-1.png")
        number = page.submission.application_no
        server.utilities.advance(number)
        server.utilities.advance(number)
        page.done_progress_button.click()
        wait(lambda: page.steps.currentWidget() is page.progress_step and not page.is_busy)
        shoot(win, out / "kiosk-progress.png")
        # the same citizen applies for gas: the progress shows both
        win.open_scenario("gas_connection")
        gas = page_of(win)
        wait(lambda: gas.applicant is not None and not gas.is_busy)
        residential(gas)
        accept(gas)
        fill(gas, {"region": "赤壁华润燃气城区营业厅", "phone": PHONE, "volume": "30",
                   "appliances": ["燃气灶", "热水器"], "reason": "首次报装"})
        shoot(win, out / "kiosk-gas-residential-prefilled.png")
        server.faults.update({"down": True})
        gas.submit_button.click()
        wait(lambda: gas.steps.currentWidget() is gas.done_step and not gas.is_busy)
        shoot(win, out / "kiosk-gas-submitted-offline.png")
        gas.done_progress_button.click()
        wait(lambda: gas.steps.currentWidget() is gas.progress_step and not gas.is_busy)
        shoot(win, out / "kiosk-progress-offline.png")
        server.faults.update({"down": False})
        core.outbox.release(f"gas:{gas.submission.client_ref}")
        gas.refresh_button.click()
        wait(lambda: not gas.is_busy and len(gas.progress_rows) == 2
             and not gas.progress_rows[0].pending)
        shoot(win, out / "kiosk-progress-gas-and-water.png")
        core.sessions.end("finished")
        settle()

        # an enterprise: the agent signs in, the enterprise authorizes on its phone
        win.open_scenario("gas_connection")
        agent = server.world.sample_person(3)
        company = server.world.sample_enterprise(1)
        page = sign_in(win, server, agent.id_number)
        page.enterprise_button.click()
        wait(lambda: bool(page.qr_panel.qr_text) and not page.is_busy)
        shoot(win, out / "kiosk-gas-enterprise-authorization.png")
        phone.approve_consent(page.qr_panel.qr_text, company.credit_code)
        wait(lambda: page.steps.currentWidget() is page.form_step and not page.is_busy)
        fill(page, {"region": "赤壁华润燃气城区营业厅", "community": "赤壁商业广场",
                    "phone": PHONE, "use_type": "餐饮", "appliances": ["燃气灶", "蒸汽锅炉"],
                    "volume": "1200", "reason": "首次报装"})
        shoot(win, out / "kiosk-gas-enterprise-form.png")
        page.submit_button.click()
        wait(lambda: page.steps.currentWidget() is page.done_step and not page.is_busy)
        shoot(win, out / "kiosk-gas-enterprise-submitted.png")
        print_preview.confirm_print = lambda *args: True
        page.print_button.click()
        wait(lambda: page.print_outcome is not None and not page.is_busy)
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(page.prepared.path),
                        str(out / "receipt-gas-enterprise")], check=True)
        core.sessions.end("finished")
        settle()
        win.idle.stop()
    finally:
        phone.close()
        win.tasks.wait_for_done(10000)
        win.close()
        core.close()


def clerk(app: QApplication, server: SandboxServer, data: Path, out: Path) -> None:
    apply_theme(app, kiosk=False)
    cfg = Config(data_dir=data / "c", mode="clerk", demo_operator=True,
                 platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
    core = Workstation(cfg, server.url, load_plugins())
    win = MainWindow(kiosk=False)
    win.resize(1280, 800)
    win.show()
    core.sign_in("demo", "demo1234")
    win.attach(core)
    try:
        win.open_scenario("water_connection")
        page = page_of(win)
        page.clerk_name.edit.setText("张三")
        page.clerk_id.edit.setText("110105194912310021")
        page.clerk_button.click()
        shoot(win, out / "clerk-water-id-error.png")
        person = server.world.sample_person(11)
        page.clerk_name.edit.setText(person.name)
        page.clerk_id.edit.setText(person.id_number)
        page.clerk_button.click()
        wait(lambda: page.applicant is not None and not page.is_busy)
        shoot(win, out / "clerk-water-choose.png")
        residential(page)
        accept(page)
        fill(page, {"region": "赤壁市水务集团陆水湖供水", "phone": PHONE, "people": "3",
                    "volume": "18", "reason": "首次报装"})
        shoot(win, out / "clerk-water-residential.png")
        page.save_button.click()
        wait(lambda: "已暂存" in page.notice.text())
        shoot(win, out / "clerk-water-draft-saved.png")
        page.submit_button.click()
        wait(lambda: page.steps.currentWidget() is page.done_step and not page.is_busy)
        shoot(win, out / "clerk-water-submitted.png")
        page.back_to_choose()
        page.enterprise_button.click()
        wait(lambda: bool(page.qr_panel.qr_text) and not page.is_busy)
        shoot(win, out / "clerk-water-enterprise-authorization.png")
        page.manual_enterprise_button.click()
        fill(page, {"unit_name": "赤壁市示例商贸有限公司", "credit_code": "91421281MA4ABCDE1X"})
        page.submit_button.click()
        shoot(win, out / "clerk-water-enterprise-errors.png")
        page.progress_button.click() if page.progress_button.isVisible() else None
        page.back_to_choose()
        page.progress_button.click()
        wait(lambda: page.steps.currentWidget() is page.progress_step and not page.is_busy)
        shoot(win, out / "clerk-progress.png")
    finally:
        win.tasks.wait_for_done(10000)
        win.close()
        core.close()


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
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots/utility"))
