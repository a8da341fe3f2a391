"""S11 policy matching end to end through the shell, against the sandbox over real HTTP."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from PyQt6.QtCore import Qt

from plugins.policy_match.page import PolicyPage
from sandbox.phone import PhoneClient
from workstation.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: Any) -> Any:
    made: list[MainWindow] = []

    def make(core: Any) -> MainWindow:
        win = MainWindow(kiosk=False)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        core.sign_in("demo", "demo1234")
        win.attach(core)
        made.append(win)
        return win

    yield make
    for win in made:
        win.idle.stop()
        win.tasks.wait_for_done(10000)


@pytest.fixture
def phone(sandbox):
    client = PhoneClient(sandbox.url)
    yield client
    client.close()


def open_page(qtbot: Any, win: MainWindow) -> PolicyPage:
    qtbot.mouseClick(win.launcher.tiles["policy_match"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, PolicyPage)
    return page


def show_qr(qtbot: Any, page: PolicyPage) -> str:
    qtbot.mouseClick(page.authorize_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.qr_panel.isVisible() and bool(page.qr_panel.qr_text),
                    timeout=10000)
    assert page.qr_panel.qr_text is not None
    return page.qr_panel.qr_text


def test_enterprise_scans_then_eligible_policies_are_applied_for(
    qtbot, core, window, sandbox, phone, tmp_path
):
    company = sandbox.world.sample_enterprise(0)
    win = window(core)
    page = open_page(qtbot, win)
    qr = show_qr(qtbot, page)
    win.grab().save(str(tmp_path / "policy-qr.png"))
    phone.approve_consent(qr, company.credit_code)
    qtbot.waitUntil(lambda: page.results.isVisible() and not page.busy.isVisible(),
                    timeout=15000)
    gathered = page.gathered
    assert gathered is not None and gathered.licence_valid is True
    assert page.tree.topLevelItemCount() >= 6
    names = [page.tree.topLevelItem(i).text(0) for i in range(page.tree.topLevelItemCount())]
    assert "一次性扩岗补助" in names
    first = page.tree.topLevelItem(names.index("一次性扩岗补助"))
    assert first.childCount() >= 4 and all(first.child(i).text(2) for i in range(4))
    win.grab().save(str(tmp_path / "policy-results.png"))
    eligible = gathered.eligible
    assert eligible, "the seeded world gives this enterprise at least one eligible policy"
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.apply_button.isEnabled() and not page.busy.isVisible(),
                    timeout=15000)
    received = sandbox.enterprise.submissions.applications
    assert sorted(a["policy_id"] for a in received) == sorted(r.policy_id for r in eligible)
    assert "已提交" in page.notice.text()
    core.drain()
    assert company.credit_code not in str(core.audit.events(limit=100))


def test_refused_authorization_fetches_nothing(qtbot, core, window, sandbox, phone):
    page = open_page(qtbot, window(core))
    qr = show_qr(qtbot, page)
    phone.refuse_consent(qr)
    qtbot.waitUntil(lambda: "未同意授权" in page.notice.text(), timeout=10000)
    assert not page.results.isVisible() and sandbox.access_log == []


def test_expired_authorization_code(qtbot, core, window, sandbox):
    import datetime as dt

    page = open_page(qtbot, window(core))
    show_qr(qtbot, page)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    sandbox.clock = lambda: later
    qtbot.waitUntil(lambda: "已过期" in page.notice.text(), timeout=10000)
    assert not page.qr_panel.isVisible()


def test_applicant_panel_text_is_not_squeezed(qtbot, core, window, sandbox, phone):
    """GIVEN an enterprise with consents on the policy page of a short window THEN each text of
    the applicant panel gets the height its wrapped lines need and none overlaps another."""
    company = sandbox.world.sample_enterprise(0)
    win = window(core)
    win.resize(1024, 560)
    page = open_page(qtbot, win)
    phone.approve_consent(show_qr(qtbot, page), company.credit_code)
    qtbot.waitUntil(lambda: page.results.isVisible() and not page.busy.isVisible(),
                    timeout=15000)
    panel = win.applicant_panel
    qtbot.waitUntil(lambda: "有效至" in panel.consents.text(), timeout=5000)
    qtbot.waitUntil(lambda: panel.consents.height()
                    >= panel.consents.heightForWidth(panel.consents.width()), timeout=5000)
    parts = [panel.heading, panel.who, panel.consents, panel.finish]
    for label in (panel.who, panel.consents):
        assert label.height() >= label.heightForWidth(label.width())
    for upper, lower in itertools.pairwise(parts):
        assert upper.geometry().bottom() < lower.geometry().top()
