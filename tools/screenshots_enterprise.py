"""Screenshots of every step of S9 (trading_platform), S10 (housing_fund) and S11
(policy_match), offscreen, into docs/screenshots/ (s9-*.png, s10-*.png, s11-*.png).

    .venv/bin/python tools/screenshots_enterprise.py [OUT_DIR]

The demo phone is ``sandbox.phone.PhoneClient`` (confirms logins, approves consents).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtWidgets import QApplication

from sandbox.enterprise import DEMO_LICENCE_PASSWORD
from sandbox.phone import PhoneClient
from sandbox.server import SandboxServer
from workstation.config import Config, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import shoot, wait


def s9(win: MainWindow, server: SandboxServer, phone: PhoneClient, out: Path) -> None:
    company = server.world.sample_enterprise(0)
    win.go_home()
    win.open_scenario("trading_platform")
    page: Any = win.stack.currentWidget()
    shoot(win, out / "s9-start.png")
    page.login_button.click()
    wait(lambda: page.login_qr.isVisible())
    shoot(win, out / "s9-login-qr.png")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=3)
    server.clock = lambda: later
    wait(lambda: "已过期" in page.notice.text())
    shoot(win, out / "s9-login-expired.png")
    server.clock = lambda: dt.datetime.now(dt.UTC)
    page.login_button.click()
    wait(lambda: page.login_qr.isVisible() and bool(page.login_qr.qr_text))
    phone.refuse_login(page.login_qr.qr_text)
    wait(lambda: "拒绝登录" in page.notice.text())
    shoot(win, out / "s9-login-refused.png")
    page.login_button.click()
    wait(lambda: page.login_qr.isVisible() and bool(page.login_qr.qr_text))
    phone.confirm_login(page.login_qr.qr_text, company.credit_code, DEMO_LICENCE_PASSWORD)
    wait(lambda: page.home.isVisible())
    shoot(win, out / "s9-logged-in.png")
    page.fetch_button.click()
    wait(lambda: page.auth_qr.isVisible() and bool(page.auth_qr.qr_text))
    shoot(win, out / "s9-auth-qr.png")
    phone.approve_consent(page.auth_qr.qr_text, company.credit_code)
    wait(lambda: page.info is not None and not page.busy.isVisible())
    shoot(win, out / "s9-form-filled.png")
    form = page.form
    form.edits["issued_on"].setText("2015-02-30")
    form.edits["capital_wan"].setText("壹佰")
    form.street.setText("赤马港街道" * 21)
    page.submit_button.click()
    shoot(win, out / "s9-form-errors.png")
    page.form_scroll.verticalScrollBar().setValue(page.form_scroll.verticalScrollBar().maximum())
    shoot(win, out / "s9-form-errors-bottom.png")
    page.form_scroll.verticalScrollBar().setValue(0)
    form.fill(page.info.form)
    form.set_industry(company.industry_code)
    server.faults.update({"down": True})
    page.submit_button.click()
    wait(lambda: "待发送队列" in page.notice.text())
    shoot(win, out / "s9-submit-offline.png")
    server.faults.update({"down": False})
    win.core.outbox.release(page.submission_key)
    wait(lambda: "已提交交易平台" in page.notice.text())
    shoot(win, out / "s9-submitted.png")


def s10(win: MainWindow, server: SandboxServer, phone: PhoneClient, out: Path) -> None:
    person = server.world.person_with_all_licences
    win.go_home()
    win.open_scenario("housing_fund")
    page: Any = win.stack.currentWidget()
    shoot(win, out / "s10-start.png")
    page.id_field.edit.setText("110105194912310021")
    page.request_button.click()
    shoot(win, out / "s10-field-error.png")
    page.id_field.edit.setText(person.id_number)
    page.request_button.click()
    wait(lambda: page.qr_panel.isVisible() and bool(page.qr_panel.qr_text))
    shoot(win, out / "s10-consent-qr.png")
    phone.refuse_consent(page.qr_panel.qr_text)
    wait(lambda: "拒绝授权" in page.notice.text())
    shoot(win, out / "s10-refused.png")
    page.request_button.click()
    wait(lambda: page.qr_panel.isVisible() and bool(page.qr_panel.qr_text))
    phone.approve_consent(page.qr_panel.qr_text, person.id_number)
    wait(lambda: page.results.isVisible() and not page.busy.isVisible())
    shoot(win, out / "s10-downloaded.png")
    server.enterprise.down_after_files = 2
    page.upload_button.click()
    wait(lambda: "恢复后自动续传" in page.upload_label.text())
    shoot(win, out / "s10-upload-interrupted.png")
    server.faults.update({"down": False})
    for key in page.upload_keys:
        win.core.outbox.release(key)
    wait(lambda: "已提交后台审批" in page.notice.text(), 30)
    shoot(win, out / "s10-submitted.png")


def s11(win: MainWindow, server: SandboxServer, phone: PhoneClient, out: Path) -> None:
    company = server.world.sample_enterprise(0)
    win.go_home()
    win.open_scenario("policy_match")
    page: Any = win.stack.currentWidget()
    shoot(win, out / "s11-start.png")
    page.authorize_button.click()
    wait(lambda: page.qr_panel.isVisible() and bool(page.qr_panel.qr_text))
    shoot(win, out / "s11-qr.png")
    phone.refuse_consent(page.qr_panel.qr_text)
    wait(lambda: "未同意授权" in page.notice.text())
    shoot(win, out / "s11-refused.png")
    page.authorize_button.click()
    wait(lambda: page.qr_panel.isVisible() and bool(page.qr_panel.qr_text))
    phone.approve_consent(page.qr_panel.qr_text, company.credit_code)
    wait(lambda: page.results.isVisible() and not page.busy.isVisible())
    shoot(win, out / "s11-results.png")
    if page.apply_button.isEnabled():
        page.apply_button.click()
        wait(lambda: not page.apply_button.isEnabled() and not page.busy.isVisible())
        shoot(win, out / "s11-applied.png")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    apply_theme(app, kiosk=False)
    server = SandboxServer()
    server.start()
    phone = PhoneClient(server.url)
    data = Path(tempfile.mkdtemp())
    try:
        cfg = Config(data_dir=data, mode="clerk", demo_operator=True,
                     platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
        core = Workstation(cfg, server.url, load_plugins())
        win = MainWindow(kiosk=False)
        win.resize(1280, 800)
        win.show()
        win.attach(core)
        core.sign_in("demo", "demo1234")
        win._signed_in(None)
        shoot(win, out / "launcher.png")
        wanted = sys.argv[2:] or ["s9", "s10", "s11"]
        for name, step in (("s9", s9), ("s10", s10), ("s11", s11)):
            if name in wanted:
                step(win, server, phone, out)
        win.close()
        core.close()
    finally:
        phone.close()
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
