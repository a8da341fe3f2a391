"""S3 电子填单 driven end to end through the real shell: sign-in by the 鄂汇办 code (keyboard
wedge entry and camera frames), by the social security card on pcscd and by the ID-card reader
simulator; consent, pre-filling from identity and licences, on-screen pinyin keyboard, keypad
and pickers, validation, 回填, submission through the outbox to the sandbox forms platform,
printing to a CUPS PDF queue; and the failures: expired code, card removed, platform down,
printer out of paper, idle timeout mid-form."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PyQt6.QtCore import QCoreApplication, QEvent, Qt
from PyQt6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton

from plugins.form_filling.logic import form_by_code
from plugins.form_filling.page import FormFillingPage
from workstation.config import PrintersConfig
from workstation.testing import PrintPreviews
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

SOCIAL = "CB-RS-SB01"
MEDICAL = "CB-YB-JM01"


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
        win.resize(*((1920, 1080) if kiosk else (1280, 800)))
        win.show()
        if not kiosk:
            core.sign_in("demo", "demo1234")
        win.attach(core)
        made.append(win)
        return win

    yield make
    for win in made:
        win.detach_card_reader()
        win.stop_scanners()
        win.idle.stop()
        win.tasks.wait_for_done(10000)
    apply_theme(app, kiosk=False)


def open_forms(qtbot: Any, win: MainWindow) -> FormFillingPage:
    qtbot.mouseClick(win.launcher.tiles["form_filling"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, FormFillingPage)
    return page


def signed_in(qtbot: Any, win: MainWindow) -> FormFillingPage:
    """The fresh page the shell opens for the citizen, once it shows the form list."""
    def ready() -> bool:
        page = win.stack.currentWidget()
        return isinstance(page, FormFillingPage) and page.steps.currentWidget() is page.list_step \
            and not page.is_busy

    qtbot.waitUntil(ready, timeout=10000)
    page = win.stack.currentWidget()
    assert isinstance(page, FormFillingPage)
    return page


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_form(qtbot: Any, page: FormFillingPage, code: str, *, consent: bool = True) -> None:
    click(qtbot, page.form_buttons[code])
    assert page.steps.currentWidget() is page.consent_step
    click(qtbot, page.accept_button if consent else page.decline_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.editor_step and not page.is_busy,
                    timeout=10000)


def tap_field(qtbot: Any, page: FormFillingPage, key: str) -> None:
    row = page.rows[key]
    page.form_scroll.ensureWidgetVisible(row)
    qtbot.mouseClick(row.edit, Qt.MouseButton.LeftButton)
    assert page.active is row and page.inputs.isVisible()


def keypad(qtbot: Any, page: FormFillingPage, key: str, digits: str) -> None:
    tap_field(qtbot, page, key)
    click(qtbot, page.keypad.clear_button)
    for ch in digits:
        click(qtbot, page.keypad.keys[ch])


def pick(qtbot: Any, page: FormFillingPage, key: str, *options: str) -> None:
    tap_field(qtbot, page, key)
    for option in options:
        page.picker.choose(option)


def pinyin(qtbot: Any, page: FormFillingPage, letters: str, word: str) -> None:
    board = page.keyboard
    qtbot.waitUntil(lambda: board.ready, timeout=10000)
    for ch in letters:
        click(qtbot, board.keys[ch])
    page_turns = 0
    while word not in board.candidates():
        click(qtbot, board.next_button)
        page_turns += 1
        assert page_turns < 30, (letters, word)
    buttons = [b for b in board.candidate_buttons if b.text() == word]
    click(qtbot, buttons[0])


def fill_social_insurance(qtbot: Any, page: FormFillingPage) -> None:
    """What the licences and the identity cannot know, entered on the screen."""
    pick(qtbot, page, "hukou_type", "非农业户口")
    keypad(qtbot, page, "phone", "13972581234")
    pick(qtbot, page, "address", "蒲圻街道", "河北社区", "河北大道")
    assert page.rows["address"].value() == "湖北省赤壁市蒲圻街道河北社区河北大道"
    assert page.inputs.currentWidget() is page.keyboard  # on to the house number
    for ch in "88":
        click(qtbot, page.keyboard.keys[ch])
    click(qtbot, page.keyboard.keys["号"])
    pick(qtbot, page, "register_kind", "灵活就业人员")
    today = dt.date.today()
    keypad(qtbot, page, "start_date", today.isoformat())
    tap_field(qtbot, page, "contact_name")
    pinyin(qtbot, page, "zhang", "张")
    pinyin(qtbot, page, "xiu", "秀")
    pinyin(qtbot, page, "ying", "英")
    assert page.rows["contact_name"].value() == "张秀英"
    pick(qtbot, page, "contact_relation", "配偶")


def submit_and_wait(qtbot: Any, page: FormFillingPage) -> None:
    click(qtbot, page.submit_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step and not page.is_busy,
                    timeout=15000)


# ---------------------------------------------------------------------------------------------


@pytest.mark.cups
def test_kiosk_code_consent_prefill_keyboard_submit_and_print(
        qtbot, make_core, window, sandbox, private_cups, previews):
    """GIVEN a kiosk with an A4 queue WHEN a citizen shows the 鄂汇办 code (wedge entry), agrees
    to the licence fetch, completes the form on the screen and submits THEN the fields from the
    identity and the licences are pre-filled, the platform receives the form once, and the
    printed form is the CUPS queue's PDF with a verification code and masked numbers."""
    from tests.printing.pdf_inspect import page_texts, squash

    person = sandbox.world.person_with_all_licences
    name_q, out = private_cups.add_file_queue()
    core = make_core(mode="kiosk", printers=PrintersConfig(a4=name_q,
                                                           cups_server=private_cups.socket))
    win = window(core)
    page = open_forms(qtbot, win)
    assert page.steps.currentWidget() is page.prompt_step
    assert set(page.prompt.rows) == {"ehb_identity", "ss_card", "id_card"}
    code, _ = sandbox.issue_code(person.id_number)
    win.code_scanned(code)  # what the keyboard-wedge filter hands over
    page = signed_in(qtbot, win)
    assert person.name not in page.greeting.text() and person.id_number not in page.greeting.text()
    assert "社会保险登记表" in page.form_buttons[SOCIAL].findChildren(QLabel)[0].text()

    click(qtbot, page.form_buttons[SOCIAL])
    assert "居民户口簿" in page.consent_body.text()
    assert [e for e in sandbox.access_log if e.holder_id == person.id_number] == []
    click(qtbot, page.accept_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.editor_step, timeout=10000)
    values = page.values()
    household = sandbox.world.licence_of(person.id_number, "household_register")
    assert values["name"] == person.name and values["id_number"] == person.id_number
    assert page.rows["id_number"].value() == person.id_number[:6] + "********" + \
        person.id_number[-4:]  # masked on screen
    assert values["nation"] == household.fields["民族"] + "族"
    assert values["hukou_address"] == household.fields["住址"]
    assert "电子证照·居民户口簿" in page.rows["hukou_address"].source.text()
    assert values["birth_date"] == f"{person.id_number[6:10]}-{person.id_number[10:12]}-" \
                                   f"{person.id_number[12:14]}"
    assert values["postcode"] == "437300"  # the form's default

    fill_social_insurance(qtbot, page)
    submit_and_wait(qtbot, page)
    assert "已提交" in page.done_text.text()
    [received] = sandbox.forms.received(person.id_number)
    assert received["form_code"] == SOCIAL
    assert received["values"]["contact_name"] == "张秀英"
    assert received["values"]["address"] == "湖北省赤壁市蒲圻街道河北社区河北大道88号"
    assert any("社会保险登记表" in m["text"] for m in sandbox.sms.messages("13972581234"))

    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: page.print_outcome is not None, timeout=30000)
    assert page.print_outcome.status.state.value == "completed", page.print_outcome.status
    assert previews[0]["printer"] == name_q and previews[0]["title"] == "申请表"
    qtbot.waitUntil(lambda: out.exists() and out.stat().st_size > 0, timeout=20000)
    text = squash("".join(page_texts(out.read_bytes())))
    assert "社会保险登记表（个人）" in text and "张秀英" in text
    assert person.id_number not in text and mask_id(person.id_number) in text
    assert page.prepared.stamp.display_code.replace("-", "") in text.replace("-", "")

    core.drain()
    kinds = {e.kind for e in core.audit.events(limit=100)}
    assert {"consent_granted", "licence_access", "submission", "print"} <= kinds


def mask_id(number: str) -> str:
    return number[:6] + "********" + number[-4:]


def test_validation_errors_show_next_to_the_fields_and_nothing_is_sent(
        qtbot, make_core, window, sandbox):
    person = sandbox.world.sample_person(1)
    win = window(make_core(mode="kiosk"))
    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(person.id_number)[0])
    page = signed_in(qtbot, win)
    open_form(qtbot, page, MEDICAL, consent=False)  # declined: identity only
    assert page.values()["name"] == person.name
    assert page.values()["household_head"] == ""
    keypad(qtbot, page, "phone", "1397258")
    keypad(qtbot, page, "year", "2019")
    click(qtbot, page.submit_button)
    assert page.steps.currentWidget() is page.editor_step
    assert page.rows["phone"].error_text() == "请填写 11 位手机号码（或带区号的固定电话）"
    assert page.rows["year"].error_text() == "参保年度不能小于 2024"
    assert page.rows["household_head"].error_text() == "请填写户主姓名"
    assert page.rows["category"].error_text() == "请从列表中选择人员类别" or \
        page.rows["category"].error_text() == "请填写人员类别"
    assert "需要修改" in page.notice.text()
    assert sandbox.forms.received() == []
    # a fixed field loses its message at once
    keypad(qtbot, page, "phone", "13972581234")
    assert page.rows["phone"].error_text() == ""


def test_earlier_form_is_offered_for_reuse(qtbot, make_core, window, sandbox):
    """GIVEN a citizen who submitted the social insurance form before WHEN they sign in again
    (a later session) THEN the list says so, the form offers 回填, and 回填 restores the answers
    except the sign-in's own and this occasion's date."""
    person = sandbox.world.person_with_all_licences
    core = make_core(mode="kiosk")
    win = window(core)
    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(person.id_number)[0])
    page = signed_in(qtbot, win)
    open_form(qtbot, page, SOCIAL)
    fill_social_insurance(qtbot, page)
    submit_and_wait(qtbot, page)
    win.end_session("finished")

    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(person.id_number)[0])
    page = signed_in(qtbot, win)
    assert "填写过" in page.form_notes[SOCIAL].text()
    assert page.form_notes[MEDICAL].text() == ""
    open_form(qtbot, page, SOCIAL, consent=False)
    assert page.reuse_frame.isVisible()
    assert page.values()["phone"] == "13972581234"  # history.phone pre-fills anyway
    assert page.values()["register_kind"] == "灵活就业人员"
    click(qtbot, page.reuse_button)
    values = page.values()
    assert values["contact_name"] == "张秀英" and values["address"].endswith("88号")
    assert values["start_date"] == ""  # a date of that occasion is not copied
    assert not page.reuse_frame.isVisible()
    # another form pre-fills what it shares from the earlier one
    click(qtbot, page.back_button)
    open_form(qtbot, page, MEDICAL, consent=False)
    assert page.values()["phone"] == "13972581234"
    assert "以前填写" in page.rows["phone"].source.text()
    assert not page.reuse_frame.isVisible()


def test_platform_down_queues_the_submission_and_sends_it_once(qtbot, make_core, window,
                                                               sandbox):
    person = sandbox.world.person_with_all_licences
    core = make_core(mode="kiosk")
    win = window(core)
    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(person.id_number)[0])
    page = signed_in(qtbot, win)
    open_form(qtbot, page, SOCIAL)
    fill_social_insurance(qtbot, page)
    sandbox.faults.update({"down": True})
    submit_and_wait(qtbot, page)
    assert "暂时无法连接" in page.done_text.text() and "只提交一次" in page.done_text.text()
    assert sandbox.forms.received() == []
    assert page.result is not None and not page.result.sent
    sandbox.faults.update({"down": False})
    qtbot.waitUntil(lambda: len(sandbox.forms.received()) == 1, timeout=20000)
    qtbot.waitUntil(lambda: "已提交至" in page.done_text.text(), timeout=10000)
    core.outbox.deliver_due()  # a later run sends nothing again
    assert len(sandbox.forms.received()) == 1


@pytest.mark.cups
def test_printer_out_of_paper_says_so_and_prints_once_when_refilled(
        qtbot, make_core, window, sandbox, private_cups):
    person = sandbox.world.sample_person(2)
    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    core = make_core(mode="kiosk", printers=PrintersConfig(a4=printer.name,
                                                           cups_server=private_cups.socket))
    win = window(core)
    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(person.id_number)[0])
    page = signed_in(qtbot, win)
    click(qtbot, page.form_buttons["CB-RS-LH01"])
    click(qtbot, page.accept_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.editor_step and not page.is_busy,
                    timeout=10000)
    pick(qtbot, page, "occupation", "个体经营者")
    keypad(qtbot, page, "phone", "13972581299")
    pick(qtbot, page, "address", "赤马港街道", "金鸾社区", "不需要道路")
    for ch in "12":
        click(qtbot, page.keyboard.keys[ch])
    click(qtbot, page.keyboard.keys["号"])
    pick(qtbot, page, "insurances", "仅养老保险")
    pick(qtbot, page, "base_level", "60%")
    keypad(qtbot, page, "start_date", dt.date.today().isoformat())
    submit_and_wait(qtbot, page)
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: page.print_outcome is not None, timeout=30000)
    assert "缺纸" in page.print_label.text() and "缺纸" in page.notice.text()
    printer.set_fault(None)
    qtbot.waitUntil(lambda: page.print_outcome.status.state.value == "completed", timeout=30000)
    assert "取走申请表" in page.print_label.text()
    assert len(printer.outputs()) == 1


def test_expired_code_is_refused_and_starts_nothing(qtbot, make_core, window, sandbox):
    person = sandbox.world.sample_person(3)
    win = window(make_core(mode="kiosk"))
    page = open_forms(qtbot, win)
    real = sandbox.clock
    sandbox.clock = lambda: real() - dt.timedelta(seconds=300)
    try:
        code, expires = sandbox.issue_code(person.id_number)
    finally:
        sandbox.clock = real
    assert expires < dt.datetime.now(dt.UTC)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: "过期" in win.banner.text(), timeout=10000)
    assert win.core.sessions.current is None
    assert win.stack.currentWidget() is page and page.steps.currentWidget() is page.prompt_step


def test_camera_frames_sign_in(qtbot, make_core, window, sandbox):
    """The code read from camera frames (decoded off the GUI thread) signs the citizen in."""
    from devices.qr.corpus import render_code
    from devices.qr.decoders import DecoderChain
    from devices.qr.sources import CameraScanner, FrameScanner, FrameSource
    from workstation.ui.scanners import ScannerBridge

    person = sandbox.world.sample_person(4)
    win = window(make_core(mode="kiosk"))
    open_forms(qtbot, win)
    code, _ = sandbox.issue_code(person.id_number)
    symbol = render_code(code.encode(), 4)
    frame = np.full((720, 1280), 150, dtype=np.uint8)
    frame[40:40 + symbol.shape[0], 60:60 + symbol.shape[1]] = symbol
    bridge = ScannerBridge(win)
    bridge.code.connect(win.code_bytes_scanned)
    scanner = FrameScanner(DecoderChain.from_names(["zxing", "zbar"]), bridge.from_device_thread)
    camera = CameraScanner(FrameSource([frame]), scanner)
    camera.start()
    try:
        page = signed_in(qtbot, win)
    finally:
        camera.stop()
        scanner.close()
    assert page.applicant is not None and page.applicant.holder_id == person.id_number


def test_idle_timeout_mid_form_wipes_everything(qtbot, make_core, window, sandbox):
    """GIVEN a citizen half-way through a form WHEN the kiosk idles out THEN the page is gone,
    and the next citizen's page shows nothing of the first one's draft."""
    first, second = sandbox.world.person_with_all_licences, sandbox.world.sample_person(5)
    core = make_core(mode="kiosk")
    win = window(core)
    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(first.id_number)[0])
    page = signed_in(qtbot, win)
    open_form(qtbot, page, SOCIAL)
    keypad(qtbot, page, "phone", "13972580000")
    tap_field(qtbot, page, "contact_name")
    pinyin(qtbot, page, "zhang", "张")
    win.idle._tick.setInterval(10)
    win.idle.reset()
    qtbot.waitUntil(lambda: core.sessions.current is None, timeout=10000)
    qtbot.waitUntil(lambda: win.stack.currentWidget() is win.launcher_scroll, timeout=5000)
    assert win.pages == {}
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # deleteLater
    assert all("13972580000" not in e.text() for e in win.findChildren(QLineEdit))
    win.idle._tick.setInterval(1000)
    win.idle.reset()
    assert first.name not in win.applicant_panel.who.text()

    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(second.id_number)[0])
    page = signed_in(qtbot, win)
    open_form(qtbot, page, SOCIAL, consent=False)
    shown = [e.text() for e in page.findChildren(QLineEdit)]
    assert "13972580000" not in shown and "张" not in shown
    assert first.name not in " ".join(shown) and page.values()["name"] == second.name
    assert sandbox.forms.received() == []


def test_card_removed_mid_form_wipes_everything(qtbot, make_core, window, sandbox,
                                                virtual_card):
    from devices.cards.pcsc import PcscCardReader
    from devices.cards.simulated import SocialSecurityCardProfile
    from sandbox.cards import card_data_for
    from tests.helpers.pcsc_fixtures import READER

    person = sandbox.world.sample_person(0)
    core = make_core(mode="kiosk")
    win = window(core)
    win.attach_card_reader(PcscCardReader(READER))
    qtbot.waitUntil(lambda: "就绪" in win.reader_label.text(), timeout=10000)
    open_forms(qtbot, win)
    virtual_card.insert(SocialSecurityCardProfile.from_json(card_data_for(person.id_number,
                                                                          sandbox.world)))
    page = signed_in(qtbot, win)
    assert page.applicant is not None and page.applicant.holder_id == person.id_number
    open_form(qtbot, page, SOCIAL, consent=False)
    keypad(qtbot, page, "phone", "13972580001")
    virtual_card.remove()
    qtbot.waitUntil(lambda: core.sessions.current is None, timeout=10000)
    qtbot.waitUntil(lambda: win.pages == {}, timeout=5000)
    assert win.stack.currentWidget() is win.launcher_scroll
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # deleteLater
    assert all("13972580001" not in e.text() for e in win.findChildren(QLineEdit))


def test_id_card_reader_signs_in(qtbot, make_core, window, sandbox, tmp_path: Path):
    from devices.idcard.monitor import IdCardReaderMonitor
    from devices.idcard.reader import SerialIdCardReader
    from devices.idcard.simulator import SimulatedIdCardReaderProcess
    from sandbox.cards import id_card_data_for

    person = sandbox.world.sample_person(6)
    win = window(make_core(mode="kiosk"))
    with SimulatedIdCardReaderProcess(tmp_path / "id.sock") as reader:
        win.attach_card_reader(IdCardReaderMonitor(SerialIdCardReader(reader.port),
                                                   interval_s=0.05))
        qtbot.waitUntil(lambda: "身份证阅读器：就绪" in win.reader_label.text(), timeout=10000)
        open_forms(qtbot, win)
        reader.control.request(op="place", card=id_card_data_for(person.id_number,
                                                                 sandbox.world))
        page = signed_in(qtbot, win)
        win.detach_card_reader()
    assert page.applicant is not None and page.applicant.holder_id == person.id_number
    open_form(qtbot, page, "CB-RS-LH01", consent=False)
    assert page.values()["sex"] in ("男", "女")


def test_kiosk_pages_are_touch_sized(qtbot, make_core, window, sandbox):
    person = sandbox.world.sample_person(7)
    win = window(make_core(mode="kiosk"))
    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(person.id_number)[0])
    page = signed_in(qtbot, win)
    open_form(qtbot, page, SOCIAL, consent=False)
    tap_field(qtbot, page, "contact_name")
    qtbot.waitUntil(lambda: page.keyboard.ready, timeout=10000)
    controls = [w for w in [*page.findChildren(QPushButton), *page.findChildren(QLineEdit)]
                if w.isVisible()]
    assert len(controls) > 40
    for control in controls:
        assert control.height() >= 48, (control, control.height())
        assert control.font().pointSize() >= 20, control
    for label in page.findChildren(QLabel):
        if label.isVisible() and label.text():
            assert label.font().pointSize() >= 20, label.text()


def test_clerk_types_on_the_physical_keyboard(qtbot, make_core, window, sandbox):
    from workstation.testing import type_text

    person = sandbox.world.sample_person(8)
    core = make_core()
    win = window(core, kiosk=False)
    open_forms(qtbot, win)
    win.code_scanned(sandbox.issue_code(person.id_number)[0])
    page = signed_in(qtbot, win)
    assert person.name in page.greeting.text()  # the clerk sees the full name
    open_form(qtbot, page, MEDICAL, consent=True)
    edit = page.rows["phone"].edit
    assert not edit.isReadOnly()
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    assert not page.inputs.isVisible()  # no on-screen keyboard for typing
    type_text(edit, "13972581111")
    type_text(page.rows["category"].edit, "普通城乡居民")
    type_text(page.rows["pay_channel"].edit, "银行代扣")
    type_text(page.rows["year"].edit, str(dt.date.today().year))
    if not page.values()["household_head"]:
        type_text(page.rows["household_head"].edit, "王芳")
        type_text(page.rows["relation"].edit, "户主")
    if not page.values()["hukou_address"]:
        type_text(page.rows["hukou_address"].edit, "湖北省赤壁市蒲圻街道河北社区1号")
    assert page.rows["id_number"].edit.isReadOnly()
    submit_and_wait(qtbot, page)
    [received] = sandbox.forms.received(person.id_number)
    assert received["values"]["phone"] == "13972581111"
    assert form_by_code(MEDICAL).title in page.done_title.text()


def test_keyboard_wedge_burst_signs_in_on_the_form_page(qtbot, make_core, window, sandbox):
    """A scanner typing the code as a key burst (the wedge filter) signs the citizen in on the
    open form page: the kiosk's fields take no physical keys, so nothing lands in a field."""

    class StepClock:
        def __init__(self) -> None:
            self.now = 0.0

        def __call__(self) -> float:
            self.now += 0.003
            return self.now

    person = sandbox.world.sample_person(9)
    win = window(make_core(mode="kiosk"))
    page = open_forms(qtbot, win)
    assert win.wedge is not None
    win.wedge.clock = StepClock()
    code, _ = sandbox.issue_code(person.id_number)
    page.setFocus()
    qtbot.keyClicks(page, code)
    qtbot.keyClick(page, Qt.Key.Key_Return)
    page = signed_in(qtbot, win)
    assert page.applicant is not None and page.applicant.holder_id == person.id_number
