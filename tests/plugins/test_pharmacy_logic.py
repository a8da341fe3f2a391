"""S1 without Qt: catalogue search, the basket's checks, settling and refunding through the
till's log (real sandbox, real database), the receipts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from plugins.pharmacy import RECEIPT_TEMPLATE, REFUND_TEMPLATE
from plugins.pharmacy.logic import (
    ATTEMPT,
    NOT_SETTLED,
    REFUNDED,
    SETTLED,
    SETTLEMENT,
    Basket,
    BasketError,
    Customer,
    PharmacyClient,
    PharmacyRefused,
    PharmacyUnavailable,
    SettlementReceipt,
    check_refund_reason,
    confirm_attempt,
    looks_like_code_payload,
    refund,
    settle,
    settlement_log,
    settlement_receipt,
    yuan,
)
from plugins.pharmacy.printout import sample_refund_receipt, sample_settlement_receipt
from sandbox.mi_accounts import ACTIVE, EMPLOYEE
from workstation.api import Applicant, HolderKind, IdentifiedBy


@pytest.fixture
def ctx(scenario_context: Any, core: Any) -> Any:
    core.sign_in("demo", "demo1234")
    return scenario_context("pharmacy")


@pytest.fixture
def client(ctx: Any) -> PharmacyClient:
    return PharmacyClient(ctx.platform)


@pytest.fixture
def catalogue(client: PharmacyClient) -> Any:
    return client.catalogue()


def _customer(sandbox: Any, client: PharmacyClient) -> Customer:
    record = sandbox.mi_accounts.find(lambda r: r.insurance_type == EMPLOYEE
                                      and r.status == ACTIVE and r.account_balance_fen > 50_000)
    applicant = Applicant(HolderKind.PERSON, record.holder_id, record.name, IdentifiedBy.CODE,
                          extra={"code_source_label": "国家医保服务平台App"})
    return client.customer(applicant)


def test_money_is_formatted_without_floats():
    assert yuan(0) == "0.00" and yuan(5) == "0.05" and yuan(1280) == "12.80"
    assert yuan(123456789) == "1234567.89" and yuan(-350) == "-3.50"


def test_search_by_initials_name_barcode_and_code(catalogue):
    assert [d.name for d in catalogue.search("amxl")] == ["阿莫西林胶囊"]
    assert catalogue.search("AMXLJN")[0].name == "阿莫西林胶囊"
    names = [d.name for d in catalogue.search("他汀")]
    assert names == ["阿托伐他汀钙片", "瑞舒伐他汀钙片"]
    assert catalogue.search("阿")[0].name.startswith("阿")  # name prefix before "contains"
    amox = catalogue.search("amxl")[0]
    assert catalogue.search(amox.barcode) == [amox]
    assert catalogue.search(amox.code) == [amox]
    assert catalogue.search("   ") == [] and catalogue.search("不存在的药") == []
    # initials prefixes rank before initials found inside
    lh = [d.initials for d in catalogue.search("LH")]
    assert lh[0].startswith("LH")


def test_a_voucher_payload_is_not_taken_for_a_barcode():
    assert looks_like_code_payload("YBPZ1.eyJ2IjoxLCJraWQiOiJuaHNhLTIwMjYi.c2ln")
    assert not looks_like_code_payload("6912345678901")
    assert not looks_like_code_payload("阿莫西林")


def test_basket_checks_prescriptions_and_quantities(catalogue):
    amox = catalogue.search("amxl")[0]
    lora = catalogue.search("氯雷他定")[0]
    basket = Basket()
    assert "购药清单为空" in basket.problems()[""]
    basket.add(amox)
    basket.add(amox, 2)  # merged into one line
    basket.add(lora)
    assert [(ln.drug.name, ln.qty) for ln in basket.lines] == [("阿莫西林胶囊", 3),
                                                              ("氯雷他定片", 1)]
    assert "已核验处方" in basket.problems()[amox.code]
    basket.set_prescription(amox.code, True, "")
    assert "处方编号" in basket.problems()[amox.code]
    basket.set_prescription(amox.code, True, "处方/1")
    assert "处方编号" in basket.problems()[amox.code]
    basket.set_prescription(amox.code, True, "CF20261128-0031")
    assert basket.problems() == {}
    basket.set_qty(lora.code, 500)
    assert basket.line(lora.code).qty == 99  # clamped
    assert basket.request_lines() == [
        {"code": amox.code, "qty": 3, "prescription_no": "CF20261128-0031"},
        {"code": lora.code, "qty": 99}]
    key = basket.ensure_key()
    assert basket.ensure_key() == key  # kept until the basket is cleared
    basket.remove(lora.code)
    assert basket.total_fen == 3 * amox.price_fen and basket.ensure_key() == key
    basket.clear()
    assert len(basket) == 0 and basket.attempt_key is None
    for drug in list(catalogue.drugs)[:40]:
        basket.add(drug)
    with pytest.raises(BasketError):
        basket.add(list(catalogue.drugs)[40])


def test_refund_reason_checks():
    reasons = {"returned": "顾客退药", "other": "其他原因"}
    check_refund_reason(reasons, "returned", "")
    with pytest.raises(Exception, match="请选择退费原因"):
        check_refund_reason(reasons, "", "")
    with pytest.raises(Exception, match="退费说明"):
        check_refund_reason(reasons, "other", "  ")


def test_changed_basket_after_an_unknown_outcome_finds_the_earlier_settlement(
        ctx, client, catalogue, sandbox):
    """GIVEN a try whose answer was lost but which the platform settled WHEN the clerk edits the
    basket and retries with the same attempt key THEN the platform refuses the other basket and
    the till takes the earlier settlement: nothing is settled twice."""
    customer = _customer(sandbox, client)
    lora = catalogue.search("氯雷他定")[0]
    key = "PH-test-earlier"
    first = client.settle(customer, [{"code": lora.code, "qty": 1}], key)  # answer "lost"
    outcome = settle(ctx, client, customer, [{"code": lora.code, "qty": 2}], 3900, key)
    assert outcome.earlier and outcome.settlement.settlement_id == first.settlement_id
    assert len(sandbox.pharmacy.settlements_of(customer.holder_id)) == 1
    assert ctx.records.get(SETTLEMENT, first.settlement_id).state == SETTLED
    assert ctx.records.get(ATTEMPT, key).state == SETTLED


def test_unknown_outcome_is_logged_and_confirmed_later(ctx, client, catalogue, sandbox):
    customer = _customer(sandbox, client)
    lora = catalogue.search("氯雷他定")[0]
    sandbox.faults.update({"down": True})
    with pytest.raises(PharmacyUnavailable) as err:
        settle(ctx, client, customer, [{"code": lora.code, "qty": 1}], 1950, "PH-test-down")
    assert "购药清单已保留" in err.value.message and "不会重复扣费" in err.value.message
    entries = settlement_log(ctx)
    assert [(e.kind, e.state_label, e.total_fen) for e in entries] == [
        (ATTEMPT, "结果待确认", 1950)]
    sandbox.faults.update({"down": False})
    assert confirm_attempt(ctx, client, "PH-test-down") is None  # it never reached the platform
    assert ctx.records.get(ATTEMPT, "PH-test-down").state == NOT_SETTLED
    assert settlement_log(ctx) == []


def test_refund_known_to_the_platform_only_is_refused_and_logged(ctx, client, catalogue,
                                                                 sandbox):
    """GIVEN a settlement refunded at the platform while this till's log still says settled
    (e.g. an answer lost on the way) WHEN the clerk refunds it THEN the platform refuses, the
    log learns it was refunded, and the account was credited once."""
    customer = _customer(sandbox, client)
    lora = catalogue.search("氯雷他定")[0]
    outcome = settle(ctx, client, customer, [{"code": lora.code, "qty": 1}], 1950, "PH-t-r")
    sid = outcome.settlement.settlement_id
    client.refund(sid, "returned", "", "RF-elsewhere")
    balance = sandbox.mi_accounts.insured(customer.holder_id).account_balance_fen
    with pytest.raises(PharmacyRefused) as err:
        refund(ctx, client, sid, "wrong_charge", "")
    assert err.value.code == "already_refunded" and "不能重复退费" in err.value.message
    record = ctx.records.get(SETTLEMENT, sid)
    assert record.state == REFUNDED and record.data["refund"]["refund_id"]
    assert sandbox.mi_accounts.insured(customer.holder_id).account_balance_fen == balance
    with pytest.raises(PharmacyRefused, match="不能重复退费"):  # now refused locally
        refund(ctx, client, sid, "wrong_charge", "")


def test_refund_after_an_unknown_outcome_reuses_its_key(ctx, client, catalogue, sandbox):
    customer = _customer(sandbox, client)
    lora = catalogue.search("氯雷他定")[0]
    outcome = settle(ctx, client, customer, [{"code": lora.code, "qty": 1}], 1950, "PH-t-u")
    sid = outcome.settlement.settlement_id
    sandbox.faults.update({"down": True})
    with pytest.raises(PharmacyUnavailable):
        refund(ctx, client, sid, "returned", "未拆封")
    sandbox.faults.update({"down": False})
    assert ctx.records.get(SETTLEMENT, sid).state == "refunding"
    done = refund(ctx, client, sid, "wrong_charge", "ignored: the first reason stands")
    assert done.refund.reason == "顾客退药（药品未拆封）" and done.refund.note == "未拆封"
    assert ctx.records.get(SETTLEMENT, sid).state == REFUNDED


def test_receipt_data_refuses_unmasked_people():
    sample = sample_settlement_receipt()
    with pytest.raises(ValueError, match="masked"):
        SettlementReceipt(**{**sample.__dict__, "customer_id_masked": "421281199001010018"})


def test_receipts_render_on_80mm_paper(core):
    for key, sample in ((RECEIPT_TEMPLATE, sample_settlement_receipt()),
                        (REFUND_TEMPLATE, sample_refund_receipt())):
        template = core.templates.get(key)
        assert template.paper == "receipt80"
        pdf = template.render(sample)
        page = PdfReader(io.BytesIO(pdf)).pages[0]
        assert round(float(page.mediabox.width) / 72 * 25.4) == 80
        text = page.extract_text()
        assert "421281********0018" in text and "张*" in text
    text = PdfReader(io.BytesIO(core.templates.render(RECEIPT_TEMPLATE,
                                                      sample_settlement_receipt()))
                     ).pages[0].extract_text()
    for expected in ("医保结算小票", "统筹基金支付", "个人账户支付", "现金支付", "74.60",
                     "处方编号", "丙类"):
        assert expected in text


def test_settlement_receipt_from_the_log_masks_the_customer(ctx, client, catalogue, sandbox):
    customer = _customer(sandbox, client)
    lora = catalogue.search("氯雷他定")[0]
    outcome = settle(ctx, client, customer, [{"code": lora.code, "qty": 1}], 1950, "PH-t-m")
    receipt = settlement_receipt(outcome.record, catalogue.pharmacy)
    assert receipt.customer_id_masked == customer.masked_id != customer.holder_id
    assert receipt.voucher_source == "国家医保服务平台App"
    assert receipt.balance_after_fen == outcome.settlement.split.balance_after_fen
