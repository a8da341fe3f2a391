"""The shell: kiosk mode, idle wipe, identification by code, fonts."""

from __future__ import annotations

from typing import Any

import pytest
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QApplication, QPushButton

from workstation.ui.main_window import MainWindow
from workstation.ui.theme import KIOSK_POINT_SIZE, apply_theme


@pytest.fixture
def kiosk_window(qtbot: Any, make_core: Any) -> Any:
    app = QApplication.instance()
    apply_theme(app, kiosk=True)
    core = make_core(mode="kiosk")
    win = MainWindow(kiosk=True)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    win.attach(core)
    yield win
    win.idle.stop()
    win.tasks.wait_for_done(10000)
    apply_theme(app, kiosk=False)


def test_cjk_font_is_set_and_has_chinese_glyphs(qapp):
    family = apply_theme(qapp, kiosk=False)
    metrics = QFontMetrics(qapp.font())
    assert family in ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei")
    for ch in "免证办电子证照":
        assert metrics.inFontUcs4(ord(ch)), ch


def test_kiosk_shows_only_kiosk_scenarios_with_touch_sizes(qtbot, kiosk_window):
    win = kiosk_window
    assert "unified_intake" not in win.launcher.tiles  # a clerk scenario
    assert not win.sign_out_button.isVisible()
    assert QApplication.instance().font().pointSize() >= 20
    assert KIOSK_POINT_SIZE >= 20
    for button in win.findChildren(QPushButton):
        if button.isVisible():
            assert button.height() >= 48, button.text()


def test_code_scan_identifies_and_idle_wipes_everything(qtbot, kiosk_window, sandbox):
    win = kiosk_window
    person = sandbox.world.person_with_all_licences
    code, _expires = sandbox.issue_code(person.id_number)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: win.core.sessions.current is not None, timeout=10000)
    qtbot.waitUntil(lambda: "扫码" in win.applicant_panel.who.text(), timeout=5000)
    shown = win.applicant_panel.who.text()
    assert person.name not in shown  # kiosk screens mask the name too
    assert person.name[0] + "*" in shown
    assert person.id_number not in shown
    session = win.core.sessions.current

    win.idle._tick.setInterval(10)  # make a "second" 10 ms so the test does not wait a minute
    win.idle.reset()
    qtbot.waitUntil(lambda: win.countdown.isVisible(), timeout=5000)
    assert "秒后将自动退出" in win.countdown.label.text()
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=5000)
    qtbot.waitUntil(lambda: win.applicant_panel.who.text() == "暂无办事人", timeout=5000)
    assert session.applicant is None and session.consents == []
    assert not win.countdown.isVisible()
    assert win.stack.currentWidget() is win.launcher_scroll
    assert any(e.kind == "session_ended" for e in win.core.audit.events(limit=20))


def test_keep_going_cancels_the_countdown(qtbot, kiosk_window):
    win = kiosk_window
    win.idle._tick.setInterval(10)
    win.idle.reset()
    qtbot.waitUntil(lambda: win.countdown.isVisible(), timeout=5000)
    win.countdown.button.click()
    assert not win.countdown.isVisible()
    assert win.idle.remaining > win.idle.countdown_s


def test_replayed_code_is_refused_with_a_clear_message(qtbot, kiosk_window, sandbox):
    win = kiosk_window
    person = sandbox.world.person_with_all_licences
    code, _expires = sandbox.issue_code(person.id_number)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: win.core.sessions.current is not None, timeout=10000)
    win.end_session("finished")
    win.code_scanned(code)
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "已使用" in win.banner.text() or "刷新" in win.banner.text()
    assert win.core.sessions.current is None


def test_forged_code_is_refused(qtbot, kiosk_window):
    win = kiosk_window
    win.code_scanned("EHBID1.eyJ2IjoxfQ.AAAA")
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert win.core.sessions.current is None
    assert win.banner.text()
