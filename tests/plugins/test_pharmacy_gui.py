"""S1 药店买药 driven end to end through the shell: the e-voucher over the QR paths (keyboard
wedge and camera frames), the sandbox's pharmacy platform over real HTTP, the till's log in the
workstation database, receipts to the case folder or a private CUPS queue."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pypdf import PdfReader
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel

from plugins.pharmacy.logic import ATTEMPT, SETTLEMENT, yuan
from plugins.pharmacy.page import PharmacyPage
from sandbox.mi_accounts import ACTIVE, EMPLOYEE, RESIDENT, SUSPENDED
from workstation.ui.main_window import MainWindow

SOURCES = {"hubei_mi_official_account": "湖北医疗保障公众号", "my_mi_voucher": "我的医保凭证小程序",
           "alipay": "支付宝医保电子凭证", "nhsa_app": "国家医保服务平台App"}
WAIT = 15000


# -- set-up -----------------------------------------------------------------------------------


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
        win.stop_scanners()
        win.idle.stop()
        win.tasks.wait_for_done(10000)
        for page in list(win.pages.values()):
            if isinstance(page, PharmacyPage):
                page.tasks.wait_for_done(10000)


def roll80_queue(cups: Any) -> tuple[str, Path]:
    """A PDF file queue whose driver knows only 80 mm roll paper, as a receipt printer's does
    (the generic PDF driver would put the receipt on Letter)."""
    source = cups.ppd.read_text()
    size = '"<</PageSize[227 842]>>setpagedevice"'
    for key, entry in (("PageSize", size), ("PageRegion", size),
                       ("ImageableArea", '"0 0 227 842"'), ("PaperDimension", '"227 842"')):
        source = source.replace(f"*Default{key}: Letter",
                                f"*Default{key}: Roll80\n*{key} Roll80/80mm Roll: {entry}")
    ppd = cups.base / "roll80.ppd"
    ppd.write_text(source)
    name = cups.unique("receipt")
    out = cups.base / "out" / f"{name}.pdf"
    cups.run("lpadmin", "-p", name, "-E", "-v", f"file://{out}", "-P", str(ppd))
    return name, out


def employee(sandbox: Any, *, min_balance: int = 0) -> Any:
    return sandbox.mi_accounts.find(lambda r: r.insurance_type == EMPLOYEE and r.status == ACTIVE
                                    and r.account_balance_fen >= min_balance)


def resident(sandbox: Any) -> Any:
    return sandbox.mi_accounts.find(lambda r: r.insurance_type == RESIDENT and r.status == ACTIVE)


def uninsured(sandbox: Any) -> Any:
    return next(c for c in sandbox.world.citizens if sandbox.mi_accounts.insured(c.id_number)
                is None)


def open_till(qtbot: Any, win: MainWindow) -> PharmacyPage:
    qtbot.mouseClick(win.launcher.tiles["pharmacy"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, PharmacyPage)
    qtbot.waitUntil(lambda: page.catalogue is not None and not page.is_busy, timeout=WAIT)
    return page


def current(win: MainWindow) -> PharmacyPage:
    page = win.stack.currentWidget()
    assert isinstance(page, PharmacyPage)
    return page


def identified(qtbot: Any, win: MainWindow, before: Any, holder_id: str) -> PharmacyPage:
    """The fresh page the scan opened, once the customer is shown."""
    def ready() -> bool:
        page = win.stack.currentWidget()
        return (isinstance(page, PharmacyPage) and page is not before
                and page.customer is not None and page.customer.holder_id == holder_id
                and not page.is_busy and page.showing("sale"))

    qtbot.waitUntil(ready, timeout=WAIT)
    return current(win)


def scan_voucher(qtbot: Any, win: MainWindow, sandbox: Any, holder_id: str,
                 source: str = "alipay") -> PharmacyPage:
    before = win.stack.currentWidget()
    code, _ = sandbox.issue_code(holder_id, kind="mi_voucher", source=source)
    win.code_scanned(code)  # what the keyboard-wedge and serial scanners deliver
    return identified(qtbot, win, before, holder_id)


def camera_frame(payload: str, *, width: int = 1280, height: int = 720,
                 module_px: int = 4) -> np.ndarray:
    """A camera frame of a phone screen showing ``payload`` (BGR, like OpenCV delivers)."""
    from devices.qr.corpus import render_code

    code = render_code(payload.encode("utf-8"), module_px)
    frame = np.full((height, width), 96, dtype=np.uint8)  # a dim counter top
    y, x = (height - code.shape[0]) // 2, (width - code.shape[1]) // 2 + 40
    frame[y - 20:y + code.shape[0] + 20, x - 20:x + code.shape[1] + 20] = 250  # the screen
    frame[y:y + code.shape[0], x:x + code.shape[1]] = code
    return np.repeat(frame[:, :, None], 3, axis=2)


def scan_by_camera(qtbot: Any, win: MainWindow, payload: str) -> None:
    """Offer one frame through the camera source's own chain: FrameScanner → decoder chain →
    the shell's scanner bridge → ``code_bytes_scanned`` on the GUI thread."""
    from devices.qr.decoders import DecoderChain
    from devices.qr.sources import CameraScanner, FrameScanner, FrameSource
    from workstation.ui.scanners import ScannerBridge

    bridge = ScannerBridge(win)
    bridge.code.connect(win.code_bytes_scanned)
    chain = DecoderChain.from_names(win.core.config.devices.qr_decoders)
    frames = FrameScanner(chain, bridge.from_device_thread)
    camera = CameraScanner(FrameSource([camera_frame(payload)]), frames)
    camera.start()
    qtbot.waitUntil(lambda: camera.finished.is_set() and frames.idle(), timeout=WAIT)
    camera.stop()
    frames.close()
    assert frames.decoded == 1


def search_and_add(qtbot: Any, page: PharmacyPage, text: str) -> None:
    page.search_field.setFocus()
    page.search_field.setText(text)
    qtbot.keyClick(page.search_field, Qt.Key.Key_Return)


def drug(sandbox: Any, name: str) -> Any:
    return sandbox.pharmacy.drug_by_name(name)


def tick_prescription(page: PharmacyPage, code: str, number: str) -> None:
    tick, field = page.rx_fields(code)
    assert tick is not None and field is not None
    tick.setChecked(True)
    field.setText(number)


def to_confirmation(qtbot: Any, page: PharmacyPage) -> None:
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.confirm_view
                    and not page.is_busy, timeout=WAIT)


def confirm_and_wait(qtbot: Any, page: PharmacyPage) -> None:
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.done_view
                    and page.receipt is not None and not page.is_busy, timeout=WAIT)


def pdf_text(data: bytes | Path) -> str:
    import io

    raw = data.read_bytes() if isinstance(data, Path) else data
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(raw)).pages)


def simple_basket(qtbot: Any, page: PharmacyPage, sandbox: Any) -> None:
    """阿莫西林 (甲, Rx) ×2 with its prescription, 氯雷他定 (乙, OTC), 维生素C (丙)."""
    amox = drug(sandbox, "阿莫西林胶囊")
    search_and_add(qtbot, page, "AMXL")
    page.basket.set_qty(amox.code, 2)
    page._refresh_basket()
    tick_prescription(page, amox.code, "CF20261128-0031")
    search_and_add(qtbot, page, "氯雷他定")
    search_and_add(qtbot, page, drug(sandbox, "维生素C片").barcode)


# -- the scenario -----------------------------------------------------------------------------


def test_voucher_basket_split_confirm_and_receipt(qtbot, core, window, sandbox, caplog):
    """GIVEN an employee with a personal account WHEN the clerk scans the e-voucher, builds a
    basket (pinyin, name and barcode search, quantity, a removed line, a prescription checked)
    and the customer confirms the split THEN the platform settled once, the account paid its
    part, the receipt (masked) is kept, and the till's log has the settlement."""
    import logging

    caplog.set_level(logging.DEBUG)
    person = employee(sandbox, min_balance=100_000)
    win = window(core)
    till = open_till(qtbot, win)
    assert "医保电子凭证" in till.prompt.rows["mi_voucher"].text()
    page = scan_voucher(qtbot, win, sandbox, person.holder_id, source="alipay")
    assert page is not till and page.stack.currentWidget() is page.sale_view
    card = page.card
    assert person.name in card.name.text()
    assert person.holder_id not in card.id_number.text()
    assert person.holder_id[:6] + "********" + person.holder_id[-4:] in card.id_number.text()
    assert "职工基本医疗保险" in card.scheme.text() and "参保缴费" in card.status.text()
    assert f"¥{yuan(person.account_balance_fen)}" in card.balance.text()
    assert "支付宝医保电子凭证" in card.source.text()

    amox, vitc = drug(sandbox, "阿莫西林胶囊"), drug(sandbox, "维生素C片")
    search_and_add(qtbot, page, "amxl")  # pinyin initials, lower case
    search_and_add(qtbot, page, "氯雷他定")  # part of the name
    search_and_add(qtbot, page, vitc.barcode)  # a barcode scan into the field
    search_and_add(qtbot, page, "FFGC")  # 复方甘草片, removed again below
    assert [ln.drug.name for ln in page.basket.lines] == ["阿莫西林胶囊", "氯雷他定片", "维生素C片",
                                                         "复方甘草片"]
    remove = page.basket_table.cellWidget(3, 5)
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert len(page.basket) == 3
    qty = page.basket_table.cellWidget(0, 2)
    qty.setValue(2)
    assert page.basket.line(amox.code).qty == 2
    assert "合计 ¥" + yuan(2 * 1280 + 1950 + 350) in page.total_label.text()

    # a voucher scanned by a wedge scanner while the search field has the focus lands there:
    # it is recognised as a code, not taken for a drug, and the basket is unchanged
    other, _ = sandbox.issue_code(person.holder_id, kind="mi_voucher", source="nhsa_app")
    search_and_add(qtbot, page, other)
    assert "二维码" in page.notice.text() and len(page.basket) == 3
    assert page.search_field.text() == ""

    # a prescription drug needs the prescription checked and its number: nothing is sent
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    assert page.problems_label.isVisible() and "阿莫西林胶囊" in page.problems_label.text()
    assert page.stack.currentWidget() is page.sale_view
    tick_prescription(page, amox.code, "CF20261128-0031")

    to_confirmation(qtbot, page)
    split = page.split
    assert split is not None
    # 甲 Rx: 60 % from the fund; 乙: 10 % first, the rest and the Rx remainder from the account;
    # 丙: cash
    assert split.total_fen == 2560 + 1950 + 350
    assert split.fund_fen == 2560 * 60 // 100
    assert split.cash_fen == 350 and split.account_short_fen == 0
    assert split.account_fen == split.total_fen - split.fund_fen - split.cash_fen
    assert page.split_labels["fund"].text() == yuan(split.fund_fen)
    assert page.split_labels["cash"].text() == yuan(350)
    assert sandbox.pharmacy.settlements_of(person.holder_id) == []  # a preview settles nothing

    confirm_and_wait(qtbot, page)
    done = sandbox.pharmacy.settlements_of(person.holder_id)
    assert len(done) == 1 and done[0]["total_fen"] == split.total_fen
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen - split.account_fen
    sid = done[0]["settlement_id"]
    assert sid in page.done_body.text() and "请收取现金 ¥3.50" in page.cash_prompt.text()
    # no receipt printer configured: the receipt is kept as a PDF in the settlement's folder
    assert page.print_outcome.destination == "file"
    pdf = Path(page.receipt.path)
    assert pdf.parent.name == sid and pdf.parent.parent == core.config.case_dir
    text = pdf_text(pdf)
    for expected in ("医保结算小票", sid, "阿莫西林胶囊", "CF20261128-0031", "统筹基金支付",
                     yuan(split.fund_fen), "个人账户余额", "支付宝医保电子凭证",
                     person.holder_id[:6] + "********"):
        assert expected in text, expected
    assert person.holder_id not in text and person.name not in text

    record = core.records.scoped("pharmacy").get(SETTLEMENT, sid)
    assert record is not None and record.state == "settled"
    attempts = core.records.scoped("pharmacy").find(ATTEMPT)
    assert [a.state for a in attempts] == ["settled"]
    core.drain()
    kinds = [e.kind for e in core.audit.events(limit=50)]
    assert "mi_settlement" in kinds and "document_issued" in kinds and "print" in kinds
    for rec in caplog.records:
        message = rec.getMessage()
        assert person.holder_id not in message and person.name not in message

    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    # the till stays open: a fresh page, with nothing of this customer, waits for the next one
    qtbot.waitUntil(lambda: core.sessions.current is None
                    and isinstance(win.stack.currentWidget(), PharmacyPage)
                    and win.stack.currentWidget() is not page, timeout=WAIT)
    assert list(win.pages) == ["pharmacy"]
    assert person.name not in "\n".join(lbl.text() for lbl in win.stack.currentWidget()
                                        .findChildren(QLabel))


# -- identification ---------------------------------------------------------------------------


class StepClock:
    """Each reading ``step`` seconds after the last: the key burst of a scanner."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_keyboard_wedge_burst_identifies_the_customer(qtbot, core, window, sandbox):
    """The scanner types the voucher in a burst on the waiting till: the shell's wedge filter
    takes it as a scan (not as typing) and the customer is shown."""
    person = employee(sandbox)
    win = window(core)
    till = open_till(qtbot, win)
    assert win.wedge is not None
    win.wedge.clock = StepClock(0.003)
    code, _ = sandbox.issue_code(person.holder_id, kind="mi_voucher", source="alipay")
    till.setFocus()
    qtbot.keyClicks(till, code)
    qtbot.keyClick(till, Qt.Key.Key_Return)
    page = identified(qtbot, win, till, person.holder_id)
    assert "支付宝医保电子凭证" in page.card.source.text()


def test_each_voucher_app_identifies_the_customer(qtbot, core, window, sandbox):
    person = employee(sandbox)
    win = window(core)
    open_till(qtbot, win)
    for source, label in SOURCES.items():
        page = scan_voucher(qtbot, win, sandbox, person.holder_id, source=source)
        assert label in page.card.source.text()
        assert page.applicant.extra["code_source"] == source


def test_a_camera_frame_of_the_voucher_identifies_the_customer(qtbot, core, window, sandbox):
    person = employee(sandbox)
    win = window(core)
    till = open_till(qtbot, win)
    code, _ = sandbox.issue_code(person.holder_id, kind="mi_voucher", source="my_mi_voucher")
    scan_by_camera(qtbot, win, code)
    page = identified(qtbot, win, till, person.holder_id)
    assert "我的医保凭证小程序" in page.card.source.text()
    assert page.stack.currentWidget() is page.sale_view


def test_another_kind_of_code_is_refused_at_the_till(qtbot, core, window, sandbox):
    person = employee(sandbox)
    win = window(core)
    till = open_till(qtbot, win)
    code, _ = sandbox.issue_code(person.holder_id, kind="ehb_identity")
    win.code_scanned(code)
    qtbot.waitUntil(lambda: "本业务请使用医保电子凭证" in win.banner.text(), timeout=WAIT)
    assert core.sessions.current is None and win.stack.currentWidget() is till


def test_expired_voucher_is_refused(qtbot, core, window, sandbox):
    import datetime as dt

    person = employee(sandbox)
    win = window(core)
    till = open_till(qtbot, win)
    issued_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    sandbox.clock = lambda: issued_at  # the phone showed it five minutes ago
    code, _ = sandbox.issue_code(person.holder_id, kind="mi_voucher", source="alipay")
    sandbox.clock = lambda: dt.datetime.now(dt.UTC)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: "已过期" in win.banner.text(), timeout=WAIT)
    assert "医保码" in win.banner.text()
    assert core.sessions.current is None and till.customer is None
    assert win.stack.currentWidget() is till


def test_replayed_voucher_is_refused(qtbot, core, window, sandbox):
    person = employee(sandbox)
    win = window(core)
    open_till(qtbot, win)
    code, _ = sandbox.issue_code(person.holder_id, kind="mi_voucher", source="alipay")
    win.code_scanned(code)
    page = identified(qtbot, win, None, person.holder_id)
    session = core.sessions.current
    win.code_scanned(code)  # the same picture of the same code, shown again
    qtbot.waitUntil(lambda: "已使用过" in win.banner.text(), timeout=WAIT)
    assert core.sessions.current is session and win.stack.currentWidget() is page


def test_uninsured_customer_cannot_pay_with_insurance(qtbot, core, window, sandbox):
    person = uninsured(sandbox)
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.id_number)
    assert not page.customer.insured
    assert "未查询到参保信息" in page.card.status.text()
    assert "不能使用医保结算" in page.notice.text()
    assert not page.settle_button.isEnabled()


def test_suspended_customer_cannot_pay_with_insurance(qtbot, core, window, sandbox):
    person = sandbox.mi_accounts.find(lambda r: r.status == SUSPENDED)
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    assert "暂停缴费" in page.card.status.text()
    assert "医保待遇暂停" in page.notice.text()
    assert not page.settle_button.isEnabled()
    search_and_add(qtbot, page, "氯雷他定")
    page.preview()  # even if asked directly, nothing is sent
    assert page.stack.currentWidget() is page.sale_view
    # and the platform refuses it on its own
    page.customer = dataclasses.replace(page.customer, active=True)
    page.preview()
    qtbot.waitUntil(lambda: not page.is_busy and "暂停" in page.notice.text(), timeout=WAIT)
    assert sandbox.pharmacy.settlements == {}


# -- settlement faults ------------------------------------------------------------------------


def test_insufficient_balance_moves_the_rest_to_cash(qtbot, core, window, sandbox):
    person = employee(sandbox)
    sandbox.mi_accounts.debit(person.holder_id, person.account_balance_fen - 1500, ref="test")
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    assert "¥15.00" in page.card.balance.text()
    simple_basket(qtbot, page, sandbox)
    to_confirmation(qtbot, page)
    split = page.split
    assert split.account_fen == 1500 and split.account_short_fen > 0
    assert split.cash_fen == split.total_fen - split.fund_fen - 1500
    assert "个人账户余额不足" in page.split_note.text()
    assert page.split_labels["balance"].text() == "0.00"
    confirm_and_wait(qtbot, page)
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == 0
    assert "已转为现金支付" in page.cash_prompt.text()
    assert "转为现金支付" in pdf_text(page.receipt.pdf)


def test_a_resident_pays_from_the_fund_and_in_cash(qtbot, core, window, sandbox):
    person = resident(sandbox)
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id, source="hubei_mi_official_account")
    assert "城乡居民基本医疗保险" in page.card.scheme.text()
    assert "无个人账户" in page.card.balance.text()
    amlo = drug(sandbox, "苯磺酸氨氯地平片")
    search_and_add(qtbot, page, "bhsaldp")
    tick_prescription(page, amlo.code, "CF-20261128-77")
    to_confirmation(qtbot, page)
    assert page.split.fund_fen == 2600 * 50 // 100 and page.split.account_fen == 0
    assert page.split.cash_fen == 2600 - page.split.fund_fen
    assert page.split_labels["balance"].text() == "—"


def test_platform_down_while_settling_keeps_the_basket(qtbot, core, window, sandbox):
    """GIVEN the split shown WHEN the platform is down at 顾客确认支付 THEN the clerk is told,
    nothing is settled, the basket is intact; AND once it is back, 重新结算 settles once."""
    person = employee(sandbox)
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    simple_basket(qtbot, page, sandbox)
    before = [(ln.drug.code, ln.qty, ln.rx_no) for ln in page.basket.lines]
    to_confirmation(qtbot, page)
    sandbox.faults.update({"down": True})
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy and page.notice.isVisible(), timeout=WAIT)
    assert "医保信息平台暂时无法连接" in page.notice.text()
    assert "购药清单已保留" in page.notice.text()
    assert sandbox.pharmacy.settlements == {}
    assert page.confirm_button.text() == "重新结算" and page.confirm_button.isEnabled()
    key = page.basket.attempt_key
    assert key is not None
    qtbot.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    assert page.stack.currentWidget() is page.sale_view
    assert [(ln.drug.code, ln.qty, ln.rx_no) for ln in page.basket.lines] == before
    assert page.basket_table.rowCount() == 3
    assert core.records.scoped("pharmacy").get(ATTEMPT, key).state == "uncertain"

    sandbox.faults.update({"down": False})
    to_confirmation(qtbot, page)
    confirm_and_wait(qtbot, page)
    assert len(sandbox.pharmacy.settlements_of(person.holder_id)) == 1
    assert sandbox.pharmacy.settlements_of(person.holder_id)[0]["idempotency_key"] == key


def test_timeout_then_retry_settles_once(qtbot, make_core, ws_config, window, sandbox):
    """GIVEN a platform slower than the workstation's timeout WHEN the clerk confirms THEN the
    workstation gives up with a clear message while the platform does settle; AND the retry
    (same attempt key) is answered with that settlement: the account is debited once."""
    person = employee(sandbox)
    core = make_core(platform=dataclasses.replace(ws_config.platform, timeout_s=0.6))
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    simple_basket(qtbot, page, sandbox)
    to_confirmation(qtbot, page)
    sandbox.faults.update({"latency_ms": 1500})
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy and page.notice.isVisible(), timeout=WAIT)
    assert "响应超时" in page.notice.text() and "不会重复扣费" in page.notice.text()
    # the platform finishes the first try after the workstation gave up
    qtbot.waitUntil(lambda: len(sandbox.pharmacy.settlements_of(person.holder_id)) == 1,
                    timeout=WAIT)
    sandbox.faults.update({"latency_ms": 0})
    confirm_and_wait(qtbot, page)
    assert "未重复扣费" in page.notice.text()
    done = sandbox.pharmacy.settlements_of(person.holder_id)
    assert len(done) == 1 and done[0]["settlement_id"] in page.done_body.text()
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen - done[0]["account_fen"]
    records = core.records.scoped("pharmacy")
    assert [r.key for r in records.find(SETTLEMENT)] == [done[0]["settlement_id"]]


def test_double_click_on_confirm_settles_once(qtbot, core, window, sandbox):
    person = employee(sandbox)
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    simple_basket(qtbot, page, sandbox)
    to_confirmation(qtbot, page)
    sandbox.faults.update({"latency_ms": 300})
    qtbot.mouseDClick(page.confirm_button, Qt.MouseButton.LeftButton)
    page.confirm()  # and a stray second signal while the first runs
    page.confirm_button.click()
    confirm_wait = lambda: page.stack.currentWidget() is page.done_view and not page.is_busy  # noqa: E731
    qtbot.waitUntil(confirm_wait, timeout=WAIT)
    sandbox.faults.update({"latency_ms": 0})
    assert len(sandbox.pharmacy.settlements_of(person.holder_id)) == 1
    core.drain()
    assert len([e for e in core.audit.events(limit=100) if e.kind == "mi_settlement"]) == 1


# -- receipts on a real queue -----------------------------------------------------------------


@pytest.mark.cups
def test_receipt_prints_on_the_80mm_queue(qtbot, make_core, window, sandbox, private_cups):
    from workstation.config import PrintersConfig

    name, out = roll80_queue(private_cups)
    core = make_core(printers=PrintersConfig(receipt=name, cups_server=private_cups.socket))
    person = employee(sandbox)
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    simple_basket(qtbot, page, sandbox)
    to_confirmation(qtbot, page)
    confirm_and_wait(qtbot, page)
    assert page.print_outcome.printer == name
    assert page.print_outcome.status.state.value == "completed", page.print_outcome.status
    printed = PdfReader(str(out)).pages[0]
    assert round(float(printed.mediabox.width) / 72 * 25.4) == 80  # on the roll
    text = printed.extract_text()
    assert "医保结算小票" in text and person.holder_id not in text
    assert "打印完成" in page.receipt_label.text()


@pytest.mark.cups
def test_receipt_printer_out_of_paper_then_printed_once(qtbot, make_core, window, sandbox,
                                                        private_cups):
    """GIVEN the receipt printer out of paper WHEN a settlement completes THEN the clerk sees
    缺纸 (the settlement stands); AND after loading paper, 继续打印 prints it once."""
    from tests.helpers.cups_fixtures import deadline_poll
    from workstation.config import PrintersConfig

    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    core = make_core(printers=PrintersConfig(receipt=printer.name,
                                             cups_server=private_cups.socket))
    person = employee(sandbox)
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    simple_basket(qtbot, page, sandbox)
    to_confirmation(qtbot, page)
    confirm_and_wait(qtbot, page)
    assert len(sandbox.pharmacy.settlements_of(person.holder_id)) == 1
    assert "缺纸" in page.notice.text() and "结算已完成" in page.notice.text()
    assert page.continue_print_button.isVisible()
    printer.set_fault(None)
    qtbot.mouseClick(page.continue_print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy
                    and page.print_outcome.status.state.value == "completed", timeout=30000)
    assert not page.continue_print_button.isVisible()
    deadline_poll(lambda: printer.outputs(), 20, "the printed receipt")
    assert len(printer.outputs()) == 1
    assert "医保结算小票" in pdf_text(printer.outputs()[0])
    # a deliberate reprint is another copy, marked as such
    qtbot.mouseClick(page.reprint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy and "补打" in pdf_text(page.receipt.pdf),
                    timeout=30000)
    deadline_poll(lambda: len(printer.outputs()) == 2, 20, "the reprint")


# -- refunds ----------------------------------------------------------------------------------


def test_refund_with_a_reason_then_a_second_refund_is_refused(qtbot, core, window, sandbox):
    person = employee(sandbox)
    win = window(core)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    simple_basket(qtbot, page, sandbox)
    to_confirmation(qtbot, page)
    confirm_and_wait(qtbot, page)
    sid = page.outcome.settlement.settlement_id
    qtbot.mouseClick(page.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.refund_dialog is not None and page.refund_dialog.isVisible(),
                    timeout=WAIT)
    dialog = page.refund_dialog
    assert sid in dialog.summary.text() and person.holder_id not in dialog.summary.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "请选择退费原因" in dialog.error.text() and dialog.isVisible()
    dialog.reason.setCurrentIndex(dialog.reason.findData("other"))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "退费说明" in dialog.error.text() and dialog.isVisible()
    dialog.note.setPlainText("顾客过敏，医师更换用药")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.refund_outcome is not None and not page.is_busy, timeout=WAIT)
    assert not dialog.isVisible()
    assert "退费成功" in page.notice.text() and not page.refund_button.isEnabled()
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen
    text = pdf_text(page.receipt.pdf)
    assert "医保退费凭条" in text and sid in text and "顾客过敏" in text
    assert core.records.scoped("pharmacy").get(SETTLEMENT, sid).state == "refunded"

    page.open_refund(sid)  # e.g. the customer comes back with the same receipt
    qtbot.waitUntil(lambda: page.refund_dialog is not dialog and page.refund_dialog is not None
                    and page.refund_dialog.isVisible(), timeout=WAIT)
    again = page.refund_dialog
    again.reason.setCurrentIndex(again.reason.findData("returned"))
    qtbot.mouseClick(again.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy and "不能重复退费" in page.notice.text(),
                    timeout=WAIT)
    assert len([s for s in sandbox.pharmacy.settlements_of(person.holder_id)
                if s["status"] == "refunded"]) == 1
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen
    core.drain()
    kinds = [e.kind for e in core.audit.events(limit=100)]
    assert kinds.count("mi_refund") == 1 and "mi_refund_refused" in kinds


def test_the_log_finds_settlements_after_a_restart(qtbot, make_core, window, sandbox):
    """GIVEN a settlement and an attempt whose outcome is unknown WHEN the workstation is
    restarted THEN its log lists both; the attempt is confirmed with the platform and the
    settlement is refunded from the log."""
    person = employee(sandbox)
    first = make_core()
    win = window(first)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    simple_basket(qtbot, page, sandbox)
    to_confirmation(qtbot, page)
    confirm_and_wait(qtbot, page)
    sid = page.outcome.settlement.settlement_id
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.sessions.current is None, timeout=WAIT)
    open_till(qtbot, win)
    page = scan_voucher(qtbot, win, sandbox, person.holder_id)
    search_and_add(qtbot, page, "FFGC")
    to_confirmation(qtbot, page)
    sandbox.faults.update({"down": True})
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy and page.notice.isVisible(), timeout=WAIT)
    sandbox.faults.update({"down": False})
    win.close()
    first.close()

    second = make_core()  # the same data folder and database
    win = window(second)
    till = open_till(qtbot, win)
    qtbot.mouseClick(till.log_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: till.stack.currentWidget() is till.log_view and not till.is_busy,
                    timeout=WAIT)
    states = {(e.kind, e.state_label) for e in till.log_entries}
    assert states == {(SETTLEMENT, "已结算"), (ATTEMPT, "结果待确认")}
    attempt = next(e for e in till.log_entries if e.kind == ATTEMPT)
    till.select_log_entry(attempt.key)
    assert till.log_confirm_button.isEnabled() and not till.log_refund_button.isEnabled()
    qtbot.mouseClick(till.log_confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not till.is_busy and "未成功" in till.notice.text(), timeout=WAIT)
    assert [e.kind for e in till.log_entries] == [SETTLEMENT]
    till.select_log_entry(sid)
    qtbot.mouseClick(till.log_refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: till.refund_dialog is not None and till.refund_dialog.isVisible(),
                    timeout=WAIT)
    till.refund_dialog.reason.setCurrentIndex(till.refund_dialog.reason.findData("returned"))
    qtbot.mouseClick(till.refund_dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: till.refund_outcome is not None and not till.is_busy, timeout=WAIT)
    assert till.log_entries[0].state_label == "已退费"
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen
