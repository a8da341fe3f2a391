"""The trading platform's enterprise registration form (S9): data and validation, pure.

Shared by the ``trading_platform`` plugin (checks before submitting) and the sandbox (checks
what it receives), like ``identity.py``. Field keys are English; labels and messages Chinese.

Data files (``workstation/services/data``): GB/T 4754-2017 industry classes (an excerpt of
commonly used classes plus every section) and the administrative divisions of Hubei
(province / city / district).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from workstation.services.identity import IdentityError, parse_credit_code

PERMANENT = "永久"
STREET_MAX = 100
LICENCE_FILE_MAX_BYTES = 1024 * 1024
LICENCE_FILE_TYPES = {
    ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".png": b"\x89PNG\r\n\x1a\n",
}

CERTIFICATE_NAMES = ("营业执照", "统一社会信用代码证", "事业单位法人证书", "社会团体法人登记证书")
COUNTRIES = ("中国", "中国香港", "中国澳门", "中国台湾")
ENTERPRISE_TYPES = (
    "有限责任公司（自然人投资或控股）",
    "有限责任公司（自然人独资）",
    "有限责任公司（国有独资）",
    "有限责任公司（非自然人投资或控股的法人独资）",
    "股份有限公司（非上市、自然人投资或控股）",
    "股份有限公司（上市）",
    "个人独资企业",
    "普通合伙企业",
    "农民专业合作社",
)

# field key -> label, in the order of the form
FIELDS: dict[str, str] = {
    "cert_name": "证书名称",
    "cert_no": "证书编号",
    "issuer": "颁发部门",
    "issued_on": "颁发日期",
    "valid_until": "证书有效期至",
    "country": "国别地区",
    "capital_wan": "注册资本",
    "founded_on": "成立日期",
    "enterprise_type": "企业类型",
    "industry_code": "国民经济行业分类",
    "province": "单位地址（省）",
    "city": "单位地址（市）",
    "district": "单位地址（区县）",
    "street": "单位地址（街道门牌）",
}

_CN_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CAPITAL = re.compile(r"^\d{1,9}(\.\d{1,4})?$")


@cache
def _data(name: str) -> Any:
    text = resources.files("workstation.services.data").joinpath(name).read_text("utf-8")
    return json.loads(text)


def industry_sections() -> dict[str, str]:
    return dict(_data("gbt4754.json")["sections"])


def industry_classes() -> dict[str, str]:
    """GB/T 4754-2017 class code (letter + 4 digits) -> name."""
    return dict(_data("gbt4754.json")["classes"])


def regions() -> dict[str, dict[str, list[str]]]:
    """province -> city -> districts."""
    return {p: {c: list(d) for c, d in cities.items()}
            for p, cities in _data("regions.json")["provinces"].items()}


def parse_date(text: str) -> dt.date:
    """``2015-04-23`` or ``2015年04月23日``; ValueError otherwise."""
    text = text.strip()
    match = _CN_DATE.match(text)
    if match:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    if not _ISO_DATE.match(text):  # fromisoformat would also take 20150423 or 2015-W17-4
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return dt.date.fromisoformat(text)


_CN_DIGITS = {"零": 0, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8,
              "玖": 9, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}


def capital_wan_from_text(text: str) -> Decimal | None:
    """注册资本 as printed on a licence (``壹佰万元整``, ``100万元``) in 万元; None if unknown."""
    text = text.strip().replace("人民币", "").replace("元整", "").replace("元", "")
    if not text.endswith("万"):
        return None
    body = text[:-1]
    try:
        return Decimal(body)
    except InvalidOperation:
        pass
    total, digit = 0, 0
    for ch in body:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        else:
            return None
    return Decimal(total + digit) if total + digit else None


def split_address(address: str) -> tuple[str, str, str, str]:
    """(province, city, district, street) of a Hubei address; parts not found are ""."""
    data = regions()
    rest = address.strip()
    for province, cities in data.items():
        short = province.removesuffix("省")
        if rest.startswith(province) or rest.startswith(short):
            rest = rest.removeprefix(province).removeprefix(short)
            for city, districts in cities.items():
                if rest.startswith(city):
                    rest = rest.removeprefix(city)
                    for district in districts:
                        if rest.startswith(district):
                            return province, city, district, rest.removeprefix(district)
                    return province, city, "", rest
            for city, districts in cities.items():  # "湖北省赤壁市…": city left out
                for district in districts:
                    if rest.startswith(district):
                        return province, city, district, rest.removeprefix(district)
            return province, "", "", rest
    return "", "", "", rest


@dataclass(frozen=True)
class LicenceFile:
    name: str
    content: bytes


def check_licence_file(name: str, content: bytes) -> str | None:
    """Why the attached licence file is refused (jpg/png, at most 1 MB), or None."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in LICENCE_FILE_TYPES:
        return "只能上传 jpg/png 文件"
    if not content:
        return "文件为空"
    if len(content) > LICENCE_FILE_MAX_BYTES:
        return "文件不能超过 1M"
    if not content.startswith(LICENCE_FILE_TYPES[suffix]):
        return "文件内容不是有效的 jpg/png 图像"
    return None


def validate_registration(form: dict[str, Any], *, today: dt.date) -> dict[str, str]:
    """Errors per field key (Chinese); empty when the form may be submitted."""
    errors: dict[str, str] = {}

    def text(key: str) -> str:
        value = form.get(key, "")
        return value.strip() if isinstance(value, str) else ""

    for key, label in FIELDS.items():
        if not text(key):
            errors[key] = "请选择" + label if key in (
                "enterprise_type", "industry_code", "province", "city", "district", "country"
            ) else "请填写" + label
    if "cert_name" not in errors and text("cert_name") not in CERTIFICATE_NAMES:
        errors["cert_name"] = "证书名称应为：" + "、".join(CERTIFICATE_NAMES)
    if "cert_no" not in errors and text("cert_name") in ("营业执照", "统一社会信用代码证"):
        try:
            parse_credit_code(text("cert_no"))
        except IdentityError as exc:
            errors["cert_no"] = exc.message
    if "issuer" not in errors and (len(text("issuer")) > 50
                                   or not re.search(r"[\u4e00-\u9fff]", text("issuer"))):
        errors["issuer"] = "颁发部门应为中文名称，不超过 50 个字"
    dates: dict[str, dt.date] = {}
    for key in ("issued_on", "founded_on"):
        if key in errors:
            continue
        try:
            dates[key] = parse_date(text(key))
        except ValueError:
            errors[key] = "日期格式应为 YYYY-MM-DD"
            continue
        if dates[key] > today:
            errors[key] = "日期不能晚于今天"
        elif dates[key] < dt.date(1949, 10, 1):
            errors[key] = "日期不正确"
    if "issued_on" in dates and "founded_on" in dates and "issued_on" not in errors \
            and "founded_on" not in errors and dates["issued_on"] < dates["founded_on"]:
        errors["issued_on"] = "颁发日期不能早于成立日期"
    if "valid_until" not in errors and text("valid_until") != PERMANENT:
        try:
            until = parse_date(text("valid_until"))
        except ValueError:
            errors["valid_until"] = "应为日期（YYYY-MM-DD）或“永久”"
        else:
            if until < today:
                errors["valid_until"] = "证书已过有效期，不能登记"
            elif "issued_on" in dates and until < dates["issued_on"]:
                errors["valid_until"] = "有效期不能早于颁发日期"
    if "country" not in errors and text("country") not in COUNTRIES:
        errors["country"] = "请选择国别地区"
    if "capital_wan" not in errors:
        capital = text("capital_wan")
        if not _CAPITAL.match(capital) or Decimal(capital) <= 0:
            errors["capital_wan"] = "注册资本应为大于 0 的数字（万元，最多 4 位小数）"
    if "enterprise_type" not in errors and text("enterprise_type") not in ENTERPRISE_TYPES:
        errors["enterprise_type"] = "请从列表中选择企业类型"
    if "industry_code" not in errors and text("industry_code") not in industry_classes():
        errors["industry_code"] = "请从 GB/T 4754-2017 行业分类中选择"
    data = regions()
    province, city, district = text("province"), text("city"), text("district")
    if "province" not in errors and province not in data:
        errors["province"] = "请选择省份"
    elif "city" not in errors and province in data and city not in data[province]:
        errors["city"] = "所选城市不属于该省"
    elif ("district" not in errors and province in data and city in data[province]
          and district not in data[province][city]):
        errors["district"] = "所选区县不属于该市"
    if "street" not in errors and len(text("street")) > STREET_MAX:
        errors["street"] = f"街道门牌信息不能超过 {STREET_MAX} 个字（现 {len(text('street'))} 字）"
    return errors


def form_from_licence(fields: dict[str, str], issuer: str, valid_until: dt.date | None
                      ) -> dict[str, str]:
    """Pre-fill the registration form from a business licence's recorded fields."""
    def iso(value: str) -> str:
        try:
            return parse_date(value).isoformat()
        except ValueError:
            return ""

    capital = capital_wan_from_text(fields.get("注册资本", ""))
    province, city, district, street = split_address(fields.get("住所", ""))
    etype = fields.get("类型", "")
    return {
        "cert_name": "营业执照",
        "cert_no": fields.get("统一社会信用代码", ""),
        "issuer": fields.get("登记机关", issuer),
        "issued_on": iso(fields.get("登记日期", "")),
        "valid_until": valid_until.isoformat() if valid_until else PERMANENT,
        "country": "中国",
        "capital_wan": f"{capital.normalize():f}" if capital is not None else "",
        "founded_on": iso(fields.get("成立日期", "")),
        "enterprise_type": etype if etype in ENTERPRISE_TYPES else "",
        "industry_code": "",
        "province": province,
        "city": city,
        "district": district,
        "street": street[:STREET_MAX],
    }
