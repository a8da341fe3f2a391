"""S6 社保自助查询打印 without Qt: the social security platform's client, the choices a citizen
makes (insurance types, period, year, purpose) and the documents they print.

Access rule (documented in the README): the records are the citizen's own. They identified
themselves with their own electronic social security card code or their own card, so the
workstation reads their record right after sign-in and shows it only to them (on a kiosk) or to
the clerk serving them; no electronic licence is fetched, so no licence consent is recorded.
Every read names the sign-in method and the workstation to the platform, which keeps its own
access log, and is audited here (``hrss_query``); every print is audited by the print service
with its purpose (用途).

Blocking calls (HTTP, rendering): run them off the GUI thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from workstation.api import (
    CHINA_TZ,
    Applicant,
    PlatformError,
    PlatformUnavailable,
    mask_id_number,
)
from workstation.api import sign_in_method as applicant_sign_in

SCENARIO_ID = "social_security_print"
ISSUING_UNIT = "赤壁市社会保险事业服务中心"
# key -> (full name, short name); the order the platform and the documents use
INSURANCE: dict[str, tuple[str, str]] = {
    "pension": ("企业职工基本养老保险", "养老保险"),
    "medical": ("职工基本医疗保险", "医疗保险"),
    "unemployment": ("失业保险", "失业保险"),
    "injury": ("工伤保险", "工伤保险"),
    "maternity": ("生育保险", "生育保险"),
}
DEFAULT_TYPES = ("pension", "medical", "unemployment")
MAX_LEDGER_TYPES = 4  # the certificate's monthly ledger has room for four insurance types
PERIOD_CHOICES: tuple[tuple[int, str], ...] = (
    (6, "近6个月"), (12, "近12个月"), (24, "近24个月"), (36, "近36个月"), (60, "近60个月"),
)
DEFAULT_PERIOD = 12
PURPOSES = (
    "办理子女入学", "申请公共租赁住房", "办理购房手续", "办理落户手续", "办理贷款",
    "求职应聘", "办理居住证", "个人留存",
)
SIGN_IN_LABELS = {"essc": "电子社保卡", "ss_card": "社会保障卡"}

SUMMARY_PATH = "/api/v1/hrss/insured/summary"
CONTRIBUTIONS_PATH = "/api/v1/hrss/insured/contributions"
RIGHTS_RECORD_PATH = "/api/v1/hrss/insured/rights-record"


class HrssError(Exception):
    """The social security platform could not answer: ``message`` (Chinese) says why."""

    def __init__(self, message: str, *, unavailable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unavailable = unavailable


class ChoiceError(ValueError):
    """A choice the citizen must correct; ``message`` in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------- sign-in


def sign_in_method(applicant: Applicant) -> str:
    """``essc`` (electronic social security card code) or ``ss_card`` (the card)."""
    method = applicant_sign_in(applicant)
    if method not in SIGN_IN_LABELS:
        raise ChoiceError("请使用电子社保卡二维码或社会保障卡登录")
    return str(method)


def sign_in_text(applicant: Applicant) -> str:
    """“电子社保卡（微信小程序）”, “电子社保卡（湖北12333公众号）” or “社会保障卡”."""
    method = sign_in_method(applicant)
    if method == "essc":
        source = applicant.extra.get("code_source_label", "")
        return f"电子社保卡（{source}）" if source else "电子社保卡"
    return "社会保障卡"


# ------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class InsuredPersonRecord:
    """The insured person as the platform knows them. Holds personal data: never log it."""

    name: str
    sex: str
    id_number: str
    personal_number: str
    insured_place: str
    employer: str
    first_insured_on: dt.date
    retired_on: dt.date | None

    def __repr__(self) -> str:
        return f"InsuredPersonRecord({mask_id_number(self.id_number)})"


@dataclass(frozen=True)
class InsuranceLine:
    """One insurance type on the query page."""

    insurance: str
    name: str
    status: str  # 参保缴费 / 暂停缴费 / 离退休 / 终止参保
    start: dt.date
    end: dt.date | None  # None: still paying (至今)
    months: int
    latest_base: Decimal
    employer: str
    arrears_months: int

    @property
    def period_text(self) -> str:
        return f"{self.start:%Y年%m月} 至 " + (f"{self.end:%Y年%m月}" if self.end else "今")


@dataclass(frozen=True)
class Summary:
    person: InsuredPersonRecord
    lines: tuple[InsuranceLine, ...]
    years: tuple[int, ...]  # years with contributions, ascending
    pension_balance: Decimal
    medical_balance: Decimal
    as_of: dt.date

    def line(self, insurance: str) -> InsuranceLine | None:
        return next((ln for ln in self.lines if ln.insurance == insurance), None)

    @property
    def last_month(self) -> dt.date:
        """The last month with a contribution (first day)."""
        ends = [ln.end or _month_start(self.as_of, -1) for ln in self.lines]
        return max(ends) if ends else _month_start(self.as_of, -1)


def _month_start(day: dt.date, add: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + add
    return dt.date(index // 12, index % 12 + 1, 1)


def _month(text: Any) -> dt.date:
    return dt.date(int(str(text)[:4]), int(str(text)[5:7]), 1)


def _money(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        raise HrssError("社保信息系统返回的数据格式不正确") from None


def _person(data: dict[str, Any]) -> InsuredPersonRecord:
    retired = data.get("retired_on")
    return InsuredPersonRecord(
        name=str(data["name"]), sex=str(data["sex"]), id_number=str(data["id_number"]),
        personal_number=str(data["personal_number"]),
        insured_place=str(data["insured_place"]), employer=str(data["employer_name"]),
        first_insured_on=dt.date.fromisoformat(str(data["first_insured_on"])),
        retired_on=dt.date.fromisoformat(str(retired)) if retired else None,
    )


class HrssClient:
    """The social security platform (人社) over the workstation's platform client."""

    def __init__(self, platform: Any, *, workstation_id: str, sign_in: str) -> None:
        self._platform = platform
        self._workstation_id = workstation_id
        self._sign_in = sign_in

    def _call(self, path: str, call: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "sign_in": self._sign_in, "workstation_id": self._workstation_id}
        try:
            data: dict[str, Any] = self._platform.call_json("POST", path, call, json=body)
        except PlatformUnavailable as exc:
            raise HrssError("暂时无法连接社保信息系统，请稍后再试（您的选择已保留）",
                            unavailable=True) from exc
        except PlatformError as exc:
            raise HrssError(exc.message) from exc
        return data

    def summary(self, id_number: str) -> Summary:
        data = self._call(SUMMARY_PATH, "hrss/summary", {"id_number": id_number})
        try:
            lines = tuple(
                InsuranceLine(
                    insurance=str(i["insurance"]), name=INSURANCE[str(i["insurance"])][0],
                    status=str(i["status"]), start=_month(i["start"]),
                    end=_month(i["end"]) if i.get("end") else None, months=int(i["months"]),
                    latest_base=_money(i["latest_base"]), employer=str(i["employer_name"]),
                    arrears_months=int(i.get("arrears_months", 0)),
                )
                for i in data["insurances"] if str(i["insurance"]) in INSURANCE
            )
            balances = {str(a["account"]): _money(a["balance"]) for a in data["accounts"]}
            return Summary(
                person=_person(data["person"]), lines=lines,
                years=tuple(sorted(int(y) for y in data["years"])),
                pension_balance=balances.get("pension", Decimal(0)),
                medical_balance=balances.get("medical", Decimal(0)),
                as_of=dt.date.fromisoformat(str(data["as_of"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HrssError("社保信息系统返回的数据格式不正确") from exc

    def contributions(self, id_number: str, types: Sequence[str], start: dt.date,
                      end: dt.date) -> list[dict[str, Any]]:
        data = self._call(CONTRIBUTIONS_PATH, "hrss/contributions", {
            "id_number": id_number, "types": list(types),
            "from": f"{start:%Y-%m}", "to": f"{end:%Y-%m}"})
        rows = data.get("contributions")
        if not isinstance(rows, list):
            raise HrssError("社保信息系统返回的数据格式不正确")
        return rows

    def rights_record(self, id_number: str, year: int) -> dict[str, Any]:
        return self._call(RIGHTS_RECORD_PATH, "hrss/rights-record",
                          {"id_number": id_number, "year": year})


def client_for(ctx: Any, applicant: Applicant) -> HrssClient:
    return HrssClient(ctx.platform, workstation_id=ctx.workstation_id,
                      sign_in=sign_in_method(applicant))


def load_summary(ctx: Any, applicant: Applicant) -> Summary:
    """The query page's data (blocking); audited without personal data."""
    summary = client_for(ctx, applicant).summary(applicant.holder_id)
    ctx.audit.record("hrss_query", holder_id=applicant.holder_id, what="summary",
                     sign_in=sign_in_method(applicant),
                     source=applicant.extra.get("code_source", ""))  # which app showed the code
    return summary


# ------------------------------------------------------------------------------- choices


@dataclass(frozen=True)
class CertificateChoice:
    types: tuple[str, ...]
    start: dt.date  # first days of months
    end: dt.date
    purpose: str


def period_for(summary: Summary, months: int) -> tuple[dt.date, dt.date]:
    """The ``months`` months up to the last month with a contribution, not before the first
    insured month."""
    end = summary.last_month
    start = max(_month_start(end, -(months - 1)),
                _month_start(summary.person.first_insured_on))
    return start, end


def check_certificate(summary: Summary, types: Sequence[str], months: int | None,
                      purpose: str | None) -> CertificateChoice:
    chosen = tuple(t for t in INSURANCE if t in types)
    if not chosen:
        raise ChoiceError("请至少选择一个险种")
    if len(chosen) > MAX_LEDGER_TYPES:
        raise ChoiceError(f"一份参保证明最多包含{MAX_LEDGER_TYPES}个险种，请减少一个险种"
                          "（可分两次打印）")
    missing = [INSURANCE[t][1] for t in chosen if summary.line(t) is None]
    if missing:
        raise ChoiceError(f"您没有{'、'.join(missing)}的参保记录，请重新选择险种")
    if months not in dict(PERIOD_CHOICES):
        raise ChoiceError("请选择证明的缴费期间")
    if not purpose or purpose not in PURPOSES:
        raise ChoiceError("请选择证明的用途")
    start, end = period_for(summary, months)
    return CertificateChoice(chosen, start, end, purpose)


@dataclass(frozen=True)
class RightsChoice:
    year: int
    purpose: str


def check_rights(summary: Summary, year: int | None, purpose: str | None) -> RightsChoice:
    if year is None or year not in summary.years:
        raise ChoiceError("请选择要打印的年度")
    if not purpose or purpose not in PURPOSES:
        raise ChoiceError("请选择记录单的用途")
    return RightsChoice(year, purpose)


# ------------------------------------------------------------------------------- documents


def _printed_person(summary: Summary) -> Any:
    from workstation.api.printing import InsuredPerson

    p = summary.person
    # the certificate names the person; the ID number is printed masked (the verification
    # code proves the document, the full number is not needed on paper)
    return InsuredPerson(name=p.name, id_number=mask_id_number(p.id_number), sex=p.sex,
                         employer=p.employer, insured_place=p.insured_place,
                         first_insured_on=p.first_insured_on)


def document_number(prefix: str, issued_at: dt.datetime, holder_id: str) -> str:
    local = issued_at.astimezone(CHINA_TZ)
    return f"{prefix}{local:%Y%m%d%H%M%S}{holder_id[-4:]}"


def certificate_document(ctx: Any, applicant: Applicant, summary: Summary,
                         choice: CertificateChoice) -> Any:
    """Fetch the ledger of the chosen period and build the 参保证明 (blocking)."""
    from workstation.api.printing import (
        InsuranceCertificate,
        InsurancePeriod,
        MonthlyContribution,
    )

    client = client_for(ctx, applicant)
    rows = client.contributions(applicant.holder_id, choice.types, choice.start, choice.end)
    ctx.audit.record("hrss_query", holder_id=applicant.holder_id, what="contributions",
                     sign_in=sign_in_method(applicant), types=list(choice.types))
    try:
        contributions = [
            MonthlyContribution(int(r["year"]), int(r["month"]), str(r["insurance"]),
                                _money(r["base"]), _money(r["employer"]),
                                _money(r["personal"]), bool(r["paid"]))
            for r in rows
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise HrssError("社保信息系统返回的数据格式不正确") from exc
    periods = []
    for t in choice.types:
        line = summary.line(t)
        if line is not None:
            periods.append(InsurancePeriod(t, line.status, line.start, line.end, line.months))
    issued_at = ctx.clock().astimezone(CHINA_TZ)
    return InsuranceCertificate(
        person=_printed_person(summary), periods=periods, contributions=contributions,
        period_from=choice.start, period_to=choice.end, issuing_unit=ISSUING_UNIT,
        certificate_no=document_number("CBSB", issued_at, applicant.holder_id),
        issued_at=issued_at.replace(tzinfo=None), workstation_id=ctx.workstation_id,
        purpose=choice.purpose,
        notes=() if contributions else ("查询期间内没有缴费记录。",),
    )


def rights_document(ctx: Any, applicant: Applicant, summary: Summary,
                    choice: RightsChoice) -> Any:
    """Fetch the year's record and build the 个人权益记录单 (blocking)."""
    from workstation.api.printing import AccountBalance, RightsRecord, YearlySummary

    data = client_for(ctx, applicant).rights_record(applicant.holder_id, choice.year)
    ctx.audit.record("hrss_query", holder_id=applicant.holder_id, what="rights_record",
                     sign_in=sign_in_method(applicant), year=choice.year)
    try:
        summaries = [YearlySummary(int(s["year"]), str(s["insurance"]), int(s["months"]),
                                   _money(s["base"]), _money(s["employer"]),
                                   _money(s["personal"]))
                     for s in data["summaries"]]
        balances = [AccountBalance(str(b["name"]), _money(b["opening"]), _money(b["credited"]),
                                   _money(b["interest"]), _money(b["paid_out"]))
                    for b in data["balances"]]
        cumulative = {str(k): int(v) for k, v in dict(data["cumulative_months"]).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise HrssError("社保信息系统返回的数据格式不正确") from exc
    issued_at = ctx.clock().astimezone(CHINA_TZ)
    return RightsRecord(
        person=_printed_person(summary), year=choice.year, summaries=summaries,
        balances=balances, cumulative_months=cumulative, issuing_unit=ISSUING_UNIT,
        record_no=document_number(f"QY{choice.year}-", issued_at, applicant.holder_id),
        issued_at=issued_at.replace(tzinfo=None), workstation_id=ctx.workstation_id,
        purpose=choice.purpose,
    )


def money_text(value: Decimal) -> str:
    return f"{value:,.2f}"
