"""S1 药店买药 without Qt: the catalogue and its search, the basket, the platform calls, the
till's settlement log (``ctx.records``) and the receipts' data.

Money is whole fen (``int``) everywhere; ``yuan`` formats it. Every call that reaches the
platform or the database blocks: pages run them through ``run_busy``.

Never twice: a settlement attempt carries an idempotency key made before its first try and
kept (on the basket and in the till's log) until the platform confirms it, so a double click,
a retry, or a retry after a timeout where the platform did settle, is settled once. A refund
likewise keeps its key in the log while its outcome is unknown. Nothing is queued offline:
with the platform down the clerk is told so and the basket stays as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from workstation.api import (
    CHINA_TZ,
    Applicant,
    PlatformError,
    PlatformUnavailable,
    RecordConflict,
    mask_id_number,
    mask_name,
)

log = logging.getLogger(__name__)

CATEGORY_LABELS = {"甲": "甲类", "乙": "乙类", "丙": "丙类·自费"}
MAX_QTY = 99
MAX_LINES = 40
RX_NO_RE = re.compile(r"^[A-Za-z0-9-]{4,32}$")
# A QR payload typed into the search field by a keyboard-wedge scanner (PREFIX.<claims>.<sig>)
_CODE_PAYLOAD_RE = re.compile(r"^[A-Z][A-Z0-9]{2,9}\.[A-Za-z0-9_-]{16,}")
PLATFORM = "医保信息平台"

# record kinds and states of the till's settlement log (ctx.records)
ATTEMPT = "attempt"  # key: the idempotency key of one basket's settlement attempt
SETTLEMENT = "settlement"  # key: the platform's settlement id
PENDING, UNCERTAIN, REFUSED, SETTLED = "pending", "uncertain", "refused", "settled"
NOT_SETTLED, REFUNDING, REFUNDED = "not_settled", "refunding", "refunded"


def yuan(fen: int) -> str:
    """``1280`` -> ``"12.80"`` (no float on the way)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def new_key(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


class PharmacyError(Exception):
    """A step failed; ``message`` (Chinese) says what happened and what to do."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PharmacyUnavailable(PharmacyError):
    """The platform could not be reached or did not answer in time: nothing is known to have
    happened (a settlement may or may not have been made: retry with the same key)."""


class PharmacyRefused(PharmacyError):
    """The platform answered and refused (nothing was settled or refunded)."""


class BasketError(PharmacyError):
    """The basket cannot be settled as it is (a prescription not checked, a bad quantity)."""


def _unavailable(exc: PlatformUnavailable, what: str) -> PharmacyUnavailable:
    detail = "响应超时" if "超时" in exc.message else "网络连接失败或平台维护"
    return PharmacyUnavailable(f"{PLATFORM}暂时无法连接（{detail}），{what}")


# ---------------------------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drug:
    code: str
    name: str
    spec: str
    form: str
    unit: str
    maker: str
    price_fen: int
    category: str  # 甲 / 乙 / 丙
    rx: bool
    barcode: str
    initials: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Drug:
        return cls(str(data["code"]), str(data["name"]), str(data["spec"]), str(data["form"]),
                   str(data["unit"]), str(data["maker"]), int(data["price_fen"]),
                   str(data["category"]), bool(data["rx"]), str(data["barcode"]),
                   str(data["initials"]).upper())

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


@dataclass(frozen=True)
class Pharmacy:
    code: str
    name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Catalogue:
    pharmacy: Pharmacy
    drugs: tuple[Drug, ...]
    version: str = ""
    refund_reasons: dict[str, str] = field(default_factory=dict)

    def by_code(self, code: str) -> Drug | None:
        return next((d for d in self.drugs if d.code == code), None)

    def by_barcode(self, barcode: str) -> Drug | None:
        return next((d for d in self.drugs if d.barcode == barcode), None)

    def search(self, query: str, limit: int = 50) -> list[Drug]:
        """Drugs for what the clerk typed or scanned: a barcode or catalogue code (exact),
        the pinyin initials (助记码, prefix first) or part of the name."""
        q = query.strip()
        if not q:
            return []
        exact = self.by_barcode(q) or self.by_code(q)
        if exact is not None:
            return [exact]
        upper = q.upper()
        ranked: list[tuple[int, int, Drug]] = []
        for n, drug in enumerate(self.drugs):
            if drug.initials.startswith(upper):
                rank = 0
            elif drug.name.startswith(q):
                rank = 1
            elif q in drug.name:
                rank = 2
            elif upper in drug.initials:
                rank = 3
            elif q.isdigit() and len(q) >= 4 and q in drug.barcode:
                rank = 4
            else:
                continue
            ranked.append((rank, n, drug))
        ranked.sort(key=lambda t: (t[0], t[1]))
        return [d for _, _, d in ranked[:limit]]


def looks_like_code_payload(text: str) -> bool:
    """A QR payload (e.g. a voucher scanned by a wedge scanner while the field had focus)."""
    return bool(_CODE_PAYLOAD_RE.match(text.strip()))


# ---------------------------------------------------------------------------------------------
# The customer
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    """The insured person at the till, as the platform knows them. Holds personal data."""

    holder_id: str = field(repr=False)
    name: str = field(repr=False)
    insured: bool
    insurance_type: str = ""
    status: str = ""
    active: bool = False
    has_account: bool = False
    balance_fen: int = 0
    region: str = ""
    source_label: str = ""  # the app that showed the voucher
    fund_ratio_pct: int = 0

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.holder_id)

    @property
    def can_settle(self) -> bool:
        return self.insured and self.active

    @property
    def refusal(self) -> str | None:
        """Why this customer cannot pay with medical insurance (None when they can)."""
        if not self.insured:
            return "未查询到该顾客的参保信息，不能使用医保结算（可自费购药）"
        if not self.active:
            return (f"该顾客医保待遇暂停（参保状态：{self.status}），不能使用医保结算，"
                    "请到医保窗口咨询")
        return None


# ---------------------------------------------------------------------------------------------
# The basket
# ---------------------------------------------------------------------------------------------


@dataclass
class BasketLine:
    drug: Drug
    qty: int = 1
    rx_checked: bool = False  # the clerk checked the prescription
    rx_no: str = ""  # 处方编号

    @property
    def amount_fen(self) -> int:
        return self.drug.price_fen * self.qty


class Basket:
    """What the customer buys. ``attempt_key`` is the idempotency key of its settlement: made
    before the first try and kept until the platform confirms, whatever happens meanwhile."""

    def __init__(self) -> None:
        self.lines: list[BasketLine] = []
        self.attempt_key: str | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, code: str) -> BasketLine | None:
        return next((ln for ln in self.lines if ln.drug.code == code), None)

    def add(self, drug: Drug, qty: int = 1) -> BasketLine:
        """Add ``qty`` of ``drug`` (merged with its line when already there)."""
        existing = self.line(drug.code)
        if existing is not None:
            existing.qty = min(MAX_QTY, existing.qty + qty)
            return existing
        if len(self.lines) >= MAX_LINES:
            raise BasketError(f"一次结算最多 {MAX_LINES} 种药品")
        line = BasketLine(drug, max(1, min(MAX_QTY, qty)))
        self.lines.append(line)
        return line

    def set_qty(self, code: str, qty: int) -> None:
        line = self.line(code)
        if line is not None:
            line.qty = max(1, min(MAX_QTY, qty))

    def remove(self, code: str) -> None:
        self.lines = [ln for ln in self.lines if ln.drug.code != code]

    def set_prescription(self, code: str, checked: bool, number: str) -> None:
        line = self.line(code)
        if line is not None:
            line.rx_checked = checked
            line.rx_no = number.strip()

    def clear(self) -> None:
        self.lines = []
        self.attempt_key = None

    @property
    def total_fen(self) -> int:
        return sum(ln.amount_fen for ln in self.lines)

    def problems(self) -> dict[str, str]:
        """What stops settlement, by drug code ("" for the basket as a whole)."""
        out: dict[str, str] = {}
        if not self.lines:
            out[""] = "购药清单为空，请先扫描或搜索药品"
        for ln in self.lines:
            if not 1 <= ln.qty <= MAX_QTY:
                out[ln.drug.code] = f"“{ln.drug.name}”的数量应为 1 到 {MAX_QTY}"
            elif ln.drug.rx and not ln.rx_checked:
                out[ln.drug.code] = f"处方药“{ln.drug.name}”：请核验处方后勾选“已核验处方”"
            elif ln.drug.rx and not RX_NO_RE.match(ln.rx_no):
                out[ln.drug.code] = (f"处方药“{ln.drug.name}”：请填写处方编号"
                                     "（4 到 32 位字母、数字或“-”）")
        return out

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise BasketError("；".join(problems.values()))

    def request_lines(self) -> list[dict[str, Any]]:
        return [{"code": ln.drug.code, "qty": ln.qty,
                 **({"prescription_no": ln.rx_no} if ln.drug.rx else {})}
                for ln in self.lines]

    def ensure_key(self) -> str:
        """The settlement attempt's idempotency key (made on the first try, then kept)."""
        if self.attempt_key is None:
            self.attempt_key = new_key("PH")
        return self.attempt_key


# ---------------------------------------------------------------------------------------------
# Platform answers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitLine:
    code: str
    name: str
    spec: str
    unit: str
    category: str
    rx: bool
    prescription_no: str | None
    qty: int
    price_fen: int
    amount_fen: int
    fund_fen: int
    self_pay_first_fen: int
    out_of_scope_fen: int

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SplitLine:
        return cls(str(d["code"]), str(d["name"]), str(d["spec"]), str(d.get("unit", "")),
                   str(d["category"]), bool(d["rx"]), d.get("prescription_no"), int(d["qty"]),
                   int(d["price_fen"]), int(d["amount_fen"]), int(d["fund_fen"]),
                   int(d["self_pay_first_fen"]), int(d["out_of_scope_fen"]))


@dataclass(frozen=True)
class Split:
    """How a basket is paid: pooled fund + personal account + cash = total."""

    total_fen: int
    fund_fen: int
    account_fen: int
    cash_fen: int
    self_pay_first_fen: int
    out_of_scope_fen: int
    account_short_fen: int  # what the account could not pay (moved to cash)
    balance_before_fen: int
    balance_after_fen: int
    fund_ratio_pct: int
    lines: tuple[SplitLine, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Split:
        try:
            split = cls(int(d["total_fen"]), int(d["fund_fen"]), int(d["account_fen"]),
                        int(d["cash_fen"]), int(d["self_pay_first_fen"]),
                        int(d["out_of_scope_fen"]), int(d["account_short_fen"]),
                        int(d["balance_before_fen"]), int(d["balance_after_fen"]),
                        int(d["fund_ratio_pct"]),
                        tuple(SplitLine.from_json(x) for x in d["lines"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise PharmacyUnavailable(f"{PLATFORM}返回的结算数据格式不正确") from exc
        if split.fund_fen + split.account_fen + split.cash_fen != split.total_fen:
            raise PharmacyUnavailable(f"{PLATFORM}返回的结算金额不平衡，请联系管理员")
        return split


@dataclass(frozen=True)
class Settlement:
    settlement_id: str
    settled_at: dt.datetime
    split: Split
    insurance_type: str
    status: str
    duplicate: bool = False  # the platform had settled this attempt already
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Settlement:
        try:
            settled_at = dt.datetime.fromisoformat(str(d["settled_at"]))
            return cls(str(d["settlement_id"]), settled_at, Split.from_json(d),
                       str(d.get("insurance_type", "")), str(d.get("status", SETTLED)),
                       bool(d.get("duplicate", False)),
                       {k: v for k, v in d.items() if k != "duplicate"})
        except (KeyError, ValueError) as exc:
            raise PharmacyUnavailable(f"{PLATFORM}返回的结算数据格式不正确") from exc


@dataclass(frozen=True)
class Refund:
    refund_id: str
    settlement_id: str
    refunded_at: dt.datetime
    total_fen: int
    fund_fen: int
    account_fen: int
    cash_fen: int
    balance_after_fen: int
    reason: str
    note: str
    duplicate: bool = False

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Refund:
        try:
            return cls(str(d["refund_id"]), str(d["settlement_id"]),
                       dt.datetime.fromisoformat(str(d["refunded_at"])), int(d["total_fen"]),
                       int(d["fund_fen"]), int(d["account_fen"]), int(d["cash_fen"]),
                       int(d["balance_after_fen"]), str(d["reason"]), str(d.get("note", "")),
                       bool(d.get("duplicate", False)))
        except (KeyError, TypeError, ValueError) as exc:
            raise PharmacyUnavailable(f"{PLATFORM}返回的退费数据格式不正确") from exc

    def to_json(self) -> dict[str, Any]:
        return {"refund_id": self.refund_id, "settlement_id": self.settlement_id,
                "refunded_at": self.refunded_at.isoformat(), "total_fen": self.total_fen,
                "fund_fen": self.fund_fen, "account_fen": self.account_fen,
                "cash_fen": self.cash_fen, "balance_after_fen": self.balance_after_fen,
                "reason": self.reason, "note": self.note}


# ---------------------------------------------------------------------------------------------
# Platform client
# ---------------------------------------------------------------------------------------------


class PharmacyClient:
    """The ``/api/v1/pharmacy`` calls (blocking) over the workstation's platform client."""

    def __init__(self, platform: Any) -> None:
        self._platform = platform

    def _call(self, method: str, path: str, call: str, what: str, **kwargs: Any
              ) -> dict[str, Any]:
        try:
            return dict(self._platform.call_json(method, path, call, **kwargs))
        except PlatformUnavailable as exc:
            raise _unavailable(exc, what) from exc
        except PlatformError as exc:
            raise PharmacyRefused(exc.message, exc.code) from exc

    def catalogue(self) -> Catalogue:
        data = self._call("GET", "/api/v1/pharmacy/catalogue", "pharmacy/catalogue",
                          "暂时不能读取药品目录，请稍后重试")
        try:
            ph = data["pharmacy"]
            return Catalogue(
                Pharmacy(str(ph["code"]), str(ph["name"]), str(ph.get("address", "")),
                         str(ph.get("phone", ""))),
                tuple(Drug.from_json(d) for d in data["drugs"]), str(data.get("version", "")),
                {str(k): str(v) for k, v in (data.get("refund_reasons") or {}).items()})
        except (KeyError, TypeError, ValueError) as exc:
            raise PharmacyUnavailable(f"{PLATFORM}返回的药品目录格式不正确") from exc

    def customer(self, applicant: Applicant) -> Customer:
        data = self._call("POST", "/api/v1/pharmacy/insured", "pharmacy/insured",
                          "暂时不能查询参保信息，请稍后重试",
                          json={"holder_id": applicant.holder_id})
        source = str((applicant.extra or {}).get("code_source_label", ""))
        if not data.get("insured"):
            return Customer(applicant.holder_id, applicant.name, insured=False,
                            source_label=source)
        try:
            h = data["holder"]
            return Customer(applicant.holder_id, str(h.get("name") or applicant.name),
                            insured=True, insurance_type=str(h["insurance_type"]),
                            status=str(h["status"]), active=bool(h["active"]),
                            has_account=bool(h["has_account"]),
                            balance_fen=int(h["account_balance_fen"]),
                            region=str(h.get("region", "")), source_label=source,
                            fund_ratio_pct=int(data.get("fund_ratio_pct", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise PharmacyUnavailable(f"{PLATFORM}返回的参保信息格式不正确") from exc

    def preview(self, customer: Customer, lines: list[dict[str, Any]]) -> Split:
        """The split of a basket's ``request_lines()`` (changes nothing)."""
        data = self._call("POST", "/api/v1/pharmacy/settlements/preview",
                          "pharmacy/preview", "暂时不能预结算，购药清单已保留，请稍后重试",
                          json={"holder_id": customer.holder_id, "lines": lines})
        return Split.from_json(data)

    def settle(self, customer: Customer, lines: list[dict[str, Any]], key: str) -> Settlement:
        data = self._call(
            "POST", "/api/v1/pharmacy/settlements", "pharmacy/settle",
            "未能确认结算结果。购药清单已保留，不会重复扣费，请稍后点“重新结算”",
            json={"holder_id": customer.holder_id, "lines": lines}, idempotency_key=key)
        return Settlement.from_json(data)

    def attempt(self, key: str) -> Settlement | None:
        data = self._call("GET", f"/api/v1/pharmacy/attempts/{quote(key, safe='')}",
                          "pharmacy/attempt", "暂时不能查询上次结算的结果，请稍后重试")
        return Settlement.from_json(data["settlement"]) if data.get("settled") else None

    def settlement(self, sid: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/pharmacy/settlements/{quote(sid, safe='')}",
                          "pharmacy/settlement", "暂时不能查询结算记录，请稍后重试")

    def refund(self, sid: str, reason_code: str, note: str, key: str) -> Refund:
        data = self._call(
            "POST", f"/api/v1/pharmacy/settlements/{quote(sid, safe='')}/refund",
            "pharmacy/refund", "未能确认退费结果，请稍后重试（不会重复退费）",
            json={"reason_code": reason_code, "reason": note}, idempotency_key=key)
        return Refund.from_json(data)


# ---------------------------------------------------------------------------------------------
# Settling, with the till's log
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettleOutcome:
    settlement: Settlement
    record: dict[str, Any] = field(repr=False)  # the log's data (for the receipt)
    earlier: bool = False  # an earlier try of this basket had settled (found afterwards)


def _customer_json(customer: Customer) -> dict[str, Any]:
    return {"holder_id": customer.holder_id, "name": customer.name,
            "insurance_type": customer.insurance_type, "source_label": customer.source_label}


def _log_settlement(ctx: Any, customer: Customer, settlement: Settlement, key: str,
                    operator: str | None) -> dict[str, Any]:
    """Keep the settlement in the till's log (and close its attempt); returns the data."""
    data = {"settlement": settlement.raw, "customer": _customer_json(customer),
            "attempt_key": key, "operator": operator or "",
            "workstation_id": ctx.workstation_id}
    existing = ctx.records.get(SETTLEMENT, settlement.settlement_id)
    if existing is None:
        ctx.records.put(SETTLEMENT, settlement.settlement_id, data, state=SETTLED,
                        holder_id=customer.holder_id)
    else:
        data = dict(existing.data)
    attempt = ctx.records.get(ATTEMPT, key)
    if attempt is not None and attempt.state != SETTLED:
        ctx.records.update(ATTEMPT, key, state=SETTLED,
                           data={**attempt.data, "settlement_id": settlement.settlement_id})
    return data


def settle(ctx: Any, client: PharmacyClient, customer: Customer,
           basket_lines: list[dict[str, Any]], total_fen: int, key: str) -> SettleOutcome:
    """Settle a basket once (blocking). ``key`` was made before the first try and is reused
    on every retry; the attempt is in the till's log before anything is sent."""
    operator = ctx.operator()
    attempt = ctx.records.get(ATTEMPT, key)
    if attempt is not None and attempt.state == SETTLED and attempt.data.get("settlement_id"):
        done = ctx.records.get(SETTLEMENT, attempt.data["settlement_id"])
        if done is not None:  # settled and logged already (a late double click)
            return SettleOutcome(Settlement.from_json({**done.data["settlement"],
                                                       "duplicate": True}), dict(done.data))
    if attempt is None:
        ctx.records.put(ATTEMPT, key, {"lines": basket_lines, "total_fen": total_fen,
                                       "customer": _customer_json(customer),
                                       "operator": operator or ""},
                        state=PENDING, holder_id=customer.holder_id)
    else:
        ctx.records.update(ATTEMPT, key, state=PENDING,
                           data={**attempt.data, "lines": basket_lines, "total_fen": total_fen})
    earlier = False
    try:
        settlement = client.settle(customer, basket_lines, key)
    except PharmacyUnavailable:
        ctx.records.update(ATTEMPT, key, state=UNCERTAIN)
        ctx.audit.record("mi_settlement_uncertain", holder_id=customer.holder_id, attempt=key)
        raise
    except PharmacyRefused as exc:
        if exc.code != "idempotency_conflict":
            ctx.records.update(ATTEMPT, key, state=REFUSED)
            ctx.audit.record("mi_settlement_refused", holder_id=customer.holder_id,
                             attempt=key, code=exc.code)
            raise
        # the basket changed after a try whose outcome was unknown, and that try did settle
        found = client.attempt(key)
        if found is None:
            raise
        settlement, earlier = found, True
    data = _log_settlement(ctx, customer, settlement, key, operator)
    ctx.audit.record("mi_settlement", holder_id=customer.holder_id,
                     settlement=settlement.settlement_id, total_fen=settlement.split.total_fen,
                     fund_fen=settlement.split.fund_fen,
                     account_fen=settlement.split.account_fen,
                     cash_fen=settlement.split.cash_fen,
                     duplicate=settlement.duplicate or earlier)
    log.info("pharmacy settlement done (duplicate=%s, earlier=%s)", settlement.duplicate, earlier)
    return SettleOutcome(settlement, data, earlier)


def confirm_attempt(ctx: Any, client: PharmacyClient, key: str) -> Settlement | None:
    """Ask the platform whether a logged attempt whose outcome was unknown did settle."""
    attempt = ctx.records.get(ATTEMPT, key)
    if attempt is None:
        raise PharmacyError("本机结算记录中没有这次结算")
    found = client.attempt(key)
    if found is None:
        ctx.records.update(ATTEMPT, key, state=NOT_SETTLED)
        return None
    c = attempt.data.get("customer", {})
    customer = Customer(str(c.get("holder_id", "")), str(c.get("name", "")), insured=True,
                        insurance_type=str(c.get("insurance_type", "")),
                        source_label=str(c.get("source_label", "")))
    _log_settlement(ctx, customer, found, key, str(attempt.data.get("operator") or ""))
    ctx.audit.record("mi_settlement", holder_id=customer.holder_id or None,
                     settlement=found.settlement_id, total_fen=found.split.total_fen,
                     fund_fen=found.split.fund_fen, account_fen=found.split.account_fen,
                     cash_fen=found.split.cash_fen, duplicate=True)
    return found


# ---------------------------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One line of the till's settlement log (masked: it is shown on screen)."""

    kind: str  # SETTLEMENT or ATTEMPT
    key: str  # settlement id / attempt key
    state: str
    at: dt.datetime
    masked_name: str
    total_fen: int
    refund_pending: bool = False

    @property
    def state_label(self) -> str:
        return {SETTLED: "已结算", REFUNDING: "退费结果待确认", REFUNDED: "已退费",
                PENDING: "结果待确认", UNCERTAIN: "结果待确认"}.get(self.state, self.state)


def settlement_log(ctx: Any, limit: int = 100) -> list[LogEntry]:
    """The till's recent settlements, and attempts whose outcome is still unknown."""
    out: list[LogEntry] = []
    for rec in ctx.records.find(ATTEMPT, state=(PENDING, UNCERTAIN), limit=limit):
        out.append(LogEntry(ATTEMPT, rec.key, rec.state, rec.updated_at,
                            mask_name(str(rec.data.get("customer", {}).get("name", ""))),
                            int(rec.data.get("total_fen", 0))))
    for rec in ctx.records.find(SETTLEMENT, limit=limit):
        s = rec.data.get("settlement", {})
        out.append(LogEntry(SETTLEMENT, rec.key, rec.state,
                            dt.datetime.fromisoformat(str(s.get("settled_at")))
                            if s.get("settled_at") else rec.created_at,
                            mask_name(str(rec.data.get("customer", {}).get("name", ""))),
                            int(s.get("total_fen", 0)), rec.state == REFUNDING))
    out.sort(key=lambda e: e.at, reverse=True)
    return out[:limit]


@dataclass(frozen=True)
class RefundOutcome:
    refund: Refund
    record: dict[str, Any] = field(repr=False)


def check_refund_reason(reasons: dict[str, str], reason_code: str, note: str) -> None:
    if reason_code not in reasons:
        raise PharmacyError("请选择退费原因")
    if reason_code == "other" and not note.strip():
        raise PharmacyError("退费原因为“其他原因”时，请填写退费说明")
    if len(note.strip()) > 200:
        raise PharmacyError("退费说明不能超过 200 字")


def refund(ctx: Any, client: PharmacyClient, settlement_id: str, reason_code: str,
           note: str) -> RefundOutcome:
    """Refund a settlement of this till once (blocking). The refund's key is in the log
    before anything is sent; a retry after an unknown outcome reuses it and its reason."""
    rec = ctx.records.get(SETTLEMENT, settlement_id.strip())
    if rec is None:
        raise PharmacyRefused("本机结算记录中没有该结算单号，不能退费", "not_found")
    holder_id = str(rec.data.get("customer", {}).get("holder_id") or "") or None
    if rec.state == REFUNDED:
        at = str(rec.data.get("refund", {}).get("refunded_at", ""))[:16].replace("T", " ")
        ctx.audit.record("mi_refund_refused", holder_id=holder_id, settlement=rec.key,
                         code="already_refunded")
        raise PharmacyRefused(f"该结算已于 {at} 退费，不能重复退费", "already_refunded")
    if rec.state == REFUNDING:  # an earlier refund's outcome is unknown: same key, same reason
        key = str(rec.data["refund_key"])
        reason_code = str(rec.data.get("refund_reason_code", reason_code))
        note = str(rec.data.get("refund_note", note))
    else:
        key = new_key("RF")
        try:
            rec = ctx.records.update(
                SETTLEMENT, rec.key, expect_version=rec.version, expect_state=SETTLED,
                state=REFUNDING, data={**rec.data, "refund_key": key,
                                       "refund_reason_code": reason_code, "refund_note": note})
        except RecordConflict as exc:
            raise PharmacyRefused("该结算正在由其他收银台退费或已退费，请刷新结算记录",
                                  "conflict") from exc
    try:
        result = client.refund(rec.key, reason_code, note, key)
    except PharmacyUnavailable:
        ctx.audit.record("mi_refund_uncertain", holder_id=holder_id, settlement=rec.key)
        raise
    except PharmacyRefused as exc:
        current = ctx.records.get(SETTLEMENT, rec.key)
        if exc.code == "already_refunded":
            remote = client.settlement(rec.key).get("refund") or {}
            data = {**(current.data if current else rec.data), "refund": remote}
            ctx.records.update(SETTLEMENT, rec.key, state=REFUNDED, data=data)
        elif current is not None and current.state == REFUNDING:
            data = {k: v for k, v in current.data.items()
                    if k not in ("refund_key", "refund_reason_code", "refund_note")}
            ctx.records.update(SETTLEMENT, rec.key, expect_state=REFUNDING, state=SETTLED,
                               data=data)
        ctx.audit.record("mi_refund_refused", holder_id=holder_id, settlement=rec.key,
                         code=exc.code)
        raise
    current = ctx.records.get(SETTLEMENT, rec.key)
    data = {**(current.data if current else rec.data), "refund": result.to_json()}
    ctx.records.update(SETTLEMENT, rec.key, state=REFUNDED, data=data)
    ctx.audit.record("mi_refund", holder_id=holder_id, settlement=rec.key,
                     refund=result.refund_id, total_fen=result.total_fen,
                     fund_fen=result.fund_fen, account_fen=result.account_fen,
                     reason=reason_code, duplicate=result.duplicate)
    return RefundOutcome(result, data)


# ---------------------------------------------------------------------------------------------
# Receipts (data only: printout.py renders them)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    spec: str
    category: str  # 甲 / 乙 / 丙
    rx_no: str | None
    qty: int
    unit: str
    price_fen: int
    amount_fen: int


@dataclass(frozen=True)
class SettlementReceipt:
    """医保结算小票. Personal data arrives masked."""

    pharmacy: str
    pharmacy_code: str
    pharmacy_address: str
    pharmacy_phone: str
    settlement_id: str
    settled_at: dt.datetime
    customer_label: str  # masked name
    customer_id_masked: str
    insurance_type: str
    voucher_source: str
    lines: Sequence[ReceiptLine]
    total_fen: int
    fund_fen: int
    account_fen: int
    cash_fen: int
    balance_after_fen: int | None  # None: no personal account
    account_short_fen: int = 0
    cashier: str = ""
    workstation_id: str = ""
    reprint: bool = False

    def __post_init__(self) -> None:
        for value, what in ((self.customer_id_masked, "customer_id_masked"),
                            (self.customer_label, "customer_label")):
            if value and "*" not in value:
                raise ValueError(f"{what} must be masked on a receipt")


@dataclass(frozen=True)
class RefundReceipt:
    """医保退费凭条. Personal data arrives masked."""

    pharmacy: str
    pharmacy_code: str
    refund_id: str
    settlement_id: str
    settled_at: dt.datetime
    refunded_at: dt.datetime
    customer_label: str
    customer_id_masked: str
    insurance_type: str
    total_fen: int
    fund_fen: int
    account_fen: int
    cash_fen: int
    balance_after_fen: int | None
    reason: str
    note: str = ""
    cashier: str = ""
    workstation_id: str = ""

    def __post_init__(self) -> None:
        for value, what in ((self.customer_id_masked, "customer_id_masked"),
                            (self.customer_label, "customer_label")):
            if value and "*" not in value:
                raise ValueError(f"{what} must be masked on a receipt")


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(CHINA_TZ) if moment.tzinfo else moment


def settlement_receipt(data: dict[str, Any], pharmacy: Pharmacy, *, cashier: str = "",
                       reprint: bool = False) -> SettlementReceipt:
    """The receipt of a logged settlement (``SettleOutcome.record`` / a log record's data)."""
    s = data["settlement"]
    c = data.get("customer", {})
    has_account = c.get("insurance_type", s.get("insurance_type")) == "职工基本医疗保险"
    lines = [ReceiptLine(str(x["name"]), str(x["spec"]), str(x["category"]),
                         x.get("prescription_no"), int(x["qty"]), str(x.get("unit", "")),
                         int(x["price_fen"]), int(x["amount_fen"])) for x in s["lines"]]
    return SettlementReceipt(
        pharmacy=pharmacy.name, pharmacy_code=pharmacy.code, pharmacy_address=pharmacy.address,
        pharmacy_phone=pharmacy.phone, settlement_id=str(s["settlement_id"]),
        settled_at=_local(dt.datetime.fromisoformat(str(s["settled_at"]))),
        customer_label=mask_name(str(c.get("name", ""))),
        customer_id_masked=mask_id_number(str(c.get("holder_id", ""))),
        insurance_type=str(s.get("insurance_type", "")),
        voucher_source=str(c.get("source_label", "")), lines=lines,
        total_fen=int(s["total_fen"]), fund_fen=int(s["fund_fen"]),
        account_fen=int(s["account_fen"]), cash_fen=int(s["cash_fen"]),
        balance_after_fen=int(s["balance_after_fen"]) if has_account else None,
        account_short_fen=int(s.get("account_short_fen", 0)),
        cashier=cashier or str(data.get("operator", "")),
        workstation_id=str(data.get("workstation_id", "")), reprint=reprint)


def refund_receipt(data: dict[str, Any], pharmacy: Pharmacy, *, cashier: str = ""
                   ) -> RefundReceipt:
    s, r, c = data["settlement"], data["refund"], data.get("customer", {})
    has_account = s.get("insurance_type") == "职工基本医疗保险"
    return RefundReceipt(
        pharmacy=pharmacy.name, pharmacy_code=pharmacy.code, refund_id=str(r["refund_id"]),
        settlement_id=str(s["settlement_id"]),
        settled_at=_local(dt.datetime.fromisoformat(str(s["settled_at"]))),
        refunded_at=_local(dt.datetime.fromisoformat(str(r["refunded_at"]))),
        customer_label=mask_name(str(c.get("name", ""))),
        customer_id_masked=mask_id_number(str(c.get("holder_id", ""))),
        insurance_type=str(s.get("insurance_type", "")), total_fen=int(r["total_fen"]),
        fund_fen=int(r["fund_fen"]), account_fen=int(r["account_fen"]),
        cash_fen=int(r["cash_fen"]),
        balance_after_fen=int(r["balance_after_fen"]) if has_account else None,
        reason=str(r["reason"]), note=str(r.get("note", "")),
        cashier=cashier or str(data.get("operator", "")),
        workstation_id=str(data.get("workstation_id", "")))


def pharmacy_of(data: dict[str, Any], fallback: Pharmacy | None = None) -> Pharmacy:
    """The pharmacy a logged settlement was made at (its platform answer names it)."""
    ph = data.get("settlement", {}).get("pharmacy") or {}
    if ph:
        return Pharmacy(str(ph.get("code", "")), str(ph.get("name", "")),
                        str(ph.get("address", "")), str(ph.get("phone", "")))
    return fallback or Pharmacy("", "")


def totals(lines: Iterable[BasketLine]) -> tuple[int, int]:
    """(number of packs, total fen) of basket lines."""
    items = list(lines)
    return sum(ln.qty for ln in items), sum(ln.amount_fen for ln in items)

