"""S11 steps without Qt: authorization, gathering the enterprise's data, applying."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from plugins.policy_match.rules import PolicyCatalogue, PolicyResult, enterprise_facts
from workstation.api import (
    CHINA_TZ,
    PLATFORM_POST,
    POLICY_APPLICATIONS,
    Applicant,
    ConsentRequest,
    EnterprisePlatform,
    HolderKind,
    IdentifiedBy,
    platform_post,
)

PURPOSE = "企心协力惠企政策匹配"
MATTER_CODE = "QXXL-ZCPP"
DATA_SCOPES = ("employment",)


@dataclass(frozen=True)
class Gathered:
    applicant: Applicant
    consent: Any
    licence_valid: bool | None
    employment: dict[str, Any]
    results: list[PolicyResult]
    year: int

    @property
    def eligible(self) -> list[PolicyResult]:
        return [r for r in self.results if r.eligible]


def open_authorization(ctx: Any) -> Any:
    return EnterprisePlatform(ctx.platform).request_consent(
        kind=HolderKind.ENTERPRISE, holder_id=None, purpose=PURPOSE, matter_code=MATTER_CODE,
        licence_types=ctx.manifest.licence_types, data_scopes=DATA_SCOPES,
        expires_at=ctx.clock() + dt.timedelta(minutes=30), workstation_id=ctx.workstation_id)


def gather(ctx: Any, answer: Any, catalogue: PolicyCatalogue) -> Gathered:
    """After approval: record the consent, fetch the licence and data, evaluate (blocking)."""
    applicant = Applicant(kind=HolderKind.ENTERPRISE, holder_id=answer.holder_id,
                          name=answer.holder_name or "", identified_by=IdentifiedBy.CODE)
    request = ConsentRequest(applicant=applicant, purpose=PURPOSE, matter_code=MATTER_CODE,
                             licence_types=ctx.manifest.licence_types, scenario=ctx.manifest.id)
    operator = ctx.operator()
    consent = ctx.consents.record_remote(request, answer.consent_ref, answer.consent_expires_at,
                                         operator=operator)
    today = ctx.clock().astimezone(CHINA_TZ).date()
    fetched = ctx.licences.fetch(consent, ["business_licence"], reason="惠企政策匹配核验营业执照",
                                 operator=operator)
    statuses = [lic.status for lic in fetched.licences]
    licence_valid = (("valid" in statuses) if statuses else False) if not fetched.offline \
        else None
    employment = EnterprisePlatform(ctx.platform).employment(
        applicant.holder_id, answer.consent_ref, today.year)
    ctx.audit.record("enterprise_data", holder_id=applicant.holder_id, what="employment",
                     consent_id=consent.id, employees=len(employment.get("employees") or []))
    facts = enterprise_facts(employment, licence_valid=licence_valid)
    return Gathered(applicant, consent, licence_valid, employment,
                    catalogue.evaluate(facts, today), today.year)


def apply_all(ctx: Any, gathered: Gathered) -> list[str]:
    """Queue an application for every eligible policy (免申即享); returns the keys."""
    keys = []
    code = gathered.applicant.holder_id
    for result in gathered.eligible:
        key = f"policy:{code}:{result.policy_id}:{gathered.year}"
        body = {
            "credit_code": code, "consent_ref": gathered.consent.consent_ref,
            "policy_id": result.policy_id, "amount_yuan": result.amount_yuan,
            "people": list(result.qualifying_people),
            "evidence": {c.label: c.evidence for c in result.conditions},
        }
        ctx.outbox.enqueue(PLATFORM_POST, platform_post(POLICY_APPLICATIONS,
                                                        "policies/applications", body), key)
        ctx.audit.record("submission", holder_id=code, what="policy_application",
                         policy=result.policy_id)
        keys.append(key)
    return keys
