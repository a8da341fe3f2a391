"""S5 logic between the page and the services. Qt-free: tested without a window.

The case (``ReviewCase``) lives in the page while the citizen is there; what goes to the clerk
queue is a ``ctx.records`` record of kind ``review`` (data encrypted at rest) plus the captured
images in the case folder. Everything else is wiped when the session ends.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugins.smart_review.rules import (
    CheckResult,
    MatterRules,
    ReviewForm,
    all_passed,
    load_rules,
    review,
)
from workstation.api import (
    CHINA_TZ,
    Applicant,
    ConsentRequest,
    FetchResult,
    IdentifiedBy,
    mask_id_number,
    mask_name,
)

RECORD_KIND = "review"
QUEUED = "queued"  # waiting for a clerk
APPROVED = "approved"  # by the clerk
RETURNED = "returned"  # by the clerk, with a reason
AUTO_APPROVED = "auto_approved"  # every check passed at the kiosk: certificate printed

STATE_LABELS = {QUEUED: "待人工审核", APPROVED: "人工审核通过", RETURNED: "已退回",
                AUTO_APPROVED: "智能审批通过"}

_rules: dict[str, MatterRules] | None = None


def matters() -> dict[str, MatterRules]:
    global _rules
    if _rules is None:
        _rules = load_rules()
    return _rules


def consent_request(applicant: Applicant, rules: MatterRules, scenario: str) -> ConsentRequest:
    return ConsentRequest(applicant=applicant, purpose=f"智能审批：{rules.name}",
                          matter_code=rules.code, licence_types=rules.licence_types,
                          scenario=scenario, matter_name=rules.name)


def face_applicant(holder_id: str, name: str, score: float) -> Applicant:
    from workstation.api import HolderKind

    return Applicant(kind=HolderKind.PERSON, holder_id=holder_id, name=name,
                     identified_by=IdentifiedBy.FACE, extra={"face_score": f"{score:.2f}"})


def licences_by_type(result: FetchResult, types: tuple[str, ...]) -> dict[str, Any]:
    """The newest licence of each type (None when the platform had none)."""
    found: dict[str, Any] = {}
    for key in types:
        items = result.of_type(key)
        found[key] = max(items, key=lambda lic: lic.issued_on) if items else None
    return found


@dataclass
class Capture:
    """One material photographed: the picture as JPEG (personal data) and what OCR made of
    it."""

    material: str
    jpeg: bytes = field(repr=False)
    fields: dict[str, str] = field(repr=False)
    found: int = 0


@dataclass
class ReviewCase:
    case_number: str
    rules: MatterRules
    applicant: Applicant
    licences: dict[str, Any] = field(default_factory=dict, repr=False)
    offline: bool = False
    captures: dict[str, Capture] = field(default_factory=dict, repr=False)
    form: ReviewForm = field(default_factory=ReviewForm, repr=False)
    results: list[CheckResult] = field(default_factory=list, repr=False)

    @property
    def next_material(self) -> str | None:
        for spec in self.rules.materials:
            if spec.key not in self.captures:
                return spec.key
        return None

    def add_capture(self, capture: Capture) -> None:
        self.captures[capture.material] = capture
        for key, value in capture.fields.items():
            self.form.set(capture.material, key, value)
        self.form.corrected -= {(m, k) for m, k in self.form.corrected if m == capture.material}

    def run_review(self, today: dt.date) -> list[CheckResult]:
        self.results = review(self.rules, self.form, self.licences, today)
        return self.results

    @property
    def passed(self) -> bool:
        return all_passed(self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]


def today_in_china(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA_TZ).date()


# ---------------------------------------------------------------------------------------------
# Printouts
# ---------------------------------------------------------------------------------------------


def _identified(applicant: Applicant) -> str:
    return {IdentifiedBy.FACE: "人脸识别比对（与身份证照片）", IdentifiedBy.CODE: "扫码（身份码）",
            IdentifiedBy.CARD: "刷社会保障卡"}.get(applicant.identified_by, "窗口录入")


def report_data(case: ReviewCase, now: dt.datetime, workstation_id: str) -> Any:
    from plugins.smart_review.printout import ReviewReport

    return ReviewReport(
        matter_name=case.rules.name, department=case.rules.department,
        case_number=case.case_number, applicant=case.applicant.masked_name,
        applicant_id=case.applicant.masked_id, identified_by=_identified(case.applicant),
        outcome="通过（自助出证）" if case.passed else "转人工审核",
        checks=tuple((r.label, "通过" if r.passed else "未通过",
                      f"{r.reason}。依据：{r.evidence_text(masked=True)}") for r in case.results),
        corrections=len(case.form.corrected),
        generated_at=now.astimezone(CHINA_TZ), workstation_id=workstation_id,
    )


def certificate_data(case: ReviewCase, now: dt.datetime, workstation_id: str,
                     text: str | None = None) -> Any:
    from plugins.smart_review.printout import ResultCertificate

    return ResultCertificate(
        title=case.rules.result_title, matter_name=case.rules.name,
        department=case.rules.department, case_number=case.case_number,
        applicant=case.applicant.masked_name, applicant_id=case.applicant.masked_id,
        text=text or case.rules.result_text, issued_at=now.astimezone(CHINA_TZ),
        workstation_id=workstation_id)


# ---------------------------------------------------------------------------------------------
# The clerk queue (ctx.records) and the captured files
# ---------------------------------------------------------------------------------------------


def image_name(material: str) -> str:
    return f"材料-{material}.jpg"


def queue_data(case: ReviewCase, files: dict[str, str], now: dt.datetime) -> dict[str, Any]:
    """What the clerk needs: the applicant, the form, every check with its evidence, the
    captured images' files. Stored encrypted (``ctx.records``)."""
    return {
        "case_number": case.case_number, "matter_code": case.rules.code,
        "matter_name": case.rules.name, "holder_id": case.applicant.holder_id,
        "name": case.applicant.name, "identified_by": case.applicant.identified_by.value,
        "queued_at": now.isoformat(),
        "form": {m: dict(v) for m, v in case.form.values.items()},
        "corrected": sorted(f"{m}.{k}" for m, k in case.form.corrected),
        "checks": [{"label": r.label, "passed": r.passed, "reason": r.reason,
                    "evidence": r.evidence_text()} for r in case.results],
        "reasons": [f"{r.label}：{r.reason}" for r in case.results if not r.passed],
        "images": files,  # material key -> file name in the case folder
    }


def queue_summary(data: dict[str, Any]) -> str:
    """One line for the clerk's list (masked)."""
    return (f"{data.get('matter_name', '')} · {mask_name(str(data.get('name', '')))} · "
            f"{mask_id_number(str(data.get('holder_id', '')))}")


def case_cleanup(folder: Path, state: dict[str, bool]) -> Callable[[str], None]:
    """What the session's end calls: the case folder goes unless the case was queued."""

    def cleanup(reason: str) -> None:
        if state.get("queued"):
            return
        shutil.rmtree(folder, ignore_errors=True)

    return cleanup


def validate_return_reason(text: str) -> str:
    reason = " ".join(text.split())
    if len(reason) < 2:
        raise ValueError("请填写退回原因")
    if len(reason) > 200:
        raise ValueError("退回原因请不超过200字")
    return reason
