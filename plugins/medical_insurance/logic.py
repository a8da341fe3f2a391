"""S7/S8 without Qt: the medical-insurance platform's queries, the two transactions (contact
phone, 异地就医备案) with their checks, their submission through the outbox, the applicant's
record of them, and the data of the printed 参保凭证.

Every function that talks to the platform, the outbox or the records blocks: call it off the
GUI thread. Nothing here logs personal data.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from plugins.medical_insurance import regions
from workstation.api import (
    CHINA_TZ,
    PLATFORM_POST,
    Applicant,
    PlatformError,
    PlatformUnavailable,
    RecordConflict,
    RecordExists,
    mask_id_number,
    mask_name,
    mask_phone,
    platform_post,
)

MI_QUERY = "/api/v1/mi/insured/query"
MI_CONTACT_PHONE = "/api/v1/mi/contact-phone"
MI_REMOTE_FILINGS = "/api/v1/mi/remote-filings"

TEMPLATE_KEY = "medical_insurance.voucher"
VOUCHER_TITLE = "医疗保险参保凭证"
ISSUING_UNIT = "赤壁市医疗保障局"
RECORD_KIND = "transaction"

KIND_PHONE = "contact_phone"
KIND_FILING = "remote_filing"
KIND_TITLES = {KIND_PHONE: "变更联系电话", KIND_FILING: "异地就医备案"}

QUEUED, DONE, REFUSED = "queued", "done", "refused"
STATE_LABELS = {QUEUED: "已保存，待平台恢复后自动提交", DONE: "已办结", REFUSED: "平台未受理"}

# 异地就医备案 reasons -> (shortest, longest) period in days; the platform checks the same
FILING_REASONS: dict[str, tuple[int, int]] = {
    "异地长期居住": (180, 5 * 366),
    "常驻异地工作": (180, 5 * 366),
    "异地转诊": (1, 180),
    "临时外出就医": (1, 180),
}
REASON_HINTS = {
    "异地长期居住": "退休异地安置、长期在外居住（备案期限 6 个月至 5 年）",
    "常驻异地工作": "单位派驻异地工作（备案期限 6 个月至 5 年）",
    "异地转诊": "经参保地医院转往外地治疗（备案期限最长 6 个月）",
    "临时外出就医": "因探亲、旅游等临时外出期间就医（备案期限最长 6 个月）",
}
START_WINDOW_DAYS = 90

MOBILE = re.compile(r"1[3-9]\d{9}")
QUERY_DOWN = "医保信息平台暂时无法连接，无法查询参保信息，请稍后重试"


class FormError(ValueError):
    """Bad input: Chinese messages per field, all at once."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors

    @property
    def message(self) -> str:
        return "；".join(self.errors.values())


class QueryUnavailable(Exception):
    """The platform cannot be reached for a query; ``message`` says so in Chinese."""

    def __init__(self, message: str = QUERY_DOWN) -> None:
        super().__init__(message)
        self.message = message


def yuan(fen: int) -> str:
    """Whole fen as ``1,234.56`` (money is never a float)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    settlement_id: str
    settled_at: dt.datetime
    institution: str
    kind: str  # 普通门诊 / 药店购药 / 门诊慢特病 / 住院
    total_fen: int
    fund_fen: int  # 统筹基金支付
    account_fen: int  # 个人账户支付
    cash_fen: int  # 个人现金支付
    status: str  # settled / refunded

    @property
    def status_label(self) -> str:
        return {"settled": "已结算", "refunded": "已退费"}.get(self.status, self.status)


@dataclass(frozen=True)
class Filing:
    filing_no: str
    reason: str
    destination: str  # 省 + 市
    start: dt.date
    end: dt.date
    status: str
    client_ref: str = ""


@dataclass(frozen=True)
class Overview:
    """What the platform knows of one person (personal data: ``repr`` says nothing of it)."""

    insured: bool
    insurance_type: str = ""
    status: str = ""
    region: str = ""
    region_code: str = ""
    insured_since: dt.date | None = None
    employer: str | None = None
    balance_fen: int = 0
    has_account: bool = False
    phone: str = ""
    personal_number: str = ""
    settlements: tuple[Settlement, ...] = ()
    settlement_count: int = 0
    filings: tuple[Filing, ...] = ()
    as_of: dt.datetime | None = None

    def __repr__(self) -> str:
        return f"Overview(insured={self.insured}, settlements={len(self.settlements)})"

    @property
    def active(self) -> bool:
        return self.insured and self.status == "参保缴费"


def _settlement(item: dict[str, Any]) -> Settlement:
    settled = dt.datetime.fromisoformat(str(item["settled_at"]))
    if settled.tzinfo is None:
        settled = settled.replace(tzinfo=CHINA_TZ)
    return Settlement(
        str(item["settlement_id"]), settled, str(item["institution"]), str(item["kind"]),
        int(item["total_fen"]), int(item["fund_fen"]), int(item["account_fen"]),
        int(item["cash_fen"]), str(item.get("status", "settled")))


def _filing(item: dict[str, Any]) -> Filing:
    province, city = str(item["destination_province"]), str(item["destination_city"])
    return Filing(
        str(item["filing_no"]), str(item["reason"]),
        city if province == city else f"{province}{city}",
        dt.date.fromisoformat(str(item["start_date"])),
        dt.date.fromisoformat(str(item["end_date"])), str(item["status"]),
        str(item.get("client_ref", "")))


def parse_overview(data: dict[str, Any]) -> Overview:
    """The platform's answer to ``MI_QUERY``; a malformed one raises ``QueryUnavailable``."""
    try:
        if not data.get("insured"):
            return Overview(insured=False)
        rec = data["record"]
        as_of = data.get("as_of")
        return Overview(
            insured=True, insurance_type=str(rec["insurance_type"]), status=str(rec["status"]),
            region=str(rec["region"]), region_code=str(rec["region_code"]),
            insured_since=dt.date.fromisoformat(str(rec["insured_since"])),
            employer=rec.get("employer"), balance_fen=int(rec["account_balance_fen"]),
            has_account=bool(rec["has_account"]), phone=str(rec.get("phone") or ""),
            personal_number=str(rec.get("personal_number") or ""),
            settlements=tuple(_settlement(s) for s in data.get("settlements") or ()),
            settlement_count=int(data.get("settlement_count") or 0),
            filings=tuple(_filing(f) for f in data.get("filings") or ()),
            as_of=dt.datetime.fromisoformat(str(as_of)) if as_of else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise QueryUnavailable("医保信息平台返回的数据格式不正确，请稍后重试") from exc


def query_overview(ctx: Any, applicant: Applicant, *, sign_in: bool = False) -> Overview:
    """Insured status, account, settlements and filings of the signed-in applicant.

    Audited as ``mi_query``; the first query of a sign-in as ``mi_sign_in``, with how the
    applicant signed in (code kind and the app that showed it), whether the query worked or
    not: one write on the way to the first page."""
    details: dict[str, Any] = {"what": "insured_overview"}
    if sign_in:
        extra = applicant.extra or {}
        details.update(method=str(extra.get("code_format", "")),
                       code_source=str(extra.get("code_source", "")))
    kind = "mi_sign_in" if sign_in else "mi_query"
    try:
        try:
            data = ctx.platform.call_json("POST", MI_QUERY, "mi/insured",
                                          json={"holder_id": applicant.holder_id})
        except PlatformUnavailable as exc:
            raise QueryUnavailable() from exc
        except PlatformError as exc:
            raise QueryUnavailable(f"医保信息平台未能查询：{exc.message}") from exc
        overview = parse_overview(data)
    except QueryUnavailable:
        ctx.audit.record(kind, holder_id=applicant.holder_id, result="unavailable", **details)
        raise
    ctx.audit.record(kind, holder_id=applicant.holder_id, result="ok",
                     insured=overview.insured, **details)
    return overview


def login_label(applicant: Applicant) -> str:
    """How the applicant signed in, e.g. 医保电子凭证（支付宝医保电子凭证）."""
    extra = applicant.extra or {}
    title = str(extra.get("code_title") or "医保电子凭证")
    source = extra.get("code_source_label")
    return f"{title}（{source}）" if source else title


# ---------------------------------------------------------------------------------------------
# The two transactions: checks
# ---------------------------------------------------------------------------------------------


def check_phone(digits: str, current: str | None = None) -> str:
    """The new contact phone (11 digits, mainland mobile), or ``FormError({"phone": ...})``."""
    text = re.sub(r"[\s-]", "", digits or "")
    if not text:
        raise FormError({"phone": "请输入新的手机号码"})
    if not text.isdigit():
        raise FormError({"phone": "手机号码只能包含数字"})
    if len(text) != 11:
        raise FormError({"phone": f"手机号码应为 11 位，已输入 {len(text)} 位"})
    if not MOBILE.fullmatch(text):
        raise FormError({"phone": "不是有效的中国大陆手机号码（应以 13 至 19 开头）"})
    if current and text == current:
        raise FormError({"phone": "新号码与当前预留的联系电话相同，无需变更"})
    return text


def format_phone(digits: str) -> str:
    """``138 1234 5678`` as the keypad shows it while typing."""
    return " ".join(p for p in (digits[:3], digits[3:7], digits[7:11]) if p)


@dataclass(frozen=True)
class FilingDraft:
    """What the form holds; any part may be missing."""

    city_code: str | None = None
    reason: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class FilingRequest:
    province_code: str
    province_name: str
    city_code: str
    city_name: str
    reason: str
    start: dt.date
    end: dt.date

    @property
    def destination(self) -> str:
        if self.province_name == self.city_name:
            return self.city_name
        return f"{self.province_name}{self.city_name}"


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError("unreachable")


def check_filing(draft: FilingDraft, *, today: dt.date, home_code: str | None) -> FilingRequest:
    """Validate the form (every bad field at once) against the platform's rules."""
    errors: dict[str, str] = {}
    place = regions.city(draft.city_code) if draft.city_code else None
    if place is None:
        errors["destination"] = "请选择就医地（省份和城市）"
    elif home_code and regions.same_area(place[1].code, home_code):
        errors["destination"] = "就医地与您的参保地属同一统筹区，无需办理异地就医备案"
    if draft.reason not in FILING_REASONS:
        errors["reason"] = "请选择备案类型"
    start, end = draft.start, draft.end
    if start is None:
        errors["start"] = "请选择开始日期"
    elif start < today:
        errors["start"] = "开始日期不能早于今天"
    elif start > today + dt.timedelta(days=START_WINDOW_DAYS):
        errors["start"] = "开始日期应在今天起三个月之内"
    if end is None:
        errors["end"] = "请选择结束日期"
    elif start is not None and end <= start:
        errors["end"] = "结束日期应晚于开始日期"
    elif start is not None and draft.reason in FILING_REASONS:
        shortest, longest = FILING_REASONS[draft.reason]
        days = (end - start).days
        if days < shortest:
            errors["end"] = f"{draft.reason}的备案期限至少 6 个月"
        elif days > longest:
            errors["end"] = (f"{draft.reason}的备案期限最长 "
                             f"{'6 个月' if longest <= 180 else '5 年'}")
    if errors:
        raise FormError(errors)
    assert place is not None and draft.reason is not None and start is not None
    assert end is not None
    prov, cty = place
    return FilingRequest(prov.code, prov.name, cty.code, cty.name, draft.reason, start, end)


# ---------------------------------------------------------------------------------------------
# The two transactions: submission through the outbox, the applicant's records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """A request ready to submit. ``key`` is made when the confirmation is shown, so a second
    tap on 确认提交 (or a retry) submits the same thing once."""

    kind: str
    key: str
    path: str
    call: str
    body: dict[str, Any] = field(repr=False)
    summary: tuple[tuple[str, str], ...] = field(repr=False)  # masked, for screens and records

    @property
    def title(self) -> str:
        return KIND_TITLES[self.kind]


def new_key(kind: str) -> str:
    return f"mi:{kind}:{secrets.token_hex(10)}"


def phone_transaction(ctx: Any, applicant: Applicant, phone: str,
                      current: str | None = None) -> Transaction:
    phone = check_phone(phone, current)
    summary = (("办理事项", KIND_TITLES[KIND_PHONE]),
               ("参保人", f"{applicant.masked_name}（{applicant.masked_id}）"),
               ("原联系电话", mask_phone(current) if current else "—"),
               ("新联系电话", mask_phone(phone)))
    body = {"holder_id": applicant.holder_id, "phone": phone,
            "workstation_id": ctx.workstation_id}
    return Transaction(KIND_PHONE, new_key(KIND_PHONE), MI_CONTACT_PHONE, "mi/contact-phone",
                       body, summary)


def filing_transaction(ctx: Any, applicant: Applicant, request: FilingRequest) -> Transaction:
    key = new_key(KIND_FILING)
    summary = (("办理事项", KIND_TITLES[KIND_FILING]),
               ("参保人", f"{applicant.masked_name}（{applicant.masked_id}）"),
               ("就医地", request.destination),
               ("备案类型", request.reason),
               ("备案期限", f"{request.start:%Y年%m月%d日} 至 {request.end:%Y年%m月%d日}"))
    body = {"holder_id": applicant.holder_id, "destination_code": request.city_code,
            "destination_province": request.province_name,
            "destination_city": request.city_name, "reason": request.reason,
            "start_date": request.start.isoformat(), "end_date": request.end.isoformat(),
            "client_ref": key, "workstation_id": ctx.workstation_id}
    return Transaction(KIND_FILING, key, MI_REMOTE_FILINGS, "mi/remote-filings", body, summary)


@dataclass(frozen=True)
class TransactionState:
    """One transaction as the applicant sees it (from ``ctx.records``)."""

    key: str
    kind: str
    state: str  # QUEUED / DONE / REFUSED
    summary: tuple[tuple[str, str], ...]
    submitted_at: dt.datetime | None
    result: dict[str, Any]
    error: str | None = None

    def __repr__(self) -> str:
        return f"TransactionState({self.kind}, {self.state})"

    @property
    def title(self) -> str:
        return KIND_TITLES.get(self.kind, self.kind)

    @property
    def label(self) -> str:
        if self.state == DONE and self.result.get("filing_no"):
            return f"{self.result.get('status') or '备案成功'}（备案号 {self.result['filing_no']}）"
        if self.state == DONE and self.kind == KIND_PHONE:
            return "已变更"
        if self.state == REFUSED:
            return f"平台未受理：{self.error or '原因不明'}"
        return STATE_LABELS.get(self.state, self.state)


def _state_of(record: Any) -> TransactionState:
    data = record.data or {}
    submitted = data.get("submitted_at")
    return TransactionState(
        key=record.key, kind=str(data.get("kind", "")), state=record.state,
        summary=tuple((str(a), str(b)) for a, b in data.get("summary") or ()),
        submitted_at=dt.datetime.fromisoformat(submitted) if submitted else None,
        result=dict(data.get("result") or {}), error=data.get("error"))


def submit(ctx: Any, applicant: Applicant, tx: Transaction) -> TransactionState:
    """Record the transaction, queue it in the outbox (durable first), try to send it now.

    The answer says whether it reached the platform (DONE), waits for the platform (QUEUED:
    sent automatically when it returns) or was refused (REFUSED, with the platform's reason).
    """
    data = {"kind": tx.kind, "summary": [list(line) for line in tx.summary],
            "submitted_at": ctx.clock().isoformat(timespec="seconds")}
    try:
        ctx.records.create(RECORD_KIND, tx.key, data, state=QUEUED,
                           holder_id=applicant.holder_id)
        first = True
    except RecordExists:  # the same confirmation again: already recorded and queued
        first = False
    ctx.outbox.enqueue(PLATFORM_POST, platform_post(tx.path, tx.call, tx.body), tx.key)
    if first:
        ctx.audit.record("submission", holder_id=applicant.holder_id, what=f"mi_{tx.kind}",
                         key=tx.key)
    report = ctx.outbox.deliver_due()
    return reconcile(ctx, tx.key, reply=report.replies.get(tx.key))


_RESULT_FIELDS = ("filing_no", "change_no", "status")


def reconcile(ctx: Any, key: str, reply: Any = None,
              filings: Sequence[Filing] = ()) -> TransactionState:
    """Bring a record up to date with its outbox item (sent, or held after a refusal)."""
    record = ctx.records.get(RECORD_KIND, key)
    if record is None:
        raise LookupError(key)
    state = _state_of(record)
    if state.state == REFUSED or (state.state == DONE and (
            state.kind != KIND_FILING or state.result.get("filing_no"))):
        return state
    data = dict(record.data)
    result = dict(data.get("result") or {})
    if isinstance(reply, dict):
        result.update({k: reply[k] for k in _RESULT_FIELDS if k in reply})
    for filing in filings:
        if filing.client_ref == key:
            result.update({"filing_no": filing.filing_no, "status": filing.status})
    item = ctx.outbox.get(key)
    new_state = state.state
    if item is not None and item.sent:
        new_state = DONE
        data.setdefault("done_at", ctx.clock().isoformat(timespec="seconds"))
    elif item is not None and item.held:
        new_state = REFUSED
        data["error"] = _refusal_text(item.last_error)
    data["result"] = result
    if new_state == state.state and result == state.result:
        return state
    try:
        record = ctx.records.update(RECORD_KIND, key, expect_version=record.version,
                                    state=new_state, data=data)
    except RecordConflict:  # another kiosk brought it up to date first: read theirs
        record = ctx.records.get(RECORD_KIND, key)
    if new_state != state.state:
        ctx.audit.record("submission_state", what=f"mi_{state.kind}", key=key, state=new_state)
    return _state_of(record)


def _refusal_text(error: str | None) -> str:
    # the outbox keeps "平台拒收（code）：message"; the applicant needs the message
    if not error:
        return "原因不明"
    return error.split("：", 1)[1] if "：" in error else error


def history(ctx: Any, applicant: Applicant, filings: Sequence[Filing] = (),
            limit: int = 20) -> list[TransactionState]:
    """The applicant's transactions here, newest first, brought up to date."""
    states = []
    for record in ctx.records.find(RECORD_KIND, holder_id=applicant.holder_id, limit=limit):
        states.append(reconcile(ctx, record.key, filings=filings))
    return states


# ---------------------------------------------------------------------------------------------
# The printed 参保凭证
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoucherDocument:
    """Everything printed on the 参保凭证; personal data already masked."""

    name_masked: str
    id_masked: str
    personal_number_masked: str
    insurance_type: str
    status: str
    region: str
    insured_since: dt.date | None
    employer: str
    login: str
    generated_at: dt.datetime
    case_number: str
    workstation_id: str
    issuing_unit: str = ISSUING_UNIT

    def __post_init__(self) -> None:
        for value, what in ((self.name_masked, "name"), (self.id_masked, "id")):
            if value and "*" not in value:
                raise ValueError(f"{what} must be masked on the voucher")


def mask_personal_number(number: str) -> str:
    return f"{number[:4]}{'*' * max(0, len(number) - 8)}{number[-4:]}" if len(number) > 8 \
        else number


def voucher_document(ctx: Any, applicant: Applicant, overview: Overview,
                     case_number: str) -> VoucherDocument:
    if not overview.insured:
        raise FormError({"voucher": "未查询到参保信息，不能打印参保凭证"})
    return VoucherDocument(
        name_masked=mask_name(applicant.name), id_masked=mask_id_number(applicant.holder_id),
        personal_number_masked=mask_personal_number(overview.personal_number),
        insurance_type=overview.insurance_type, status=overview.status,
        region=overview.region, insured_since=overview.insured_since,
        employer=overview.employer or "—（城乡居民）", login=login_label(applicant),
        generated_at=ctx.clock().astimezone(CHINA_TZ), case_number=case_number,
        workstation_id=ctx.workstation_id)


def sample_voucher() -> VoucherDocument:
    """Synthetic data for previews and tests (no real person)."""
    return VoucherDocument(
        name_masked="张*", id_masked="421281********0018",
        personal_number_masked="4212********3456", insurance_type="职工基本医疗保险",
        status="参保缴费", region="湖北省赤壁市", insured_since=dt.date(2012, 1, 1),
        employer="赤壁市青砖茶业有限公司", login="医保电子凭证（支付宝医保电子凭证）",
        generated_at=dt.datetime(2026, 3, 3, 9, 30, tzinfo=CHINA_TZ),
        case_number="CB-K01-20260303-093000-000", workstation_id="CB-K01")
