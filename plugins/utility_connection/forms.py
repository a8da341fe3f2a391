"""The connection application forms of S12 (燃气报装) and S13 (用水报装), Qt-free.

One :class:`Utility` describes a utility (gas or water): its company, the fields of the
residential and the enterprise form (the water forms are exactly the seed's), the pickers'
choices, the numeric limits and the installation notes (报装说明). Everything here is plain
data and functions over ``workstation.api`` types, tested without a window.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workstation.api import (
    IdentityError,
    Licence,
    validate_credit_code,
    validate_enterprise_name,
    validate_id_number,
    validate_person_name,
)

RESIDENTIAL = "residential"
ENTERPRISE = "enterprise"
VARIANTS = {RESIDENTIAL: "居民", ENTERPRISE: "企业"}

# field kinds: how the page edits them
TEXT = "text"  # free text (name, address, community)
ID_NUMBER = "id_number"  # from the identity; a clerk may type it
CREDIT_CODE = "credit_code"  # from the business licence; a clerk may type it
PHONE = "phone"  # numeric keypad
COUNT = "count"  # numeric keypad, integer
VOLUME = "volume"  # numeric keypad, integer m³ per month
CHOICE = "choice"  # picker (one of)
MULTI = "multi"  # picker (several of)

_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
TEXT_MAX = 60
ADDRESS_MAX = 100


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    limits: tuple[int, int] = (0, 0)  # COUNT / VOLUME: inclusive bounds
    unit: str = ""
    required: bool = True


@dataclass(frozen=True)
class Utility:
    """One utility company and its two connection forms."""

    key: str  # "gas" / "water": the platform path segment
    scenario: str  # plugin (manifest) id
    company: str  # 赤壁华润燃气 / 赤壁水务集团
    business: str  # 燃气报装 / 用水报装
    medium: str  # 气 / 水
    matter_codes: Mapping[str, str]
    forms: Mapping[str, tuple[FieldSpec, ...]]
    notes: tuple[str, ...]
    service_line: str  # the company's public number
    final_state: str  # 通气 / 通水

    def title(self, variant: str) -> str:
        return f"{VARIANTS[variant]}{self.business.replace('报装', '')}申请"

    def fields(self, variant: str) -> tuple[FieldSpec, ...]:
        return self.forms[variant]

    def spec(self, variant: str, key: str) -> FieldSpec:
        for spec in self.forms[variant]:
            if spec.key == key:
                return spec
        raise KeyError(key)

    @property
    def states(self) -> tuple[str, ...]:
        return ("受理", "勘查", "施工", self.final_state, "办结")

    def intro(self, variant: str) -> str:
        return (f"本业务适用于“{VARIANTS[variant]}{self.business}”业务，"
                "请您仔细阅读报装说明后填写相关信息。我们承诺：非法律程序或经您的许可不会泄露您的个人信息。")


# -- the two utilities ------------------------------------------------------------------------

WATER_REGIONS = (
    "赤壁市水务集团赤壁市供水", "赤壁市水务集团陆水湖供水", "赤壁市水务集团中伙铺供水",
    "赤壁市水务集团赵李桥供水", "赤壁市水务集团官塘驿供水",
)
GAS_REGIONS = (
    "赤壁华润燃气城区营业厅", "赤壁华润燃气陆水湖营业厅", "赤壁华润燃气中伙铺营业厅",
    "赤壁华润燃气赵李桥营业厅",
)
WATER_REASONS = ("首次报装", "增容报装", "改表移表", "临时用水", "恢复供水")
GAS_REASONS = ("首次报装", "增加燃气器具", "改装迁移", "恢复供气")
GAS_APPLIANCES = ("燃气灶", "热水器", "壁挂炉")
GAS_ENTERPRISE_APPLIANCES = ("燃气灶", "热水器", "壁挂炉", "蒸汽锅炉", "工业炉窑")
GAS_USE_TYPES = ("餐饮", "商业", "工业生产", "锅炉采暖", "机关团体")


def _water_forms() -> dict[str, tuple[FieldSpec, ...]]:
    region = FieldSpec("region", "所属地区", CHOICE, choices=WATER_REGIONS)
    address = FieldSpec("address", "用水地址", TEXT, "请输入用水地址")
    community = FieldSpec("community", "小区名称", TEXT, "请输入小区名称")
    phone = FieldSpec("phone", "手机号码", PHONE, "请输入手机号码")
    reason = FieldSpec("reason", "申请原因", CHOICE, choices=WATER_REASONS)
    return {
        RESIDENTIAL: (
            region,
            FieldSpec("owner_name", "业主名称", TEXT, "请输入业主名称"),
            FieldSpec("owner_id", "业主身份证号码", ID_NUMBER, "请输入身份证"),
            address, community, phone,
            FieldSpec("people", "预估月用水人数", COUNT, "请输入用水人数", limits=(1, 20),
                      unit="人"),
            FieldSpec("volume", "预估月用水量", VOLUME, "请输入用水量", limits=(1, 200),
                      unit="立方米"),
            reason,
        ),
        ENTERPRISE: (
            region,
            FieldSpec("unit_name", "用水单位", TEXT, "请输入用水单位"),
            FieldSpec("agent_id", "经办人身份证号码", ID_NUMBER, "请输入身份证"),
            address, community,
            FieldSpec("credit_code", "统一社会信用代码", CREDIT_CODE, "请输入统一社会信用代码"),
            FieldSpec("agent_name", "经办人", TEXT, "请输入经办人"),
            phone,
            FieldSpec("people", "预估月用水人数", COUNT, "请输入用水人数", limits=(1, 5000),
                      unit="人"),
            FieldSpec("volume", "预估月用水量", VOLUME, "请输入用水量", limits=(1, 100000),
                      unit="立方米"),
            reason,
        ),
    }


def _gas_forms() -> dict[str, tuple[FieldSpec, ...]]:
    region = FieldSpec("region", "所属地区", CHOICE, choices=GAS_REGIONS)
    address = FieldSpec("address", "用气地址", TEXT, "请输入用气地址")
    community = FieldSpec("community", "小区名称", TEXT, "请输入小区名称")
    phone = FieldSpec("phone", "手机号码", PHONE, "请输入手机号码")
    reason = FieldSpec("reason", "申请原因", CHOICE, choices=GAS_REASONS)
    return {
        RESIDENTIAL: (
            region,
            FieldSpec("owner_name", "业主名称", TEXT, "请输入业主名称"),
            FieldSpec("owner_id", "业主身份证号码", ID_NUMBER, "请输入身份证"),
            address, community, phone,
            FieldSpec("appliances", "燃气器具", MULTI, choices=GAS_APPLIANCES),
            FieldSpec("volume", "预估月用气量", VOLUME, "请输入用气量", limits=(1, 300),
                      unit="立方米"),
            reason,
        ),
        ENTERPRISE: (
            region,
            FieldSpec("unit_name", "用气单位", TEXT, "请输入用气单位"),
            FieldSpec("agent_id", "经办人身份证号码", ID_NUMBER, "请输入身份证"),
            address, community,
            FieldSpec("credit_code", "统一社会信用代码", CREDIT_CODE, "请输入统一社会信用代码"),
            FieldSpec("agent_name", "经办人", TEXT, "请输入经办人"),
            phone,
            FieldSpec("use_type", "用气类型", CHOICE, choices=GAS_USE_TYPES),
            FieldSpec("appliances", "燃气器具", MULTI, choices=GAS_ENTERPRISE_APPLIANCES),
            FieldSpec("volume", "预估月用气量", VOLUME, "请输入用气量", limits=(1, 500000),
                      unit="立方米"),
            reason,
        ),
    }


WATER = Utility(
    key="water", scenario="water_connection", company="赤壁水务集团", business="用水报装",
    medium="水", matter_codes={RESIDENTIAL: "SW-BZ-JM", ENTERPRISE: "SW-BZ-QY"},
    forms=_water_forms(), service_line="赤壁水务集团客服热线 0715-5322110", final_state="通水",
    notes=(
        "本业务适用于赤壁水务集团供水范围内新装用水、增容、改表移表、临时用水和恢复供水。",
        "免提交材料：经您授权，系统从湖北省电子证照库调取不动产权证书（居民）或营业执照（企业）"
        "自动填写，无需提交实体证照和纸质材料；没有电子证照的信息请如实填写。",
        "提交后即时受理，水务集团服务专员按预约时间上门勘查，请保持手机畅通并安排人员在场。",
        "办理流程：受理 → 勘查 → 施工 → 通水 → 办结，每个关键节点以短信通知您。",
        "报装费用按物价部门核定标准收取，具体以现场勘查结果为准；可凭受理编号查询办理进度。",
        "我们承诺：非法律程序或经您的许可不会泄露您的个人信息。",
    ),
)

GAS = Utility(
    key="gas", scenario="gas_connection", company="赤壁华润燃气", business="燃气报装",
    medium="气", matter_codes={RESIDENTIAL: "RQ-BZ-JM", ENTERPRISE: "RQ-BZ-QY"},
    forms=_gas_forms(), service_line="赤壁华润燃气客服热线 0715-5338888", final_state="通气",
    notes=(
        "本业务适用于赤壁华润燃气供气范围内居民和企业的管道燃气新装、增加燃气器具、改装迁移和恢复供气。",
        "免提交材料：经您授权，系统从湖北省电子证照库调取不动产权证书（居民）或营业执照（企业）"
        "自动填写，无需提交实体证照和纸质材料；没有电子证照的信息请如实填写。",
        "提交后即时受理，燃气公司服务专员按预约时间上门勘查，请保持手机畅通并安排人员在场。",
        "办理流程：受理 → 勘查 → 施工 → 通气 → 办结，每个关键节点以短信通知您。",
        "通气前须经安全检查；请使用合格的燃气器具，严禁私自改装燃气管道。",
        "报装费用按物价部门核定标准收取，具体以现场勘查结果为准；可凭受理编号查询办理进度。",
        "我们承诺：非法律程序或经您的许可不会泄露您的个人信息。",
    ),
)

UTILITIES = {u.key: u for u in (GAS, WATER)}
BY_SCENARIO = {u.scenario: u for u in (GAS, WATER)}


# -- validation ---------------------------------------------------------------------------------


class FormInvalid(ValueError):
    """The form has errors; ``errors`` maps field key -> Chinese message (shown at the field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(sorted(errors)))  # keys only: no personal data
        self.errors = errors


def _as_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def check_field(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """The normalised value and an error message (None when valid)."""
    if spec.kind == MULTI:
        chosen = [v for v in (value or []) if v in spec.choices] if isinstance(
            value, list | tuple) else []
        if spec.required and not chosen:
            return chosen, f"请至少选择一种{spec.label}"
        return chosen, None
    text = _as_text(value)
    if not text:
        if not spec.required:
            return "", None
        verb = "选择" if spec.kind == CHOICE else "输入"
        return "", f"请{verb}{spec.label}"
    try:
        if spec.kind == ID_NUMBER:
            return validate_id_number(text), None
        if spec.kind == CREDIT_CODE:
            return validate_credit_code(text), None
    except IdentityError as exc:
        return text, exc.message
    if spec.kind == PHONE:
        if not text.isdigit() or len(text) != 11:
            return text, "手机号码应为 11 位数字"
        if not _MOBILE_RE.match(text):
            return text, "请输入正确的大陆手机号码（以 13-19 开头）"
        return text, None
    if spec.kind in (COUNT, VOLUME):
        low, high = spec.limits
        if not text.isdigit():
            return text, f"{spec.label}应为正整数"
        number = int(text)
        if number < low:
            return text, f"{spec.label}应大于 0"
        if number > high:
            return text, f"{spec.label}不应超过 {high}{spec.unit}，请核实"
        return str(number), None
    if spec.kind == CHOICE:
        if text not in spec.choices:
            return text, f"请从列表中选择{spec.label}"
        return text, None
    limit = ADDRESS_MAX if spec.key == "address" else TEXT_MAX
    if len(text) > limit:
        return text, f"{spec.label}不应超过 {limit} 个字"
    try:
        if spec.key in ("owner_name", "agent_name"):
            return validate_person_name(text, spec.key), None
        if spec.key == "unit_name":
            return validate_enterprise_name(text), None
    except IdentityError as exc:
        return text, exc.message.replace("姓名", spec.label) if spec.key == "agent_name" else \
            exc.message
    if spec.key in ("address", "community") and len(text) < 2:
        return text, f"请输入完整的{spec.label}"
    return text, None


def validate_form(utility: Utility, variant: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every field checked at once; returns the normalised form or raises FormInvalid."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in utility.fields(variant):
        value, error = check_field(spec, values.get(spec.key))
        clean[spec.key] = value
        if error:
            errors[spec.key] = error
    if errors:
        raise FormInvalid(errors)
    return clean


# -- pre-filling from the identity and the licences -------------------------------------------

# A 小区 named between the town (街道/镇/乡) and a building number: 小区 first, then the usual
# estate suffixes, then the 社区 (the neighbourhood committee often names the estate).
_COMMUNITY_SUFFIXES = ("小区", "花园|家园|公寓|新村|苑|园|城", "社区")


def community_from_address(address: str) -> str:
    """The 小区名称 when the address names one before a building (栋) number, else ''."""
    for suffix in _COMMUNITY_SUFFIXES:
        match = re.search(
            r"(?:街道|镇|乡)(?P<name>[\u4e00-\u9fff]{1,12}?(?:" + suffix + r"))"
            r"(?=[\u4e00-\u9fff]*\d+号\d+栋)", address or "")
        if match:
            return match.group("name")
    return ""


@dataclass
class Prefill:
    """What the identity and the licences gave: values, and which came from where."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # field key -> 来源 label
    notes: list[str] = field(default_factory=list)  # shown above the form


def prefill_person(utility: Utility, *, name: str, id_number: str,
                   property_licence: Licence | None, property_checked: bool) -> Prefill:
    """Residential form: owner from the identity, address (and community) from the 不动产权证书.

    ``property_checked`` is False when the licence could not be looked up at all (declined
    consent, platform down and nothing cached); the note says which case it is.
    """
    out = Prefill()
    out.values.update(owner_name=name, owner_id=id_number)
    out.sources.update(owner_name="身份信息", owner_id="身份信息")
    medium = "用水" if utility.key == "water" else "用气"
    if property_licence is not None:
        owner = property_licence.fields.get("权利人", "")
        location = property_licence.fields.get("坐落", "")
        if owner:
            out.values["owner_name"] = owner
            out.sources["owner_name"] = "不动产权证书"
        if location:
            out.values["address"] = location
            out.sources["address"] = "不动产权证书"
            community = community_from_address(location)
            if community:
                out.values["community"] = community
                out.sources["community"] = "由不动产权证书坐落推断，请核对"
        out.notes.append(f"已从电子证照库调取不动产权证书，业主和{medium}地址已自动填写，请核对。")
    elif property_checked:
        out.notes.append(f"电子证照库中没有您名下的不动产权证书：请手工填写{medium}地址和小区名称"
                         "（免提交纸质材料，服务专员上门时核实）。")
    else:
        out.notes.append(f"未调取不动产权证书：请手工填写{medium}地址和小区名称。")
    return out


def prefill_enterprise(utility: Utility, *, agent_name: str, agent_id: str,
                       business_licence: Licence | None) -> Prefill:
    """Enterprise form: the agent from the identity, the unit from the 营业执照."""
    out = Prefill()
    out.values.update(agent_name=agent_name, agent_id=agent_id)
    out.sources.update(agent_name="身份信息", agent_id="身份信息")
    if business_licence is not None:
        f = business_licence.fields
        out.values["unit_name"] = f.get("名称", business_licence.holder_name)
        out.values["credit_code"] = f.get("统一社会信用代码", business_licence.holder_id)
        out.sources.update(unit_name="营业执照", credit_code="营业执照")
        if f.get("住所"):
            out.values["address"] = f["住所"]
            out.sources["address"] = "营业执照住所，请核对"
        out.notes.append("已经企业授权调取营业执照，单位名称和统一社会信用代码已自动填写。")
    return out


def merge_draft(prefill: Mapping[str, Any], draft: Mapping[str, Any]) -> dict[str, Any]:
    """A restored draft wins over pre-filled values (the applicant typed it)."""
    merged = dict(prefill)
    merged.update({k: v for k, v in draft.items() if v not in ("", None, [])})
    return merged


# -- submission ---------------------------------------------------------------------------------


def application_body(utility: Utility, variant: str, form: Mapping[str, Any], *,
                     client_ref: str, workstation_id: str, channel: str,
                     licences: Sequence[str], holder_id: str) -> dict[str, Any]:
    """What the utility platform receives (POST /api/v1/utilities/{gas|water}/applications)."""
    return {
        "client_ref": client_ref,
        "variant": variant,
        "holder_id": holder_id,  # the applicant (owner or agent): for the progress query
        "form": dict(form),
        "licences_used": list(licences),  # 免提交: licence types the form was filled from
        "workstation_id": workstation_id,
        "channel": channel,  # kiosk / counter
    }


def applications_path(utility: Utility) -> str:
    return f"/api/v1/utilities/{utility.key}/applications"


PENDING_LABEL = "待提交（平台恢复后自动提交）"


def summary_rows(utility: Utility, variant: str, form: Mapping[str, Any], *,
                 masked: bool) -> list[tuple[str, str]]:
    """(label, value) of a form for the screen and the receipt; personal data masked."""
    from workstation.api import mask_id_number, mask_name, mask_phone

    rows: list[tuple[str, str]] = []
    for spec in utility.fields(variant):
        value = form.get(spec.key, "")
        text = "、".join(value) if isinstance(value, list) else str(value or "")
        if masked and text:
            if spec.kind == ID_NUMBER:
                text = mask_id_number(text)
            elif spec.kind == PHONE:
                text = mask_phone(text)
            elif spec.key in ("owner_name", "agent_name"):
                text = mask_name(text)
        if text and spec.unit:
            text = f"{text} {spec.unit}"
        rows.append((spec.label, text))
    return rows
