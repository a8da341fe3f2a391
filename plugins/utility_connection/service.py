"""S12/S13 steps without Qt: drafts, submission through the outbox, progress from the utility.

Every function here blocks (database, HTTP): a page calls them through ``run_busy``.

- Drafts (暂存) live in ``ctx.records`` (kind ``draft``, encrypted, found by the applicant's
  keyed hash), one per applicant and scenario; submitting deletes it.
- A submission is first a local record (kind ``application``, state ``pending``) and an outbox
  item whose idempotency key is ``{utility}:{client_ref}``; the outbox sends it once, now or when
  the utility answers again. ``sync`` turns a sent one into ``submitted`` with the utility's
  application number (asked from the utility by ``client_ref`` when the background sender
  delivered it), so the page shows "待提交（平台恢复后自动提交）" until then.
- Progress: the utility platforms' answer for the applicant (gas and water), plus the local
  applications still waiting in the outbox.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plugins.utility_connection.forms import (
    PENDING_LABEL,
    UTILITIES,
    Utility,
    application_body,
    applications_path,
)
from workstation.api import (
    CHINA_TZ,
    PLATFORM_POST,
    ConsentRequest,
    PlatformError,
    PlatformUnavailable,
    platform_post,
)

DRAFT = "draft"
APPLICATION = "application"
PENDING = "pending"
SUBMITTED = "submitted"
QUERY_PATH = "/api/v1/utilities/applications/query"


# -- drafts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    variant: str
    values: dict[str, Any]
    saved_at: dt.datetime


def save_draft(ctx: Any, holder_id: str, variant: str, values: Mapping[str, Any]) -> Draft:
    """Keep the form as it is now (one draft per applicant; a newer save replaces it)."""
    now = ctx.clock()
    data = {"variant": variant, "values": dict(values), "saved_at": now.isoformat()}
    existing = ctx.records.find(DRAFT, holder_id=holder_id, limit=1)
    key = existing[0].key if existing else uuid.uuid4().hex
    ctx.records.put(DRAFT, key, data, state="saved", holder_id=holder_id)
    ctx.audit.record("draft_saved", holder_id=holder_id, variant=variant)
    return Draft(variant, dict(values), now)


def load_draft(ctx: Any, holder_id: str) -> Draft | None:
    found = ctx.records.find(DRAFT, holder_id=holder_id, limit=1)
    if not found:
        return None
    data = found[0].data
    try:
        saved = dt.datetime.fromisoformat(str(data.get("saved_at")))
    except ValueError:
        saved = found[0].updated_at
    return Draft(str(data.get("variant", "residential")), dict(data.get("values") or {}), saved)


def delete_drafts(ctx: Any, holder_id: str) -> None:
    for record in ctx.records.find(DRAFT, holder_id=holder_id):
        ctx.records.delete(DRAFT, record.key)


# -- consent ------------------------------------------------------------------------------------


def licence_consent_request(ctx: Any, utility: Utility, variant: str, applicant: Any,
                            types: Sequence[str]) -> ConsentRequest:
    return ConsentRequest(
        applicant=applicant, purpose=utility.business, matter_code=utility.matter_codes[variant],
        licence_types=tuple(types), scenario=ctx.manifest.id,
        matter_name=f"{utility.company}{utility.title(variant)}", requester=utility.company,
    )


# -- submission ---------------------------------------------------------------------------------


@dataclass
class Submission:
    """One application as this workstation knows it."""

    client_ref: str
    utility: str
    variant: str
    submitted_at: dt.datetime
    form: dict[str, Any]
    application_no: str | None = None
    state: str = PENDING_LABEL
    visit: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, str]] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.application_no is None

    @property
    def number(self) -> str:
        """What the applicant quotes: the utility's number, else the local reference."""
        return self.application_no or self.client_ref

    def visit_text(self) -> str:
        if not self.visit:
            return "受理后由服务专员预约"
        day = dt.date.fromisoformat(self.visit["date"])
        weekday = "一二三四五六日"[day.weekday()]
        return f"{day.month}月{day.day}日（周{weekday}）{self.visit['from']}-{self.visit['to']}"

    def to_json(self) -> dict[str, Any]:
        return {"client_ref": self.client_ref, "utility": self.utility, "variant": self.variant,
                "submitted_at": self.submitted_at.isoformat(), "form": self.form,
                "application_no": self.application_no, "state": self.state,
                "visit": self.visit, "history": self.history}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Submission:
        return cls(
            client_ref=str(data["client_ref"]), utility=str(data["utility"]),
            variant=str(data["variant"]),
            submitted_at=dt.datetime.fromisoformat(str(data["submitted_at"])),
            form=dict(data.get("form") or {}), application_no=data.get("application_no"),
            state=str(data.get("state") or PENDING_LABEL), visit=dict(data.get("visit") or {}),
            history=list(data.get("history") or []),
        )

    def accept(self, answer: Mapping[str, Any]) -> None:
        self.application_no = str(answer["application_no"])
        self.state = str(answer.get("state") or "受理")
        self.visit = dict(answer.get("visit") or {})
        self.history = list(answer.get("history") or [])


def _outbox_key(utility: Utility, client_ref: str) -> str:
    return f"{utility.key}:{client_ref}"


def new_client_ref(ctx: Any, utility: Utility) -> str:
    now = ctx.clock().astimezone(CHINA_TZ)
    return f"{utility.key[0].upper()}{now:%y%m%d%H%M%S}{uuid.uuid4().hex[:6].upper()}"


def submit(ctx: Any, utility: Utility, variant: str, form: Mapping[str, Any], *,
           holder_id: str, licences_used: Sequence[str], client_ref: str) -> Submission:
    """Store the application, queue it in the outbox and try to send it now.

    ``client_ref`` is made once per filled form (``new_client_ref``): pressing 下一步 again after
    a lost answer queues nothing new, and the utility receives it once.
    """
    existing = ctx.records.get(APPLICATION, client_ref)
    if existing is not None:
        submission = Submission.from_json(existing.data)
    else:
        submission = Submission(client_ref, utility.key, variant, ctx.clock(), dict(form))
        ctx.records.create(APPLICATION, client_ref, submission.to_json(), state=PENDING,
                           holder_id=holder_id)
        body = application_body(
            utility, variant, form, client_ref=client_ref, workstation_id=ctx.workstation_id,
            channel="kiosk" if ctx.kiosk else "counter", licences=licences_used,
            holder_id=holder_id)
        ctx.outbox.enqueue(PLATFORM_POST, platform_post(
            applications_path(utility), f"utilities/{utility.key}/applications", body),
            _outbox_key(utility, client_ref))
        ctx.audit.record("submission", holder_id=holder_id, what=f"{utility.key}_connection",
                         variant=variant, client_ref=client_ref)
        delete_drafts(ctx, holder_id)
    key = _outbox_key(utility, client_ref)
    report = ctx.outbox.deliver_due()
    answer = report.replies.get(key)
    if answer is not None and submission.pending:
        submission.accept(answer)
        _store(ctx, submission)
        return submission
    return sync_one(ctx, utility, submission, holder_id)


def _store(ctx: Any, submission: Submission) -> None:
    ctx.records.update(APPLICATION, submission.client_ref, data=submission.to_json(),
                       state=PENDING if submission.pending else SUBMITTED)


def _query(ctx: Any, holder_id: str) -> list[dict[str, Any]]:
    data = ctx.platform.call_json("POST", QUERY_PATH, "utilities/applications/query",
                                  json={"holder_id": holder_id})
    return [a for a in data.get("applications") or [] if isinstance(a, dict)]


def sync_one(ctx: Any, utility: Utility, submission: Submission, holder_id: str) -> Submission:
    """A pending submission the outbox has sent: learn its number from the utility."""
    if not submission.pending:
        return submission
    item = ctx.outbox.get(_outbox_key(utility, submission.client_ref))
    if item is None or not item.sent:
        return submission
    try:
        found = _query(ctx, holder_id)
    except (PlatformUnavailable, PlatformError):
        return submission
    for answer in found:
        if answer.get("client_ref") == submission.client_ref:
            submission.accept(answer)
            _store(ctx, submission)
    return submission


def pending_submissions(ctx: Any, holder_id: str) -> list[Submission]:
    return [Submission.from_json(r.data)
            for r in ctx.records.find(APPLICATION, holder_id=holder_id, state=PENDING)]


def refresh_pending(ctx: Any, holder_id: str) -> list[Submission]:
    """Send what is due, then bring every pending submission of the applicant up to date."""
    ctx.outbox.deliver_due()
    return [sync_one(ctx, UTILITIES[s.utility], s, holder_id)
            for s in pending_submissions(ctx, holder_id)]


# -- progress -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressRow:
    utility: str  # gas / water
    company: str
    number: str
    state: str
    states: tuple[str, ...]
    history: tuple[tuple[str, str], ...]  # (state, 时间 text in CST)
    visit: str
    address: str
    pending: bool = False


@dataclass(frozen=True)
class Progress:
    rows: tuple[ProgressRow, ...]
    online: bool  # False: the utilities could not be asked; only local ones are listed


def _cst(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return f"{moment.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"


def progress(ctx: Any, holder_id: str) -> Progress:
    """The applicant's applications at both utilities, newest first."""
    pending = refresh_pending(ctx, holder_id)
    rows: list[ProgressRow] = []
    online = True
    try:
        found = _query(ctx, holder_id)
    except (PlatformUnavailable, PlatformError):
        found, online = [], False
    for a in found:
        utility = UTILITIES.get(str(a.get("utility")))
        if utility is None:
            continue
        sub = Submission(str(a.get("client_ref") or ""), utility.key,
                         str(a.get("variant") or ""), ctx.clock(), {})
        sub.accept(a)
        rows.append(ProgressRow(
            utility.key, utility.company, str(a["application_no"]), str(a["state"]),
            utility.states,
            tuple((str(h["state"]), _cst(str(h["at"]))) for h in a.get("history") or []),
            sub.visit_text(), str(a.get("address") or "")))
    for sub in pending:
        if sub.pending:
            utility = UTILITIES[sub.utility]
            rows.insert(0, ProgressRow(
                utility.key, utility.company, sub.client_ref, PENDING_LABEL, utility.states,
                (("提交", f"{sub.submitted_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"),),
                "受理后由服务专员预约", str(sub.form.get("address") or ""), pending=True))
    return Progress(tuple(rows), online)
