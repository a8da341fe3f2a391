"""S12 燃气报装 / S13 用水报装 end to end through the shell: sign-in by code, ID card and social
security card, licences under consent, the utility sandbox over real HTTP, the outbox, the
CUPS queue, the SMS gateway."""

from __future__ import annotations

from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit, QPushButton

from plugins.utility_connection.forms import PENDING_LABEL
from plugins.utility_connection.page import UtilityPage
from sandbox.phone import PhoneClient
from tests.plugins.test_unified_intake_gui import previews  # noqa: F401  (autouse fixture)
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

PHONE = "13972601234"
RESIDENT = 9  # sample person with a property licence whose address names a community


@pytest.fixture
def shell(qtbot: Any, make_core: Any) -> Any:
    made: list[tuple[MainWindow, bool]] = []

    def make(*, kiosk: bool = True, core: Any = None, **overrides: Any) -> MainWindow:
        app = QApplication.instance()
        apply_theme(app, kiosk=kiosk)
        core = core or make_core(mode="kiosk" if kiosk else "clerk", **overrides)
        win = MainWindow(kiosk=kiosk)
        qtbot.addWidget(win)
        win.resize(1920, 1080) if kiosk else win.resize(1280, 800)
        win.show()
        if not kiosk:
            core.sign_in("demo", "demo1234")
        win.attach(core)
        made.append((win, kiosk))
        return win

    yield make
    for win, _kiosk in made:
        win.idle.stop()
        win.tasks.wait_for_done(10000)
    apply_theme(QApplication.instance(), kiosk=False)


@pytest.fixture
def phone(sandbox: Any) -> Any:
    client = PhoneClient(sandbox.url)
    yield client
    client.close()


def open_page(qtbot: Any, win: MainWindow, scenario: str = "water_connection") -> UtilityPage:
    qtbot.mouseClick(win.launcher.tiles[scenario], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, UtilityPage)
    return page


def current(win: MainWindow) -> UtilityPage:
    page = win.stack.currentWidget()
    assert isinstance(page, UtilityPage)
    return page


def sign_in_by_code(qtbot: Any, win: MainWindow, sandbox: Any, id_number: str) -> UtilityPage:
    """The citizen shows the 鄂汇办 code on the open page: a fresh page takes them."""
    code, _ = sandbox.issue_code(id_number)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: isinstance(win.stack.currentWidget(), UtilityPage)
                    and current(win).applicant is not None
                    and current(win).steps.currentWidget() is current(win).choose_step
                    and not current(win).is_busy, timeout=10000)
    return current(win)


def click(qtbot: Any, button: Any) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def residential_form(qtbot: Any, page: UtilityPage, *, accept: bool = True) -> None:
    click(qtbot, page.residential_button)
    qtbot.waitUntil(lambda: page.consent_panel.isVisible(), timeout=5000)
    click(qtbot, page.consent_panel.accept_button if accept
          else page.consent_panel.decline_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.form_step and not page.is_busy,
                    timeout=10000)


def key_in(qtbot: Any, page: UtilityPage, field: str, digits: str) -> None:
    """Touch the field, then type on the on-screen keypad."""
    edit = page.fields[field].edit
    assert edit is not None
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    assert page.keypad.target is edit
    click(qtbot, page.keypad.keys["清空"])
    for d in digits:
        click(qtbot, page.keypad.keys[d])


def pick(qtbot: Any, page: UtilityPage, field: str, *choices: str) -> None:
    box = page.fields[field]
    if box.combo is not None:
        box.combo.setCurrentIndex(box.combo.findData(choices[0]))
        return
    assert box.choices is not None
    for choice in choices:
        click(qtbot, box.choices.buttons[choice])


def fill_water(qtbot: Any, page: UtilityPage, *, phone: str = PHONE, people: str = "4",
               volume: str = "25") -> None:
    pick(qtbot, page, "region", "赤壁市水务集团赤壁市供水")
    key_in(qtbot, page, "phone", phone)
    key_in(qtbot, page, "people", people)
    key_in(qtbot, page, "volume", volume)
    pick(qtbot, page, "reason", "首次报装")


def submit(qtbot: Any, page: UtilityPage) -> None:
    click(qtbot, page.submit_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step and not page.is_busy,
                    timeout=15000)


def assert_touch_sized(page: UtilityPage) -> None:
    controls = [w for w in (*page.findChildren(QPushButton), *page.findChildren(QLineEdit),
                            *page.findChildren(QComboBox)) if w.isVisible()]
    assert controls
    for control in controls:
        assert control.height() >= 48, control
        assert control.font().pointSize() >= 20, control
    for label in page.findChildren(QLabel):
        if label.isVisible():
            assert label.font().pointSize() >= 20, label.text()


# -- the whole way ------------------------------------------------------------------------------


@pytest.mark.cups
def test_kiosk_water_residential_prefilled_submitted_printed_and_followed(
        qtbot, shell, sandbox, private_cups, previews):  # noqa: F811
    from tests.printing.pdf_inspect import page_texts, squash
    from workstation.config import PrintersConfig

    person = sandbox.world.sample_person(RESIDENT)
    name, out = private_cups.add_file_queue()
    win = shell(printers=PrintersConfig(a4=name, cups_server=private_cups.socket))
    page = open_page(qtbot, win)
    assert "报装说明" in page.welcome_notes.text() and page.prompt.isVisible()
    assert set(page.prompt.rows) == {"ehb_identity", "id_card", "ss_card"}
    page = sign_in_by_code(qtbot, win, sandbox, person.id_number)
    assert person.name not in page.greeting.text()
    assert_touch_sized(page)
    residential_form(qtbot, page)
    assert_touch_sized(page)
    prop = sandbox.world.licence_of(person.id_number, "property_cert")
    values = page.form_values()
    assert values["owner_name"] == person.name and values["owner_id"] == person.id_number
    assert values["address"] == prop.fields["坐落"] and values["community"] == "河北社区"
    owner_id = page.fields["owner_id"].edit
    assert owner_id.isReadOnly() and person.id_number not in owner_id.text()
    assert "不动产权证书" in page.fields["address"].label.text()
    fill_water(qtbot, page)
    submit(qtbot, page)
    assert_touch_sized(page)
    sub = page.submission
    assert sub is not None and not sub.pending and sub.application_no.startswith("SW")
    assert sub.application_no in page.done_label.text() and "预约上门" in page.done_label.text()
    received = sandbox.utilities.applications
    assert len(received) == 1 and received[0].form["phone"] == PHONE
    assert received[0].licences_used == ["property_cert"]
    sms = sandbox.sms.messages(PHONE)
    assert len(sms) == 1 and "已受理" in sms[0]["text"] and sub.application_no in sms[0]["text"]

    # the receipt, through the CUPS queue, with the installation notes
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: page.print_outcome is not None and not page.is_busy, timeout=30000)
    assert page.print_outcome.status.state.value == "completed", page.print_outcome.status
    text = squash("".join(page_texts(out.read_bytes())))
    assert squash(sub.application_no) in text and squash("报装说明") in text
    assert squash("不动产权证书") in text and person.id_number not in text

    # progress through every state, an SMS at each
    for _ in range(4):
        sandbox.utilities.advance(sub.application_no)
    click(qtbot, page.done_progress_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.progress_step
                    and not page.is_busy, timeout=10000)
    assert_touch_sized(page)
    assert [r.state for r in page.progress_rows] == ["办结"]
    assert [s for s, _ in page.progress_rows[0].history] == ["受理", "勘查", "施工", "通水", "办结"]
    texts = [m["text"] for m in sandbox.sms.messages(PHONE)]
    assert len(texts) == 5 and "通水" in texts[3] and "办结" in texts[4]
    win.core.drain()
    events = str([e.details for e in win.core.audit.events(limit=200)])
    assert person.id_number not in events and PHONE not in events


def test_gas_enterprise_on_the_kiosk_with_the_enterprise_authorization(
        qtbot, shell, sandbox, phone, tmp_path):
    """GIVEN the agent signs in with their ID card on the reader WHEN the enterprise authorizes
    on its phone THEN the business licence fills the unit and the credit code, and the gas
    application names its use type and appliances."""
    from devices.idcard.monitor import IdCardReaderMonitor
    from devices.idcard.reader import SerialIdCardReader
    from devices.idcard.simulator import SimulatedIdCardReaderProcess
    from sandbox.cards import id_card_data_for

    agent = sandbox.world.sample_person(3)
    company = sandbox.world.sample_enterprise(1)
    win = shell()
    with SimulatedIdCardReaderProcess(tmp_path / "id.sock") as reader:
        win.attach_card_reader(IdCardReaderMonitor(SerialIdCardReader(reader.port),
                                                   interval_s=0.05))
        try:
            qtbot.waitUntil(lambda: "身份证阅读器：就绪" in win.reader_label.text(),
                            timeout=10000)
            open_page(qtbot, win, "gas_connection")
            reader.control.request(op="place", card=id_card_data_for(agent.id_number,
                                                                     sandbox.world))
            qtbot.waitUntil(lambda: isinstance(win.stack.currentWidget(), UtilityPage)
                            and current(win).applicant is not None
                            and not current(win).is_busy, timeout=10000)
        finally:
            win.detach_card_reader()
    page = current(win)
    assert page.applicant.holder_id == agent.id_number
    assert not page.manual_enterprise_button.isVisible()  # a kiosk cannot type a company in
    click(qtbot, page.enterprise_button)
    qtbot.waitUntil(lambda: bool(page.qr_panel.qr_text), timeout=10000)
    assert sandbox.access_log == []
    phone.approve_consent(page.qr_panel.qr_text, company.credit_code)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.form_step and not page.is_busy,
                    timeout=15000)
    values = page.form_values()
    assert values["unit_name"] == company.name and values["credit_code"] == company.credit_code
    assert values["agent_name"] == agent.name and values["agent_id"] == agent.id_number
    pick(qtbot, page, "region", "赤壁华润燃气城区营业厅")
    page.fields["community"].set_value("赤壁商业广场")
    key_in(qtbot, page, "phone", PHONE)
    pick(qtbot, page, "use_type", "餐饮")
    pick(qtbot, page, "appliances", "燃气灶", "蒸汽锅炉")
    key_in(qtbot, page, "volume", "1200")
    pick(qtbot, page, "reason", "首次报装")
    submit(qtbot, page)
    [app] = sandbox.utilities.applications
    assert app.utility == "gas" and app.variant == "enterprise"
    assert app.form["credit_code"] == company.credit_code and app.holder_id == agent.id_number
    assert app.form["appliances"] == ["燃气灶", "蒸汽锅炉"]
    assert app.licences_used == ["business_licence"]


# -- bad input ----------------------------------------------------------------------------------


def test_bad_phone_and_amounts_are_refused_at_the_field(qtbot, shell, sandbox):
    person = sandbox.world.sample_person(RESIDENT)
    win = shell()
    open_page(qtbot, win)
    page = sign_in_by_code(qtbot, win, sandbox, person.id_number)
    residential_form(qtbot, page)
    fill_water(qtbot, page, phone="12345678901", people="0", volume="5000")
    click(qtbot, page.submit_button)
    assert "手机号码" in page.fields["phone"].error_text()
    assert "应大于 0" in page.fields["people"].error_text()
    assert "不应超过 200" in page.fields["volume"].error_text()
    assert "3 项需要修改" in page.notice.text()
    assert sandbox.utilities.applications == []
    key_in(qtbot, page, "phone", "1397260")  # too short
    click(qtbot, page.submit_button)
    assert "11 位" in page.fields["phone"].error_text()
    assert page.steps.currentWidget() is page.form_step


def test_clerk_refuses_a_bad_id_number_and_a_bad_credit_code(qtbot, shell, sandbox):
    person = sandbox.world.sample_person(3)
    win = shell(kiosk=False)
    page = open_page(qtbot, win)
    assert page.clerk_box.isVisible()
    page.clerk_name.edit.setText(person.name)
    page.clerk_id.edit.setText(person.id_number[:-1] + ("0" if person.id_number[-1] != "0"
                                                        else "1"))
    click(qtbot, page.clerk_button)
    assert "校验" in page.clerk_id.error_text()
    assert win.core.sessions.applicant is None
    page.clerk_id.edit.setText(person.id_number)
    click(qtbot, page.clerk_button)
    assert win.core.sessions.applicant.holder_id == person.id_number
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.choose_step and not page.is_busy,
                    timeout=5000)
    click(qtbot, page.enterprise_button)
    qtbot.waitUntil(lambda: page.manual_enterprise_button.isVisible() and not page.is_busy,
                    timeout=10000)
    click(qtbot, page.manual_enterprise_button)
    assert page.steps.currentWidget() is page.form_step
    page.fields["unit_name"].set_value("赤壁市测试商贸有限公司")
    page.fields["credit_code"].set_value("91421281MA4ABCDE1X")
    click(qtbot, page.submit_button)
    assert "信用代码" in page.fields["credit_code"].error_text()
    assert sandbox.utilities.applications == []


def test_no_property_licence_leaves_the_address_to_fill_by_hand(qtbot, shell, sandbox):
    person = sandbox.world.person_without_marriage_or_property
    win = shell()
    open_page(qtbot, win)
    page = sign_in_by_code(qtbot, win, sandbox, person.id_number)
    residential_form(qtbot, page)
    assert "没有您名下的不动产权证书" in page.prefill_label.text()
    assert page.form_values()["address"] == "" and page.form_values()["community"] == ""
    assert page.form_values()["owner_name"] == person.name
    fill_water(qtbot, page)
    click(qtbot, page.submit_button)
    assert "请输入用水地址" in page.fields["address"].error_text()
    page.fields["address"].set_value("湖北省赤壁市蒲圻街道沧湖社区陆水路8号2栋1单元301室")
    page.fields["community"].set_value("沧湖小区")
    submit(qtbot, page)
    [app] = sandbox.utilities.applications
    assert app.licences_used == [] and app.form["community"] == "沧湖小区"


# -- failures -------------------------------------------------------------------------------------


def test_platform_down_on_submit_waits_in_the_outbox_and_arrives_once(qtbot, shell, sandbox):
    person = sandbox.world.sample_person(RESIDENT)
    win = shell()
    open_page(qtbot, win)
    page = sign_in_by_code(qtbot, win, sandbox, person.id_number)
    residential_form(qtbot, page)
    fill_water(qtbot, page)
    sandbox.faults.update({"down": True})
    submit(qtbot, page)
    assert page.submission.pending and PENDING_LABEL in page.done_label.text()
    assert sandbox.utilities.applications == [] and win.core.outbox.waiting >= 1
    click(qtbot, page.done_progress_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.progress_step
                    and not page.is_busy, timeout=10000)
    assert [r.state for r in page.progress_rows] == [PENDING_LABEL]
    assert "暂时无法连接" in page.notice.text()
    sandbox.faults.update({"down": False})
    key = f"water:{page.submission.client_ref}"
    win.core.outbox.release(key)  # due now instead of after the 5 s backoff
    qtbot.waitUntil(lambda: not page.submission.pending
                    and PENDING_LABEL not in page.done_label.text(), timeout=20000)
    assert page.submission.application_no in page.done_label.text()
    assert PENDING_LABEL not in page.done_label.text()
    win.core.outbox.release(key)
    win.core.outbox.deliver_due()
    assert len(sandbox.utilities.applications) == 1
    assert len(sandbox.sms.messages(PHONE)) == 1


@pytest.mark.cups
def test_printer_out_of_paper_then_prints_once(qtbot, shell, sandbox, private_cups,
                                               previews):  # noqa: F811
    from workstation.config import PrintersConfig

    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    person = sandbox.world.sample_person(RESIDENT)
    win = shell(printers=PrintersConfig(a4=printer.name, cups_server=private_cups.socket))
    open_page(qtbot, win)
    page = sign_in_by_code(qtbot, win, sandbox, person.id_number)
    residential_form(qtbot, page)
    fill_water(qtbot, page)
    submit(qtbot, page)
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: page.print_outcome is not None and not page.is_busy, timeout=30000)
    assert "缺纸" in page.print_label.text() and page.print_button.text() == "继续打印"
    assert "已提交" in page.print_label.text()
    printer.set_fault(None)
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: not page.is_busy and page.print_outcome.status.terminal,
                    timeout=30000)
    assert page.print_outcome.status.state.value == "completed"
    assert len(printer.outputs()) == 1 and len(previews) == 1


# -- drafts and the idle timeout -----------------------------------------------------------------


def test_draft_is_restored_and_idle_timeout_wipes_what_was_not_saved(qtbot, shell, sandbox):
    person = sandbox.world.sample_person(RESIDENT)
    win = shell()
    open_page(qtbot, win)
    page = sign_in_by_code(qtbot, win, sandbox, person.id_number)
    assert not page.draft_label.isVisible()
    residential_form(qtbot, page)
    key_in(qtbot, page, "phone", PHONE)
    pick(qtbot, page, "reason", "增容报装")
    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: "已暂存" in page.notice.text(), timeout=5000)
    key_in(qtbot, page, "people", "6")  # typed after saving: not in the draft
    win.idle._tick.setInterval(10)  # a "second" of 10 ms
    win.idle.reset()
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=10000)
    assert win.stack.currentWidget() is win.launcher_scroll and not win.pages
    win.idle._tick.setInterval(1000)
    win.idle.reset()

    open_page(qtbot, win)
    page = sign_in_by_code(qtbot, win, sandbox, person.id_number)
    qtbot.waitUntil(lambda: page.draft_label.isVisible(), timeout=5000)
    assert "暂存" in page.draft_label.text()
    residential_form(qtbot, page)
    values = page.form_values()
    assert values["phone"] == PHONE and values["reason"] == "增容报装"
    assert values["people"] == ""  # lost with the idle timeout, as it was never saved
    assert "已恢复" in page.prefill_label.text()
    fill_water(qtbot, page)
    submit(qtbot, page)
    # submitted: the draft is gone
    win.core.sessions.end("finished")
    qtbot.waitUntil(lambda: not win.pages, timeout=5000)
    open_page(qtbot, win)
    page = sign_in_by_code(qtbot, win, sandbox, person.id_number)
    assert page.draft is None and not page.draft_label.isVisible()


def test_other_applicant_sees_no_draft_and_card_sign_in_works(qtbot, shell, sandbox,
                                                               virtual_card):
    """GIVEN a draft of one citizen WHEN another signs in with their social security card THEN
    they start empty; the progress screen lists only their own applications."""
    from devices.cards.pcsc import PcscCardReader
    from devices.cards.simulated import SocialSecurityCardProfile
    from sandbox.cards import card_data_for
    from tests.helpers.pcsc_fixtures import READER

    first = sandbox.world.sample_person(RESIDENT)
    other = sandbox.world.sample_person(11)
    win = shell()
    open_page(qtbot, win)
    page = sign_in_by_code(qtbot, win, sandbox, first.id_number)
    residential_form(qtbot, page)
    key_in(qtbot, page, "phone", PHONE)
    click(qtbot, page.save_button)
    qtbot.waitUntil(lambda: "已暂存" in page.notice.text(), timeout=5000)
    win.core.sessions.end("finished")
    qtbot.waitUntil(lambda: not win.pages, timeout=5000)

    win.attach_card_reader(PcscCardReader(READER))
    try:
        qtbot.waitUntil(lambda: "就绪" in win.reader_label.text(), timeout=10000)
        open_page(qtbot, win)
        virtual_card.insert(SocialSecurityCardProfile.from_json(
            card_data_for(other.id_number, sandbox.world)))
        qtbot.waitUntil(lambda: isinstance(win.stack.currentWidget(), UtilityPage)
                        and current(win).applicant is not None and not current(win).is_busy,
                        timeout=10000)
        page = current(win)
        assert page.applicant.holder_id == other.id_number and page.draft is None
        click(qtbot, page.progress_button)
        qtbot.waitUntil(lambda: page.steps.currentWidget() is page.progress_step
                        and not page.is_busy, timeout=10000)
        assert page.progress_rows == ()
    finally:
        win.detach_card_reader()


def test_counter_takes_the_applicant_the_clerk_already_identified(qtbot, shell, sandbox):
    from workstation.api import Applicant, HolderKind, IdentifiedBy

    person = sandbox.world.sample_person(RESIDENT)
    win = shell(kiosk=False)
    win.core.begin_session(Applicant(kind=HolderKind.PERSON, holder_id=person.id_number,
                                     name=person.name, identified_by=IdentifiedBy.CLERK))
    page = open_page(qtbot, win, "gas_connection")
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.choose_step
                    and not page.is_busy, timeout=5000)
    assert page.applicant.holder_id == person.id_number
