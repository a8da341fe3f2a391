"""The card path in the shell, on the real PC/SC stack: a card inserted while ready identifies
the applicant; removal ends a kiosk session; the reader state shows in the status bar."""

from __future__ import annotations

from typing import Any

import pytest

from devices.cards.pcsc import PcscCardReader
from devices.cards.simulated import CardFaults, SocialSecurityCardProfile
from sandbox.cards import card_data_for
from tests.helpers.pcsc_fixtures import READER
from workstation.services.model import IdentifiedBy
from workstation.ui.main_window import MainWindow


@pytest.fixture
def citizen_card(sandbox: Any) -> SocialSecurityCardProfile:
    person = sandbox.world.sample_person(0)
    return SocialSecurityCardProfile.from_json(card_data_for(person.id_number, sandbox.world))


def make_window(qtbot: Any, core: Any, *, kiosk: bool) -> MainWindow:
    win = MainWindow(kiosk=kiosk)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    win.attach(core)
    win.attach_card_reader(PcscCardReader(READER))
    qtbot.waitUntil(lambda: "就绪" in win.reader_label.text(), timeout=10000)
    return win


@pytest.fixture
def kiosk(qtbot: Any, make_core: Any, virtual_card: Any) -> Any:
    win = make_window(qtbot, make_core(mode="kiosk"), kiosk=True)
    yield win
    win.detach_card_reader()
    win.idle.stop()
    win.tasks.wait_for_done(10000)


@pytest.fixture
def clerk(qtbot: Any, make_core: Any, virtual_card: Any) -> Any:
    core = make_core()
    win = make_window(qtbot, core, kiosk=False)
    yield win
    win.detach_card_reader()
    win.tasks.wait_for_done(10000)


def test_card_identifies_and_removal_ends_the_kiosk_session(qtbot, kiosk, virtual_card,
                                                            citizen_card):
    virtual_card.insert(citizen_card)
    qtbot.waitUntil(lambda: kiosk.core.sessions.current is not None, timeout=10000)
    applicant = kiosk.core.sessions.current.applicant
    assert applicant.identified_by is IdentifiedBy.CARD
    assert applicant.holder_id == citizen_card.ssn and applicant.name == citizen_card.name
    assert kiosk.core.sessions.current.consents == []  # licences still need consent
    assert "刷卡" in kiosk.applicant_panel.who.text()
    assert "有卡" in kiosk.reader_label.text()
    virtual_card.remove()
    qtbot.waitUntil(lambda: kiosk.core.sessions.current is None, timeout=10000)
    assert kiosk.applicant_panel.who.text() == "暂无办事人"
    assert "就绪" in kiosk.reader_label.text()


def test_removal_keeps_the_session_when_not_configured(qtbot, make_core, virtual_card,
                                                       citizen_card, ws_config):
    from dataclasses import replace

    core = make_core(mode="kiosk", kiosk=replace(ws_config.kiosk,
                                                 end_session_on_card_removal=False))
    win = make_window(qtbot, core, kiosk=True)
    try:
        virtual_card.insert(citizen_card)
        qtbot.waitUntil(lambda: core.sessions.current is not None, timeout=10000)
        virtual_card.remove()
        qtbot.waitUntil(lambda: "就绪" in win.reader_label.text(), timeout=10000)
        assert core.sessions.current is not None
    finally:
        win.detach_card_reader()
        win.idle.stop()


def test_clerk_must_sign_in_and_removal_keeps_the_clerk_session(qtbot, clerk, virtual_card,
                                                                citizen_card):
    virtual_card.insert(citizen_card)
    qtbot.waitUntil(lambda: "请先登录" in clerk.banner.text(), timeout=10000)
    assert clerk.core.sessions.current is None
    virtual_card.remove()
    qtbot.waitUntil(lambda: "就绪" in clerk.reader_label.text(), timeout=10000)
    clerk.core.sign_in("demo", "demo1234")
    virtual_card.insert(citizen_card)
    qtbot.waitUntil(lambda: clerk.core.sessions.current is not None, timeout=10000)
    virtual_card.remove()
    qtbot.waitUntil(lambda: "就绪" in clerk.reader_label.text(), timeout=10000)
    assert clerk.core.sessions.current is not None  # the clerk hands the card back


def test_card_pulled_mid_read_shows_why_and_identifies_after_reinsert(qtbot, kiosk,
                                                                     virtual_card, citizen_card):
    virtual_card.insert(citizen_card, CardFaults(vanish_after=5))
    qtbot.waitUntil(lambda: "重新插入" in kiosk.banner.text(), timeout=10000)
    assert kiosk.core.sessions.current is None  # never a half identity
    qtbot.waitUntil(lambda: "就绪" in kiosk.reader_label.text(), timeout=10000)
    virtual_card.insert(citizen_card)
    qtbot.waitUntil(lambda: kiosk.core.sessions.current is not None, timeout=10000)
    assert kiosk.banner.text() == ""


def test_unknown_card_changes_nothing(qtbot, kiosk, virtual_card, citizen_card):
    virtual_card.insert(citizen_card, CardFaults(foreign=True))
    qtbot.waitUntil(lambda: "无法识别" in kiosk.banner.text(), timeout=10000)
    assert kiosk.core.sessions.current is None
    assert "读卡失败" in kiosk.reader_label.text()


def test_card_with_a_bad_id_number_is_refused_and_audited(qtbot, kiosk, virtual_card,
                                                         citizen_card):
    from dataclasses import replace

    bad = replace(citizen_card, ssn=citizen_card.ssn[:17] + (
        "0" if citizen_card.ssn[17] != "0" else "1"))
    virtual_card.insert(bad)
    qtbot.waitUntil(lambda: "校验不通过" in kiosk.banner.text(), timeout=10000)
    assert kiosk.core.sessions.current is None
    kiosk.core.drain()
    refusals = [e for e in kiosk.core.audit.events(limit=20) if e.kind == "refusal"]
    assert refusals and refusals[0].details == {"what": "card", "reason": "card_data"}
