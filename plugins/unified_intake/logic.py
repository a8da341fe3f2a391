"""Unified intake rules, Qt-free: validate the applicant, ask for consent, assess materials."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from workstation.api import (
    CHINA_TZ,
    LICENCE_TYPES,
    Applicant,
    ConsentRequest,
    HolderKind,
    IdentifiedBy,
    IdentityError,
    Licence,
    Material,
    Matter,
    parse_credit_code,
    validate_enterprise_name,
    validate_id_number,
    validate_person_name,
)

if TYPE_CHECKING:  # ReportLab is imported only when a document is built
    from workstation.api.printing import MaterialListDocument


class FieldErrors(ValueError):
    """Errors per form field: {"name": "...", "holder_id": "...", "matter": "..."}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ValidatedApplicant:
    applicant: Applicant
    warnings: tuple[str, ...] = ()


def validate_applicant(
    kind: HolderKind, name: str, holder_id: str, matter: Matter | None
) -> ValidatedApplicant:
    """Check every field and report all errors at once (at their fields)."""
    errors: dict[str, str] = {}
    warnings: tuple[str, ...] = ()
    clean_name = clean_id = ""
    try:
        clean_name = (validate_person_name(name) if kind is HolderKind.PERSON
                      else validate_enterprise_name(name))
    except IdentityError as exc:
        errors["name"] = exc.message
    try:
        if kind is HolderKind.PERSON:
            clean_id = validate_id_number(holder_id)
        else:
            info = parse_credit_code(holder_id)
            clean_id, warnings = info.code, info.warnings
    except IdentityError as exc:
        errors["holder_id"] = exc.message
    if matter is None:
        errors["matter"] = "请选择办理事项"
    elif matter.holder_kind is not kind:
        who = "个人" if matter.holder_kind is HolderKind.PERSON else "企业"
        errors["matter"] = f"“{matter.name}”应由{who}申请"
    if errors:
        raise FieldErrors(errors)
    applicant = Applicant(kind=kind, holder_id=clean_id, name=clean_name,
                          identified_by=IdentifiedBy.CLERK)
    return ValidatedApplicant(applicant, warnings)


def consent_request_for(applicant: Applicant, matter: Matter, scenario: str) -> ConsentRequest:
    return ConsentRequest(
        applicant=applicant,
        purpose=matter.name,
        matter_code=matter.code,
        licence_types=matter.licence_types,
        scenario=scenario,
    )


class MaterialState(StrEnum):
    PROVIDED = "provided"  # an electronic licence replaces it (免提交)
    TO_SUBMIT = "to_submit"  # must be handed in on paper
    OPTIONAL_MISSING = "optional_missing"  # optional and not available


@dataclass(frozen=True)
class MaterialAssessment:
    material: Material
    state: MaterialState
    licence: Licence | None
    reason: str  # Chinese, shown to the clerk

    @property
    def label(self) -> str:
        return {
            MaterialState.PROVIDED: "电子证照免提交",
            MaterialState.TO_SUBMIT: "需提交纸质材料",
            MaterialState.OPTIONAL_MISSING: "非必需，可不提交",
        }[self.state]


def _usable(licence: Licence, today: dt.date) -> str | None:
    """Why a licence cannot replace a material, or None when it can."""
    if licence.status == "revoked":
        return "电子证照已注销"
    if licence.status == "expired" or (licence.valid_until and licence.valid_until < today):
        return "电子证照已过有效期"
    return None


def assess_materials(
    matter: Matter,
    licences: list[Licence] | None,
    today: dt.date,
    *,
    unavailable: tuple[str, ...] = (),
    consent_declined: bool = False,
    failure_reason: str | None = None,
    reasons: dict[str, str] | None = None,
) -> list[MaterialAssessment]:
    """Decide per material whether an electronic licence replaces it.

    ``failure_reason``: the licences could not be fetched at all (shown per material);
    ``reasons``: the platform's reason per licence type it could not provide.
    """
    by_type: dict[str, list[Licence]] = {}
    for lic in licences or []:
        by_type.setdefault(lic.type_key, []).append(lic)
    out: list[MaterialAssessment] = []
    for m in matter.materials:
        if m.licence_type is None:
            state = MaterialState.TO_SUBMIT if m.required else MaterialState.OPTIONAL_MISSING
            out.append(MaterialAssessment(m, state, None, m.note or "该材料无对应电子证照"))
            continue
        type_name = LICENCE_TYPES[m.licence_type].name
        candidates = by_type.get(m.licence_type, [])
        usable = [lic for lic in candidates if _usable(lic, today) is None]
        if usable:
            best = max(usable, key=lambda lic: lic.issued_on)
            out.append(MaterialAssessment(m, MaterialState.PROVIDED, best, f"{type_name}已核验"))
            continue
        if consent_declined:
            reason = "申请人未授权调取电子证照"
        elif failure_reason:
            reason = failure_reason
        elif reasons and m.licence_type in reasons:
            reason = reasons[m.licence_type]
        elif m.licence_type in unavailable:
            reason = "电子证照平台暂时无法连接"
        elif candidates:
            reason = _usable(candidates[0], today) or "电子证照不可用"
        else:
            reason = f"未查到申请人的{type_name}"
        if m.note:
            reason = f"{reason}；{m.note}"
        state = MaterialState.TO_SUBMIT if m.required else MaterialState.OPTIONAL_MISSING
        out.append(MaterialAssessment(m, state, None, reason))
    return out


def summary(assessments: list[MaterialAssessment]) -> tuple[int, int]:
    """(materials replaced by licences, materials still to hand in)."""
    provided = sum(1 for a in assessments if a.state is MaterialState.PROVIDED)
    to_submit = sum(1 for a in assessments if a.state is MaterialState.TO_SUBMIT)
    return provided, to_submit


def material_list_document(
    *,
    matter: Matter,
    applicant: Applicant,
    assessments: list[MaterialAssessment],
    case_number: str,
    workstation_id: str,
    operator: str | None,
    generated_at: dt.datetime,
    offline_as_of: dt.datetime | None,
) -> MaterialListDocument:
    """The printable material list: only masked identity data goes on paper."""
    from workstation.api.printing import MaterialListDocument, MaterialListItem

    items = [
        MaterialListItem(
            name=a.material.name,
            status=a.state.value,
            licence_type_name=(LICENCE_TYPES[a.material.licence_type].name
                               if a.material.licence_type else None),
            licence_id=a.licence.licence_id if a.licence else None,
            note="" if a.state is MaterialState.PROVIDED else a.reason,
        )
        for a in assessments
    ]
    offline_note = None
    if offline_as_of is not None:
        offline_note = f"平台离线，证照数据截至 {offline_as_of.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"
    return MaterialListDocument(
        matter_name=matter.name,
        matter_code=matter.code,
        department=matter.department,
        applicant_label=applicant.masked_name,
        applicant_id_masked=applicant.masked_id,
        identified_by_label=applicant.identified_by.label,
        case_number=case_number,
        workstation_id=workstation_id,
        operator=operator or "",
        items=items,
        generated_at=generated_at.astimezone(CHINA_TZ),
        offline_note=offline_note,
    )
