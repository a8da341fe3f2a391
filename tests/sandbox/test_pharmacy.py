"""The sandbox's pharmacy platform (S1) over real HTTP: catalogue, split rules, idempotent
settlement (also under concurrent retries), refunds once, refusals."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sandbox.mi_accounts import ACTIVE, EMPLOYEE, RESIDENT, SUSPENDED
from sandbox.pharmacy import CATALOGUE, ean13
from workstation.services.platform import PlatformError, PlatformUnavailable


def _drug(sandbox: Any, name: str) -> Any:
    return sandbox.pharmacy.drug_by_name(name)


def _employee(sandbox: Any) -> Any:
    return sandbox.mi_accounts.find(lambda r: r.insurance_type == EMPLOYEE and r.status == ACTIVE
                                    and r.account_balance_fen > 50_000)


def _settle(client: Any, holder_id: str, lines: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return client.call_json("POST", "/api/v1/pharmacy/settlements", "t",
                            json={"holder_id": holder_id, "lines": lines}, idempotency_key=key)


def _preview(client: Any, holder_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return client.call_json("POST", "/api/v1/pharmacy/settlements/preview", "t",
                            json={"holder_id": holder_id, "lines": lines})


def test_catalogue_has_sixty_odd_realistic_drugs(platform_client):
    data = platform_client.call_json("GET", "/api/v1/pharmacy/catalogue", "t")
    drugs = data["drugs"]
    assert 55 <= len(drugs) <= 70
    assert {d["category"] for d in drugs} == {"甲", "乙", "丙"}
    assert any(d["rx"] for d in drugs) and any(not d["rx"] for d in drugs)
    for d in drugs:
        assert isinstance(d["price_fen"], int) and d["price_fen"] > 0
        assert len(d["barcode"]) == 13 and ean13(d["barcode"][:12]) == d["barcode"]
        assert d["initials"].isalnum() and d["initials"].isupper()
    assert len({d["barcode"] for d in drugs}) == len(drugs)
    assert len({d["code"] for d in drugs}) == len(drugs)
    assert data["pharmacy"]["name"] and "returned" in data["refund_reasons"]


def test_split_rules_for_an_employee(sandbox, platform_client):
    """甲 Rx with prescription: 60 % fund; 乙: 10 % first self-pay; 丙: cash; the personal
    account pays every in-scope remainder and the 乙 self-pay."""
    person = _employee(sandbox)
    amox, lora, vitc = (_drug(sandbox, n) for n in ("阿莫西林胶囊", "氯雷他定片", "维生素C片"))
    split = _preview(platform_client, person.holder_id, [
        {"code": amox.code, "qty": 3, "prescription_no": "CF-1"},
        {"code": lora.code, "qty": 1}, {"code": vitc.code, "qty": 2}])
    assert split["total_fen"] == 3 * 1280 + 1950 + 2 * 350
    assert split["fund_fen"] == 3 * 1280 * 60 // 100
    assert split["self_pay_first_fen"] == 195
    assert split["out_of_scope_fen"] == 700
    assert split["cash_fen"] == 700
    assert split["account_fen"] == split["total_fen"] - split["fund_fen"] - 700
    assert split["balance_after_fen"] == person.account_balance_fen - split["account_fen"]
    # a preview changes nothing
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen


def test_a_resident_has_no_account_and_pays_cash_beyond_the_fund(sandbox, platform_client):
    person = sandbox.mi_accounts.find(lambda r: r.insurance_type == RESIDENT
                                      and r.status == ACTIVE)
    amlo = _drug(sandbox, "苯磺酸氨氯地平片")
    split = _preview(platform_client, person.holder_id,
                     [{"code": amlo.code, "qty": 2, "prescription_no": "CF-2"}])
    assert split["fund_fen"] == 2 * 2600 * 50 // 100 and split["account_fen"] == 0
    assert split["cash_fen"] == 2 * 2600 - split["fund_fen"]


def test_low_balance_moves_the_rest_to_cash(sandbox, platform_client):
    person = _employee(sandbox)
    sandbox.mi_accounts.debit(person.holder_id, person.account_balance_fen - 1000, ref="test")
    insulin = _drug(sandbox, "甘精胰岛素注射液")
    split = _preview(platform_client, person.holder_id,
                     [{"code": insulin.code, "qty": 1, "prescription_no": "CF-3"}])
    assert split["account_fen"] == 1000 and split["account_short_fen"] > 0
    assert split["cash_fen"] == 16800 - split["fund_fen"] - 1000


def test_prescription_drug_without_prescription_is_refused(sandbox, platform_client):
    person = _employee(sandbox)
    with pytest.raises(PlatformError) as err:
        _preview(platform_client, person.holder_id,
                 [{"code": _drug(sandbox, "阿莫西林胶囊").code, "qty": 1}])
    assert err.value.code == "prescription_required" and "阿莫西林胶囊" in err.value.message


@pytest.mark.parametrize("body", [
    {"lines": []},
    {"lines": [{"code": "NOPE", "qty": 1}]},
    {"lines": [{"code": next(iter(CATALOGUE)), "qty": 0}]},
    {"lines": [{"code": next(iter(CATALOGUE)), "qty": True}]},
])
def test_bad_baskets_are_refused(sandbox, platform_client, body):
    person = _employee(sandbox)
    with pytest.raises(PlatformError) as err:
        _preview(platform_client, person.holder_id, body["lines"])
    assert err.value.status == 400


def test_settlement_is_idempotent_and_debits_once(sandbox, platform_client):
    person = _employee(sandbox)
    lines = [{"code": _drug(sandbox, "氯雷他定片").code, "qty": 2}]
    first = _settle(platform_client, person.holder_id, lines, "K-1")
    again = _settle(platform_client, person.holder_id, lines, "K-1")
    assert not first["duplicate"] and again["duplicate"]
    assert again["settlement_id"] == first["settlement_id"]
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen - first["account_fen"]
    assert len(sandbox.pharmacy.settlements_of(person.holder_id)) == 1
    # the insured person's history at the medical-insurance platform has it (S7/S8 read it)
    history = sandbox.mi_accounts.insured(person.holder_id).settlements
    assert history[0]["settlement_id"] == first["settlement_id"]
    assert history[0]["kind"] == "药店购药"
    # the same key with another basket is refused: the first one stands
    with pytest.raises(PlatformError) as err:
        _settle(platform_client, person.holder_id, [{**lines[0], "qty": 3}], "K-1")
    assert err.value.code == "idempotency_conflict"
    found = platform_client.call_json("GET", "/api/v1/pharmacy/attempts/K-1", "t")
    assert found["settled"] and found["settlement"]["settlement_id"] == first["settlement_id"]
    assert not platform_client.call_json("GET", "/api/v1/pharmacy/attempts/K-2", "t")["settled"]
    with pytest.raises(PlatformError):  # the key is required
        platform_client.call_json("POST", "/api/v1/pharmacy/settlements", "t",
                                  json={"holder_id": person.holder_id, "lines": lines})


def test_concurrent_retries_of_one_attempt_settle_once(sandbox):
    """GIVEN a slow platform WHEN eight retries of one attempt arrive at once THEN one
    settlement, one debit, seven duplicates."""
    from workstation.services.platform import PlatformClient
    from workstation.testing import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

    person = _employee(sandbox)
    lines = [{"code": _drug(sandbox, "铝碳酸镁咀嚼片").code, "qty": 1}]
    sandbox.faults.update({"latency_ms": 150})
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one() -> None:
        with PlatformClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET) as client:
            answer = _settle(client, person.holder_id, lines, "K-RACE")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 8
    assert len({a["settlement_id"] for a in answers}) == 1
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 7
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen - answers[0]["account_fen"]


def test_not_insured_and_suspended_people_cannot_settle(sandbox, platform_client):
    nobody = next(c for c in sandbox.world.citizens
                  if sandbox.mi_accounts.insured(c.id_number) is None)
    answer = platform_client.call_json("POST", "/api/v1/pharmacy/insured", "t",
                                       json={"holder_id": nobody.id_number})
    assert answer == {"insured": False, "message": "未查询到参保信息"}
    lines = [{"code": _drug(sandbox, "氯雷他定片").code, "qty": 1}]
    with pytest.raises(PlatformError) as err:
        _settle(platform_client, nobody.id_number, lines, "K-N")
    assert err.value.code == "not_insured"
    suspended = sandbox.mi_accounts.find(lambda r: r.status == SUSPENDED)
    info = platform_client.call_json("POST", "/api/v1/pharmacy/insured", "t",
                                     json={"holder_id": suspended.holder_id})
    assert info["insured"] and not info["holder"]["active"]
    with pytest.raises(PlatformError) as err:
        _settle(platform_client, suspended.holder_id, lines, "K-S")
    assert err.value.code == "suspended" and "暂停" in err.value.message
    assert sandbox.pharmacy.settlements == {}


def test_refund_gives_back_once(sandbox, platform_client):
    person = _employee(sandbox)
    lines = [{"code": _drug(sandbox, "阿莫西林胶囊").code, "qty": 1, "prescription_no": "CF-9"}]
    done = _settle(platform_client, person.holder_id, lines, "K-R")
    sid = done["settlement_id"]
    path = f"/api/v1/pharmacy/settlements/{sid}/refund"
    with pytest.raises(PlatformError) as err:  # "other" needs a note
        platform_client.call_json("POST", path, "t", json={"reason_code": "other"},
                                  idempotency_key="R-0")
    assert err.value.code == "invalid_request"
    refund = platform_client.call_json("POST", path, "t", json={"reason_code": "returned",
                                                                  "reason": "未拆封"},
                                       idempotency_key="R-1")
    retry = platform_client.call_json("POST", path, "t", json={"reason_code": "returned",
                                                                 "reason": "未拆封"},
                                      idempotency_key="R-1")
    assert not refund["duplicate"] and retry["duplicate"]
    assert refund["account_fen"] == done["account_fen"] and refund["fund_fen"] == done["fund_fen"]
    assert sandbox.mi_accounts.insured(person.holder_id).account_balance_fen == \
        person.account_balance_fen
    with pytest.raises(PlatformError) as err:
        platform_client.call_json("POST", path, "t", json={"reason_code": "returned"},
                                  idempotency_key="R-2")
    assert err.value.code == "already_refunded" and "不能重复退费" in err.value.message
    assert sandbox.mi_accounts.insured(person.holder_id).settlements[0]["status"] == "refunded"
    state = platform_client.call_json("GET", f"/api/v1/pharmacy/settlements/{sid}", "t")
    assert state["status"] == "refunded" and state["refund"]["refund_id"] == refund["refund_id"]


def test_platform_down_refuses_without_settling(sandbox, platform_client):
    person = _employee(sandbox)
    sandbox.faults.update({"down": True})
    with pytest.raises(PlatformUnavailable):
        _settle(platform_client, person.holder_id,
                [{"code": _drug(sandbox, "氯雷他定片").code, "qty": 1}], "K-D")
    assert sandbox.pharmacy.settlements == {}
