"""The social security platform of the sandbox (人社 / 社会保险经办系统, S6).

Every citizen of the world has a deterministic insurance history drawn from the seed and the ID
number (like ``sandbox.enterprise.employment_of``): employment spells with employers, a monthly
contribution base per year, monthly contributions for the five insurance types (养老, 医疗, 失业,
工伤, 生育) with the employer's and the person's shares, the odd month in arrears, and the two
personal accounts (basic pension, employees' medical insurance) year by year. Children and a few
adults have no record here.

Routes (client credential required; docs/contracts.md "Social security platform"):

- ``POST /api/v1/hrss/insured/summary``: the person, per insurance type its status, period and
  months, the years with contributions, the account balances today.
- ``POST /api/v1/hrss/insured/contributions``: the monthly ledger for some types and a period.
- ``POST /api/v1/hrss/insured/rights-record``: the yearly record of one year (the 个人权益记录单).
- ``GET /sandbox/hrss/access-log``: what was read, for tests and demos (no auth).

Each body carries ``id_number``, ``sign_in`` (how the citizen identified themselves at the
workstation: ``essc`` electronic social security card code, or ``ss_card`` the card itself) and
``workstation_id``; the platform serves only the citizen's own record and keeps an access log
(time, client, workstation, sign-in, what). Amounts are decimal strings in yuan, never floats.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.server import SandboxServer, _Request, _Response
    from sandbox.world import Citizen

INSURANCE_KEYS = ("pension", "medical", "unemployment", "injury", "maternity")
INSURANCE_NAMES = {
    "pension": "企业职工基本养老保险",
    "medical": "职工基本医疗保险",
    "unemployment": "失业保险",
    "injury": "工伤保险",
    "maternity": "生育保险",
}
SIGN_IN_METHODS = ("essc", "ss_card")
ACTIVE, PAUSED, RETIRED, ENDED = "参保缴费", "暂停缴费", "离退休", "终止参保"
FIRST_RECORD = dt.date(1998, 1, 1)  # the personal account system's records start here
# the year each insurance type starts in the local records
INTRODUCED = {"pension": 1998, "medical": 2001, "unemployment": 1999, "injury": 2004,
              "maternity": 2005}
EMPLOYERS = (
    "赤壁市青砖茶业有限公司", "湖北蒲圻纺织有限公司", "赤壁市城市建设投资有限公司",
    "咸宁市赤壁供销合作社", "赤壁长城炭素制品有限公司", "湖北赤壁赤马港物流有限公司",
    "赤壁市人民医院", "赤壁市陆水湖旅游开发有限公司", "湖北赤壁农村商业银行股份有限公司",
    "赤壁市蒲圻电子科技有限公司", "湖北华舟重工应急装备股份有限公司赤壁分公司",
    "赤壁市中伙铺建材有限公司",
)
# 个人账户记账利率 (national figures where published; 2.50 % before 2016)
PENSION_INTEREST = {2016: "0.0831", 2017: "0.0712", 2018: "0.0829", 2019: "0.0761",
                    2020: "0.0604", 2021: "0.0669", 2022: "0.0612", 2023: "0.0397",
                    2024: "0.0262", 2025: "0.0250"}
CENT = Decimal("0.01")


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _rates(insurance: str, year: int, month: int) -> tuple[Decimal, Decimal]:
    """(employer, personal) share of the base."""
    if insurance == "pension":
        employer = "0.16" if (year, month) >= (2019, 5) else "0.20"
        return Decimal(employer), Decimal("0.08")
    return {
        "medical": (Decimal("0.08"), Decimal("0.02")),
        "unemployment": (Decimal("0.007"), Decimal("0.003")),
        "injury": (Decimal("0.004"), Decimal(0)),
        "maternity": (Decimal("0.007"), Decimal(0)),
    }[insurance]


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class Spell:
    """Months of employment with one employer, both ends included (first days of months)."""

    employer: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Contribution:
    year: int
    month: int
    insurance: str
    base: Decimal
    employer: Decimal
    personal: Decimal
    paid: bool
    employer_name: str

    def to_json(self) -> dict[str, Any]:
        return {"year": self.year, "month": self.month, "insurance": self.insurance,
                "base": str(self.base), "employer": str(self.employer),
                "personal": str(self.personal), "paid": self.paid,
                "employer_name": self.employer_name}


@dataclass
class InsuredHistory:
    """One citizen's record on the platform. Holds personal data: never log it."""

    holder_id: str
    name: str
    sex: str
    personal_number: str  # 个人编号
    insured_place: str
    as_of: dt.date
    spells: list[Spell]
    retired_on: dt.date | None
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def first_insured_on(self) -> dt.date:
        return self.spells[0].start

    @property
    def current_employer(self) -> str:
        return self.spells[-1].employer

    def months_of(self, insurance: str, until_year: int | None = None) -> int:
        return sum(1 for c in self.contributions if c.insurance == insurance and c.paid
                   and (until_year is None or c.year <= until_year))

    def status_of(self, insurance: str) -> str:
        if self.retired_on is not None:  # still insured for pension and medical care
            return RETIRED if insurance in ("pension", "medical") else ENDED
        last = _add_months(self.as_of.replace(day=1), -1)
        return ACTIVE if self.spells[-1].end >= last else PAUSED

    def years(self) -> list[int]:
        return sorted({c.year for c in self.contributions})


def history_of(seed: int, citizen: Citizen, as_of: dt.date,
               insured_place: str) -> InsuredHistory | None:
    """The citizen's insurance history (None: no record here), deterministic per seed and ID."""
    rng = random.Random(f"{seed}:hrss:{citizen.id_number}")
    age = citizen.age_on(as_of)
    if age < 18 or rng.random() < 0.04:
        return None
    start_age = rng.randint(18, 26)
    first = max(_add_months(citizen.birth_date.replace(day=1), 12 * start_age + 1),
                FIRST_RECORD)
    last_month = _add_months(as_of.replace(day=1), -1)  # contributions are posted a month late
    retire_age = 60 if citizen.sex == "男" else 55
    retired_on = _add_months(citizen.birth_date.replace(day=1), 12 * retire_age + 1)
    retired = retired_on <= last_month
    end_of_work = _add_months(retired_on, -1) if retired else last_month
    if first > end_of_work:
        return None
    spells: list[Spell] = []
    cursor = first
    employers = list(EMPLOYERS)
    rng.shuffle(employers)
    while cursor <= end_of_work:
        length = rng.randint(18, 120)
        end = min(_add_months(cursor, length - 1), end_of_work)
        spells.append(Spell(employers[len(spells) % len(employers)], cursor, end))
        cursor = _add_months(end, 1 + (rng.choice((0, 0, 0, 1, 2, 4, 7)) if rng.random() < 0.6
                                       else 0))
    if not retired and rng.random() < 0.12:
        # the last job ended a few months ago: contributions are paused today
        cut = _add_months(end_of_work, -rng.randint(2, 8))
        if cut >= spells[-1].start:
            spells[-1] = Spell(spells[-1].employer, spells[-1].start, cut)
    history = InsuredHistory(
        holder_id=citizen.id_number, name=citizen.name, sex=citizen.sex,
        personal_number=f"4212{rng.randint(10**13, 10**14 - 1)}", insured_place=insured_place,
        as_of=as_of, spells=spells, retired_on=retired_on if retired else None,
    )
    factor = Decimal(str(round(rng.uniform(0.65, 2.2), 2)))
    arrears = (not retired and spells[-1].end == last_month and rng.random() < 0.15)
    for spell in spells:
        month = spell.start
        while month <= spell.end:
            average = Decimal(600) * Decimal("1.085") ** (month.year - 1998)
            base = _money(min(max(average * factor, average * Decimal("0.6")),
                              average * 3)).quantize(Decimal(1))
            unpaid = arrears and month == last_month
            for key in INSURANCE_KEYS:
                if month.year < INTRODUCED[key]:
                    continue
                employer_rate, personal_rate = _rates(key, month.year, month.month)
                history.contributions.append(Contribution(
                    month.year, month.month, key, base, _money(base * employer_rate),
                    _money(base * personal_rate), not unpaid, spell.employer))
            month = _add_months(month, 1)
    return history


def _interest_rate(year: int) -> Decimal:
    return Decimal(PENSION_INTEREST.get(year, "0.0250"))


def accounts_by_year(seed: int, history: InsuredHistory) -> dict[str, list[dict[str, Any]]]:
    """Per personal account, one entry per year from the first insured year to ``as_of``:
    opening, credited, interest, paid_out, closing (Decimal). Interest is credited at year end,
    so the current year has none yet."""
    rng = random.Random(f"{seed}:hrss-accounts:{history.holder_id}")
    credited: dict[tuple[str, int], Decimal] = {}
    for c in history.contributions:
        if not c.paid:
            continue
        if c.insurance == "pension":
            credited[("pension", c.year)] = credited.get(("pension", c.year), Decimal(0)) \
                + c.personal
        elif c.insurance == "medical":
            # the person's 2 % plus a share of the employer's part (Hubei's employees' scheme)
            share = c.personal + _money(c.base * Decimal("0.006"))
            credited[("medical", c.year)] = credited.get(("medical", c.year), Decimal(0)) + share
    out: dict[str, list[dict[str, Any]]] = {"pension": [], "medical": []}
    for account in ("pension", "medical"):
        balance = Decimal(0)
        first_year = INTRODUCED[account] if history.first_insured_on.year < INTRODUCED[account] \
            else history.first_insured_on.year
        for year in range(first_year, history.as_of.year + 1):
            opening = balance
            added = credited.get((account, year), Decimal(0))
            closed = year < history.as_of.year
            interest = _money(opening * _interest_rate(year)) if (
                account == "pension" and closed) else Decimal(0)
            paid_out = Decimal(0)
            if account == "medical":
                paid_out = _money((opening + added) * Decimal(str(round(rng.uniform(0.1, 0.7),
                                                                        2))))
            elif history.retired_on is not None and year >= history.retired_on.year:
                months = 12 if year > history.retired_on.year else 13 - history.retired_on.month
                if not closed:
                    months = min(months, history.as_of.month - 1)
                paid_out = min(opening + added, _money((opening + added) / 139 * months))
            balance = opening + added + interest - paid_out
            out[account].append({"year": year, "opening": opening, "credited": added,
                                 "interest": interest, "paid_out": paid_out, "closing": balance})
    return out


ACCOUNT_NAMES = {"pension": "基本养老保险个人账户", "medical": "职工基本医疗保险个人账户"}


@dataclass(frozen=True)
class HrssAccess:
    """One read of a citizen's record, as the platform logs it."""

    time: dt.datetime
    client_id: str
    workstation_id: str
    sign_in: str
    holder_id: str
    what: str  # summary / contributions / rights_record

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(timespec="seconds"), "client_id": self.client_id,
                "workstation_id": self.workstation_id, "sign_in": self.sign_in,
                "holder_id": self.holder_id, "what": self.what}


class SocialSecurityPlatform:
    """State and handlers of the ``/api/v1/hrss`` routes; owned by one SandboxServer."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._lock = threading.Lock()
        self._histories: dict[str, InsuredHistory | None] = {}
        self._accounts: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.access_log: list[HrssAccess] = []

    def reset(self) -> None:
        with self._lock:
            self.access_log.clear()

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return [
            ("POST", r"/api/v1/hrss/insured/summary", self._summary, True),
            ("POST", r"/api/v1/hrss/insured/contributions", self._contributions, True),
            ("POST", r"/api/v1/hrss/insured/rights-record", self._rights_record, True),
            ("GET", r"/sandbox/hrss/access-log", self._access_log, False),
        ]

    # -- data (also used directly by tests and demos) ---------------------------------------

    def history(self, holder_id: str) -> InsuredHistory | None:
        """The citizen's history (built once, then kept: it never changes)."""
        key = holder_id.strip().upper()
        with self._lock:
            if key not in self._histories:
                citizen = self.server.world.citizen(key)
                self._histories[key] = None if citizen is None else history_of(
                    self.server.seed, citizen, self.server.world.as_of,
                    _insured_place(citizen.place_code))
            return self._histories[key]

    def accounts(self, history: InsuredHistory) -> dict[str, list[dict[str, Any]]]:
        """The personal accounts year by year (computed once: the history never changes)."""
        with self._lock:
            cached = self._accounts.get(history.holder_id)
        if cached is None:
            cached = accounts_by_year(self.server.seed, history)
            with self._lock:
                self._accounts[history.holder_id] = cached
        return cached

    def find(self, predicate: Any) -> InsuredHistory | None:
        """The first citizen (world order) whose history satisfies ``predicate`` (tests)."""
        for citizen in self.server.world.citizens:
            history = self.history(citizen.id_number)
            if history is not None and predicate(history):
                return history
        return None

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str) -> Exception:
        from sandbox.server import ApiError

        return ApiError(status, code, message)

    @staticmethod
    def _json(data: Any) -> _Response:
        from sandbox.server import _Response

        return _Response.json(data)

    def _open(self, req: _Request, what: str) -> tuple[dict[str, Any], InsuredHistory]:
        """Check the body, log the access, return (body, the citizen's history)."""
        from workstation.services.identity import IdentityError, parse_id_number

        data = req.json()
        number = data.get("id_number")
        try:
            number = parse_id_number(number if isinstance(number, str) else "").number
        except IdentityError:
            raise self._error(400, "invalid_request",
                              "公民身份号码（社会保障号码）不正确") from None
        sign_in = data.get("sign_in")
        if sign_in not in SIGN_IN_METHODS:
            raise self._error(400, "invalid_request",
                              "sign_in 应为 essc（电子社保卡）或 ss_card（社会保障卡）")
        workstation = data.get("workstation_id", "")
        if not isinstance(workstation, str) or len(workstation) > 64:
            raise self._error(400, "invalid_request", "workstation_id 应为字符串")
        history = self.history(number)
        with self._lock:
            self.access_log.append(HrssAccess(self.server.clock(), req.client_id, workstation,
                                              sign_in, number, what))
        if history is None:
            raise self._error(404, "not_insured", "未查询到您在本地的社会保险参保记录")
        return data, history

    # -- routes -----------------------------------------------------------------------------

    def _summary(self, req: _Request) -> _Response:
        _, h = self._open(req, "summary")
        insurances = []
        for key in INSURANCE_KEYS:
            mine = [c for c in h.contributions if c.insurance == key]
            if not mine:
                continue
            start, end = mine[0], mine[-1]
            last = dt.date(end.year, end.month, 1)
            status = h.status_of(key)
            insurances.append({
                "insurance": key, "name": INSURANCE_NAMES[key], "status": status,
                "start": f"{start.year:04d}-{start.month:02d}",
                "end": None if status == ACTIVE else f"{last:%Y-%m}",
                "months": h.months_of(key), "latest_base": str(end.base),
                "employer_name": end.employer_name,
                "arrears_months": sum(1 for c in mine if not c.paid),
            })
        accounts = self.accounts(h)
        return self._json({
            "person": _person_json(h),
            "insurances": insurances,
            "years": h.years(),
            "accounts": [{"account": key, "name": ACCOUNT_NAMES[key],
                          "balance": str(accounts[key][-1]["closing"] if accounts[key]
                                         else Decimal("0.00"))}
                         for key in ("pension", "medical")],
            "as_of": h.as_of.isoformat(),
        })

    def _contributions(self, req: _Request) -> _Response:
        data, h = self._open(req, "contributions")
        types = data.get("types")
        if (not isinstance(types, list) or not types
                or any(t not in INSURANCE_KEYS for t in types) or len(set(types)) != len(types)):
            raise self._error(400, "invalid_request", "types 应为险种列表（pension、medical、"
                                                      "unemployment、injury、maternity）")
        first, last = _month(data.get("from")), _month(data.get("to"))
        if first is None or last is None or first > last:
            raise self._error(400, "invalid_request", "from / to 应为 YYYY-MM，且起始不晚于截止")
        if _month_index(last) - _month_index(first) >= 12 * 30:
            raise self._error(400, "invalid_request", "查询期间不能超过 30 年")
        lo, hi = _month_index(first), _month_index(last)
        rows = [c.to_json() for c in h.contributions if c.insurance in types
                and lo <= c.year * 12 + c.month - 1 <= hi]
        return self._json({"person": _person_json(h), "contributions": rows,
                           "as_of": h.as_of.isoformat()})

    def _rights_record(self, req: _Request) -> _Response:
        data, h = self._open(req, "rights_record")
        year = data.get("year")
        years = h.years()
        if isinstance(year, bool) or not isinstance(year, int):
            raise self._error(400, "invalid_request", "year 应为年份")
        if year not in years:
            raise self._error(404, "no_record_for_year", f"{year}年度没有您的缴费记录")
        summaries = []
        for y in years:
            if y > year:
                break
            for key in INSURANCE_KEYS:
                mine = [c for c in h.contributions if c.year == y and c.insurance == key]
                if not mine:
                    continue
                months = len(mine)
                summaries.append({
                    "year": y, "insurance": key, "months": months,
                    "base": str(_money(sum((c.base for c in mine), Decimal(0)) / months)),
                    "employer": str(sum((c.employer for c in mine), Decimal(0))),
                    "personal": str(sum((c.personal for c in mine), Decimal(0))),
                })
        balances = []
        for key, entries in self.accounts(h).items():
            for e in entries:
                if e["year"] == year:
                    balances.append({"account": key, "name": ACCOUNT_NAMES[key],
                                     **{k: str(e[k]) for k in ("opening", "credited", "interest",
                                                               "paid_out", "closing")}})
        return self._json({
            "person": _person_json(h), "year": year, "summaries": summaries,
            "balances": balances,
            "cumulative_months": {key: h.months_of(key, year) for key in INSURANCE_KEYS
                                  if h.months_of(key, year)},
            "as_of": h.as_of.isoformat(),
        })

    def _access_log(self, req: _Request) -> _Response:
        with self._lock:
            return self._json({"entries": [a.to_json() for a in self.access_log]})


def _person_json(h: InsuredHistory) -> dict[str, Any]:
    return {"id_number": h.holder_id, "name": h.name, "sex": h.sex,
            "personal_number": h.personal_number, "insured_place": h.insured_place,
            "employer_name": h.current_employer,
            "first_insured_on": h.first_insured_on.isoformat(),
            "retired_on": h.retired_on.isoformat() if h.retired_on else None}


def _month(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 7 or value[4] != "-":
        return None
    try:
        return dt.date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        return None


def _insured_place(place_code: str) -> str:
    from sandbox.world import _region_name

    name = _region_name(place_code)
    return name if name != "湖北省" else "湖北省赤壁市"
