"""S3 电子填单 without Qt: forms as data, pre-filling, validation, history, submission.

- Forms are TOML files in ``forms/`` (one per form): sections of fields with a type (text, name,
  id_number, phone, date, choice, number, address, region), validation settings, options
  (inline or ``options_from`` a list of ``data/lists.toml``) and ``prefill`` sources tried in
  order: ``identity.*`` (who signed in), ``licence.<type>.<field>`` (electronic licences, only
  after the citizen's consent), ``history.<key>`` (the newest value the citizen gave in any
  earlier form here). ``default`` comes last.
- Values are strings while the citizen edits (dates ``YYYY-MM-DD``); ``validate`` gives the
  Chinese message of every bad field at once.
- Submitted forms are kept per citizen in ``ctx.records`` (kind ``form``, encrypted, holder as a
  keyed hash) and offered again (回填) the next time; the submission goes to the forms platform
  through the outbox, so an offline submission is sent once when the platform returns.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from workstation.api import (
    CHINA_TZ,
    LICENCE_TYPES,
    PLATFORM_POST,
    Applicant,
    ConsentRequest,
    IdentityError,
    parse_id_number,
    platform_post,
    validate_id_number,
    validate_person_name,
)

FIELD_TYPES = ("text", "name", "id_number", "phone", "date", "choice", "number", "address",
               "region")
RECORD_KIND = "form"
SUBMISSIONS_PATH = "/api/v1/forms/submissions"
REASON = "电子填单预填申请表"
MAX_TEXT = 100
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_CN_DATE = re.compile(r"^(\d{4})\D(\d{1,2})\D(\d{1,2})\D?$")


class FormDataError(ValueError):
    """A form file is wrong; the message names the file and the field."""


class FormInvalid(ValueError):
    """Values that do not pass validation: ``errors`` maps field key -> Chinese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.message = f"表单有 {len(errors)} 处需要修改，请查看标红的项目"


# ---------------------------------------------------------------------------------------------
# Forms as data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: str = "text"
    required: bool = False
    options: tuple[str, ...] = ()
    prefill: tuple[str, ...] = ()
    default: str = ""
    full_width: bool = False
    hint: str = ""
    max_length: int = 0
    min: int | None = None
    max: int | None = None
    digits: int = 0  # a number of exactly this many digits (postcode)
    range: str = "any"  # dates: past / recent (a year around today) / any

    @property
    def input(self) -> str:
        """How a citizen enters it on the kiosk: pinyin keyboard, keypad, picker or address."""
        return {"text": "pinyin", "name": "pinyin", "address": "address", "choice": "picker",
                "region": "region", "date": "date"}.get(self.type, "keypad")

    @property
    def from_identity(self) -> bool:
        """Set by who signed in: not to be changed on the form."""
        return self.type == "id_number"


@dataclass(frozen=True)
class SectionSpec:
    title: str
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class FormSpec:
    code: str
    title: str
    short: str
    department: str
    summary: str
    licence_types: tuple[str, ...]
    sections: tuple[SectionSpec, ...]
    notes: tuple[str, ...] = ()

    @property
    def fields(self) -> list[FieldSpec]:
        return [f for s in self.sections for f in s.fields]

    def field(self, key: str) -> FieldSpec:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    address_prefix: str


@dataclass(frozen=True)
class Regions:
    divisions: tuple[Division, ...]
    streets: tuple[tuple[str, tuple[str, ...]], ...]  # 赤壁市: (street or town, communities)
    roads: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.divisions)


def _data(*parts: str) -> bytes:
    return resources.files(__package__).joinpath(*parts).read_bytes()


@lru_cache(maxsize=1)
def option_lists() -> dict[str, tuple[str, ...]]:
    raw = tomllib.loads(_data("data", "lists.toml").decode("utf-8"))
    return {k: tuple(v) for k, v in raw.items()}


@lru_cache(maxsize=1)
def regions() -> Regions:
    raw = tomllib.loads(_data("data", "regions.toml").decode("utf-8"))
    return Regions(
        tuple(Division(str(d["code"]), d["name"], d["address_prefix"]) for d in raw["division"]),
        tuple((s["name"], tuple(s["communities"])) for s in raw["street"]),
        tuple(raw["roads"]["names"]),
    )


def parse_form(raw: Mapping[str, Any], source: str = "form") -> FormSpec:
    """A FormSpec from parsed TOML; FormDataError names the file and the field."""
    lists = option_lists()
    try:
        sections = []
        keys: set[str] = set()
        for s in raw["section"]:
            fields = []
            for f in s["field"]:
                where = f"{source}: {f.get('key', '?')}"
                kind = f.get("type", "text")
                if kind not in FIELD_TYPES:
                    raise FormDataError(f"{where}: unknown type {kind!r}")
                options = tuple(f.get("options", ()))
                if "options_from" in f:
                    if f["options_from"] not in lists:
                        raise FormDataError(f"{where}: no option list {f['options_from']!r}")
                    options = lists[f["options_from"]]
                if kind == "choice" and not options:
                    raise FormDataError(f"{where}: a choice needs options")
                for spec in f.get("prefill", ()):
                    _check_prefill(spec, where)
                if f["key"] in keys:
                    raise FormDataError(f"{where}: duplicate key")
                keys.add(f["key"])
                fields.append(FieldSpec(
                    key=f["key"], label=f["label"], type=kind,
                    required=bool(f.get("required", False)), options=options,
                    prefill=tuple(f.get("prefill", ())), default=str(f.get("default", "")),
                    full_width=bool(f.get("full_width", False)), hint=f.get("hint", ""),
                    max_length=int(f.get("max_length", 0)), min=f.get("min"), max=f.get("max"),
                    digits=int(f.get("digits", 0)), range=f.get("range", "any"),
                ))
            sections.append(SectionSpec(s["title"], tuple(fields)))
        types = tuple(raw.get("licence_types", ()))
        for t in types:
            if t not in LICENCE_TYPES:
                raise FormDataError(f"{source}: unknown licence type {t!r}")
        return FormSpec(code=raw["code"], title=raw["title"], short=raw.get("short", raw["title"]),
                        department=raw["department"], summary=raw.get("summary", ""),
                        licence_types=types, sections=tuple(sections),
                        notes=tuple(raw.get("notes", ())))
    except KeyError as exc:
        raise FormDataError(f"{source}: missing {exc.args[0]!r}") from None


def _check_prefill(spec: str, where: str) -> None:
    kind, _, rest = spec.partition(".")
    if kind == "licence":
        type_key, _, name = rest.partition(".")
        if type_key not in LICENCE_TYPES or not name:
            raise FormDataError(f"{where}: bad prefill {spec!r}")
    elif kind not in ("identity", "history") or not rest:
        raise FormDataError(f"{where}: bad prefill {spec!r}")


@lru_cache(maxsize=1)
def load_forms() -> tuple[FormSpec, ...]:
    """Every form of the plugin, in file-name order."""
    folder = resources.files(__package__).joinpath("forms")
    forms = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            raw = tomllib.loads(entry.read_bytes().decode("utf-8"))
            forms.append(parse_form(raw, entry.name))
    order = {"CB-RS-SB01": 0, "CB-YB-JM01": 1}
    return tuple(sorted(forms, key=lambda f: (order.get(f.code, 9), f.code)))


def form_by_code(code: str) -> FormSpec:
    for f in load_forms():
        if f.code == code:
            return f
    raise KeyError(code)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def parse_date(text: str) -> dt.date | None:
    """``2025-03-03``, ``2025年3月3日``, ``2025.03.03`` -> date; None if not a date."""
    m = _CN_DATE.match(text.strip())
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def validate_value(f: FieldSpec, value: str, today: dt.date) -> str | None:
    """The Chinese message for a bad value of ``f``, or None."""
    v = value.strip()
    if not v:
        return f"请填写{f.label}" if f.required else None
    if f.type == "name":
        try:
            validate_person_name(v)
        except IdentityError as exc:
            return exc.message
    elif f.type == "id_number":
        try:
            validate_id_number(v)
        except IdentityError as exc:
            return exc.message
    elif f.type == "phone":
        if not (_MOBILE.match(v) or _LANDLINE.match(v)):
            return "请填写 11 位手机号码（或带区号的固定电话）"
    elif f.type == "date":
        d = parse_date(v)
        if d is None:
            return f"{f.label}不是有效日期，请按 年-月-日 填写"
        if f.range == "past" and d > today:
            return f"{f.label}不能晚于今天"
        if f.range == "recent" and abs((d - today).days) > 366:
            return f"{f.label}应在今天前后一年以内"
        if d.year < 1900:
            return f"{f.label}不是有效日期"
    elif f.type in ("choice", "region"):
        options = f.options if f.type == "choice" else regions().names
        if v not in options:
            return f"请从列表中选择{f.label}"
    elif f.type == "number":
        if not v.isdigit():
            return f"{f.label}只能填写数字"
        if f.digits and len(v) != f.digits:
            return f"{f.label}应为 {f.digits} 位数字"
        if f.max_length and len(v) > f.max_length:
            return f"{f.label}最多 {f.max_length} 位"
        if f.min is not None and int(v) < f.min:
            return f"{f.label}不能小于 {f.min}"
        if f.max is not None and int(v) > f.max:
            return f"{f.label}不能大于 {f.max}"
    elif f.type == "address":
        if len(v) < 6:
            return "地址过短，请填写到门牌号"
        if len(v) > MAX_TEXT:
            return f"地址不能超过 {MAX_TEXT} 个字"
    limit = f.max_length or MAX_TEXT
    if f.type in ("text", "name") and len(v) > limit:
        return f"{f.label}不能超过 {limit} 个字"
    if any(ord(c) < 32 for c in v):
        return f"{f.label}含有不可见字符"
    return None


def validate(form: FormSpec, values: Mapping[str, str], today: dt.date) -> dict[str, str]:
    """Field key -> Chinese message for every bad field (empty when the form is complete)."""
    errors = {}
    for f in form.fields:
        message = validate_value(f, values.get(f.key, ""), today)
        if message:
            errors[f.key] = message
    return errors


def normalise(f: FieldSpec, value: str) -> str:
    """A value from a licence or a card as the field holds it (or "" when it does not fit)."""
    v = str(value).strip()
    if not v:
        return ""
    if f.type == "choice":
        for candidate in (v, v + "族"):
            if candidate in f.options:
                return candidate
        return ""
    if f.type == "date":
        d = parse_date(v)
        return d.isoformat() if d else ""
    if f.type == "region":
        return v if v in regions().names else ""
    if f.type in ("phone", "number", "id_number"):
        return v.upper() if f.type == "id_number" else v
    return v


# ---------------------------------------------------------------------------------------------
# Pre-filling
# ---------------------------------------------------------------------------------------------

SOURCE_LABELS = {"identity": "身份信息", "history": "以前填写", "default": "默认值"}


@dataclass(frozen=True)
class Prefilled:
    values: dict[str, str]
    sources: dict[str, str]  # key -> 身份信息 / 电子证照·居民户口簿 / 以前填写 / 默认值


def identity_values(applicant: Applicant) -> dict[str, str]:
    """What the sign-in itself tells: name, ID number, and from the number sex and birth date;
    a card may also carry the nation."""
    out = {"name": applicant.name, "id_number": applicant.holder_id}
    try:
        info = parse_id_number(applicant.holder_id)
    except IdentityError:
        return out
    out["sex"] = info.sex
    out["birth_date"] = info.birth_date.isoformat()
    nation = applicant.extra.get("nation", "")
    if nation:
        out["nation"] = nation
    return out


def prefill(form: FormSpec, applicant: Applicant, licences: Mapping[str, Mapping[str, str]],
            history_values: Mapping[str, str]) -> Prefilled:
    """Each field's first source that gives a value that fits it."""
    identity = identity_values(applicant)
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for f in form.fields:
        for spec in f.prefill:
            kind, _, rest = spec.partition(".")
            raw = ""
            label = SOURCE_LABELS.get(kind, "")
            if kind == "identity":
                raw = identity.get(rest, "")
            elif kind == "history":
                raw = history_values.get(rest, "")
            elif kind == "licence":
                type_key, _, name = rest.partition(".")
                raw = str(licences.get(type_key, {}).get(name, ""))
                label = f"电子证照·{LICENCE_TYPES[type_key].name}"
            value = normalise(f, raw)
            if value:
                values[f.key], sources[f.key] = value, label
                break
        if f.key not in values and f.default:
            values[f.key], sources[f.key] = f.default, SOURCE_LABELS["default"]
    return Prefilled(values, sources)


def consent_request(ctx: Any, applicant: Applicant, form: FormSpec) -> ConsentRequest:
    return ConsentRequest(applicant=applicant, purpose=f"填写{form.title}",
                          matter_code=form.code, licence_types=form.licence_types,
                          scenario=ctx.manifest.id, matter_name=form.short)


@dataclass(frozen=True)
class Fetched:
    consent: Any
    licences: dict[str, dict[str, str]]
    offline: bool
    missing: tuple[str, ...]


def fetch_licences(ctx: Any, consent: Any, form: FormSpec) -> Fetched:
    """The licences' fields, under the consent just granted (blocking)."""
    result = ctx.licences.fetch(consent, form.licence_types, reason=REASON,
                                operator=ctx.operator())
    found: dict[str, dict[str, str]] = {}
    for lic in result.licences:
        if lic.status == "valid" and lic.type_key not in found:
            found[lic.type_key] = {str(k): str(v) for k, v in lic.fields.items()}
    missing = tuple(t for t in form.licence_types if t not in found)
    return Fetched(consent, found, bool(result.offline), missing)


# ---------------------------------------------------------------------------------------------
# History (ctx.records) and submission (outbox)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    key: str
    form_code: str
    title: str
    values: dict[str, str]
    submitted_at: dt.datetime
    case_number: str
    state: str  # queued (waiting for the platform) / sent

    @property
    def when(self) -> str:
        return self.submitted_at.astimezone(CHINA_TZ).strftime("%Y年%m月%d日 %H:%M")


def _submission(record: Any) -> Submission:
    data = record.data
    return Submission(
        key=record.key, form_code=str(data.get("form_code", "")), title=str(data.get("title", "")),
        values={str(k): str(v) for k, v in dict(data.get("values", {})).items()},
        submitted_at=dt.datetime.fromisoformat(str(data["submitted_at"])),
        case_number=str(data.get("case_number", "")), state=record.state,
    )


def history(ctx: Any, applicant: Applicant, limit: int = 50) -> list[Submission]:
    """The citizen's earlier forms, newest first; queued ones the outbox has sent since are
    marked sent."""
    out = []
    for record in ctx.records.find(RECORD_KIND, holder_id=applicant.holder_id, limit=limit):
        sub = _submission(record)
        if sub.state == "queued":
            item = ctx.outbox.get(_outbox_key(sub.key)) if ctx.outbox is not None else None
            if item is not None and item.sent:
                ctx.records.update(RECORD_KIND, sub.key, expect_state="queued", state="sent")
                sub = Submission(**{**sub.__dict__, "state": "sent"})
        out.append(sub)
    return out


def latest_values(submissions: Sequence[Submission]) -> dict[str, str]:
    """Per field key, the newest value the citizen gave in any form (``history.*``)."""
    values: dict[str, str] = {}
    for sub in submissions:  # newest first: the first value seen wins
        for k, v in sub.values.items():
            if v and k not in values:
                values[k] = v
    return values


def previous_of(form: FormSpec, submissions: Sequence[Submission]) -> Submission | None:
    """The newest earlier submission of this same form (offered for 回填)."""
    return next((s for s in submissions if s.form_code == form.code), None)


def reuse(form: FormSpec, current: Mapping[str, str], earlier: Submission) -> dict[str, str]:
    """回填: the earlier answers, except what identifies the citizen (kept from the sign-in)
    and dates that belong to that occasion (参保日期)."""
    values = dict(current)
    for f in form.fields:
        if f.from_identity or f.key == "name" or (f.type == "date" and f.range == "recent"):
            continue
        if earlier.values.get(f.key):
            values[f.key] = earlier.values[f.key]
    return values


@dataclass(frozen=True)
class Submitted:
    submission: Submission
    sent: bool


def _outbox_key(record_key: str) -> str:
    return f"form:{record_key}"


def submit(ctx: Any, applicant: Applicant, form: FormSpec, values: Mapping[str, str]) -> Submitted:
    """Validate, keep in the citizen's history, queue for the platform and try to send now.

    The outbox key is the platform's idempotency key: a resend after a lost reply is answered
    with the first answer, so the platform receives the form once (blocking call)."""
    now = ctx.clock()
    today = now.astimezone(CHINA_TZ).date()
    clean = {f.key: values.get(f.key, "").strip() for f in form.fields}
    errors = validate(form, clean, today)
    if clean.get("id_number") and clean["id_number"].upper() != applicant.holder_id.upper():
        errors["id_number"] = "公民身份号码与登录人不一致"
    if errors:
        raise FormInvalid(errors)
    key = f"{form.code}:{uuid.uuid4().hex[:16]}"
    case_number = ctx.new_case_number()
    data = {"form_code": form.code, "title": form.title, "values": clean,
            "submitted_at": now.isoformat(), "case_number": case_number}
    record = ctx.records.create(RECORD_KIND, key, data, state="queued",
                                holder_id=applicant.holder_id)
    body = {"submission_id": key, "form_code": form.code, "holder_id": applicant.holder_id,
            "values": clean, "case_number": case_number, "workstation_id": ctx.workstation_id,
            "submitted_at": now.isoformat()}
    ctx.outbox.enqueue(PLATFORM_POST, platform_post(SUBMISSIONS_PATH, "forms/submit", body),
                       _outbox_key(key))
    ctx.audit.record("submission", holder_id=applicant.holder_id, what="form",
                     form=form.code, case=case_number)
    ctx.outbox.deliver_due()
    item = ctx.outbox.get(_outbox_key(key))
    sent = item is not None and item.sent
    if sent:
        record = ctx.records.update(RECORD_KIND, key, expect_state="queued", state="sent")
    else:
        ctx.wake_outbox()
    return Submitted(_submission(record), sent)


def is_sent(ctx: Any, submission: Submission) -> bool:
    item = ctx.outbox.get(_outbox_key(submission.key))
    return item is not None and item.sent


# ---------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrintData:
    """What the printout needs, personal data masked (the full data went to the platform)."""

    form: FormSpec
    values: dict[str, str]
    filled_at: dt.datetime
    case_number: str
    workstation_id: str
    issuing_unit: str = "赤壁市政务服务中心"
    extra_notes: tuple[str, ...] = field(default_factory=tuple)


def print_values(form: FormSpec, values: Mapping[str, str]) -> dict[str, str]:
    """Values as printed: ID numbers and phones masked (house rule for printouts)."""
    from workstation.api import mask_id_number, mask_phone

    out = {}
    for f in form.fields:
        v = values.get(f.key, "")
        if v and f.type == "id_number":
            v = mask_id_number(v)
        elif v and f.type == "phone" and _MOBILE.match(v):
            v = mask_phone(v)
        out[f.key] = v
    return out
