"""The S9 registration form rules (workstation.services.trading_form): every field, boundaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from workstation.services.trading_form import (
    LICENCE_FILE_MAX_BYTES,
    PERMANENT,
    STREET_MAX,
    capital_wan_from_text,
    check_licence_file,
    form_from_licence,
    industry_classes,
    parse_date,
    regions,
    split_address,
    validate_registration,
)

TODAY = dt.date(2026, 3, 15)
PNG_HEAD = b"\x89PNG\r\n\x1a\n"
JPG_HEAD = b"\xff\xd8\xff"


def valid_form(**changes: str) -> dict[str, str]:
    form = {
        "cert_name": "营业执照",
        "cert_no": "91350100M000100Y43",
        "issuer": "赤壁市市场监督管理局",
        "issued_on": "2015-04-23",
        "valid_until": "2035-04-22",
        "country": "中国",
        "capital_wan": "100",
        "founded_on": "2015-04-23",
        "enterprise_type": "有限责任公司（自然人投资或控股）",
        "industry_code": "C1530",
        "province": "湖北省",
        "city": "咸宁市",
        "district": "赤壁市",
        "street": "赤马港街道沿河大道 18 号",
    }
    form.update(changes)
    return form


def test_a_complete_form_passes():
    assert validate_registration(valid_form(), today=TODAY) == {}
    assert validate_registration(valid_form(valid_until=PERMANENT), today=TODAY) == {}


def test_every_empty_field_is_named_in_chinese():
    errors = validate_registration({}, today=TODAY)
    assert set(errors) == set(valid_form())
    assert errors["cert_no"] == "请填写证书编号"
    assert errors["industry_code"] == "请选择国民经济行业分类"
    assert errors["province"] == "请选择单位地址（省）"


@pytest.mark.parametrize(("length", "ok"), [(STREET_MAX - 1, True), (STREET_MAX, True),
                                            (STREET_MAX + 1, False)])
def test_street_at_most_100_characters(length, ok):
    errors = validate_registration(valid_form(street="号" * length), today=TODAY)
    assert ("street" not in errors) is ok
    if not ok:
        assert errors["street"] == "街道门牌信息不能超过 100 个字（现 101 字）"


@pytest.mark.parametrize("text", ["2015-02-30", "2015/04/23", "20150423", "昨天", "2015-13-01"])
def test_bad_dates_are_refused(text):
    errors = validate_registration(valid_form(founded_on=text, issued_on=text), today=TODAY)
    assert errors["founded_on"] == "日期格式应为 YYYY-MM-DD"
    assert errors["issued_on"] == "日期格式应为 YYYY-MM-DD"


def test_chinese_dates_are_accepted():
    assert parse_date("2015年4月23日") == dt.date(2015, 4, 23)
    assert validate_registration(valid_form(issued_on="2015年04月23日"), today=TODAY) == {}


def test_date_boundaries():
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert validate_registration(valid_form(issued_on=TODAY.isoformat()), today=TODAY) == {}
    assert validate_registration(valid_form(issued_on=tomorrow),
                                 today=TODAY)["issued_on"] == "日期不能晚于今天"
    assert validate_registration(valid_form(founded_on="1949-09-30", issued_on="1950-01-01"),
                                 today=TODAY)["founded_on"] == "日期不正确"
    assert validate_registration(valid_form(issued_on="2015-04-22"),
                                 today=TODAY)["issued_on"] == "颁发日期不能早于成立日期"


def test_validity_boundaries():
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    assert validate_registration(valid_form(valid_until=TODAY.isoformat()), today=TODAY) == {}
    assert validate_registration(valid_form(valid_until=yesterday),
                                 today=TODAY)["valid_until"] == "证书已过有效期，不能登记"
    assert "valid_until" in validate_registration(valid_form(valid_until="长期"), today=TODAY)


@pytest.mark.parametrize("code", ["C9999", "c1530", "C", "1530", "CC1530", "A01"])
def test_unknown_industry_code(code):
    errors = validate_registration(valid_form(industry_code=code), today=TODAY)
    assert errors["industry_code"] == "请从 GB/T 4754-2017 行业分类中选择"


def test_industry_classes_belong_to_their_sections():
    classes = industry_classes()
    assert classes["C1530"] == "精制茶加工"
    assert all(len(code) == 5 and code[0].isalpha() and code[1:].isdigit() for code in classes)


@pytest.mark.parametrize(("value", "ok"), [("0.0001", True), ("999999999.9999", True),
                                           ("0", False), ("-1", False), ("1.23456", False),
                                           ("1e3", False), ("壹佰", False), ("1,000", False)])
def test_capital(value, ok):
    assert ("capital_wan" not in validate_registration(valid_form(capital_wan=value),
                                                       today=TODAY)) is ok


def test_credit_code_checked_for_business_licences():
    errors = validate_registration(valid_form(cert_no="91350100M000100Y44"), today=TODAY)
    assert "校验" in errors["cert_no"]
    # other certificate kinds carry other numbers
    assert "cert_no" not in validate_registration(
        valid_form(cert_name="事业单位法人证书", cert_no="事证第 123 号"), today=TODAY)


def test_pickers_must_match_each_other():
    assert validate_registration(valid_form(city="武汉市"),
                                 today=TODAY)["district"] == "所选区县不属于该市"
    assert validate_registration(valid_form(province="湖北省", city="长沙市"),
                                 today=TODAY)["city"] == "所选城市不属于该省"
    assert validate_registration(valid_form(province="湖南省"),
                                 today=TODAY)["province"] == "请选择省份"
    assert validate_registration(valid_form(enterprise_type="公司"),
                                 today=TODAY)["enterprise_type"] == "请从列表中选择企业类型"
    assert validate_registration(valid_form(country="火星"),
                                 today=TODAY)["country"] == "请选择国别地区"
    assert "赤壁市" in regions()["湖北省"]["咸宁市"]


def test_licence_file_jpg_png_at_most_1_mb():
    at_limit = PNG_HEAD + b"0" * (LICENCE_FILE_MAX_BYTES - len(PNG_HEAD))
    assert check_licence_file("执照.png", at_limit) is None
    assert check_licence_file("执照.PNG", at_limit) is None
    assert check_licence_file("执照.png", at_limit + b"0") == "文件不能超过 1M"
    assert check_licence_file("执照.jpg", JPG_HEAD + b"0") is None
    assert check_licence_file("执照.jpeg", JPG_HEAD + b"0") is None
    assert check_licence_file("执照.pdf", b"%PDF-1.4") == "只能上传 jpg/png 文件"
    assert check_licence_file("执照", PNG_HEAD) == "只能上传 jpg/png 文件"
    assert check_licence_file("执照.png", b"") == "文件为空"
    assert check_licence_file("执照.jpg", PNG_HEAD) == "文件内容不是有效的 jpg/png 图像"


def test_licence_fields_fill_the_form():
    fields = {"统一社会信用代码": "91350100M000100Y43", "类型": "有限责任公司（自然人独资）",
              "注册资本": "壹佰伍拾万元整", "成立日期": "2015年04月23日",
              "登记日期": "2019年06月01日", "登记机关": "赤壁市市场监督管理局",
              "住所": "湖北省赤壁市赤马港街道沿河大道18号"}
    form = form_from_licence(fields, "其他机关", None)
    assert form["valid_until"] == PERMANENT and form["capital_wan"] == "150"
    assert form["issued_on"] == "2019-06-01" and form["founded_on"] == "2015-04-23"
    assert (form["province"], form["city"], form["district"]) == ("湖北省", "咸宁市", "赤壁市")
    assert form["street"] == "赤马港街道沿河大道18号"
    assert form["industry_code"] == ""  # not on the licence: the clerk picks it
    assert validate_registration({**form, "industry_code": "C1530", "country": "中国"},
                                 today=TODAY) == {}
    assert form_from_licence(fields, "x", dt.date(2035, 4, 22))["valid_until"] == "2035-04-22"


def test_capital_text_and_address_parts():
    assert capital_wan_from_text("人民币壹仟万元整") == Decimal(1000)
    assert capital_wan_from_text("100万元") == Decimal(100)
    assert capital_wan_from_text("一百元") is None
    assert split_address("湖北省武汉市洪山区珞喻路1号") == ("湖北省", "武汉市", "洪山区",
                                                            "珞喻路1号")
    assert split_address("北京市海淀区") == ("", "", "", "北京市海淀区")
