"""The rules of 户籍信息核验, Qt-free: what is asked, what the licences prove, what is printed.

The example plugin of the workstation (examples/household-check): the generated scaffold plus
the household facts read from the electronic household register (居民户口簿).

Everything here is plain data in, plain data out, so it is tested without a window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workstation.api import (
    CHINA_TZ,
    LICENCE_TYPES,
    Applicant,
    ConsentRequest,
    FetchResult,
    HolderKind,
    IdentifiedBy,
    IdentityError,
    Matter,
    validate_id_number,
    validate_person_name,
)


class InputErrors(ValueError):
    """Errors per form field, e.g. {"name": "...", "id_number": "..."} (Chinese)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def applicant_from_input(name: str, id_number: str) -> Applicant:
    """The applicant a clerk typed in; raises InputErrors naming every bad field at once."""
    errors: dict[str, str] = {}
    try:
        name = validate_person_name(name)
    except IdentityError as exc:
        errors["name"] = exc.message
    try:
        id_number = validate_id_number(id_number)
    except IdentityError as exc:
        errors["id_number"] = exc.message
    if errors:
        raise InputErrors(errors)
    return Applicant(HolderKind.PERSON, id_number, name, IdentifiedBy.CLERK)


def consent_request(applicant: Applicant, matter: Matter, scenario: str) -> ConsentRequest:
    """What the applicant is asked to agree to before anything is fetched."""
    return ConsentRequest(
        applicant=applicant,
        purpose=f"核验“{matter.name}”的申请材料",
        matter_code=matter.code,
        matter_name=matter.name,
        licence_types=matter.licence_types,
        scenario=scenario,
    )


@dataclass(frozen=True)
class Finding:
    """One material of the matter and what became of it."""

    material: str
    provided: bool  # True: an electronic licence replaces it (免提交)
    detail: str  # Chinese: the licence used, or why the paper is still needed


def assess(matter: Matter, result: FetchResult | None, today: dt.date) -> list[Finding]:
    """Per material: is there a valid electronic licence for it? ``result`` None: declined."""
    findings: list[Finding] = []
    for m in matter.materials:
        if m.licence_type is None:
            findings.append(Finding(m.name, False, m.note or "需提交纸质材料"))
            continue
        type_name = LICENCE_TYPES[m.licence_type].name
        if result is None:
            findings.append(Finding(m.name, False, "申请人未授权调取，需提交纸质材料"))
            continue
        valid = [lic for lic in result.of_type(m.licence_type) if lic.status == "valid"
                 and (lic.valid_until is None or lic.valid_until >= today)]
        if valid:
            findings.append(Finding(m.name, True, f"{type_name}已核验（{valid[0].licence_id}）"))
        else:
            reason = result.reason_for(m.licence_type) or f"未查到有效的{type_name}"
            findings.append(Finding(m.name, False, f"{reason}，需提交纸质材料"))
    return findings


# Household register fields shown and printed: the household's situation, never identifiers
# (ID number, household number) or the address.
HOUSEHOLD_FACTS = ("户别", "与户主关系", "婚姻状况", "登记机关", "登记日期")


def household_facts(result: FetchResult | None) -> list[tuple[str, str]]:
    """(label, value) pairs from the applicant's valid household register, if fetched."""
    if result is None:
        return []
    registers = [lic for lic in result.of_type("household_register") if lic.status == "valid"]
    if not registers:
        return []
    fields = registers[0].fields
    return [(key, fields[key]) for key in HOUSEHOLD_FACTS if fields.get(key)]


@dataclass(frozen=True)
class Sheet:
    """The printed 核验单: only masked personal data goes on paper."""

    matter_name: str
    department: str
    applicant_name: str  # masked
    applicant_id: str  # masked
    findings: tuple[Finding, ...]
    case_number: str
    workstation_id: str
    generated_at: dt.datetime
    offline_note: str = ""
    facts: tuple[tuple[str, str], ...] = ()  # from household_facts()


def make_sheet(applicant: Applicant, matter: Matter, findings: list[Finding], *,
               case_number: str, workstation_id: str, generated_at: dt.datetime,
               result: FetchResult | None) -> Sheet:
    offline_note = ""
    if result is not None and result.offline and result.as_of is not None:
        as_of = result.as_of.astimezone(CHINA_TZ)
        offline_note = f"平台离线，证照数据截至 {as_of:%Y-%m-%d %H:%M}"
    return Sheet(
        matter_name=matter.name, department=matter.department,
        applicant_name=applicant.masked_name, applicant_id=applicant.masked_id,
        findings=tuple(findings), case_number=case_number, workstation_id=workstation_id,
        generated_at=generated_at.astimezone(CHINA_TZ), offline_note=offline_note,
        facts=tuple(household_facts(result)),
    )
