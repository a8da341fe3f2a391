"""The review rules of S5 as data (``rules.toml``) and the engine that applies them. Qt-free.

A matter lists its materials (each with typed fields) and its checks. ``review(matter, form,
licences, today)`` runs every check and returns one ``CheckResult`` per check, passed or failed,
with the evidence (the values compared) so a citizen, a clerk and the printed report can see why.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any, Protocol

from workstation.api import LICENCE_TYPES, IdentityError, mask_id_number, mask_name
from workstation.api import parse_id_number as _parse_id_number

FIELD_TYPES = ("name", "id_number", "date", "amount", "choice", "digits", "text")
RULES = ("equal", "id_number", "date", "within_days", "date_order", "licence_valid",
         "max_amount", "min_age", "luhn", "contains", "one_of")


class RulesError(ValueError):
    """A bad rules file; the message names the entry."""


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: str = "text"
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class MaterialSpec:
    key: str
    name: str
    fields: tuple[FieldSpec, ...]

    def field(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(key)


@dataclass(frozen=True)
class CheckSpec:
    label: str
    rule: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class MatterRules:
    code: str
    name: str
    department: str
    licence_types: tuple[str, ...]
    materials: tuple[MaterialSpec, ...]
    checks: tuple[CheckSpec, ...]
    result_title: str = "审批结果通知书"
    result_text: str = ""

    def material(self, key: str) -> MaterialSpec:
        for spec in self.materials:
            if spec.key == key:
                return spec
        raise KeyError(key)


class LicenceFacts(Protocol):
    """What the engine reads of an electronic licence (``workstation.api.Licence`` fits)."""

    @property
    def fields(self) -> Mapping[str, str]: ...

    @property
    def status(self) -> str: ...

    @property
    def valid_until(self) -> dt.date | None: ...


@dataclass(frozen=True)
class Evidence:
    """One value a check looked at: where it came from, and the value (personal data)."""

    source: str  # e.g. "出生医学证明·母亲姓名", "居民身份证·姓名"
    value: str
    kind: str = "text"  # field type: names and ID numbers are masked when printed
    corrected: bool = False  # the applicant changed what OCR read

    def shown(self, masked: bool) -> str:
        value = self.value or "（未识别）"
        if masked and self.value:
            if self.kind == "name":
                value = mask_name(self.value)
            elif self.kind == "id_number":
                value = mask_id_number(self.value)
            elif self.kind == "digits" and len(self.value) > 8:
                value = self.value[:4] + "*" * (len(self.value) - 8) + self.value[-4:]
        return f"{self.source}“{value}”" + ("（申请人更正）" if self.corrected else "")


@dataclass(frozen=True)
class CheckResult:
    label: str
    rule: str
    passed: bool
    reason: str  # Chinese: why it passed or failed
    evidence: tuple[Evidence, ...] = ()

    def evidence_text(self, masked: bool = False) -> str:
        return "；".join(e.shown(masked) for e in self.evidence)


@dataclass
class ReviewForm:
    """The application form: material key -> field key -> value (normalised text)."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    corrected: set[tuple[str, str]] = field(default_factory=set)

    def get(self, material: str, key: str) -> str:
        return self.values.get(material, {}).get(key, "")

    def set(self, material: str, key: str, value: str, *, corrected: bool = False) -> None:
        self.values.setdefault(material, {})[key] = value
        if corrected:
            self.corrected.add((material, key))


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _need(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise RulesError(f"{where}: 缺少 {key}")
    return table[key]


def parse_rules(data: Mapping[str, Any]) -> dict[str, MatterRules]:
    """The matters of a parsed rules file, checked (every reference resolves)."""
    matters: dict[str, MatterRules] = {}
    for i, raw in enumerate(data.get("matter", [])):
        where = f"matter[{i}]"
        code = str(_need(raw, "code", where))
        where = f"matter {code}"
        types = tuple(raw.get("licence_types", ()))
        for key in types:
            if key not in LICENCE_TYPES:
                raise RulesError(f"{where}: 未知的证照类型 {key!r}")
        materials = []
        for j, m in enumerate(_need(raw, "material", where)):
            mwhere = f"{where}.material[{j}]"
            fields = []
            for f in _need(m, "fields", mwhere):
                kind = f.get("type", "text")
                if kind not in FIELD_TYPES:
                    raise RulesError(f"{mwhere}: 未知的字段类型 {kind!r}")
                fields.append(FieldSpec(str(_need(f, "key", mwhere)),
                                        str(_need(f, "label", mwhere)),
                                        kind, tuple(f.get("options", ()))))
            materials.append(MaterialSpec(str(_need(m, "key", mwhere)),
                                          str(_need(m, "name", mwhere)), tuple(fields)))
        checks = []
        for j, c in enumerate(raw.get("check", [])):
            rule = str(_need(c, "rule", f"{where}.check[{j}]"))
            if rule not in RULES:
                raise RulesError(f"{where}.check[{j}]: 未知的规则 {rule!r}")
            params = {k: v for k, v in c.items() if k not in ("label", "rule")}
            checks.append(CheckSpec(str(_need(c, "label", f"{where}.check[{j}]")), rule, params))
        rules = MatterRules(code, str(_need(raw, "name", where)), str(raw.get("department", "")),
                            types, tuple(materials), tuple(checks),
                            str(raw.get("result_title", "审批结果通知书")),
                            str(raw.get("result_text", "")))
        for check in rules.checks:
            for ref in _refs(check):
                _validate_ref(rules, ref, f"{where}: {check.label}")
        if code in matters:
            raise RulesError(f"{where}: 事项编码重复")
        matters[code] = rules
    return matters


def load_rules() -> dict[str, MatterRules]:
    text = resources.files(__package__).joinpath("rules.toml").read_text(encoding="utf-8")
    return parse_rules(tomllib.loads(text))


def _refs(check: CheckSpec) -> list[str]:
    refs = [check.params[k] for k in ("left", "right", "value", "by") if k in check.params]
    refs += list(check.params.get("values", ()))
    return [str(r) for r in refs]


def _validate_ref(rules: MatterRules, ref: str, where: str) -> None:
    parts = ref.split(".")
    if parts[0] == "licence":
        if len(parts) not in (2, 3) or parts[1] not in rules.licence_types:
            raise RulesError(f"{where}: 引用的证照未在事项中声明：{ref}")
        return
    if len(parts) != 2:
        raise RulesError(f"{where}: 无效的引用 {ref}")
    try:
        rules.material(parts[0]).field(parts[1])
    except KeyError:
        raise RulesError(f"{where}: 引用了不存在的材料字段 {ref}") from None


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"(\d{4})\D{1,3}(\d{1,2})\D{1,3}(\d{1,2})")
_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1",
                             "i": "1", "Z": "2", "S": "5", "B": "8", "x": "X", "×": "X"})


def parse_date(text: str) -> dt.date | None:
    match = _DATE_RE.search(text or "")
    if not match:
        compact = re.sub(r"\D", "", text or "")
        if len(compact) != 8:
            return None
        year, month, day = int(compact[:4]), int(compact[4:6]), int(compact[6:])
    else:
        year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_amount(text: str) -> Decimal | None:
    cleaned = re.sub(r"[^\d.]", "", (text or "").replace("，", "").replace(",", ""))
    if not cleaned or cleaned.count(".") > 1:
        return None
    try:
        return Decimal(cleaned).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def normalise(spec: FieldSpec, raw: str) -> str:
    """What a field holds, from OCR text or the applicant's input."""
    text = re.sub(r"\s+", "", raw or "").strip("：:;；,，。.")
    if spec.type == "id_number":
        text = text.translate(_OCR_DIGITS).upper()
        return re.sub(r"[^0-9X]", "", text)
    if spec.type == "digits":
        return re.sub(r"\D", "", text.translate(_OCR_DIGITS))
    if spec.type == "date":
        day = parse_date(text.translate(_OCR_DIGITS))
        return f"{day.year}年{day.month}月{day.day}日" if day else text
    if spec.type == "amount":
        amount = parse_amount(text.translate(_OCR_DIGITS))
        return f"{amount}" if amount is not None else text
    if spec.type == "choice":
        for option in spec.options:
            if option in text:
                return option
        return text
    if spec.type == "name":
        return re.sub(r"[^\u4e00-\u9fff·A-Za-z]", "", text)
    return text


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _same(a: str, b: str) -> bool:
    def clean(s: str) -> str:
        return re.sub(r"\s+", "", s).upper()
    return bool(a) and clean(a) == clean(b)


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


class _Context:
    def __init__(self, rules: MatterRules, form: ReviewForm,
                 licences: Mapping[str, LicenceFacts | None], today: dt.date) -> None:
        self.rules, self.form, self.licences, self.today = rules, form, licences, today

    def evidence(self, ref: str) -> Evidence:
        parts = ref.split(".")
        if parts[0] == "licence":
            name = LICENCE_TYPES[parts[1]].name
            licence = self.licences.get(parts[1])
            if len(parts) == 2:
                if licence is None:
                    return Evidence(name, "")
                until = "长期" if licence.valid_until is None else \
                    f"{licence.valid_until:%Y年%m月%d日}"
                return Evidence(f"{name}·状态", f"{_STATUS.get(licence.status, licence.status)}，"
                                f"有效期至{until}")
            value = "" if licence is None else str(licence.fields.get(parts[2], ""))
            kind = "id_number" if parts[2] in ("公民身份号码", "身份证件号", "配偶身份证号") else (
                "name" if parts[2] in ("姓名", "持证人", "配偶姓名", "户主姓名") else "text")
            return Evidence(f"{name}·{parts[2]}", value, kind)
        material = self.rules.material(parts[0])
        spec = material.field(parts[1])
        return Evidence(f"{material.name}·{spec.label}", self.form.get(parts[0], parts[1]),
                        spec.type, (parts[0], parts[1]) in self.form.corrected)


_STATUS = {"valid": "有效", "expired": "已过期", "revoked": "已注销"}


def _check(ctx: _Context, spec: CheckSpec) -> CheckResult:
    p = spec.params
    rule = spec.rule

    def result(passed: bool, reason: str, *evidence: Evidence) -> CheckResult:
        return CheckResult(spec.label, rule, passed, reason, tuple(evidence))

    if rule == "equal":
        left, right = ctx.evidence(p["left"]), ctx.evidence(p["right"])
        if not left.value:
            return result(False, f"未识别到{left.source}", left, right)
        if not right.value:
            return result(False, f"未取得{right.source}", left, right)
        ok = _same(left.value, right.value)
        return result(ok, "一致" if ok else "不一致", left, right)
    if rule == "id_number":
        ev = ctx.evidence(p["value"])
        try:
            _parse_id_number(ev.value)
        except IdentityError as exc:
            return result(False, exc.message, ev)
        return result(True, "号码有效", ev)
    if rule == "date":
        ev = ctx.evidence(p["value"])
        day = parse_date(ev.value)
        if day is None:
            return result(False, "不是有效日期", ev)
        if day > ctx.today:
            return result(False, "日期晚于今天", ev)
        return result(True, "日期有效", ev)
    if rule == "within_days":
        ev = ctx.evidence(p["value"])
        day = parse_date(ev.value)
        if day is None:
            return result(False, "不是有效日期", ev)
        days = int(p["days"])
        age = (ctx.today - day).days
        ok = 0 <= age <= days
        return result(ok, f"距今{age}天，" + ("在" if ok else "超过") + f"{days}天时限" +
                      ("内" if ok else ""), ev)
    if rule == "date_order":
        evs = [ctx.evidence(r) for r in p["values"]]
        dates = [parse_date(e.value) for e in evs]
        known = [d for d in dates if d is not None]
        for ev, day in zip(evs, dates, strict=True):
            if day is None:
                return result(False, f"{ev.source}不是有效日期", *evs)
        ordered = all(a <= b for a, b in itertools.pairwise(known))
        return result(ordered, "先后顺序正确" if ordered else "先后顺序矛盾", *evs)
    if rule == "licence_valid":
        key = str(p["value"]).split(".")[1]
        ev = ctx.evidence(p["value"])
        licence = ctx.licences.get(key)
        if licence is None:
            return result(False, f"未取得{LICENCE_TYPES[key].name}", ev)
        if licence.status != "valid":
            return result(False, f"证照{_STATUS.get(licence.status, licence.status)}", ev)
        if licence.valid_until is not None and licence.valid_until < ctx.today:
            return result(False, "证照已过有效期", ev)
        return result(True, "证照有效", ev)
    if rule == "max_amount":
        ev = ctx.evidence(p["value"])
        amount = parse_amount(ev.value)
        if amount is None:
            return result(False, "金额无法识别", ev)
        limits = {str(k): Decimal(str(v)) for k, v in dict(p["limits"]).items()}
        evs = [ev]
        key = "*"
        if "by" in p:
            by = ctx.evidence(p["by"])
            evs.append(by)
            key = by.value
        limit = limits.get(key, limits.get("*"))
        if limit is None:
            return result(False, f"没有“{key or '（未识别）'}”的限额", *evs)
        ok = amount <= limit
        return result(ok, f"{amount}元{'未超过' if ok else '超过'}限额{limit:.2f}元", *evs)
    if rule == "min_age":
        ev = ctx.evidence(p["value"])
        try:
            info = _parse_id_number(ev.value)
        except IdentityError as exc:
            return result(False, exc.message, ev)
        born = info.birth_date
        age = ctx.today.year - born.year - ((ctx.today.month, ctx.today.day) <
                                            (born.month, born.day))
        years = int(p["years"])
        ok = age >= years
        return result(ok, f"现年{age}周岁，{'已' if ok else '未'}满{years}周岁",
                      Evidence(ev.source + "（出生日期）", f"{born:%Y年%m月%d日}"))
    if rule == "luhn":
        ev = ctx.evidence(p["value"])
        ok = luhn_ok(ev.value)
        return result(ok, "校验位正确" if ok else "账号校验位不符或位数不对", ev)
    if rule == "contains":
        ev = ctx.evidence(p["value"])
        ok = str(p["text"]) in ev.value
        return result(ok, f"{'含' if ok else '不含'}“{p['text']}”", ev)
    if rule == "one_of":
        ev = ctx.evidence(p["value"])
        ok = ev.value in tuple(p["options"])
        return result(ok, "取值有效" if ok else "取值不在允许范围内", ev)
    raise RulesError(f"未知的规则 {rule}")  # parse_rules refuses it first


def review(rules: MatterRules, form: ReviewForm, licences: Mapping[str, LicenceFacts | None],
           today: dt.date) -> list[CheckResult]:
    """Every check of the matter, in the file's order."""
    ctx = _Context(rules, form, licences, today)
    return [_check(ctx, spec) for spec in rules.checks]


def all_passed(results: list[CheckResult]) -> bool:
    return bool(results) and all(r.passed for r in results)
