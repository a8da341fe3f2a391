"""S5 without a window: the rule engine (edge cases), OCR of printed-then-photographed
materials, local face detection, and the sandbox's face service over HTTP."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

import cv2
import numpy as np
import pytest

from plugins.smart_review import samples
from plugins.smart_review.face import FaceDetector, FaceState
from plugins.smart_review.logic import matters
from plugins.smart_review.ocr import extract_fields, read_material
from plugins.smart_review.rules import (
    ReviewForm,
    RulesError,
    luhn_ok,
    normalise,
    parse_rules,
    review,
)
from workstation.api import PlatformError

TODAY = dt.date(2026, 11, 27)
MOTHER, MOTHER_ID, FATHER = "万雪", "42128119930422146X", "夏平文"


@dataclass
class FakeLicence:  # the three attributes the engine reads (test-only stand-in)
    fields: dict[str, str] = field(default_factory=dict)
    status: str = "valid"
    valid_until: dt.date | None = None


def licences(**changes: object) -> dict[str, FakeLicence | None]:
    found: dict[str, FakeLicence | None] = {
        "id_card": FakeLicence({"姓名": MOTHER, "公民身份号码": MOTHER_ID},
                               valid_until=dt.date(2045, 1, 2)),
        "marriage_cert": FakeLicence({"配偶姓名": FATHER}),
    }
    found.update(changes)  # type: ignore[arg-type]
    return found


def form(values: dict[str, dict[str, str]]) -> ReviewForm:
    f = ReviewForm()
    for material, fields in values.items():
        for key, value in fields.items():
            f.set(material, key, value)
    return f


def maternity(**kwargs: object) -> dict[str, dict[str, str]]:
    return samples.maternity_values(MOTHER, MOTHER_ID, FATHER, TODAY, **kwargs)  # type: ignore[arg-type]


def failed(results: list) -> dict[str, str]:
    return {r.label: r.reason for r in results if not r.passed}


RULES = matters()["SMART_REVIEW-MATERNITY"]
PENSION = matters()["SMART_REVIEW-RESIDENT-PENSION"]


def test_every_check_passes_for_consistent_materials():
    results = review(RULES, form(maternity()), licences(), TODAY)
    assert failed(results) == {} and len(results) == len(RULES.checks)
    assert "居民身份证·姓名“万雪”" in results[0].evidence_text()
    assert "万*" in results[0].evidence_text(masked=True)


def test_names_ids_dates_and_amounts_that_disagree_fail_with_reasons():
    values = maternity(total="5200.00", delivery="剖宫产", born_days_ago=400)
    values["birth_cert"]["mother_id"] = "421281199304221461"
    values["birth_cert"]["father_name"] = "夏平"
    values["hospital_bill"]["admitted"] = "2026年11月30日"  # after the birth, in the future
    got = failed(review(RULES, form(values), licences(), TODAY))
    assert got["母亲身份证号与居民身份证一致"] == "不一致"
    assert got["父亲姓名与结婚证配偶一致"] == "不一致"
    assert got["在出生后一年内申领"].startswith("距今400天")
    assert got["入院、分娩、出院日期先后合理"] == "先后顺序矛盾"
    assert got["医疗费用在分娩方式限额内"] == "5200.00元超过限额5000.00元"


def test_amount_exactly_at_the_limit_passes_and_unknown_delivery_fails():
    ok = failed(review(RULES, form(maternity(total="3000")), licences(), TODAY))
    assert "医疗费用在分娩方式限额内" not in ok
    values = maternity()
    values["hospital_bill"]["delivery"] = ""
    got = failed(review(RULES, form(values), licences(), TODAY))
    assert "没有“（未识别）”的限额" in got["医疗费用在分娩方式限额内"]


def test_missing_fields_and_impossible_dates():
    values = maternity()
    values["birth_cert"]["mother_name"] = ""
    values["birth_cert"]["birth_date"] = "2026年2月30日"
    got = failed(review(RULES, form(values), licences(), TODAY))
    assert got["母亲姓名与居民身份证一致"] == "未识别到出生医学证明·母亲姓名"
    assert got["出生日期有效"] == "不是有效日期"
    tomorrow = maternity(born_days_ago=-1)
    assert failed(review(RULES, form(tomorrow), licences(), TODAY))["出生日期有效"] == \
        "日期晚于今天"


def test_licence_expired_revoked_or_missing():
    expired = FakeLicence({"姓名": MOTHER, "公民身份号码": MOTHER_ID},
                          valid_until=dt.date(2026, 11, 26))
    got = failed(review(RULES, form(maternity()), licences(id_card=expired), TODAY))
    assert got == {"居民身份证在有效期内": "证照已过有效期"}
    revoked = FakeLicence({"配偶姓名": FATHER}, status="revoked")
    got = failed(review(RULES, form(maternity()), licences(marriage_cert=revoked), TODAY))
    assert got == {"结婚证有效": "证照已注销"}
    got = failed(review(RULES, form(maternity()), licences(marriage_cert=None), TODAY))
    assert got["结婚证有效"] == "未取得结婚证"
    assert got["父亲姓名与结婚证配偶一致"] == "未取得结婚证·配偶姓名"


def test_pension_age_account_and_residence():
    values = samples.pension_values(MOTHER, MOTHER_ID)
    lic = licences(household_register=FakeLicence({"住址": "湖北省咸宁市咸安区"}))
    got = failed(review(PENSION, form(values), lic, TODAY))
    assert got["年满60周岁"] == "现年33周岁，未满60周岁"
    assert got["户籍在赤壁市"] == "不含“赤壁市”"
    assert "银行账号校验位正确" not in got
    assert luhn_ok("6228480402564890018") and not luhn_ok("6228480402564890019")
    old = "421281196011271232"  # 60 today exactly
    lic = licences(id_card=FakeLicence({"姓名": MOTHER, "公民身份号码": old}),
                   household_register=FakeLicence({"住址": "湖北省赤壁市蒲圻街道"}))
    values["bank_book"]["holder_id"] = old
    assert failed(review(PENSION, form(values), lic, TODAY)) == {}


def test_normalising_ocr_text():
    spec = RULES.material("birth_cert")
    assert normalise(spec.field("mother_id"), "4212811993O422146x ") == MOTHER_ID
    assert normalise(spec.field("birth_date"), "2026 年10月 8 日") == "2026年10月8日"
    assert normalise(spec.field("baby_sex"), "性女") == "女"
    bill = RULES.material("hospital_bill")
    assert normalise(bill.field("total"), "2,680.5元") == "2680.50"


def test_a_bad_rules_file_names_the_entry():
    base = {"code": "X", "name": "测试", "licence_types": ["id_card"],
            "material": [{"key": "m", "name": "材料", "fields": [{"key": "a", "label": "甲"}]}]}
    with pytest.raises(RulesError, match=r"引用了不存在的材料字段 m\.b"):
        parse_rules({"matter": [{**base, "check": [
            {"label": "x", "rule": "date", "value": "m.b"}]}]})
    with pytest.raises(RulesError, match="引用的证照未在事项中声明"):
        parse_rules({"matter": [{**base, "check": [
            {"label": "x", "rule": "equal", "left": "m.a",
             "right": "licence.marriage_cert.持证人"}]}]})
    with pytest.raises(RulesError, match="未知的规则"):
        parse_rules({"matter": [{**base, "check": [{"label": "x", "rule": "guess"}]}]})


# -- OCR ----------------------------------------------------------------------------------


def test_ocr_reads_a_photographed_material_into_fields():
    """GIVEN a 出生医学证明 printed by the printing layer, rasterised at 150 dpi, then
    photographed: turned 3°, out of focus, lit from one side, noisy
    WHEN it is read THEN every field comes out as printed."""
    values = maternity()["birth_cert"]
    photo = samples.material_photo(RULES, "birth_cert", values, seed=3, angle=3.0)
    page = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    assert page[:40, :40].mean() < page[page.shape[0] // 2, :].mean()  # a desk around it
    result = read_material(RULES.material("birth_cert"), photo)
    assert result.fields == values


def test_label_matching_tolerates_ocr_noise():
    text = "出 生 医 学 证 明\n新生儿娃名：夏可欣\n母亲身份证号:4212811993O422146X\n乱码行\n"
    fields = extract_fields(RULES.material("birth_cert"), text)
    assert fields["baby_name"] == "夏可欣" and fields["mother_id"] == MOTHER_ID
    assert fields["father_name"] == ""


# -- faces --------------------------------------------------------------------------------


def _astronaut_scene() -> np.ndarray:
    from devices.facecam import demo_face, empty_scene

    scene = empty_scene()
    scene[40:440, 120:520] = cv2.resize(demo_face(), (400, 400))
    return scene


def test_detector_finds_one_face_none_or_several():
    from skimage import data

    from devices.facecam import empty_scene

    detector = FaceDetector()
    one = detector.scan(_astronaut_scene())
    assert one.state is FaceState.ONE and one.crop_png.startswith(b"\x89PNG")
    assert detector.scan(empty_scene()).state is FaceState.NONE
    cat = np.ascontiguousarray(data.chelsea()[:, :, ::-1])  # a cat is not a person
    assert detector.scan(cat).state is FaceState.NONE
    lfw = cv2.resize((data.lfw_subset()[5] * 255).astype(np.uint8), (200, 200))
    both = cv2.resize(empty_scene(), (1000, 480))
    both[40:440, 20:420] = cv2.resize(_astronaut_scene()[40:440, 120:520], (400, 400))
    both[140:340, 700:900] = cv2.cvtColor(lfw, cv2.COLOR_GRAY2BGR)
    assert detector.scan(both).state is FaceState.SEVERAL


def test_face_service_matches_the_person_and_rejects_another(platform_client, sandbox):
    from skimage import data

    crop = FaceDetector().scan(_astronaut_scene()).crop_png
    body = {"image": base64.b64encode(crop).decode()}
    found = platform_client.call_json("POST", "/api/v1/face/search", "t", json=body)
    assert found["matched"] and found["holder_id"] == sandbox.face.demo_holder_id
    other = cv2.resize((data.lfw_subset()[3] * 255).astype(np.uint8), (240, 240))
    scene = cv2.cvtColor(cv2.copyMakeBorder(other, 80, 80, 80, 80, cv2.BORDER_CONSTANT,
                                            value=(150,)), cv2.COLOR_GRAY2BGR)
    _ok, png = cv2.imencode(".png", scene)
    body = {"image": base64.b64encode(bytes(png)).decode()}
    refused = platform_client.call_json("POST", "/api/v1/face/search", "t", json=body)
    assert not refused["matched"] and refused["score"] < refused["threshold"]
    assert "holder_id" not in refused
    verify = platform_client.call_json("POST", "/api/v1/face/verify", "t", json={
        "holder_id": sandbox.face.demo_holder_id, "image": body["image"]})
    assert verify["match"] is False


def test_face_service_refuses_an_image_without_a_face(platform_client):
    from devices.facecam import empty_scene

    _ok, png = cv2.imencode(".png", empty_scene())
    with pytest.raises(PlatformError) as caught:
        platform_client.call_json("POST", "/api/v1/face/search", "t",
                                  json={"image": base64.b64encode(bytes(png)).decode()})
    assert caught.value.code == "no_face" and "未检测到人脸" in caught.value.message


def test_id_number_and_one_of_rules():
    rules = parse_rules({"matter": [{
        "code": "X", "name": "测试", "licence_types": ["id_card"],
        "material": [{"key": "m", "name": "材料", "fields": [
            {"key": "id", "label": "证件号码", "type": "id_number"},
            {"key": "kind", "label": "类别", "type": "choice", "options": ["甲", "乙"]}]}],
        "check": [{"label": "号码有效", "rule": "id_number", "value": "m.id"},
                  {"label": "类别有效", "rule": "one_of", "value": "m.kind",
                   "options": ["甲", "乙"]}]}]})["X"]
    good = form({"m": {"id": MOTHER_ID, "kind": "甲"}})
    assert failed(review(rules, good, {}, TODAY)) == {}
    bad = form({"m": {"id": MOTHER_ID[:-1] + "1", "kind": "丙"}})
    got = failed(review(rules, bad, {}, TODAY))
    assert "校验位" in got["号码有效"] and got["类别有效"] == "取值不在允许范围内"
