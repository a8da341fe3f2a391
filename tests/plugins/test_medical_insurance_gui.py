"""S7/S8 医保自助服务 end to end through the shell: the e-voucher through the keyboard wedge and
the camera-frame source, the sandbox platform over real HTTP, the outbox, the records, a real
CUPS PDF queue and the kiosk idle timeout."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit, QPushButton, QWidget

from plugins.medical_insurance import logic
from plugins.medical_insurance.page import MedicalInsurancePage
from workstation.testing import PrintPreviews
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

SOURCES = {"hubei_mi_official_account": "湖北医疗保障公众号", "my_mi_voucher": "我的医保凭证小程序",
           "alipay": "支付宝医保电子凭证", "nhsa_app": "国家医保服务平台App"}


@pytest.fixture(autouse=True)
def previews(print_previews: PrintPreviews) -> PrintPreviews:
    """Every page of this module prints without its modal preview (workstation.testing)."""
    return print_previews


@pytest.fixture
def window(qtbot: Any) -> Any:
    made: list[MainWindow] = []
    app = QApplication.instance()

    def make(core: Any, *, kiosk: bool = True) -> MainWindow:
        apply_theme(app, kiosk=kiosk)
        win = MainWindow(kiosk=kiosk)
        qtbot.addWidget(win)
        win.resize(1920, 1080) if kiosk else win.resize(1280, 800)
        win.show()
        if not kiosk:
            core.sign_in("demo", "demo1234")
        win.attach(core)
        made.append(win)
        return win

    yield make
    for win in made:
        win.idle.stop()
        win.tasks.wait_for_done(10000)
    apply_theme(app, kiosk=False)


def insured(sandbox: Any, *, employee: bool = True) -> Any:
    record = sandbox.mi_accounts.find(
        lambda r: r.status == "参保缴费" and r.has_account is employee
        and r.region_code.startswith("4212") and len(r.settlements) >= 2)
    assert record is not None
    return record


def open_page(qtbot: Any, win: MainWindow) -> MedicalInsurancePage:
    qtbot.mouseClick(win.launcher.tiles["medical_insurance"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, MedicalInsurancePage)
    return page


def current_page(win: MainWindow) -> MedicalInsurancePage:
    page = win.stack.currentWidget()
    assert isinstance(page, MedicalInsurancePage)
    return page


def signed_in(qtbot: Any, win: MainWindow, sandbox: Any, record: Any,
              source: str = "alipay") -> MedicalInsurancePage:
    """Open the tile, show the voucher (wedge/serial entry), wait for the first data page."""
    open_page(qtbot, win)
    code, _ = sandbox.issue_code(record.holder_id, kind="mi_voucher", source=source)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: isinstance(win.stack.currentWidget(), MedicalInsurancePage)
                    and current_page(win).overview is not None
                    and not current_page(win).is_busy, timeout=15000)
    page = current_page(win)
    assert page.stack.currentWidget() is page.overview_view
    return page


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_on_keypad(qtbot: Any, page: MedicalInsurancePage, digits: str) -> None:
    for d in digits:
        click(qtbot, page.keypad.buttons[d])


def check_touch_sizes(view: QWidget) -> None:
    """The kiosk rule of tests/workstation/test_shell_gui.py, on every visible control."""
    for control in [*view.findChildren(QPushButton), *view.findChildren(QLineEdit),
                    *view.findChildren(QComboBox)]:
        if control.isVisible():
            assert control.height() >= 48, control.text() if hasattr(control, "text") else control
            assert control.font().pointSize() >= 20, control
    for label in view.findChildren(QLabel):
        if label.isVisible():
            assert label.font().pointSize() >= 20, label.text()


# -- sign-in --------------------------------------------------------------------------------


def test_wedge_scan_signs_in_and_shows_the_first_data_page(qtbot, make_core, window, sandbox):
    from tests.workstation.test_scanners_gui import StepClock

    record = insured(sandbox)
    core = make_core(mode="kiosk")
    win = window(core)
    page = open_page(qtbot, win)
    assert page.stack.currentWidget() is page.prompt_view
    assert "医保电子凭证" in page.prompt.rows["mi_voucher"].text()
    check_touch_sizes(page.prompt_view)
    code, _ = sandbox.issue_code(record.holder_id, kind="mi_voucher",
                                 source="hubei_mi_official_account")
    assert win.wedge is not None
    win.wedge.clock = StepClock(0.003)  # a scanner's burst
    win.launcher.setFocus()
    qtbot.keyClicks(win.stack.currentWidget(), code)
    qtbot.keyClick(win.stack.currentWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: current_page(win).overview is not None, timeout=15000)
    page = current_page(win)
    assert "湖北医疗保障公众号" in page.login_label.text()
    assert record.name not in page.greeting.text() and record.name[0] + "*" in page.greeting.text()
    assert "参保缴费" in page.status_label.text() and "职工基本医疗保险" in page.status_label.text()
    assert page.balance_label.text() == f"{logic.yuan(record.account_balance_fen)} 元"
    assert page.settlements.rowCount() == min(10, len(record.settlements))
    assert page.settlements.item(0, 1).text() == record.settlements[0]["institution"]
    assert record.phone not in page.phone_label.text()
    check_touch_sizes(page.overview_view)
    core.drain()
    [sign_in] = [e for e in core.audit.events(limit=50) if e.kind == "mi_sign_in"]
    assert sign_in.details["code_source"] == "hubei_mi_official_account"
    assert sign_in.details["method"] == "mi_voucher"
    assert record.holder_id not in str([e.details for e in core.audit.events(limit=50)])


def test_camera_frames_sign_in(qtbot, make_core, window, sandbox):
    """GIVEN the camera-frame QR source (frames decoded by the real decoder chain off the GUI
    thread, then the scanner bridge) WHEN the phone shows the voucher THEN the page signs in."""
    from devices.qr.corpus import render_code
    from devices.qr.decoders import DEFAULT_DECODERS, DecoderChain
    from devices.qr.sources import CameraScanner, FrameScanner, FrameSource
    from workstation.ui.scanners import ScannerBridge

    record = insured(sandbox)
    win = window(make_core(mode="kiosk"))
    open_page(qtbot, win)
    code, _ = sandbox.issue_code(record.holder_id, kind="mi_voucher", source="my_mi_voucher")
    image = render_code(code.encode(), 4)
    frame = np.full((max(720, image.shape[0] + 40), max(1280, image.shape[1] + 40)), 150,
                    dtype=np.uint8)
    frame[20:20 + image.shape[0], 20:20 + image.shape[1]] = image
    bridge = ScannerBridge(win)
    bridge.code.connect(win.code_bytes_scanned)
    scanner = FrameScanner(DecoderChain.from_names(DEFAULT_DECODERS), bridge.from_device_thread)
    stop = threading.Event()

    def phone_in_front_of_the_camera() -> Any:
        yield np.zeros((720, 1280), np.uint8)  # nothing yet
        while not stop.is_set():
            yield frame
            stop.wait(1 / 30)  # a 30 fps camera paces its frames

    camera = CameraScanner(FrameSource(phone_in_front_of_the_camera()), scanner)
    camera.start()
    try:
        qtbot.waitUntil(lambda: current_page(win).overview is not None, timeout=15000)
    finally:
        stop.set()
        camera.stop()
        scanner.close()
    assert "我的医保凭证小程序" in current_page(win).login_label.text()


def test_every_voucher_source_is_accepted_and_named(qtbot, make_core, window, sandbox):
    record = insured(sandbox, employee=False)
    win = window(make_core(mode="kiosk"))
    for source, label in SOURCES.items():
        page = signed_in(qtbot, win, sandbox, record, source)
        assert label in page.login_label.text()
        assert "居民医保无个人账户" in page.balance_note.text()
        win.end_session("finished")
        qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=5000)


def test_expired_voucher_is_refused(qtbot, make_core, window, sandbox):
    record = insured(sandbox)
    win = window(make_core(mode="kiosk"))
    page = open_page(qtbot, win)
    sandbox.clock = lambda: dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    try:
        code, _ = sandbox.issue_code(record.holder_id, kind="mi_voucher", source="alipay")
    finally:
        sandbox.reset()
    win.code_scanned(code)
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "已过期" in win.banner.text()
    assert win.core.sessions.current is None and page.overview is None
    assert page.stack.currentWidget() is page.prompt_view


def test_replayed_voucher_is_refused(qtbot, make_core, window, sandbox):
    record = insured(sandbox)
    win = window(make_core(mode="kiosk"))
    open_page(qtbot, win)
    code, _ = sandbox.issue_code(record.holder_id, kind="mi_voucher", source="nhsa_app")
    win.code_scanned(code)
    qtbot.waitUntil(lambda: current_page(win).overview is not None, timeout=15000)
    win.end_session("finished")
    page = open_page(qtbot, win)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "已使用" in win.banner.text()
    assert win.core.sessions.current is None and page.overview is None


def test_another_code_kind_is_refused_on_the_page(qtbot, make_core, window, sandbox):
    record = insured(sandbox)
    win = window(make_core(mode="kiosk"))
    page = open_page(qtbot, win)
    code, _ = sandbox.issue_code(record.holder_id)  # a 鄂汇办 identity code
    win.code_scanned(code)
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "医保电子凭证" in win.banner.text()
    assert win.core.sessions.current is None and page.overview is None


# -- queries when the platform is down ------------------------------------------------------


def test_query_fails_clearly_when_the_platform_is_down_then_retries(
    qtbot, make_core, window, sandbox
):
    record = insured(sandbox)
    win = window(make_core(mode="kiosk"))
    code, _ = sandbox.issue_code(record.holder_id, kind="mi_voucher", source="alipay")
    win.code_scanned(code)  # on the launcher: the session begins
    qtbot.waitUntil(lambda: win.core.sessions.current is not None, timeout=10000)
    sandbox.faults.update({"down": True})
    page = open_page(qtbot, win)
    qtbot.waitUntil(lambda: page.query_error.isVisible(), timeout=15000)
    assert "医保信息平台暂时无法连接" in page.query_error_label.text()
    assert not page.cards.isVisible() and page.settlements.rowCount() == 0
    assert not page.print_button.isEnabled()
    win.core.drain()
    [sign_in] = [e for e in win.core.audit.events(limit=50) if e.kind == "mi_sign_in"]
    assert sign_in.details["result"] == "unavailable"
    assert sign_in.details["code_source"] == "alipay"
    sandbox.faults.update({"down": False})
    click(qtbot, page.retry_button)
    qtbot.waitUntil(lambda: page.overview is not None and not page.is_busy, timeout=15000)
    assert not page.query_error.isVisible() and page.cards.isVisible()
    assert page.settlements.rowCount() > 0


# -- contact phone --------------------------------------------------------------------------


def test_phone_change_with_the_keypad(qtbot, make_core, window, sandbox):
    record = insured(sandbox)
    core = make_core(mode="kiosk")
    win = window(core)
    page = signed_in(qtbot, win, sandbox, record)
    click(qtbot, page.phone_button)
    assert page.phone_display.isReadOnly()  # no keyboard: the keypad types
    check_touch_sizes(page.phone_view)
    type_on_keypad(qtbot, page, "1390000")
    click(qtbot, page.phone_next)
    assert "已输入 7 位" in page.phone_error.text()
    type_on_keypad(qtbot, page, "22223")  # a twelfth digit is ignored
    assert page.phone_display.text() == "139 0000 2222"
    click(qtbot, page.keypad.buttons["back"])
    type_on_keypad(qtbot, page, "9")
    click(qtbot, page.phone_next)
    assert page.stack.currentWidget() is page.confirm_view
    assert "139****2229" in page.confirm_lines.text()
    assert "13900002229" not in page.confirm_lines.text()
    check_touch_sizes(page.confirm_view)
    click(qtbot, page.submit_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.result_view, timeout=15000)
    assert page.result_title.text() == "已提交" and "已变更" in page.result_state.text()
    check_touch_sizes(page.result_view)
    assert sandbox.mi_accounts.insured(record.holder_id).phone == "13900002229"
    assert sandbox.medical_insurance.calls == {"contact_phone": 1}
    assert sandbox.sms.messages(phone="13900002229")
    click(qtbot, page.result_history)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.history_view, timeout=10000)
    assert page.history_table.rowCount() == 1
    assert page.history_table.item(0, 3).text() == "已变更"
    check_touch_sizes(page.history_view)
    core.drain()
    submissions = [e for e in core.audit.events(limit=50) if e.kind == "submission"]
    assert [e.details["what"] for e in submissions] == ["mi_contact_phone"]
    assert "13900002229" not in str([e.details for e in core.audit.events(limit=50)])


def test_clerk_window_signs_in_by_voucher_and_types_the_phone(qtbot, make_core, window, sandbox):
    record = insured(sandbox)
    win = window(make_core(), kiosk=False)
    page = signed_in(qtbot, win, sandbox, record, "alipay")
    click(qtbot, page.phone_button)
    assert not page.phone_display.isReadOnly()
    qtbot.keyClicks(page.phone_display, "158-1234-5678")
    assert page.phone_display.text() == "158 1234 5678"
    click(qtbot, page.phone_next)
    click(qtbot, page.submit_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.result_view, timeout=15000)
    assert page.result_title.text() == "已提交"
    assert sandbox.mi_accounts.insured(record.holder_id).phone == "15812345678"


# -- 异地就医备案 -----------------------------------------------------------------------------


def pick_filing(qtbot: Any, page: MedicalInsurancePage, province: str, city: str, reason: str,
                months: int) -> None:
    page.province_combo.setCurrentIndex(page.province_combo.findText(province))
    page.city_combo.setCurrentIndex(page.city_combo.findText(city))
    click(qtbot, page.reason_buttons[reason])
    click(qtbot, page.period_buttons[months])


def test_filing_queued_while_the_platform_is_down_is_sent_once_when_it_returns(
    qtbot, make_core, window, sandbox
):
    record = insured(sandbox)
    core = make_core(mode="kiosk")
    win = window(core)
    page = signed_in(qtbot, win, sandbox, record)
    click(qtbot, page.filing_button)
    check_touch_sizes(page.filing_view)
    click(qtbot, page.filing_next)  # nothing picked: every field says what it needs
    assert "请选择就医地" in page.destination_error.text()
    assert "请选择备案类型" in page.reason_error.text()
    assert "请选择结束日期" in page.end_error.text()
    pick_filing(qtbot, page, "湖北省", "咸宁市", "临时外出就医", 12)
    click(qtbot, page.filing_next)
    assert "同一统筹区" in page.destination_error.text()
    assert "最长 6 个月" in page.end_error.text()
    pick_filing(qtbot, page, "广东省", "深圳市", "常驻异地工作", 12)
    assert "单位派驻" in page.reason_hint.text()
    click(qtbot, page.filing_next)
    assert page.stack.currentWidget() is page.confirm_view
    assert "广东省深圳市" in page.confirm_lines.text()

    sandbox.faults.update({"down": True})
    click(qtbot, page.submit_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.result_view, timeout=15000)
    assert page.result_title.text() == "平台暂不可用，已保存，恢复后自动提交"
    assert page.poller.active
    key = page.current.key
    assert core.outbox.get(key) is not None and not core.outbox.get(key).sent
    assert sandbox.medical_insurance.filings == []

    sandbox.faults.update({"down": False})
    core.outbox.release(key)  # the backoff is 5 s: make it due now
    qtbot.waitUntil(lambda: page.result_title.text() == "已提交", timeout=20000)
    assert "平台已恢复，已自动提交" in page.result_state.text()
    [filing] = sandbox.medical_insurance.filings
    assert f"备案号 {filing['filing_no']}" in page.result_state.text()
    assert filing["client_ref"] == key and filing["destination_city"] == "深圳市"
    assert sandbox.medical_insurance.calls == {"remote_filing": 1}
    core.outbox.release(key)
    core.outbox.deliver_due()  # nothing left to send: never twice
    assert sandbox.medical_insurance.calls == {"remote_filing": 1}
    click(qtbot, page.result_home)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.overview_view
                    and not page.is_busy, timeout=15000)
    assert "异地就医备案：广东省深圳市（至" in page.insurance_label.text()
    click(qtbot, page.history_button)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.history_view, timeout=10000)
    assert filing["filing_no"] in page.history_table.item(0, 3).text()


# -- 参保凭证 -----------------------------------------------------------------------------


@pytest.mark.cups
def test_voucher_prints_through_the_queue(qtbot, make_core, window, sandbox, private_cups,
                                          previews):
    from tests.printing.pdf_inspect import page_texts, squash
    from workstation.config import PrintersConfig

    record = insured(sandbox)
    name, out = private_cups.add_file_queue()
    core = make_core(mode="kiosk",
                     printers=PrintersConfig(a4=name, cups_server=private_cups.socket))
    win = window(core)
    page = signed_in(qtbot, win, sandbox, record, "nhsa_app")
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: page.print_outcome is not None, timeout=30000)
    assert previews[0]["printer"] == name and previews[0]["title"] == logic.VOUCHER_TITLE
    assert page.print_outcome.status.state.value == "completed"
    assert "请在出纸口取走" in page.notice.text()
    printed = squash("".join(page_texts(out.read_bytes())))
    assert squash(logic.VOUCHER_TITLE) in printed and squash("国家医保服务平台App") in printed
    assert squash(page.prepared.stamp.display_code) in printed
    assert record.holder_id not in printed
    assert core.documents.verify(page.prepared.code, page.prepared.pdf).ok


@pytest.mark.cups
def test_printer_out_of_paper_then_prints_once(qtbot, make_core, window, sandbox, private_cups):
    from workstation.config import PrintersConfig

    record = insured(sandbox)
    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    core = make_core(mode="kiosk",
                     printers=PrintersConfig(a4=printer.name, cups_server=private_cups.socket))
    win = window(core)
    page = signed_in(qtbot, win, sandbox, record)
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: "缺纸" in page.notice.text(), timeout=30000)
    assert "不会重复打印" in page.notice.text()
    assert printer.outputs() == []
    printer.set_fault(None)
    qtbot.waitUntil(lambda: "请在出纸口取走" in page.notice.text(), timeout=60000)
    assert len(printer.outputs()) == 1


# -- idle ------------------------------------------------------------------------------------


def test_idle_timeout_mid_form_wipes_everything_and_submits_nothing(
    qtbot, make_core, window, sandbox
):
    """GIVEN a citizen who typed a new phone and reached the confirmation WHEN they walk away
    THEN the countdown ends the session: the page and its data are gone, nothing was sent,
    queued or recorded."""
    record = insured(sandbox)
    core = make_core(mode="kiosk")
    win = window(core)
    page = signed_in(qtbot, win, sandbox, record)
    click(qtbot, page.phone_button)
    type_on_keypad(qtbot, page, "13912345678")
    click(qtbot, page.phone_next)
    assert page.stack.currentWidget() is page.confirm_view and page.pending is not None
    win.idle._tick.setInterval(10)  # a "second" of 10 ms: the test does not wait a minute
    win.idle.reset()
    qtbot.waitUntil(lambda: win.countdown.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: core.sessions.current is None, timeout=5000)
    qtbot.waitUntil(lambda: win.stack.currentWidget() is win.launcher_scroll, timeout=5000)
    assert "medical_insurance" not in win.pages
    qtbot.waitUntil(lambda: not any(isinstance(w, MedicalInsurancePage)
                                    for w in win.findChildren(QWidget)), timeout=5000)
    win.tasks.wait_for_done(10000)
    assert core.outbox.items() == []
    ctx = core.context_for(core.plugins.scenario("medical_insurance"))
    assert ctx.records.find(logic.RECORD_KIND) == []
    assert sandbox.medical_insurance.calls == {}
    assert sandbox.mi_accounts.insured(record.holder_id).phone == record.phone


def test_suspended_insurance_cannot_file_remote_care(qtbot, make_core, window, sandbox):
    record = sandbox.mi_accounts.find(lambda r: r.status == "暂停缴费")
    assert record is not None
    win = window(make_core(mode="kiosk"))
    page = signed_in(qtbot, win, sandbox, record)
    assert "暂停缴费" in page.status_label.text()
    click(qtbot, page.filing_button)
    assert "暂不能办理异地就医备案" in page.notice.text()
    assert page.stack.currentWidget() is page.overview_view and page.filing_view is None
