"""The shell: kiosk mode, idle wipe, identification by code, fonts."""

from __future__ import annotations

import types
from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workstation.hookspecs import hookimpl
from workstation.manifest import Audience, ScenarioManifest
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import KIOSK_POINT_SIZE, apply_theme


def build_touch_page(ctx: Any) -> QWidget:
    """A kiosk page with the usual controls, to measure them."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(QLabel("请输入手机号码"))
    layout.addWidget(QLineEdit())
    combo = QComboBox()
    combo.addItems(["养老保险", "医疗保险"])
    layout.addWidget(combo)
    layout.addWidget(QPushButton("确认"))
    return page


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [ScenarioManifest(id="touch_demo", title="触摸测试", audiences=(Audience.KIOSK,),
                             page=f"{__name__}:build_touch_page")]


@pytest.fixture
def kiosk_window(qtbot: Any, make_core: Any) -> Any:
    app = QApplication.instance()
    apply_theme(app, kiosk=True)
    plugin = types.ModuleType("touch_demo")
    plugin.register_scenarios = register_scenarios  # type: ignore[attr-defined]
    core = make_core(mode="kiosk", extra_plugins=[("touch_demo", plugin)])
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
    assert "touch_demo" in win.launcher.tiles
    assert not win.sign_out_button.isVisible()
    assert KIOSK_POINT_SIZE >= 20
    qtbot.mouseClick(win.launcher.tiles["touch_demo"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    controls = [*page.findChildren(QPushButton), *page.findChildren(QLineEdit),
                *page.findChildren(QComboBox), win.home_button]
    assert len(controls) == 4
    for control in controls:
        assert control.height() >= 48, control
        assert control.font().pointSize() >= 20, control
    for label in page.findChildren(QLabel):
        assert label.font().pointSize() >= 20


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
    win.core.drain()  # session audit events are written in the background
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
    assert "已使用" in win.banner.text()
    assert win.core.sessions.current is None
    win.core.drain()
    refusals = [e for e in win.core.audit.events(limit=20) if e.kind == "refusal"]
    assert refusals and refusals[0].details["reason"] == "replayed"


def test_forged_code_is_refused(qtbot, kiosk_window, sandbox):
    """A genuine code whose payload was altered (another citizen's handle) fails the issuer's
    signature check before any platform call."""
    import base64
    import json

    win = kiosk_window
    code, _ = sandbox.issue_code(sandbox.world.person_with_all_licences.id_number)
    prefix, payload, signature = code.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "0" * len(claims["sub"])
    forged_payload = base64.urlsafe_b64encode(
        json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    win.code_scanned(f"{prefix}.{forged_payload}.{signature}")
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "签名" in win.banner.text()
    assert win.core.sessions.current is None


def test_malformed_code_is_refused(qtbot, kiosk_window):
    win = kiosk_window
    win.code_scanned("EHBID1.eyJ2IjoxfQ.AAAA")
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert win.core.sessions.current is None
    assert "不完整" in win.banner.text()


def test_demo_phone_shows_every_code_kind_and_presents_it(qtbot, make_core, sandbox):
    from workstation.ui.demo_phone import CODE_CHOICES, DemoPhone

    core = make_core()
    presented: list[str] = []
    person = sandbox.world.person_with_all_licences
    phone = DemoPhone(
        [{"holder_id": person.id_number, "name": person.name}],
        lambda holder_id, kind, source: core.platform.issue_code(holder_id, kind, source).code,
        presented.append,
    )
    qtbot.addWidget(phone)
    phone.refresh()
    for index, (_label, kind, source) in enumerate(CODE_CHOICES):
        phone.kind.setCurrentIndex(index)  # a new kind asks for a new code
        qtbot.waitUntil(lambda: phone.code is not None, timeout=10000)
        qtbot.mouseClick(phone.present_button, Qt.MouseButton.LeftButton)
        applicant = core.identify_by_code(presented[-1])
        assert applicant.holder_id == person.id_number
        assert applicant.extra["code_format"] == kind
        assert source is None or applicant.extra["code_source"] == source
    assert phone.qr.pixmap() is not None and not phone.qr.pixmap().isNull()


def test_demo_phone_inbox_shows_the_sandbox_sms_masked(qtbot, sandbox):
    import httpx

    from workstation.ui.demo_phone import DemoPhone

    sandbox.sms.send("13812345678", "【政务柜】您的取件码为 482913", sender="政务柜")
    phone = DemoPhone([], lambda *_: "", lambda _code: None,
                      fetch_sms=lambda: httpx.get(f"{sandbox.url}/sandbox/sms")
                      .json()["messages"])
    qtbot.addWidget(phone)
    phone.show()
    qtbot.mouseClick(phone.inbox_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "482913" in phone.inbox.text(), timeout=10000)
    assert "138****5678" in phone.inbox.text() and "13812345678" not in phone.inbox.text()


def test_a_notice_gets_the_padding_of_its_kind(qtbot, qapp):
    from workstation.ui.widgets import Notice

    apply_theme(qapp, kiosk=False)
    holder = QWidget()
    layout = QVBoxLayout(holder)
    notice = Notice()
    layout.addWidget(notice)
    qtbot.addWidget(holder)
    holder.resize(600, 200)
    holder.show()
    for kind in ("error", "info", "offline"):
        notice.show_message("企业未同意授权，未调取任何证照和数据。", kind)
        QApplication.processEvents()
        inner, outer = notice.contentsRect(), notice.rect()
        assert inner.left() > outer.left() and inner.top() > outer.top(), kind


@pytest.mark.parametrize("kiosk", [False, True])
def test_every_tile_shows_its_whole_description(qtbot, qapp, make_core, kiosk):
    """Tiles grow with their text: no built-in scenario's description is cut off, at the
    window's width and on the kiosk's large type."""
    apply_theme(qapp, kiosk=kiosk)
    try:
        core = make_core(mode="kiosk" if kiosk else "clerk")
        if not kiosk:
            core.sign_in("demo", "demo1234")
        win = MainWindow(kiosk=kiosk)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        win.attach(core)
        qtbot.waitUntil(lambda: len(win.launcher.tiles) >= 6, timeout=10000)
        QApplication.processEvents()
        for sid, tile in win.launcher.tiles.items():
            labels = [lbl for lbl in tile.findChildren(QLabel) if lbl.wordWrap()]
            assert labels, sid
            for label in labels:
                needed = label.heightForWidth(label.width())
                assert label.height() >= needed, f"{sid}: {label.height()} < {needed}"
                assert label.geometry().bottom() <= tile.height(), sid
        win.idle.stop()
        win.tasks.wait_for_done(10000)
    finally:
        apply_theme(qapp, kiosk=False)
