"""S3 电子填单 without a window: the pinyin input method, forms as data, validation,
pre-filling, history in ctx.records, and the sandbox forms platform (idempotent)."""

from __future__ import annotations

import datetime as dt

import pytest

from plugins.form_filling.logic import (
    FIELD_TYPES,
    FieldSpec,
    FormDataError,
    FormInvalid,
    form_by_code,
    history,
    latest_values,
    load_forms,
    parse_form,
    prefill,
    previous_of,
    regions,
    reuse,
    submit,
    validate,
    validate_value,
)
from plugins.form_filling.pinyin import PinyinComposer, PinyinDictionary, dictionary
from workstation.api import Applicant, HolderKind, IdentifiedBy, PlatformError

TODAY = dt.date(2025, 3, 3)


# -- pinyin -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def words() -> PinyinDictionary:
    return dictionary()


def test_syllables_split_like_a_phone_keyboard(words):
    assert [p for p, _ in words.segment("zhangsan")] == ["zhang", "san"]
    assert [p for p, _ in words.segment("zhangs")] == ["zhang", "s"]  # unfinished
    assert [p for p, _ in words.segment("xian")] == ["xian"]
    assert [p for p, _ in words.segment("xi'an")] == ["xi", "an"]


def test_candidates_whole_phrase_first_then_first_syllable(words):
    assert [c.word for c in words.candidates("chibishi")][:2] == ["赤壁市", "赤壁"]
    assert words.candidates("puqijiedao")[0].word == "蒲圻街道"  # the hall's place names
    assert words.candidates("shehuibaoxian")[0].word == "社会保险"
    assert words.candidates("zhang")[0].word == "张"  # surnames first
    assert "吕" in [c.word for c in words.candidates("lv")]
    assert "女" in [c.word for c in words.candidates("nv")][:3]


def test_composer_pages_and_picks_leave_the_rest(words):
    composer = PinyinComposer(words, page_size=8)
    for ch in "zhangsan":
        composer.type(ch)
    assert composer.display() == "zhang san"
    assert composer.pages > 3
    first = [c.word for c in composer.visible()]
    composer.next_page()
    assert composer.page == 1 and [c.word for c in composer.visible()] != first
    composer.previous_page()
    index = [c.word for c in composer.visible()].index("张")
    assert composer.pick(index) == "张"
    assert composer.letters == "san"
    assert composer.pick(0) == "三" and composer.letters == ""
    assert not composer.backspace()  # nothing composing: the field's own text is next
    composer.type("1")  # digits are not pinyin
    assert composer.letters == ""


# -- forms as data ----------------------------------------------------------------------------


def test_three_forms_load_with_every_field_type():
    forms = load_forms()
    assert [f.code for f in forms][:2] == ["CB-RS-SB01", "CB-YB-JM01"]
    assert {f.code for f in forms} == {"CB-RS-SB01", "CB-YB-JM01", "CB-RS-LH01"}
    used = {f.type for form in forms for f in form.fields}
    assert used == set(FIELD_TYPES)
    assert "汉族" in form_by_code("CB-RS-SB01").field("nation").options


def test_a_bad_form_file_names_the_field():
    raw = {"code": "X", "title": "T", "department": "D",
           "section": [{"title": "S", "field": [{"key": "a", "label": "A", "type": "colour"}]}]}
    with pytest.raises(FormDataError, match=r"x\.toml: a: unknown type"):
        parse_form(raw, "x.toml")
    raw["section"][0]["field"][0] = {"key": "a", "label": "A", "prefill": ["licence.nope.x"]}
    with pytest.raises(FormDataError, match="bad prefill"):
        parse_form(raw, "x.toml")


@pytest.mark.parametrize(("spec", "value", "message"), [
    (FieldSpec("p", "手机号码", "phone"), "1397258", "请填写 11 位手机号码（或带区号的固定电话）"),
    (FieldSpec("p", "手机号码", "phone"), "0715-5321234", None),
    (FieldSpec("i", "身份证号", "id_number"), "110105194912310021", "校验"),
    (FieldSpec("d", "出生日期", "date", range="past"), "2030-01-01", "出生日期不能晚于今天"),
    (FieldSpec("d", "出生日期", "date"), "2025-02-30", "出生日期不是有效日期，请按 年-月-日 填写"),
    (FieldSpec("d", "参保日期", "date", range="recent"), "2020-01-01",
     "参保日期应在今天前后一年以内"),
    (FieldSpec("n", "邮政编码", "number", digits=6), "43730", "邮政编码应为 6 位数字"),
    (FieldSpec("n", "年度", "number", min=2024), "2019", "年度不能小于 2024"),
    (FieldSpec("n", "年度", "number"), "二〇二五", "年度只能填写数字"),
    (FieldSpec("c", "性别", "choice", options=("男", "女")), "M", "请从列表中选择性别"),
    (FieldSpec("r", "参保地", "region"), "火星", "请从列表中选择参保地"),
    (FieldSpec("a", "地址", "address"), "赤壁", "地址过短，请填写到门牌号"),
    (FieldSpec("m", "姓名", "name", required=True), " ", "请填写姓名"),
    (FieldSpec("m", "姓名", "name"), "张3", "姓名"),
])
def test_field_validation_messages(spec, value, message):
    got = validate_value(spec, value, TODAY)
    if message is None:
        assert got is None
    else:
        assert got is not None and message in got


def person(sandbox, by: IdentifiedBy = IdentifiedBy.CODE, **extra: str) -> Applicant:
    p = sandbox.world.person_with_all_licences
    return Applicant(HolderKind.PERSON, p.id_number, p.name, by, extra=extra)


def test_prefill_order_identity_licences_history_default(sandbox):
    applicant = person(sandbox)
    form = form_by_code("CB-YB-JM01")
    household = sandbox.world.licence_of(applicant.holder_id, "household_register").fields
    got = prefill(form, applicant, {"household_register": household},
                  {"phone": "13972581234", "relation": "子"})
    assert got.values["name"] == applicant.name
    assert got.values["relation"] == household["与户主关系"]  # the licence before history
    assert got.sources["relation"] == "电子证照·居民户口簿"
    assert got.values["phone"] == "13972581234" and got.sources["phone"] == "以前填写"
    assert got.values["region"] == "湖北省咸宁市赤壁市" and got.sources["region"] == "默认值"
    assert got.values["nation"] == household["民族"] + "族"
    nothing = prefill(form, applicant, {}, {})
    assert "household_head" not in nothing.values and "phone" not in nothing.values


# -- history and submission -------------------------------------------------------------------


def complete_values(applicant: Applicant) -> dict[str, str]:
    return {"name": applicant.name, "id_number": applicant.holder_id, "sex": "男",
            "nation": "汉族", "birth_date": "1952-10-18", "hukou_type": "农业户口",
            "hukou_address": "湖北省赤壁市蒲圻街道河北社区1号", "phone": "13972581234",
            "address": "湖北省赤壁市蒲圻街道河北社区1号", "register_kind": "城乡居民",
            "start_date": dt.date.today().isoformat()}


def test_submit_keeps_history_and_the_platform_receives_once(sandbox, core, scenario_context):
    ctx = scenario_context("form_filling")
    applicant = person(sandbox)
    form = form_by_code("CB-RS-SB01")
    with pytest.raises(FormInvalid) as bad:
        submit(ctx, applicant, form, {**complete_values(applicant), "phone": "123"})
    assert "phone" in bad.value.errors and sandbox.forms.received() == []
    other = {**complete_values(applicant), "id_number": "11010519491231002X"}
    with pytest.raises(FormInvalid) as mismatch:
        submit(ctx, applicant, form, other)
    assert mismatch.value.errors["id_number"] == "公民身份号码与登录人不一致"

    done = submit(ctx, applicant, form, complete_values(applicant))
    assert done.sent and done.submission.state == "sent"
    assert len(sandbox.forms.received(applicant.holder_id)) == 1
    earlier = history(ctx, applicant)
    assert [s.key for s in earlier] == [done.submission.key]
    assert previous_of(form, earlier) == earlier[0]
    assert previous_of(form_by_code("CB-YB-JM01"), earlier) is None
    assert latest_values(earlier)["phone"] == "13972581234"
    # nobody else sees it
    stranger = Applicant(HolderKind.PERSON, sandbox.world.sample_person(1).id_number, "某",
                         IdentifiedBy.CODE)
    assert history(ctx, stranger) == []
    reused = reuse(form, {"name": applicant.name, "start_date": ""}, earlier[0])
    assert reused["start_date"] == "" and reused["hukou_type"] == "农业户口"
    # at rest the record is encrypted: the phone number is not in the database file
    files = [f for f in core.config.data_dir.rglob("*") if f.is_file()]
    assert files
    for f in files:
        assert b"13972581234" not in f.read_bytes(), f


def test_offline_submission_is_kept_and_sent_later(sandbox, scenario_context):
    ctx = scenario_context("form_filling")
    applicant = person(sandbox)
    sandbox.faults.update({"down": True})
    done = submit(ctx, applicant, form_by_code("CB-RS-SB01"), complete_values(applicant))
    assert not done.sent and history(ctx, applicant)[0].state == "queued"
    sandbox.faults.update({"down": False})
    ctx.outbox.release(f"form:{done.submission.key}")  # due now, not after the back-off
    ctx.outbox.deliver_due()
    ctx.outbox.release(f"form:{done.submission.key}")
    ctx.outbox.deliver_due()
    assert len(sandbox.forms.received()) == 1
    assert history(ctx, applicant)[0].state == "sent"


def test_validate_reports_every_bad_field(sandbox):
    applicant = person(sandbox)
    errors = validate(form_by_code("CB-RS-SB01"), {"name": applicant.name}, TODAY)
    assert {"phone", "address", "register_kind", "start_date", "hukou_type"} <= set(errors)
    assert "name" not in errors


def test_regions_data_matches_the_pickers():
    data = regions()
    assert data.divisions[0].name == "湖北省咸宁市赤壁市"
    assert dict(data.streets)["蒲圻街道"][0] == "河北社区"
    assert "河北大道" in data.roads


# -- the sandbox platform ---------------------------------------------------------------------


def test_platform_is_idempotent_and_checks_the_holder(sandbox, platform_client):
    p = sandbox.world.sample_person(2)
    body = {"submission_id": "s1", "form_code": "CB-YB-JM01", "holder_id": p.id_number,
            "values": {"name": p.name, "id_number": p.id_number, "sex": "女",
                       "phone": "13972581234", "year": "2025"}}
    path = "/api/v1/forms/submissions"
    first = platform_client.call_json("POST", path, "t", json=body, idempotency_key="k1")
    again = platform_client.call_json("POST", path, "t", json=body, idempotency_key="k1")
    assert first["duplicate"] is False and again["duplicate"] is True
    assert again["receipt_no"] == first["receipt_no"]
    assert len(sandbox.forms.received()) == 1
    with pytest.raises(PlatformError) as conflict:
        platform_client.call_json("POST", path, "t", json={**body, "case_number": "x"},
                                  idempotency_key="k1")
    assert conflict.value.status == 409
    wrong = {**body, "values": {**body["values"], "id_number": "11010519491231002X"}}
    with pytest.raises(PlatformError) as mismatch:
        platform_client.call_json("POST", path, "t", json=wrong, idempotency_key="k2")
    assert mismatch.value.code == "holder_mismatch"
    with pytest.raises(PlatformError) as unknown:
        platform_client.call_json("POST", path, "t", json={**body, "form_code": "NOPE"},
                                  idempotency_key="k3")
    assert unknown.value.code == "unknown_form"
    status = platform_client.call_json("GET", f"{path}/s1", "t")
    assert status["receipt_no"] == first["receipt_no"]
