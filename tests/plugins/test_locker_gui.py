"""S4 综合收发件政务柜 end to end in the real shell: deposit at the kiosk (serial ID-card reader
or 鄂汇办 code), staff take-out / result, pickup with the SMS code; faults: a door that does not
open, five wrong codes, the platform down for the notification, the slip printer out of paper,
the idle timeout with the door open. Devices: the simulated serial ID-card reader, the QR entry
of the shell, the simulated locker board (pty); the sandbox over HTTP; CUPS for the slip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit, QPushButton

from devices.idcard.monitor import IdCardReaderMonitor
from devices.idcard.reader import SerialIdCardReader
from devices.idcard.simulator import SimulatedIdCardReaderProcess
from plugins.locker.logic import door_label, door_number
from plugins.locker.page import KioskLockerPage, StaffLockerPage
from sandbox.cards import id_card_data_for
from workstation.config import PrintersConfig
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

PHONE = "13807151234"
T = 15000


@pytest.fixture
def id_reader(tmp_path: Path) -> Any:
    with SimulatedIdCardReaderProcess(tmp_path / "id.sock") as process:
        yield process


@pytest.fixture
def kiosk(qtbot: Any, make_core: Any) -> Any:
    """``kiosk(**config) -> MainWindow``: the kiosk shell at 1920x1080 with the kiosk theme."""
    app = QApplication.instance()
    apply_theme(app, kiosk=True)
    made: list[MainWindow] = []

    def make(**overrides: Any) -> MainWindow:
        core = make_core(mode="kiosk", **overrides)
        win = MainWindow(kiosk=True)
        qtbot.addWidget(win)
        win.resize(1920, 1080)
        win.show()
        win.attach(core)
        qtbot.waitUntil(lambda: "locker" in win.launcher.tiles, timeout=T)
        made.append(win)
        return win

    yield make
    for win in made:
        win.detach_card_reader()
        win.idle.stop()
        win.tasks.wait_for_done(T)
    apply_theme(app, kiosk=False)


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def page_of(win: MainWindow) -> Any:
    return win.stack.currentWidget()


def wait_idle(qtbot: Any, win: MainWindow) -> Any:
    qtbot.waitUntil(lambda: isinstance(page_of(win), KioskLockerPage | StaffLockerPage)
                    and not page_of(win).is_busy, timeout=T)
    return page_of(win)


def open_locker(qtbot: Any, win: MainWindow) -> Any:
    click(qtbot, win.launcher.tiles["locker"])
    return wait_idle(qtbot, win)


def scan_ehb(qtbot: Any, win: MainWindow, sandbox: Any, holder_id: str) -> Any:
    before = page_of(win)
    code, _ = sandbox.issue_code(holder_id)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: page_of(win) is not before
                    and getattr(page_of(win), "applicant", None) is not None, timeout=T)
    return wait_idle(qtbot, win)


def type_digits(qtbot: Any, pad: Any, digits: str) -> None:
    for d in digits:
        qtbot.mouseClick(pad.keys[d], Qt.MouseButton.LeftButton)


def deposit_until_open(qtbot: Any, win: MainWindow, page: Any, matter: str = "不动产登记"
                       ) -> Any:
    assert page.steps.currentWidget() is page.phone_step
    type_digits(qtbot, page.phone_pad, PHONE)
    click(qtbot, page.phone_next)
    click(qtbot, page.matter_buttons[matter])
    click(qtbot, page.open_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.door_step, timeout=T)
    return page


def check_touch_sizes(page: Any) -> None:
    """Kiosk rules on the visible controls: touch targets >= 48 px, text >= 20 pt."""
    controls = [w for w in (*page.findChildren(QPushButton), *page.findChildren(QLineEdit),
                            *page.findChildren(QComboBox)) if w.isVisible()]
    for control in controls:
        assert control.height() >= 48, control.text() if hasattr(control, "text") else control
        assert control.font().pointSize() >= 20, control
    labels = [label for label in page.findChildren(QLabel) if label.isVisible()]
    assert labels
    for label in labels:
        assert label.font().pointSize() >= 20 or label.font().pixelSize() >= 27, label.text()


def result_ready(core: Any, sandbox: Any, item_key: str) -> str:
    """Staff side without the page: take out, process, put the result in; returns the code."""
    from plugins.locker.logic import LockerService

    ctx = core.context_for(core.plugins.scenario("locker"))
    svc = LockerService(ctx, ctx.locker())
    opened = svc.start_takeout(item_key)
    core.locker_simulator.close_door(door_number(opened.door))
    svc.complete(opened.door)
    svc.mark_processed(item_key)
    result = svc.start_result(item_key)
    core.locker_simulator.close_door(door_number(result.door))
    return str(svc.complete(result.door).data["code"])


@pytest.mark.cups
def test_deposit_with_the_id_card_prints_the_slip_and_notifies_the_staff(
        qtbot, kiosk, id_reader, sandbox, private_cups):
    name, out = private_cups.add_file_queue()
    win = kiosk(printers=PrintersConfig(receipt=name, cups_server=private_cups.socket))
    win.attach_card_reader(IdCardReaderMonitor(SerialIdCardReader(id_reader.port),
                                               interval_s=0.05))
    person = sandbox.world.sample_person(11)
    page = open_locker(qtbot, win)
    check_touch_sizes(page)
    click(qtbot, page.deposit_button)
    assert page.steps.currentWidget() is page.sign_in_step
    assert set(page.prompt.rows) == {"id_card", "ehb_identity"}
    check_touch_sizes(page)
    id_reader.control.request(op="place", card=id_card_data_for(person.id_number,
                                                                 sandbox.world))
    qtbot.waitUntil(lambda: page_of(win) is not page
                    and getattr(page_of(win), "applicant", None) is not None, timeout=T)
    page = wait_idle(qtbot, win)
    assert page.steps.currentWidget() is page.phone_step  # the choice made before survives
    assert person.name not in page.greeting.text() and person.id_number not in \
        page.greeting.text()
    check_touch_sizes(page)
    # a bad number is refused with a clear message, nothing moves on
    type_digits(qtbot, page.phone_pad, "1290715123")
    click(qtbot, page.phone_next)
    assert "应为 11 位" in page.phone_error.text()
    type_digits(qtbot, page.phone_pad, "4")
    click(qtbot, page.phone_next)
    assert "13-19" in page.phone_error.text()
    click(qtbot, page.phone_pad.keys["清空"])
    type_digits(qtbot, page.phone_pad, PHONE)
    click(qtbot, page.phone_next)
    assert page.steps.currentWidget() is page.matter_step
    click(qtbot, page.open_button)
    assert "请选择办理事项" in page.matter_error.text()
    click(qtbot, page.matter_buttons["不动产登记"])
    assert page.size_buttons["M"].isChecked()
    check_touch_sizes(page)
    click(qtbot, page.open_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.door_step, timeout=T)
    door = page.opened.door
    assert page.door_instruction.text() == "请放入材料并关门"
    assert door_label(door) in page.door_title.text()
    check_touch_sizes(page)
    sim = win.core.locker_simulator
    assert door_number(door) in sim.open
    sim.close_door(door_number(door))
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step, timeout=T)
    assert page.done_title.text() == "投递成功"
    qtbot.waitUntil(lambda: "凭条已打印" in page.print_label.text(), timeout=30000)
    check_touch_sizes(page)
    from tests.printing.pdf_inspect import page_texts, squash

    printed = squash("".join(page_texts(out.read_bytes())))
    assert door_label(door) in printed and page.deposited.key in printed
    assert "投递编号" in printed and person.name not in printed
    win.core.wake_outbox()
    qtbot.waitUntil(lambda: any(n["item"] == page.deposited.key
                                for n in sandbox.locker.notifications), timeout=T)
    assert sandbox.sms.messages(sandbox.locker.staff_phone)
    click(qtbot, page.finish_button)
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=T)
    assert win.stack.currentWidget() is win.launcher_scroll


def test_pickup_with_the_sms_code_after_the_staff_put_the_result_in(qtbot, kiosk, sandbox):
    win = kiosk()
    person = sandbox.world.sample_person(12)
    page = open_locker(qtbot, win)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)  # identify first, then choose
    assert page.steps.currentWidget() is page.home and page.greeting.isVisible()
    click(qtbot, page.deposit_button)
    deposit_until_open(qtbot, win, page, "户籍办理")
    win.core.locker_simulator.close_door(door_number(page.opened.door))
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step, timeout=T)
    item_key = page.deposited.key
    assert "本机未连接凭条打印机" in page.print_label.text() or page.is_busy
    qtbot.waitUntil(lambda: not page.is_busy, timeout=T)
    click(qtbot, page.finish_button)
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=T)

    code = result_ready(win.core, sandbox, item_key)
    win.core.wake_outbox()
    qtbot.waitUntil(lambda: bool(sandbox.sms.messages(PHONE)), timeout=T)
    assert code in sandbox.sms.messages(PHONE)[-1]["text"]

    page = open_locker(qtbot, win)
    click(qtbot, page.pickup_button)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)
    assert page.steps.currentWidget() is page.code_step
    check_touch_sizes(page)
    wrong = "000000" if code != "000000" else "999999"
    type_digits(qtbot, page.code_pad, wrong)
    click(qtbot, page.code_button)
    qtbot.waitUntil(lambda: "还可尝试 4 次" in page.code_error.text(), timeout=T)
    type_digits(qtbot, page.code_pad, code)
    click(qtbot, page.code_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.door_step, timeout=T)
    assert "请您领取证照后，关闭柜门" in page.door_instruction.text()
    win.core.locker_simulator.close_door(door_number(page.opened.door))
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step, timeout=T)
    assert "感谢您的使用" in page.done_title.text()
    records = win.core.records.scoped("locker")
    assert records.get("item", item_key).state == "collected"


def test_five_wrong_codes_lock_the_pickup(qtbot, kiosk, sandbox):
    win = kiosk()
    person = sandbox.world.sample_person(13)
    page = open_locker(qtbot, win)
    click(qtbot, page.deposit_button)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)
    deposit_until_open(qtbot, win, page)
    win.core.locker_simulator.close_door(door_number(page.opened.door))
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step, timeout=T)
    qtbot.waitUntil(lambda: not page.is_busy, timeout=T)
    code = result_ready(win.core, sandbox, page.deposited.key)
    click(qtbot, page.finish_button)
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=T)

    page = open_locker(qtbot, win)
    click(qtbot, page.pickup_button)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)
    wrong = "111111" if code != "111111" else "222222"
    for left in (4, 3, 2, 1):
        type_digits(qtbot, page.code_pad, wrong)
        click(qtbot, page.code_button)
        qtbot.waitUntil(lambda n=left: f"还可尝试 {n} 次" in page.code_error.text(), timeout=T)
    type_digits(qtbot, page.code_pad, wrong)
    click(qtbot, page.code_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.locked_step, timeout=T)
    assert "已锁定至" in page.locked_detail.text()
    check_touch_sizes(page)
    # the right code on a new visit is refused while locked
    click(qtbot, page.locked_home)
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=T)
    page = open_locker(qtbot, win)
    click(qtbot, page.pickup_button)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.locked_step, timeout=T)


def test_a_door_that_does_not_open_is_replaced_by_another(qtbot, kiosk, sandbox):
    win = kiosk()
    person = sandbox.world.sample_person(14)
    win.core.locker_board()
    sim = win.core.locker_simulator
    sim.jammed.update({9})  # the first medium door
    page = open_locker(qtbot, win)
    click(qtbot, page.deposit_button)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)
    deposit_until_open(qtbot, win, page)
    assert page.opened.door == "1-10" and page.opened.skipped == ("1-09",)
    assert "A-09 号柜门未能打开，已为您改用 A-10 号柜门" in page.notice.text()
    assert win.core.records.scoped("locker").get("door", "1-09").state == "fault"


def test_platform_down_keeps_the_notification_in_the_outbox(qtbot, kiosk, sandbox):
    win = kiosk()
    person = sandbox.world.sample_person(15)
    page = open_locker(qtbot, win)
    click(qtbot, page.deposit_button)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)
    sandbox.faults.update({"down": True})
    deposit_until_open(qtbot, win, page)
    win.core.locker_simulator.close_door(door_number(page.opened.door))
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step, timeout=T)
    key = f"locker:{page.deposited.key}:deposited"
    qtbot.waitUntil(lambda: (win.core.outbox.get(key) or _Never).attempts >= 1, timeout=T)
    assert not win.core.outbox.get(key).sent
    assert sandbox.locker.notifications == []
    sandbox.faults.update({"down": False})
    win.core.outbox.release(key)  # the backoff is 5 s: make it due now instead of waiting
    win.core.wake_outbox()
    qtbot.waitUntil(lambda: win.core.outbox.get(key).sent, timeout=T)
    assert [n["item"] for n in sandbox.locker.notifications] == [page.deposited.key]


class _Never:
    attempts = 0


@pytest.mark.cups
def test_slip_printer_out_of_paper_then_reprint(qtbot, kiosk, sandbox, private_cups):
    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    win = kiosk(printers=PrintersConfig(receipt=printer.name, cups_server=private_cups.socket))
    person = sandbox.world.sample_person(16)
    page = open_locker(qtbot, win)
    click(qtbot, page.deposit_button)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)
    deposit_until_open(qtbot, win, page)
    win.core.locker_simulator.close_door(door_number(page.opened.door))
    qtbot.waitUntil(lambda: "凭条未能打印" in page.print_label.text(), timeout=60000)
    assert "缺纸" in page.print_label.text() and "您的材料已存入" in page.print_label.text()
    assert page.done_title.text() == "投递成功"
    records = win.core.records.scoped("locker")
    assert records.get("item", page.deposited.key).state == "deposited"
    printer.set_fault(None)
    click(qtbot, page.reprint_button)
    qtbot.waitUntil(lambda: "凭条已打印" in page.print_label.text(), timeout=60000)
    assert len(printer.outputs()) == 1  # the waiting job printed once, no second copy


def test_idle_timeout_with_the_door_open_wipes_the_screen_and_keeps_the_deposit(
        qtbot, kiosk, sandbox):
    win = kiosk()
    person = sandbox.world.sample_person(17)
    page = open_locker(qtbot, win)
    click(qtbot, page.deposit_button)
    page = scan_ehb(qtbot, win, sandbox, person.id_number)
    deposit_until_open(qtbot, win, page)
    door, item = page.opened.door, page.opened.item
    win.idle._tick.setInterval(10)
    win.idle.reset()
    qtbot.waitUntil(lambda: win.core.sessions.current is None, timeout=T)
    assert win.stack.currentWidget() is win.launcher_scroll
    assert all(not isinstance(p, KioskLockerPage) for p in win.pages.values())
    win.idle._tick.setInterval(1000)
    win.idle.reset()
    win.core.locker_simulator.close_door(door_number(door))
    records = win.core.records.scoped("locker")
    assert records.get("door", door).state == "open"  # nobody watches: recorded as it was
    open_locker(qtbot, win)  # the next visit recovers it
    item_record = records.get("item", item)
    assert item_record.state == "deposited" and item_record.data["confirmed"] is False
    assert records.get("door", door).state == "occupied"


def test_staff_page_takes_out_processes_and_puts_the_result_in(qtbot, make_core, sandbox,
                                                               workstation_window):
    from plugins.locker.logic import LockerService, holder_of
    from workstation.api import Applicant, HolderKind, IdentifiedBy

    core = make_core()
    person = sandbox.world.sample_person(18)
    ctx = core.context_for(core.plugins.scenario("locker"))
    svc = LockerService(ctx, ctx.locker())
    svc.ensure_doors()
    who = Applicant(HolderKind.PERSON, person.id_number, person.name, IdentifiedBy.CARD)
    opened = svc.start_deposit(holder_of(who), PHONE, "公积金业务", "S")
    core.locker_simulator.close_door(door_number(opened.door))
    svc.complete(opened.door)

    win = workstation_window(core)
    win.resize(1280, 800)
    click(qtbot, win.launcher.tiles["locker"])
    page = wait_idle(qtbot, win)
    assert isinstance(page, StaffLockerPage)
    assert page.table.rowCount() == 1
    assert page.table.item(0, 3).text() == "138****1234"
    assert person.name not in page.table.item(0, 2).text()
    page.table.selectRow(0)
    click(qtbot, page.takeout_button)
    qtbot.waitUntil(lambda: page.door_status.isVisible(), timeout=T)
    assert "号柜门已打开" in page.door_status.text()
    core.locker_simulator.close_door(door_number(opened.door))
    qtbot.waitUntil(lambda: "材料已取出" in page.notice.text(), timeout=T)
    qtbot.waitUntil(lambda: not page.is_busy, timeout=T)
    page.table.selectRow(0)
    click(qtbot, page.processed_button)
    qtbot.waitUntil(lambda: "已标记为已办结" in page.notice.text(), timeout=T)
    qtbot.waitUntil(lambda: not page.is_busy, timeout=T)
    page.table.selectRow(0)
    click(qtbot, page.result_button)
    qtbot.waitUntil(lambda: page.door_status.isVisible(), timeout=T)
    result_door = page.opened.door
    core.locker_simulator.close_door(door_number(result_door))
    qtbot.waitUntil(lambda: "取件码已通过短信发送" in page.notice.text(), timeout=T)
    core.wake_outbox()
    qtbot.waitUntil(lambda: bool(sandbox.sms.messages(PHONE)), timeout=T)
    item = core.records.scoped("locker").get("item", opened.item)
    assert item.state == "result_ready" and item.data["code"] in \
        sandbox.sms.messages(PHONE)[-1]["text"]
    qtbot.waitUntil(lambda: "结果已放入" in page.table.item(0, 4).text(), timeout=T)
    qtbot.waitUntil(lambda: not page.is_busy, timeout=T)
    page.table.selectRow(0)
    click(qtbot, page.resend_button)
    qtbot.waitUntil(lambda: "已重新发送取件码" in page.notice.text(), timeout=T)
    core.wake_outbox()
    qtbot.waitUntil(lambda: len(sandbox.sms.messages(PHONE)) == 2, timeout=T)
