"""S10 steps without Qt: consent request, licence search and thumbnails, archive upload."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from workstation.api import (
    ARCHIVE_FILES,
    ARCHIVE_MANIFESTS,
    LICENCE_TYPES,
    PLATFORM_POST,
    Applicant,
    ConsentRequest,
    EnterprisePlatform,
    HolderKind,
    IdentifiedBy,
    IdentityError,
    Licence,
    platform_post,
    validate_id_number,
)

BUSINESSES = {"withdrawal": "公积金提取", "loan": "公积金贷款"}
MATTER_CODES = {"withdrawal": "GJJ-TQ", "loan": "GJJ-DK"}
REASON = "公积金业务档案资料采集"


class FormError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class CaseStart:
    business: str
    id_number: str
    types: tuple[str, ...]


def check_case(business: str, id_number: str, types: list[str], allowed: tuple[str, ...]
               ) -> CaseStart:
    errors: dict[str, str] = {}
    if business not in BUSINESSES:
        errors["business"] = "请选择业务类型（提取或贷款）"
    clean = ""
    try:
        clean = validate_id_number(id_number)
    except IdentityError as exc:
        errors["id_number"] = exc.message
    if not types:
        errors["types"] = "请至少选择一种证照类型"
    elif any(t not in allowed for t in types):
        errors["types"] = "所选证照类型不在本业务范围内"
    if errors:
        raise FormError(errors)
    return CaseStart(business, clean, tuple(types))


def case_applicant(case: CaseStart, name: str = "") -> Applicant:
    """The citizen of a case, as the clerk entered them (the name comes with the consent)."""
    return Applicant(kind=HolderKind.PERSON, holder_id=case.id_number, name=name,
                     identified_by=IdentifiedBy.CLERK)


def open_consent_request(ctx: Any, case: CaseStart) -> Any:
    return EnterprisePlatform(ctx.platform).request_consent(
        kind=HolderKind.PERSON, holder_id=case.id_number, purpose=BUSINESSES[case.business],
        matter_code=MATTER_CODES[case.business], licence_types=case.types,
        expires_at=ctx.clock() + dt.timedelta(minutes=30), workstation_id=ctx.workstation_id)


@dataclass(frozen=True)
class Downloaded:
    consent: Any
    applicant: Applicant
    found: tuple[tuple[Licence, bytes | None], ...]
    missing: tuple[str, ...]  # types the library has no licence of


def download(ctx: Any, case: CaseStart, answer: Any) -> Downloaded:
    """After approval: record the consent, search, download thumbnails (blocking)."""
    applicant = case_applicant(case, answer.holder_name or "")
    request = ConsentRequest(applicant=applicant, purpose=BUSINESSES[case.business],
                             matter_code=MATTER_CODES[case.business], licence_types=case.types,
                             scenario=ctx.manifest.id)
    operator = ctx.operator()
    consent = ctx.consents.record_remote(request, answer.consent_ref, answer.consent_expires_at,
                                         operator=operator)
    result = ctx.licences.fetch(consent, case.types, reason=REASON, operator=operator)
    found = []
    for lic in result.licences:
        if lic.status != "valid":
            continue
        try:
            png = bytes(ctx.licences.thumbnail(consent, lic, REASON, operator=operator))
        except Exception:  # listed without a picture; the clerk sees it
            png = None
        found.append((lic, png))
    present = {lic.type_key for lic, _ in found}
    return Downloaded(consent, applicant, tuple(found),
                      tuple(t for t in case.types if t not in present))


def queue_archive(ctx: Any, case_no: str, business: str, downloaded: Downloaded) -> list[str]:
    """Queue every thumbnail, then the manifest, in the outbox; keys are per case and licence."""
    keys: list[str] = []
    files = []
    for lic, png in downloaded.found:
        if png is None:
            continue
        sha = hashlib.sha256(png).hexdigest()
        body = {"case_no": case_no, "licence_id": lic.licence_id, "type_key": lic.type_key,
                "content_b64": base64.b64encode(png).decode("ascii"), "sha256": sha}
        key = f"gjj:{case_no}:{sha[:16]}"
        ctx.outbox.enqueue(PLATFORM_POST, platform_post(ARCHIVE_FILES, "archive/files", body),
                           key)
        keys.append(key)
        files.append({"sha256": sha, "licence_id": lic.licence_id, "type_key": lic.type_key,
                      "type_name": LICENCE_TYPES[lic.type_key].name})
    manifest = {"case_no": case_no, "business": business, "files": files,
                "operator": ctx.operator() or "", "workstation_id": ctx.workstation_id}
    key = f"gjj:{case_no}:manifest"
    ctx.outbox.enqueue(PLATFORM_POST, platform_post(ARCHIVE_MANIFESTS, "archive/manifests",
                                                    manifest), key)
    keys.append(key)
    ctx.audit.record("submission", holder_id=downloaded.applicant.holder_id,
                     what="housing_fund_archive", case=case_no, files=len(files))
    return keys


def upload_state(ctx: Any, keys: list[str]) -> tuple[int, int]:
    """(sent, total) of a case's outbox items."""
    items = [ctx.outbox.get(k) for k in keys]
    return sum(1 for i in items if i is not None and i.sent), len(keys)
