"""S12/S13 without a window: the forms' rules, pre-filling, drafts and submissions through the
outbox, the receipt, and the utility sandbox's contract (idempotency, visits, states, SMS)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from plugins.utility_connection import service
from plugins.utility_connection.forms import (
    ENTERPRISE,
    GAS,
    RESIDENTIAL,
    WATER,
    FormInvalid,
    community_from_address,
    merge_draft,
    prefill_enterprise,
    prefill_person,
    validate_form,
)
from plugins.utility_connection.printout import render_receipt, sample_receipt
from workstation.api import PlatformError

ID = "11010519491231002X"
CODE = "91350100M000100Y43"


def water_residential(**changes: Any) -> dict[str, Any]:
    form = {"region": "赤壁市水务集团赤壁市供水", "owner_name": "王小明", "owner_id": ID,
            "address": "湖北省赤壁市蒲圻街道河北社区东风路9号9栋3单元601室",
            "community": "河北社区", "phone": "13812345678", "people": "4", "volume": "25",
            "reason": "首次报装"}
    form.update(changes)
    return form


def test_the_water_forms_have_exactly_the_seed_fields():
    assert [f.label for f in WATER.fields(RESIDENTIAL)] == [
        "所属地区", "业主名称", "业主身份证号码", "用水地址", "小区名称", "手机号码",
        "预估月用水人数", "预估月用水量", "申请原因"]
    assert [f.label for f in WATER.fields(ENTERPRISE)] == [
        "所属地区", "用水单位", "经办人身份证号码", "用水地址", "小区名称", "统一社会信用代码",
        "经办人", "手机号码", "预估月用水人数", "预估月用水量", "申请原因"]
    assert {"燃气灶", "热水器", "壁挂炉"} <= set(GAS.spec(RESIDENTIAL, "appliances").choices)
    assert GAS.spec(ENTERPRISE, "use_type").choices and GAS.spec(RESIDENTIAL, "volume").unit
    assert WATER.states[-2:] == ("通水", "办结") and GAS.states[-2:] == ("通气", "办结")


def test_a_good_form_is_normalised():
    form = validate_form(WATER, RESIDENTIAL, water_residential(owner_id=ID.lower(),
                                                                people="04"))
    assert form["owner_id"] == ID and form["people"] == "4"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("owner_id", "110105194912310021", "校验"),
    ("owner_id", "", "请输入业主身份证号码"),
    ("phone", "12812345678", "大陆手机号码"),
    ("phone", "1381234567", "11 位"),
    ("phone", "1381234567a", "11 位"),
    ("people", "0", "应大于 0"),
    ("people", "21", "不应超过 20人"),
    ("volume", "-3", "正整数"),
    ("volume", "201", "不应超过 200立方米"),
    ("region", "北京自来水", "请从列表中选择所属地区"),
    ("reason", "", "请选择申请原因"),
    ("address", "x" * 101, "不应超过 100"),
    ("owner_name", "王1", "姓名"),
])
def test_each_bad_field_gets_its_chinese_message(key, value, message):
    with pytest.raises(FormInvalid) as caught:
        validate_form(WATER, RESIDENTIAL, water_residential(**{key: value}))
    assert list(caught.value.errors) == [key]
    assert message in caught.value.errors[key]
    assert ID not in str(caught.value)  # field keys only


def test_enterprise_credit_code_and_gas_appliances_are_checked():
    form = {"region": GAS.spec(ENTERPRISE, "region").choices[0],
            "unit_name": "赤壁市某某餐饮有限公司", "agent_id": ID,
            "address": "湖北省赤壁市蒲圻街道蒲圻大道1号", "community": "步行街",
            "credit_code": CODE[:-1] + "0", "agent_name": "李四", "phone": "13812345678",
            "use_type": "餐饮", "appliances": [], "volume": "800", "reason": "首次报装"}
    with pytest.raises(FormInvalid) as caught:
        validate_form(GAS, ENTERPRISE, form)
    assert set(caught.value.errors) == {"credit_code", "appliances"}
    assert "校验" in caught.value.errors["credit_code"]
    form.update(credit_code=CODE, appliances=["燃气灶", "不存在的器具"])
    assert validate_form(GAS, ENTERPRISE, form)["appliances"] == ["燃气灶"]


def test_community_is_derived_only_where_the_address_names_one():
    assert community_from_address("湖北省赤壁市蒲圻街道河北社区东风路9号9栋3单元601室") == \
        "河北社区"
    assert community_from_address("湖北省赤壁市赤马港街道金色家园小区银轮大道8号2栋1单元") == \
        "金色家园小区"
    assert community_from_address("湖北省赤壁市蒲圻街道蒲圻大道12号") == ""
    assert community_from_address("湖北省咸宁市咸安区横沟桥镇甘鲁村9组13号") == ""


def test_prefill_from_licences_and_the_notes(sandbox):
    person = sandbox.world.sample_person(9)
    prop = sandbox.world.licence_of(person.id_number, "property_cert")
    filled = prefill_person(WATER, name=person.name, id_number=person.id_number,
                            property_licence=prop, property_checked=True)
    assert filled.values["address"] == prop.fields["坐落"]
    assert filled.sources["address"] == "不动产权证书" and "请核对" in filled.sources["community"]
    none = prefill_person(WATER, name=person.name, id_number=person.id_number,
                          property_licence=None, property_checked=True)
    assert "address" not in none.values and "没有您名下的不动产权证书" in none.notes[0]
    company = sandbox.world.sample_enterprise(0)
    lic = sandbox.world.licence_of(company.credit_code, "business_licence")
    ent = prefill_enterprise(GAS, agent_name="李四", agent_id=ID, business_licence=lic)
    assert ent.values["credit_code"] == company.credit_code and ent.values["unit_name"] == \
        company.name
    assert merge_draft({"a": "1", "b": "2"}, {"b": "3", "c": ""}) == {"a": "1", "b": "3"}


def test_the_receipt_carries_the_notes_and_masks_personal_data():
    from tests.printing.pdf_inspect import page_texts, squash

    for utility in (GAS, WATER):
        text = squash("".join(page_texts(render_receipt(sample_receipt(utility)))))
        assert squash("报装说明") in text and squash(utility.notes[-1]) in text
        assert squash(f"{utility.business}受理回执") in text
        assert ID not in text and "110105********002X" in text and "138****5678" in text


# -- drafts and submissions on the real core ------------------------------------------------------


def test_drafts_are_per_applicant_and_encrypted(scenario_context, core):
    ctx = scenario_context("water_connection")
    other = "421281199001011234"
    assert service.load_draft(ctx, ID) is None
    service.save_draft(ctx, ID, RESIDENTIAL, {"phone": "13812345678"})
    service.save_draft(ctx, ID, RESIDENTIAL, {"phone": "13912345678"})  # replaces
    draft = service.load_draft(ctx, ID)
    assert draft is not None and draft.values == {"phone": "13912345678"}
    assert service.load_draft(ctx, other) is None
    assert service.load_draft(scenario_context("gas_connection"), ID) is None
    assert len(ctx.records.find(service.DRAFT)) == 1
    db = core.config.data_dir
    for path in db.rglob("*.sqlite*"):
        assert b"13912345678" not in path.read_bytes()
    service.delete_drafts(ctx, ID)
    assert service.load_draft(ctx, ID) is None


def test_submission_offline_then_sent_once_with_its_number(scenario_context, core, sandbox):
    ctx = scenario_context("water_connection")
    form = validate_form(WATER, RESIDENTIAL, water_residential())
    ref = service.new_client_ref(ctx, WATER)
    sandbox.faults.update({"down": True})
    sub = service.submit(ctx, WATER, RESIDENTIAL, form, holder_id=ID,
                         licences_used=["property_cert"], client_ref=ref)
    assert sub.pending and sub.state == "待提交（平台恢复后自动提交）"
    again = service.submit(ctx, WATER, RESIDENTIAL, form, holder_id=ID,
                           licences_used=["property_cert"], client_ref=ref)
    assert again.pending and len(ctx.records.find(service.APPLICATION)) == 1
    offline = service.progress(ctx, ID)
    assert not offline.online and [r.pending for r in offline.rows] == [True]
    sandbox.faults.update({"down": False})
    core.outbox.release(f"water:{ref}")
    [synced] = service.refresh_pending(ctx, ID)
    assert not synced.pending and synced.application_no.startswith("SW")
    assert len(sandbox.utilities.applications) == 1
    rows = service.progress(ctx, ID).rows
    assert [(r.number, r.state) for r in rows] == [(synced.application_no, "受理")]


# -- the utility sandbox ------------------------------------------------------------------------


def body(utility: str = "water", **changes: Any) -> dict[str, Any]:
    form = water_residential() if utility == "water" else {
        **water_residential(), "appliances": ["燃气灶"]}
    return {"client_ref": "T1", "variant": "residential", "holder_id": ID, "form": form,
            "licences_used": [], **changes}


def post(client: Any, utility: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    return dict(client.call_json("POST", f"/api/v1/utilities/{utility}/applications", "t",
                                 json=data, idempotency_key=key))


def test_sandbox_is_idempotent_schedules_visits_and_refuses_bad_forms(platform_client,
                                                                      sandbox):
    first = post(platform_client, "water", body(), "k1")
    assert first["duplicate"] is False and first["state"] == "受理"
    assert post(platform_client, "water", body(), "k1") == {**first, "duplicate": True}
    with pytest.raises(PlatformError) as conflict:
        post(platform_client, "water", body(client_ref="T2"), "k1")
    assert conflict.value.status == 409
    visits = [post(platform_client, "water", body(client_ref=f"T{i}"), f"v{i}")["visit"]
              for i in range(2, 5)]
    assert visits[0]["from"] == "09:00" and visits[1]["from"] == "14:00"  # two per slot
    assert len(sandbox.utilities.applications) == 4
    day = dt.date.fromisoformat(first["visit"]["date"])
    assert day.weekday() != 6
    with pytest.raises(PlatformError) as bad:
        post(platform_client, "water", body(form={**water_residential(), "phone": "123"}), "b")
    assert bad.value.status == 400 and "手机号码" in bad.value.message
    with pytest.raises(PlatformError) as gas:
        post(platform_client, "gas", body(), "g")  # no appliances
    assert "燃气器具" in gas.value.message


def test_sandbox_states_and_sms_and_query_of_both_utilities(platform_client, sandbox):
    water = post(platform_client, "water", body(), "w")
    gas = post(platform_client, "gas", body("gas"), "g")
    assert gas["application_no"].startswith("RQ")
    for expected in ("勘查", "施工", "通气", "办结"):
        assert sandbox.utilities.advance(gas["application_no"])["state"] == expected
    with pytest.raises(Exception, match="409"):
        sandbox.utilities.advance(gas["application_no"])
    texts = [m["text"] for m in sandbox.sms.messages("13812345678")]
    assert len(texts) == 6 and texts[0].startswith("【赤壁水务集团】")
    assert "【赤壁华润燃气】" in texts[-1] and "办结" in texts[-1]
    found = platform_client.call_json("POST", "/api/v1/utilities/applications/query", "t",
                                      json={"holder_id": ID})["applications"]
    assert [a["application_no"] for a in found] == [gas["application_no"],
                                                    water["application_no"]]
    assert [h["state"] for h in found[0]["history"]] == list(GAS.states)
