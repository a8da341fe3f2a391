"""S7/S8 without a window: the checks, the medical-insurance platform over real HTTP, the
outbox and the applicant's records, the printed 参保凭证."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Any

import pytest

from plugins.medical_insurance import logic, regions
from plugins.medical_insurance.logic import FilingDraft, FormError
from workstation.api import CHINA_TZ, Applicant, HolderKind, IdentifiedBy

TODAY = dt.date(2026, 5, 10)


def insured_person(sandbox: Any, *, employee: bool = True, home_prefix: str = "4212") -> Any:
    record = sandbox.mi_accounts.find(
        lambda r: r.status == "参保缴费" and r.has_account is employee
        and r.region_code.startswith(home_prefix) and r.settlements)
    assert record is not None
    return record


def voucher_applicant(record: Any, source: str = "alipay") -> Applicant:
    labels = {"alipay": "支付宝医保电子凭证", "nhsa_app": "国家医保服务平台App"}
    return Applicant(kind=HolderKind.PERSON, holder_id=record.holder_id, name=record.name,
                     identified_by=IdentifiedBy.CODE,
                     extra={"code_format": "mi_voucher", "code_title": "医保电子凭证",
                            "code_source": source, "code_source_label": labels[source]})


# -- checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "words"), [
    ("", "请输入"), ("1381234567", "应为 11 位，已输入 10 位"), ("23812345678", "13 至 19"),
    ("12812345678", "13 至 19"), ("138123456789", "已输入 12 位"), ("138a2345678", "只能包含数字"),
])
def test_bad_phone_numbers_are_refused_with_the_reason(typed, words):
    with pytest.raises(FormError) as exc:
        logic.check_phone(typed)
    assert words in exc.value.errors["phone"]


def test_phone_number_is_normalised_and_must_change():
    assert logic.check_phone("138 1234-5678") == "13812345678"
    with pytest.raises(FormError) as exc:
        logic.check_phone("13812345678", current="13812345678")
    assert "相同" in exc.value.errors["phone"]
    assert logic.format_phone("1381234") == "138 1234"


def test_filing_form_reports_every_bad_field_at_once():
    with pytest.raises(FormError) as exc:
        logic.check_filing(FilingDraft(), today=TODAY, home_code="421281")
    assert set(exc.value.errors) == {"destination", "reason", "start", "end"}


@pytest.mark.parametrize(("draft", "field", "words"), [
    (FilingDraft("421200", "临时外出就医", TODAY, TODAY + dt.timedelta(days=10)),
     "destination", "同一统筹区"),
    (FilingDraft("420100", "临时外出就医", TODAY - dt.timedelta(days=1), TODAY),
     "start", "不能早于今天"),
    (FilingDraft("420100", "临时外出就医", TODAY + dt.timedelta(days=91),
                 TODAY + dt.timedelta(days=100)), "start", "三个月"),
    (FilingDraft("420100", "临时外出就医", TODAY, TODAY), "end", "晚于开始日期"),
    (FilingDraft("420100", "临时外出就医", TODAY, TODAY + dt.timedelta(days=181)),
     "end", "最长 6 个月"),
    (FilingDraft("440300", "异地长期居住", TODAY, TODAY + dt.timedelta(days=90)),
     "end", "至少 6 个月"),
    (FilingDraft("440300", "常驻异地工作", TODAY, TODAY + dt.timedelta(days=6 * 366)),
     "end", "最长 5 年"),
])
def test_filing_rules(draft, field, words):
    with pytest.raises(FormError) as exc:
        logic.check_filing(draft, today=TODAY, home_code="421281")
    assert words in exc.value.errors[field], exc.value.errors


def test_a_valid_filing_names_the_place():
    request = logic.check_filing(
        FilingDraft("420100", "异地转诊", TODAY, logic.add_months(TODAY, 3)),
        today=TODAY, home_code="421281")
    assert request.destination == "湖北省武汉市" and request.city_code == "420100"
    municipality = logic.check_filing(
        FilingDraft("310100", "异地长期居住", TODAY, logic.add_months(TODAY, 12)),
        today=TODAY, home_code="421281")
    assert municipality.destination == "上海市"
    assert logic.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert regions.same_area("429004", "429005") is False
    assert regions.same_area("421281", "421200") is True


def test_money_is_printed_from_fen():
    assert logic.yuan(123456) == "1,234.56" and logic.yuan(5) == "0.05"
    assert logic.yuan(-120) == "-1.20"


# -- the platform ---------------------------------------------------------------------------


def test_query_shows_status_account_and_settlements(scenario_context, sandbox):
    record = insured_person(sandbox)
    ctx = scenario_context("medical_insurance")
    overview = logic.query_overview(ctx, voucher_applicant(record))
    assert overview.insured and overview.active
    assert overview.balance_fen == record.account_balance_fen and overview.has_account
    assert [s.settlement_id for s in overview.settlements] == \
        [s["settlement_id"] for s in record.settlements[:10]]
    assert record.holder_id not in repr(overview) and record.name not in repr(overview)


def test_query_when_the_platform_is_down_says_so(scenario_context, sandbox):
    record = insured_person(sandbox)
    sandbox.faults.update({"down": True})
    with pytest.raises(logic.QueryUnavailable) as exc:
        logic.query_overview(scenario_context("medical_insurance"), voucher_applicant(record))
    assert "医保信息平台暂时无法连接" in exc.value.message


def test_not_insured_person(scenario_context, sandbox):
    citizen = next(c for c in sandbox.world.citizens
                   if sandbox.mi_accounts.insured(c.id_number) is None)
    applicant = Applicant(kind=HolderKind.PERSON, holder_id=citizen.id_number, name=citizen.name,
                          identified_by=IdentifiedBy.CODE)
    overview = logic.query_overview(scenario_context("medical_insurance"), applicant)
    assert not overview.insured
    with pytest.raises(FormError):
        logic.voucher_document(scenario_context("medical_insurance"), applicant, overview, "C1")


def _post(sandbox: Any, path: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        sandbox.url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key,
                 "X-Client-Id": "ws-demo", "Authorization": "Bearer sandbox-secret"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_platform_answers_a_repeated_key_with_the_first_answer(sandbox):
    record = insured_person(sandbox)
    body = {"holder_id": record.holder_id, "phone": "13912345678"}
    status, first = _post(sandbox, logic.MI_CONTACT_PHONE, body, "k-1")
    assert status == 200 and first["duplicate"] is False
    status, again = _post(sandbox, logic.MI_CONTACT_PHONE, body, "k-1")
    assert status == 200 and again["duplicate"] is True
    assert again["change_no"] == first["change_no"]
    assert len(sandbox.medical_insurance.phone_changes) == 1
    status, other = _post(sandbox, logic.MI_CONTACT_PHONE, {**body, "phone": "13912345679"},
                          "k-1")
    assert status == 409 and other["error"] == "idempotency_conflict"
    assert sandbox.mi_accounts.insured(record.holder_id).phone == "13912345678"
    assert sandbox.sms.messages(phone="13912345678")  # the new number is told


def test_platform_checks_for_itself(sandbox):
    """The workstation's checks are a convenience: the platform refuses bad requests too."""
    record = insured_person(sandbox)
    status, answer = _post(sandbox, logic.MI_CONTACT_PHONE,
                           {"holder_id": record.holder_id, "phone": "1234"}, "k-2")
    assert status == 400 and answer["error"] == "invalid_phone"
    today = dt.datetime.now(CHINA_TZ).date()
    base = {"holder_id": record.holder_id, "destination_code": record.region_code[:4] + "00",
            "destination_province": "湖北省", "destination_city": "咸宁市",
            "reason": "临时外出就医", "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=30)).isoformat()}
    status, answer = _post(sandbox, logic.MI_REMOTE_FILINGS, base, "k-3")
    assert status == 400 and answer["error"] == "not_remote"
    status, answer = _post(sandbox, logic.MI_REMOTE_FILINGS,
                           {**base, "destination_code": "420100",
                            "end_date": (today + dt.timedelta(days=200)).isoformat()}, "k-4")
    assert status == 400 and answer["error"] == "invalid_period"
    assert sandbox.medical_insurance.filings == []


# -- outbox and records ---------------------------------------------------------------------


def test_phone_change_reaches_the_platform_and_is_recorded(scenario_context, sandbox):
    record = insured_person(sandbox)
    ctx = scenario_context("medical_insurance")
    applicant = voucher_applicant(record)
    tx = logic.phone_transaction(ctx, applicant, "13900001111", current=record.phone)
    assert "13900001111" not in repr(tx) and record.holder_id not in repr(tx)
    state = logic.submit(ctx, applicant, tx)
    assert state.state == logic.DONE and state.label == "已变更"
    assert state.result["change_no"].startswith("YBDH")
    assert sandbox.mi_accounts.insured(record.holder_id).phone == "13900001111"
    # the same confirmation again (a second tap): nothing new is sent
    again = logic.submit(ctx, applicant, tx)
    assert again.state == logic.DONE
    assert sandbox.medical_insurance.calls == {"contact_phone": 1}
    [recorded] = ctx.records.find(logic.RECORD_KIND, holder_id=record.holder_id)
    assert recorded.key == tx.key and recorded.state == logic.DONE
    assert "13900001111" not in json.dumps(recorded.data, ensure_ascii=False)  # masked summary


def test_filing_queued_while_down_is_sent_once_when_back(core, scenario_context, sandbox):
    record = insured_person(sandbox)
    ctx = scenario_context("medical_insurance")
    applicant = voucher_applicant(record)
    today = ctx.clock().astimezone(CHINA_TZ).date()
    request = logic.check_filing(
        FilingDraft("440300", "常驻异地工作", today, logic.add_months(today, 12)),
        today=today, home_code=record.region_code)
    tx = logic.filing_transaction(ctx, applicant, request)
    sandbox.faults.update({"down": True})
    state = logic.submit(ctx, applicant, tx)
    assert state.state == logic.QUEUED and "自动提交" in state.label
    assert sandbox.medical_insurance.filings == []
    sandbox.faults.update({"down": False})
    core.outbox.release(tx.key)  # the backoff is 5 s: make it due now
    core.outbox.deliver_due()
    core.outbox.deliver_due()
    [filing] = sandbox.medical_insurance.filings
    assert filing["client_ref"] == tx.key
    overview = logic.query_overview(ctx, applicant)
    [done] = logic.history(ctx, applicant, overview.filings)
    assert done.state == logic.DONE and done.result["filing_no"] == filing["filing_no"]
    assert "备案成功" in done.label
    assert sandbox.medical_insurance.calls == {"remote_filing": 1}


def test_a_refused_filing_is_shown_with_the_platform_reason(scenario_context, sandbox):
    record = insured_person(sandbox)
    ctx = scenario_context("medical_insurance")
    applicant = voucher_applicant(record)
    today = ctx.clock().astimezone(CHINA_TZ).date()
    request = logic.check_filing(
        FilingDraft("420100", "临时外出就医", today, today + dt.timedelta(days=30)),
        today=today, home_code=record.region_code)
    first = logic.submit(ctx, applicant, logic.filing_transaction(ctx, applicant, request))
    assert first.state == logic.DONE
    overlapping = logic.submit(ctx, applicant, logic.filing_transaction(ctx, applicant, request))
    assert overlapping.state == logic.REFUSED and "已有有效备案" in overlapping.label


def test_voucher_pdf_carries_masked_data_and_the_stamp(scenario_context, sandbox):
    from tests.printing.pdf_inspect import page_texts, squash

    record = insured_person(sandbox)
    ctx = scenario_context("medical_insurance")
    applicant = voucher_applicant(record, "nhsa_app")
    overview = logic.query_overview(ctx, applicant)
    case = ctx.new_case_number()
    doc = logic.voucher_document(ctx, applicant, overview, case)
    prepared = ctx.printing.prepare(logic.TEMPLATE_KEY, doc, purpose="打印参保凭证",
                                    case_number=case, holder_id=applicant.holder_id)
    text = squash("".join(page_texts(prepared.pdf)))
    assert squash(logic.VOUCHER_TITLE) in text and squash(overview.insurance_type) in text
    assert squash(prepared.stamp.display_code) in text
    assert squash("国家医保服务平台App") in text
    assert record.holder_id not in text and record.name not in text
    assert ctx.templates.get(logic.TEMPLATE_KEY).render(logic.sample_voucher())[:4] == b"%PDF"
