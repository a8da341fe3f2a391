"""Validation of the identity numbers citizens and companies present.

Pure functions with no I/O: the sandbox shares this module to generate valid numbers.

- Citizen ID number, GB 11643-1999: 6-digit region code, 8-digit birth date, 3-digit sequence
  (odd = male), check character by ISO 7064 MOD 11-2.
- Unified social credit code, GB 32100-2015: 18 characters over 0-9 and A-Z without I O Z S V,
  check character by weighted sum modulo 31; characters 9-17 are the organisation code
  (GB 11714), whose own check character is verified as a warning only (older codes are not
  always consistent).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_CODE_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# First two digits of the region code: the provinces, autonomous regions and municipalities
# (GB/T 2260), plus 71 Taiwan, 81 Hong Kong, 82 Macao which appear on residence permits.
PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)

_NAME_RE = re.compile(r"^[\u3400-\u9fff·•]{2,20}$|^[A-Za-z][A-Za-z .'-]{1,58}[A-Za-z]$")


class IdentityError(ValueError):
    """A field value is not a valid identity; ``message`` is shown to the user (Chinese)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class IdNumberInfo:
    number: str
    region_code: str
    birth_date: dt.date
    sex: str  # "男" or "女"


@dataclass(frozen=True)
class CreditCodeInfo:
    code: str
    warnings: tuple[str, ...] = field(default_factory=tuple)


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def parse_id_number(value: str, *, today: dt.date | None = None) -> IdNumberInfo:
    """Validate a citizen ID number and return what it encodes.

    Raises IdentityError with a Chinese message naming what is wrong.
    """
    number = (value or "").strip().upper()
    if not number:
        raise IdentityError("id_number", "请输入身份证号码")
    if len(number) != 18:
        raise IdentityError("id_number", f"身份证号码应为18位，当前为{len(number)}位")
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise IdentityError("id_number", "身份证号码前17位应为数字，最后一位为数字或X")
    if int(number[:2]) not in PROVINCE_CODES:
        raise IdentityError("id_number", f"身份证号码的地区代码“{number[:6]}”不存在")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentityError(
            "id_number", f"身份证号码中的出生日期“{number[6:14]}”不是有效日期"
        ) from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise IdentityError("id_number", f"身份证号码中的出生日期“{number[6:14]}”不合理")
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise IdentityError("id_number", "身份证号码校验位不正确，请核对后重新输入")
    sex = "男" if int(number[16]) % 2 == 1 else "女"
    return IdNumberInfo(number=number, region_code=number[:6], birth_date=birth, sex=sex)


def validate_id_number(value: str) -> str:
    """Return the normalised ID number (upper-case X) or raise IdentityError."""
    return parse_id_number(value).number


def credit_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 organisation-code check character for its first 8 characters."""
    pairs = zip(first8, ORG_CODE_WEIGHTS, strict=True)
    total = sum(ORG_CODE_CHARSET.index(c) * w for c, w in pairs)
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def parse_credit_code(value: str) -> CreditCodeInfo:
    """Validate a unified social credit code; the organisation-code check is only a warning."""
    code = (value or "").strip().upper()
    if not code:
        raise IdentityError("credit_code", "请输入统一社会信用代码")
    if len(code) != 18:
        raise IdentityError("credit_code", f"统一社会信用代码应为18位，当前为{len(code)}位")
    bad = sorted({c for c in code if c not in CREDIT_CHARSET})
    if bad:
        raise IdentityError(
            "credit_code",
            f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用I、O、Z、S、V）",
        )
    if not code[2:8].isdigit():
        raise IdentityError("credit_code", "统一社会信用代码第3至8位应为行政区划码（数字）")
    if code[17] != credit_check_char(code[:17]):
        raise IdentityError("credit_code", "统一社会信用代码校验位不正确，请核对后重新输入")
    warnings: list[str] = []
    org = code[8:17]
    if org[8] != org_code_check_char(org[:8]):
        warnings.append("其中的组织机构代码校验位不一致，请核对营业执照")
    return CreditCodeInfo(code=code, warnings=tuple(warnings))


def validate_credit_code(value: str) -> str:
    """Return the normalised credit code or raise IdentityError."""
    return parse_credit_code(value).code


def validate_person_name(value: str, field_name: str = "name") -> str:
    """A person's or an enterprise contact's name: 2-20 Chinese characters (· allowed) or Latin."""
    name = (value or "").strip()
    if not name:
        raise IdentityError(field_name, "请输入姓名")
    if not _NAME_RE.match(name):
        raise IdentityError(field_name, "姓名应为2至20个汉字（少数民族姓名可含“·”）或拉丁字母")
    return name


def validate_enterprise_name(value: str, field_name: str = "name") -> str:
    name = (value or "").strip()
    if not name:
        raise IdentityError(field_name, "请输入企业名称")
    if len(name) < 4 or len(name) > 100:
        raise IdentityError(field_name, "企业名称应为4至100个字符")
    return name


def mask_id_number(number: str) -> str:
    """Mask an ID number for display: 110105********002X (first 6, last 4)."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str) -> str:
    """Mask a name for kiosk screens and slips: 张*、欧阳**."""
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "*" * len(phone)
