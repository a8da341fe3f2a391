"""S6 社保自助查询打印 driven end to end through the real shell: codes through the keyboard
wedge and through camera frames, the virtual social security card on the private pcscd, the
sandbox's social security platform over HTTP, and printing to a private CUPS queue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PyQt6 import sip
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QLabel, QPushButton

from devices.cards.pcsc import PcscCardReader
from devices.cards.simulated import SocialSecurityCardProfile
from plugins.social_security_print.page import SocialSecurityPage
from sandbox.cards import card_data_for
from sandbox.social_security import ACTIVE
from tests.helpers.pcsc_fixtures import READER
from tests.printing.pdf_inspect import page_texts, squash
from workstation.config import PrintersConfig
from workstation.testing import PrintPreviews
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

SCENARIO = "social_security_print"


class StepClock:
    """Each reading is ``step`` seconds after the last (a scanner's burst, deterministic)."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture(autouse=True)
def previews(print_previews: PrintPreviews) -> PrintPreviews:
    """Every page of this module prints without its modal preview (workstation.testing)."""
    return print_previews


@pytest.fixture
def citizen(sandbox: Any) -> Any:
    """A working citizen paying in every type now, with a social security card."""
    world = sandbox.world

    def fits(h: Any) -> bool:
        card = world.licence_of(h.holder_id, "social_security_card")
        return (h.status_of("pension") == ACTIVE and len(h.years()) >= 6
                and h.contributions[-1].paid and card is not None and card.status == "valid"
                and card.valid_until is not None and card.valid_until > world.as_of)

    history = sandbox.social_security.find(fits)
    assert history is not None
    return world.citizen(history.holder_id)


@pytest.fixture
def shell(qtbot: Any, make_core: Any) -> Any:
    """``shell(kiosk=True, printer=None, card=False)``: the real window at its real size."""
    app = QApplication.instance()
    made: list[MainWindow] = []

    def make(*, kiosk: bool = True, printer: str | None = None, cups: Any = None,
             card: bool = False) -> MainWindow:
        apply_theme(app, kiosk=kiosk)
        printers = PrintersConfig(a4=printer or "", cups_server=cups.socket if cups else "")
        core = make_core(mode="kiosk" if kiosk else "clerk", printers=printers)
        win = MainWindow(kiosk=kiosk)
        qtbot.addWidget(win)
        win.resize(1920, 1080) if kiosk else win.resize(1280, 800)
        win.show()
        if not kiosk:
            core.sign_in("demo", "demo1234")
        win.attach(core)
        qtbot.waitUntil(lambda: SCENARIO in win.launcher.tiles, timeout=10000)
        if card:
            win.attach_card_reader(PcscCardReader(READER))
            qtbot.waitUntil(lambda: "就绪" in win.reader_label.text(), timeout=10000)
        made.append(win)
        return win

    yield make
    for win in made:
        win.detach_card_reader()
        win.idle.stop()
        win.tasks.wait_for_done(10000)
    apply_theme(app, kiosk=False)


def open_tile(qtbot: Any, win: MainWindow) -> SocialSecurityPage:
    qtbot.mouseClick(win.launcher.tiles[SCENARIO], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, SocialSecurityPage)
    assert page.stack.currentWidget() is page.prompt_view
    return page


def signed_in_page(qtbot: Any, win: MainWindow) -> SocialSecurityPage:
    """The fresh page the shell opened for the signed-in citizen, with the query shown."""
    def check() -> bool:
        w = win.stack.currentWidget()
        return isinstance(w, SocialSecurityPage) and w.applicant is not None
    qtbot.waitUntil(check, timeout=10000)
    page = win.stack.currentWidget()
    qtbot.waitUntil(lambda: (page.summary is not None and not page.is_busy)
                    or page.trouble.isVisible(), timeout=15000)
    return page


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def visible_text(win: MainWindow) -> str:
    return "\n".join(label.text() for label in win.findChildren(QLabel) if label.isVisible())


def wait_idle(qtbot: Any, page: SocialSecurityPage) -> None:
    qtbot.waitUntil(lambda: not page.is_busy, timeout=30000)


def pdf_text(pdf: bytes) -> str:
    return squash("".join(page_texts(pdf)))


# ---------------------------------------------------------------------------------------------


@pytest.mark.cups
def test_code_via_wedge_query_certificate_printed_then_the_session_ends(
        qtbot, shell, sandbox, citizen, private_cups, previews):
    """GIVEN a kiosk with an A4 queue WHEN a citizen shows the electronic social security card
    code (WeChat mini program) THEN the query page shows their record and the sign-in source;
    choosing types, period and purpose prints a verifiable 参保证明 through CUPS, the kiosk says
    “已打印，请取走” and the session ends, wiping the page."""
    queue, out = private_cups.add_file_queue()
    win = shell(printer=queue, cups=private_cups)
    page = open_tile(qtbot, win)
    code, _ = sandbox.issue_code(citizen.id_number, kind="essc", source="wechat_miniprogram")
    # the keyboard-wedge scanner types the code in a burst (the window's own wedge filter,
    # its clock stepping 4 ms per key so that a loaded machine cannot make it look typed)
    win.wedge.clock = StepClock(0.004)
    qtbot.keyClicks(page, code)
    qtbot.keyClick(page, Qt.Key.Key_Return)
    page = signed_in_page(qtbot, win)
    assert "电子社保卡（微信电子社保卡小程序）" in page.signed_in_label.text()
    shown = visible_text(win)
    assert citizen.name not in shown and citizen.id_number not in shown
    assert citizen.name[0] + "*" in page.greeting.text()
    assert set(page.grid_rows) == {"pension", "medical", "unemployment", "injury", "maternity"}
    assert page.grid_rows["pension"][1] == "参保缴费"
    assert "养老保险" in page.insurance_table.text()
    assert "养老保险个人账户" in page.balances_label.text()

    click(qtbot, page.certificate_button)
    assert page.stack.currentWidget() is page.certificate_view
    assert [k for k, b in page.type_buttons.items() if b.isChecked()] == \
        ["pension", "medical", "unemployment"]
    click(qtbot, page.period_buttons[24])
    assert "证明期间" in page.period_label.text()
    click(qtbot, page.cert_purpose_group.button(0))  # 办理子女入学
    click(qtbot, page.cert_print_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.done_view, timeout=30000)
    assert previews[0]["printer"] == queue and previews[0]["title"] == "社会保险参保证明"
    assert "已打印，请取走您的参保证明" in page.done_label.text()
    assert "正在退出" in page.exit_label.text()
    assert page.prepared.stamp.display_code in page.done_detail.text()

    printed = pdf_text(out.read_bytes())
    assert printed == pdf_text(previews[0]["pdf"])  # what was previewed is what was printed
    assert "社会保险参保证明" in printed and "办理子女入学" in printed
    assert citizen.id_number not in printed and citizen.id_number[-4:] in printed
    assert page.prepared.stamp.display_code in printed
    assert win.core.documents.verify(page.prepared.code, previews[0]["pdf"]).ok

    page.exit_timer.setInterval(10)  # the "seconds" of the exit countdown
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=10000)
    assert sip.isdeleted(page) or not page.isVisible()
    assert win.stack.currentWidget() is win.launcher_scroll
    assert citizen.name[0] + "*" not in visible_text(win)
    win.core.drain()
    kinds = [e.kind for e in win.core.audit.events(limit=100)]
    assert "hrss_query" in kinds and "session_ended" in kinds
    query = next(e for e in win.core.audit.events(kind="hrss_query")
                 if e.details["what"] == "summary")
    assert query.details["sign_in"] == "essc"
    assert query.details["source"] == "wechat_miniprogram"
    prints = [e.details for e in win.core.audit.events(kind="print")]
    assert [p["result"] for p in prints] == ["submitted", "completed"]
    assert prints[0]["purpose"] == "办理子女入学"
    for event in win.core.audit.events(limit=100):
        assert citizen.id_number not in str(event.details)
    log = sandbox.social_security.access_log
    assert {a.what for a in log} == {"summary", "contributions"}
    assert {a.sign_in for a in log} == {"essc"}


def show_code_to_camera(win: MainWindow, code: str) -> Any:
    """Hand the code to the shell as a camera would: a frame of a phone screen, decoded by the
    real decoder chain on the scanner's own threads, then queued to the GUI thread."""
    import numpy as np

    from devices.qr.corpus import render_code
    from devices.qr.decoders import DEFAULT_DECODERS, DecoderChain
    from devices.qr.sources import CameraScanner, FrameScanner, FrameSource
    from workstation.ui.scanners import ScannerBridge

    bridge = ScannerBridge(win)
    bridge.code.connect(win.code_bytes_scanned)
    image = render_code(code.encode("ascii"), 4)
    frame = np.full((720, 1280), 150, dtype=np.uint8)
    frame[40:40 + image.shape[0], 200:200 + image.shape[1]] = image
    scanner = FrameScanner(DecoderChain.from_names(DEFAULT_DECODERS), bridge.from_device_thread)
    camera = CameraScanner(FrameSource([frame]), scanner)
    camera.start()
    return camera, scanner


@pytest.mark.cups
def test_camera_frames_sign_in_and_the_rights_record_of_a_chosen_year(
        qtbot, shell, sandbox, citizen, private_cups, previews):
    queue, out = private_cups.add_file_queue()
    win = shell(printer=queue, cups=private_cups)
    open_tile(qtbot, win)
    code, _ = sandbox.issue_code(citizen.id_number, kind="essc", source="hubei_12333")
    camera, scanner = show_code_to_camera(win, code)
    try:
        page = signed_in_page(qtbot, win)
    finally:
        camera.stop()
        scanner.close()
    assert "电子社保卡（湖北12333公众号）" in page.signed_in_label.text()
    years = sandbox.social_security.history(citizen.id_number).years()
    click(qtbot, page.rights_button)
    assert page.stack.currentWidget() is page.rights_view
    assert page.year_group.checkedId() == years[-1]  # the latest year is preselected
    chosen = years[-3]
    click(qtbot, page.year_buttons[chosen])
    click(qtbot, page.rights_purpose_group.button(PURPOSE_KEEP))
    click(qtbot, page.rights_print_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.done_view, timeout=30000)
    assert "已打印，请取走您的个人权益记录单" in page.done_label.text()
    printed = pdf_text(out.read_bytes())
    assert f"{chosen}年度社会保险个人权益记录单" in printed
    assert "基本养老保险个人账户" in printed
    assert page.prepared.purpose == "个人留存"
    assert "用途：个人留存" in printed  # the purpose is on the paper, not only in the audit
    assert page.prepared.stamp.display_code in printed
    # the citizen may print something else before the kiosk signs them out
    click(qtbot, page.more_button)
    assert page.stack.currentWidget() is page.query_view and not page.exit_timer.isActive()
    click(qtbot, page.exit_button)
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=10000)
    assert [a.sign_in for a in sandbox.social_security.access_log] == ["essc", "essc"]


PURPOSE_KEEP = 7  # 个人留存


def test_card_on_pcscd_signs_in_and_removal_mid_session_wipes_the_page(
        qtbot, shell, sandbox, citizen, virtual_card):
    win = shell(card=True)
    open_tile(qtbot, win)
    virtual_card.insert(SocialSecurityCardProfile.from_json(
        card_data_for(citizen.id_number, sandbox.world)))
    page = signed_in_page(qtbot, win)
    assert "社会保障卡" in page.signed_in_label.text()
    click(qtbot, page.certificate_button)
    click(qtbot, page.type_buttons["injury"])
    assert page.stack.currentWidget() is page.certificate_view
    virtual_card.remove()
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=10000)
    assert sip.isdeleted(page) or not page.isVisible()
    assert win.stack.currentWidget() is win.launcher_scroll
    shown = visible_text(win)
    assert citizen.name[0] + "*" not in shown and "养老保险个人账户" not in shown
    assert win.applicant_panel.who.text() == "暂无办事人"
    assert [a.sign_in for a in sandbox.social_security.access_log] == ["ss_card"]


def test_card_pulled_while_the_record_loads_ends_cleanly(qtbot, shell, sandbox, citizen,
                                                         virtual_card):
    """GIVEN a slow platform WHEN the card is pulled while the summary is still loading THEN
    the session ends and the page is gone; the late answer reaches nobody (and does not take
    the workstation down)."""
    from PyQt6.QtCore import QThreadPool

    win = shell(card=True)
    open_tile(qtbot, win)
    sandbox.faults.update({"latency_ms": 1500})
    virtual_card.insert(SocialSecurityCardProfile.from_json(
        card_data_for(citizen.id_number, sandbox.world)))

    def loading() -> bool:
        page = win.stack.currentWidget()
        return isinstance(page, SocialSecurityPage) and page.is_busy

    qtbot.waitUntil(loading, timeout=10000)
    page = win.stack.currentWidget()
    virtual_card.remove()
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=10000)
    assert QThreadPool.globalInstance().waitForDone(15000)  # the late answer came back
    qtbot.waitUntil(lambda: sip.isdeleted(page), timeout=5000)
    assert win.stack.currentWidget() is win.launcher_scroll
    assert "养老保险个人账户" not in visible_text(win)


def test_an_expired_code_is_refused_and_nothing_starts(qtbot, shell, sandbox, citizen):
    win = shell()
    page = open_tile(qtbot, win)
    sandbox.clock = lambda: dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    code, expires = sandbox.issue_code(citizen.id_number, kind="essc")
    sandbox.clock = lambda: dt.datetime.now(dt.UTC)
    assert expires < dt.datetime.now(dt.UTC)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: "过期" in win.banner.text(), timeout=10000)
    assert win.core.sessions.current is None
    assert win.stack.currentWidget() is page and page.applicant is None
    assert page.stack.currentWidget() is page.prompt_view
    assert sandbox.social_security.access_log == []


def test_platform_down_says_so_keeps_everything_and_retry_works(
        qtbot, shell, sandbox, citizen, virtual_card):
    """GIVEN the social security platform is down WHEN the citizen signs in with the card THEN
    a clear message and a retry button, the session stays; once it is back the retry shows the
    record. AND when it goes down while printing, the choices are kept and retry prints."""
    win = shell(card=True)
    open_tile(qtbot, win)
    sandbox.faults.update({"down": True})
    virtual_card.insert(SocialSecurityCardProfile.from_json(
        card_data_for(citizen.id_number, sandbox.world)))
    page = signed_in_page(qtbot, win)
    qtbot.waitUntil(page.trouble.isVisible, timeout=15000)
    assert "暂时无法连接社保信息系统" in page.trouble_label.text()
    assert page.retry_button.isVisible() and win.core.sessions.current is not None
    sandbox.faults.update({"down": False})
    assert page.summary is None and not page.certificate_button.isEnabled()
    click(qtbot, page.retry_button)
    qtbot.waitUntil(lambda: page.summary is not None and not page.is_busy, timeout=15000)
    assert page.stack.currentWidget() is page.query_view
    assert not page.trouble.isVisible()

    click(qtbot, page.certificate_button)
    click(qtbot, page.type_buttons["maternity"])
    click(qtbot, page.period_buttons[6])
    click(qtbot, page.cert_purpose_group.button(2))
    sandbox.faults.update({"down": True})
    click(qtbot, page.cert_print_button)
    qtbot.waitUntil(page.trouble.isVisible, timeout=15000)
    assert "您的选择已保留" in page.trouble_label.text()
    assert page.stack.currentWidget() is page.certificate_view
    assert [k for k, b in page.type_buttons.items() if b.isChecked()] == \
        ["pension", "medical", "unemployment", "maternity"]
    assert page.period_group.checkedId() == 6 and page.cert_purpose_group.checkedId() == 2
    sandbox.faults.update({"down": False})
    click(qtbot, page.retry_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.done_view, timeout=30000)
    assert "已生成" in page.done_label.text()  # no printer configured: kept as a PDF
    assert Path(page.prepared.path).read_bytes().startswith(b"%PDF")


@pytest.mark.cups
def test_printer_out_of_paper_then_continue_prints_once(
        qtbot, shell, sandbox, citizen, private_cups):
    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    win = shell(printer=printer.name, cups=private_cups)
    open_tile(qtbot, win)
    win.code_scanned(sandbox.issue_code(citizen.id_number, kind="essc")[0])
    page = signed_in_page(qtbot, win)
    click(qtbot, page.certificate_button)
    click(qtbot, page.cert_purpose_group.button(1))
    click(qtbot, page.cert_print_button)
    qtbot.waitUntil(page.trouble.isVisible, timeout=30000)
    assert "缺纸" in page.trouble_label.text()
    assert page.continue_button.isVisible()
    assert page.stack.currentWidget() is page.certificate_view and printer.outputs() == []
    printer.set_fault(None)
    click(qtbot, page.continue_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.done_view, timeout=30000)
    assert "已打印" in page.done_label.text()
    assert len(printer.outputs()) == 1  # the same job went on: one copy
    win.core.drain()
    results = [e.details["result"] for e in win.core.audit.events(kind="print")]
    assert results == ["submitted", "completed"]


def test_idle_timeout_mid_scenario_wipes_everything(qtbot, shell, sandbox, citizen):
    win = shell()
    open_tile(qtbot, win)
    win.code_scanned(sandbox.issue_code(citizen.id_number, kind="essc")[0])
    page = signed_in_page(qtbot, win)
    click(qtbot, page.rights_button)
    click(qtbot, page.rights_purpose_group.button(0))
    session = win.core.sessions.current
    win.idle._tick.setInterval(10)  # a "second" of 10 ms
    win.idle.reset()
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=10000)
    assert session.applicant is None
    assert sip.isdeleted(page) or not page.isVisible()
    assert win.stack.currentWidget() is win.launcher_scroll
    assert "养老保险个人账户" not in visible_text(win)
    assert citizen.name[0] + "*" not in visible_text(win)


def test_choices_are_checked_with_clear_messages(qtbot, shell, sandbox, citizen, previews):
    win = shell()
    open_tile(qtbot, win)
    win.code_scanned(sandbox.issue_code(citizen.id_number, kind="essc")[0])
    page = signed_in_page(qtbot, win)
    click(qtbot, page.certificate_button)
    click(qtbot, page.cert_print_button)  # no purpose chosen
    assert "请选择证明的用途" in page.notice.text()
    click(qtbot, page.cert_purpose_group.button(0))
    for key in ("injury", "maternity"):
        click(qtbot, page.type_buttons[key])
    click(qtbot, page.cert_print_button)
    assert "最多包含4个险种" in page.notice.text()
    for key in ("pension", "medical", "unemployment", "injury", "maternity"):
        if page.type_buttons[key].isChecked():
            click(qtbot, page.type_buttons[key])
    click(qtbot, page.cert_print_button)
    assert "请至少选择一个险种" in page.notice.text()
    assert previews == [] and not page.is_busy
    previews.decline = True  # the citizen cancels at the preview: nothing is printed
    click(qtbot, page.type_buttons["pension"])
    click(qtbot, page.cert_print_button)
    qtbot.waitUntil(lambda: "已取消打印" in page.notice.text(), timeout=15000)
    assert len(previews) == 1 and page.stack.currentWidget() is page.certificate_view
    win.core.drain()
    assert win.core.audit.events(kind="print") == []


def test_kiosk_pages_have_large_text_and_touch_targets(qtbot, shell, sandbox, citizen):
    win = shell()
    page = open_tile(qtbot, win)

    def check_view() -> None:
        view = page.stack.currentWidget()
        for button in [*view.findChildren(QPushButton), win.home_button]:
            if button.isVisible():
                assert button.height() >= 48, button.text()
                assert button.font().pointSize() >= 20, button.text()
        for label in view.findChildren(QLabel):
            if label.isVisible() and label.text():
                assert label.font().pointSize() >= 20, label.text()

    check_view()
    win.code_scanned(sandbox.issue_code(citizen.id_number, kind="essc")[0])
    page = signed_in_page(qtbot, win)
    for view_button in (None, page.certificate_button, page.rights_button):
        if view_button is not None:
            click(qtbot, view_button)
        check_view()
        if view_button is not None:
            click(qtbot, page.cert_back_button if view_button is page.certificate_button
                  else page.rights_back_button)


def test_clerk_serves_the_citizen_by_code_at_the_window(qtbot, shell, sandbox, citizen,
                                                        previews):
    win = shell(kiosk=False)
    open_tile(qtbot, win)
    win.code_scanned(sandbox.issue_code(citizen.id_number, kind="essc")[0])
    page = signed_in_page(qtbot, win)
    assert citizen.name in page.greeting.text()  # the clerk sees the full name
    click(qtbot, page.rights_button)
    click(qtbot, page.rights_purpose_group.button(4))
    click(qtbot, page.rights_print_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.done_view, timeout=30000)
    assert "已生成个人权益记录单" in page.done_label.text()
    assert not page.exit_timer.isActive() and win.core.sessions.current is not None
    click(qtbot, page.more_button)
    assert page.stack.currentWidget() is page.query_view
    win.core.drain()
    assert win.core.audit.events(kind="print")[0].details["purpose"] == "办理贷款"


def test_a_citizen_without_a_record_here_is_told_so(qtbot, shell, sandbox):
    world = sandbox.world
    person = next(c for c in world.citizens
                  if sandbox.social_security.history(c.id_number) is None)
    win = shell()
    open_tile(qtbot, win)
    win.code_scanned(sandbox.issue_code(person.id_number, kind="essc")[0])
    qtbot.waitUntil(lambda: "未查询到" in getattr(win.stack.currentWidget(), "notice",
                                                 win.banner).text(), timeout=15000)
    page = win.stack.currentWidget()
    assert isinstance(page, SocialSecurityPage) and page.summary is None
    assert not page.certificate_button.isEnabled() and not page.rights_button.isEnabled()
    click(qtbot, page.exit_button)
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=10000)
