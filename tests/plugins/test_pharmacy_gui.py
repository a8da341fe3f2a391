"""S1 药店买药 driven end to end through the shell: the e-voucher over the QR paths (keyboard
wedge and camera frames), the sandbox's pharmacy platform over real HTTP, the till's log in the
workstation database, receipts to the case folder or a private CUPS queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pypdf import PdfReader
from PyQt6.QtCore import Qt

from plugins.pharmacy.logic import ATTEMPT, SETTLEMENT, yuan
from plugins.pharmacy.page import PharmacyPage
from sandbox.mi_accounts import ACTIVE, EMPLOYEE, RESIDENT
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
            page.tasks.wait_for_done(10000) if hasattr(page, "tasks") else None


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
                and not page.is_busy)

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
    qtbot.waitUntil(lambda: core.sessions.current is None and win.pages == {}, timeout=WAIT)
