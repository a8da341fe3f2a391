import datetime as dt

import pytest

from workstation.services.identity import (
    IdentityError,
    id_check_char,
    mask_id_number,
    parse_credit_code,
    parse_id_number,
    validate_person_name,
)


def test_gb11643_vector():
    info = parse_id_number("11010519491231002x")
    assert info.number == "11010519491231002X"
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "女"
    assert info.region_code == "110105"


def test_gb32100_vector():
    info = parse_credit_code("91350100M000100Y43")
    assert info.code == "91350100M000100Y43"
    assert info.warnings == ()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "请输入"),
        ("1101051949123100", "18位"),
        ("11010519491231002Y", "最后一位"),
        ("11010519491231002 ", "18位"),
        ("99010519491231002X", "地区代码"),
        ("110105194902300021", "出生日期"),
        ("110105194912310021", "校验位"),
    ],
)
def test_bad_id_numbers_get_specific_messages(value, fragment):
    with pytest.raises(IdentityError) as err:
        parse_id_number(value)
    assert fragment in err.value.message
    assert err.value.field == "id_number"


def test_birth_date_in_future_refused():
    body = "42128120300101001"
    with pytest.raises(IdentityError, match="不合理"):
        parse_id_number(body + id_check_char(body), today=dt.date(2026, 11, 27))


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("91350100M000100Y4", "18位"),
        ("91350100M000100Y4I", "不允许的字符"),
        ("91350100M000100Y44", "校验位"),
        ("91AB0100M000100Y43", "行政区划码"),
    ],
)
def test_bad_credit_codes(value, fragment):
    with pytest.raises(IdentityError) as err:
        parse_credit_code(value)
    assert fragment in err.value.message


def test_inconsistent_embedded_org_code_is_only_a_warning():
    from workstation.services.identity import credit_check_char

    body = "91350100M00010051"  # org code M0001005 + wrong org check '1'
    code = body + credit_check_char(body)
    info = parse_credit_code(code)
    assert info.warnings and "组织机构代码" in info.warnings[0]


def test_masking():
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_names():
    assert validate_person_name(" 张三 ") == "张三"
    assert validate_person_name("阿依古丽·买买提") == "阿依古丽·买买提"
    with pytest.raises(IdentityError):
        validate_person_name("张")
    with pytest.raises(IdentityError):
        validate_person_name("张三3")
