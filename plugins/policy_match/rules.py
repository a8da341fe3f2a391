"""A small declarative rule engine for enterprise policies (企心协力, 免申即享), Qt-free.

Policies are data (``policies.toml``; see its header for the vocabulary). ``compile_policies``
turns them into closures once; ``evaluate`` applies them to one enterprise's facts at an
evaluation date and says, for every condition, passed / failed / missing with its evidence.
A fact that is not on record never passes: the policy is not eligible and the reason says which
data is missing.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

POLICY_FILE = Path(__file__).with_name("policies.toml")

FACT_LABELS = {
    "licence_valid": "营业执照状态", "headcount": "职工人数", "founded_on": "成立日期",
    "industry_code": "行业分类", "registered_capital_wan": "注册资本",
    "ui_paid_months_last_year": "上年度失业保险缴费月数",
    "layoff_rate_percent": "上年度裁员率", "hired_on": "入职日期", "hired_year": "入职年份",
    "graduation_year": "毕业年份", "years_since_graduation": "毕业年限",
    "has_contract": "劳动合同", "contract_months": "劳动合同期限", "ui_months": "失业保险缴费月数",
    "hardship": "就业困难人员认定", "veteran": "退役军人身份", "education": "学历",
}

_OFFSET = re.compile(r"^\$(eval_date|year_start|year_end)(?:([+-])(\d+)([ymd]))?$")


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    MISSING = "missing"

    @property
    def label(self) -> str:
        return {"passed": "符合", "failed": "不符合", "missing": "缺少数据"}[self.value]


class PolicyError(ValueError):
    """A policy file is invalid; the message names the policy and condition."""


@dataclass(frozen=True)
class ConditionResult:
    label: str
    status: Status
    evidence: str  # Chinese, shown to the clerk


@dataclass(frozen=True)
class PolicyResult:
    policy_id: str
    name: str
    department: str
    summary: str
    eligible: bool
    conditions: tuple[ConditionResult, ...]
    qualifying_people: tuple[str, ...] = ()  # employee refs
    amount_yuan: int = 0

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why not eligible: every condition that did not pass."""
        return tuple(f"{c.label}：{c.evidence}" for c in self.conditions
                     if c.status is not Status.PASSED)


@dataclass(frozen=True)
class EnterpriseFacts:
    """Facts about one enterprise; ``people`` = facts per employee hired in the year."""

    values: Mapping[str, Any]
    people: Sequence[Mapping[str, Any]] = ()


# -- compiling -------------------------------------------------------------------------------

def _date_value(text: str, eval_date: dt.date) -> dt.date:
    match = _OFFSET.match(text)
    if not match:
        return dt.date.fromisoformat(text)
    base = {"eval_date": eval_date, "year_start": dt.date(eval_date.year, 1, 1),
            "year_end": dt.date(eval_date.year, 12, 31)}[match[1]]
    if not match[2]:
        return base
    n = int(match[3]) * (-1 if match[2] == "-" else 1)
    if match[4] == "d":
        return base + dt.timedelta(days=n)
    months = n * (12 if match[4] == "y" else 1)
    month0 = base.month - 1 + months
    year, month = base.year + month0 // 12, month0 % 12 + 1
    day = base.day
    while True:  # 29 Feb minus a year is 28 Feb
        try:
            return dt.date(year, month, day)
        except ValueError:
            day -= 1


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
    "gt": operator.gt, "ge": operator.ge,
    "in": lambda a, b: a in b, "not_in": lambda a, b: a not in b,
    "prefix_in": lambda a, b: any(str(a).startswith(p) for p in b),
}
_OP_TEXT = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "in": "属于",
            "not_in": "不属于", "prefix_in": "属于"}


@dataclass(frozen=True)
class Condition:
    label: str
    fact: str
    op: str
    value: Any = None
    value_fact: str | None = None

    def bind(self, eval_date: dt.date) -> Callable[[Mapping[str, Any]], tuple[Status, Any, Any]]:
        """A fast check ``facts -> (status, actual, expected)`` for one evaluation date."""
        fact, value_fact = self.fact, self.value_fact
        if self.op in ("true", "false"):
            wanted = self.op == "true"

            def check_bool(facts: Mapping[str, Any]) -> tuple[Status, Any, Any]:
                actual = facts.get(fact)
                if actual is None:
                    return Status.MISSING, None, wanted
                return (Status.PASSED if bool(actual) is wanted else Status.FAILED), actual, wanted

            return check_bool
        compare = _OPS[self.op]
        expected = self.value
        if isinstance(expected, str) and expected.startswith("$"):
            expected = _date_value(expected, eval_date)
        elif isinstance(expected, list):
            expected = tuple(expected)

        def check(facts: Mapping[str, Any]) -> tuple[Status, Any, Any]:
            actual = facts.get(fact)
            other = facts.get(value_fact) if value_fact is not None else expected
            if actual is None or other is None:
                return Status.MISSING, actual, other
            if isinstance(other, dt.date) and isinstance(actual, str):
                actual = dt.date.fromisoformat(actual)
            return (Status.PASSED if compare(actual, other) else Status.FAILED), actual, other

        return check

    def bind_status(self, eval_date: dt.date) -> Callable[[Mapping[str, Any]], Status]:
        """The same check returning only the status: the per-person hot path."""
        fact, value_fact = self.fact, self.value_fact
        passed, failed, missing = Status.PASSED, Status.FAILED, Status.MISSING
        if self.op in ("true", "false"):
            wanted = self.op == "true"

            def status_bool(facts: Mapping[str, Any]) -> Status:
                actual = facts.get(fact)
                if actual is None:
                    return missing
                return passed if bool(actual) is wanted else failed

            return status_bool
        full = self.bind(eval_date)
        if value_fact is not None:
            compare = _OPS[self.op]

            def status_fact(facts: Mapping[str, Any]) -> Status:
                actual, other = facts.get(fact), facts.get(value_fact)
                if actual is None or other is None:
                    return missing
                return passed if compare(actual, other) else failed

            return status_fact
        return lambda facts: full(facts)[0]


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    department: str
    summary: str
    conditions: tuple[Condition, ...]
    person_conditions: tuple[Condition, ...] = ()
    min_people: int = 1
    amount_per_person: int = 0
    amount_fixed: int = 0
    max_people: int | None = None


def _condition(policy_id: str, raw: Mapping[str, Any]) -> Condition:
    try:
        cond = Condition(label=str(raw["label"]), fact=str(raw["fact"]), op=str(raw["op"]),
                         value=raw.get("value"), value_fact=raw.get("value_fact"))
    except KeyError as exc:
        raise PolicyError(f"{policy_id}: 条件缺少 {exc.args[0]}") from None
    if cond.op not in _OPS and cond.op not in ("true", "false"):
        raise PolicyError(f"{policy_id}.{cond.label}: 未知的运算 {cond.op}")
    if cond.op not in ("true", "false") and cond.value is None and cond.value_fact is None:
        raise PolicyError(f"{policy_id}.{cond.label}: 缺少 value 或 value_fact")
    if isinstance(cond.value, str) and cond.value.startswith("$") \
            and not _OFFSET.match(cond.value):
        raise PolicyError(f"{policy_id}.{cond.label}: 无法识别的日期 {cond.value}")
    return cond


def load_policies(paths: Iterable[Path] = (POLICY_FILE,)) -> list[Policy]:
    """Read policies from TOML files (later files may add policies; ids must be unique)."""
    policies: list[Policy] = []
    seen: set[str] = set()
    for path in paths:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        for raw in data.get("policies", []):
            policy_id = str(raw.get("id", ""))
            if not policy_id or policy_id in seen:
                raise PolicyError(f"政策编号缺失或重复：{policy_id!r}")
            seen.add(policy_id)
            policies.append(policy_from_dict(raw))
    return policies


def policy_from_dict(raw: Mapping[str, Any]) -> Policy:
    policy_id = str(raw["id"])
    return Policy(
        id=policy_id, name=str(raw["name"]), department=str(raw.get("department", "")),
        summary=str(raw.get("summary", "")),
        conditions=tuple(_condition(policy_id, c) for c in raw.get("conditions", [])),
        person_conditions=tuple(_condition(policy_id, c)
                                for c in raw.get("person_conditions", [])),
        min_people=int(raw.get("min_people", 1)),
        amount_per_person=int(raw.get("amount_per_person", 0)),
        amount_fixed=int(raw.get("amount_fixed", 0)),
        max_people=raw.get("max_people"),
    )


# -- facts -----------------------------------------------------------------------------------

def person_facts(employee: Mapping[str, Any]) -> dict[str, Any]:
    """Derived facts of one employee record (as the platform's employment data gives it)."""
    hired_on = dt.date.fromisoformat(employee["hired_on"]) if employee.get("hired_on") else None
    contract = employee.get("contract")
    grad = employee.get("graduation_year")
    term = None
    if contract:
        term = 999 if contract.get("term_months") is None else int(contract["term_months"])
    months = employee.get("unemployment_insurance_months")
    return {
        "employee_ref": employee.get("employee_ref", ""),
        "name_masked": employee.get("name_masked", ""),
        "hired_on": hired_on,
        "hired_year": hired_on.year if hired_on else None,
        "graduation_year": grad,
        "years_since_graduation": (hired_on.year - grad) if hired_on and grad else None,
        "education": employee.get("education"),
        "has_contract": None if "contract" not in employee else bool(contract),
        "contract_months": term if contract else (0 if "contract" in employee else None),
        "ui_months": len(months) if isinstance(months, list) else None,
        "hardship": employee.get("hardship"),
        "veteran": employee.get("veteran"),
    }


def enterprise_facts(employment: Mapping[str, Any], *, licence_valid: bool | None
                     ) -> EnterpriseFacts:
    """Facts from the enterprise platform's employment data plus the business licence."""
    ent = employment.get("enterprise") or {}
    insured = employment.get("insured_headcount_last_year")
    separations = employment.get("separations_last_year")
    rate = (round(100 * separations / insured, 2)
            if isinstance(insured, int) and insured > 0 and isinstance(separations, int)
            else None)
    founded = ent.get("founded_on")
    values = {
        "licence_valid": licence_valid,
        "headcount": employment.get("headcount"),
        "founded_on": dt.date.fromisoformat(founded) if founded else None,
        "industry_code": ent.get("industry_code"),
        "registered_capital_wan": ent.get("registered_capital_wan"),
        "ui_paid_months_last_year": employment.get("unemployment_insurance_paid_months_last_year"),
        "layoff_rate_percent": rate,
    }
    people = [person_facts(e) for e in employment.get("employees") or []]
    return EnterpriseFacts(values, people)


# -- evaluating ------------------------------------------------------------------------------

def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return "、".join(str(v) for v in value)
    return str(value)


def _evidence(cond: Condition, status: Status, actual: Any, expected: Any) -> str:
    name = FACT_LABELS.get(cond.fact, cond.fact)
    if status is Status.MISSING:
        missing = cond.fact if actual is None else (cond.value_fact or cond.fact)
        return f"缺少数据：{FACT_LABELS.get(missing, missing)}（平台未提供）"
    if cond.op in ("true", "false"):
        return f"{name}：{_show(actual)}"
    return f"{name} {_show(actual)}，要求 {_OP_TEXT[cond.op]} {_show(expected)}"


def evaluate(policies: Sequence[Policy], facts: EnterpriseFacts, eval_date: dt.date
             ) -> list[PolicyResult]:
    """Every policy's outcome for one enterprise at ``eval_date``."""
    people = facts.people
    results: list[PolicyResult] = []
    for policy in policies:
        conditions: list[ConditionResult] = []
        ok = True
        for cond in policy.conditions:
            status, actual, expected = cond.bind(eval_date)(facts.values)
            ok = ok and status is Status.PASSED
            conditions.append(ConditionResult(cond.label, status,
                                              _evidence(cond, status, actual, expected)))
        qualifying: list[str] = []
        if policy.person_conditions:
            checks = [c.bind_status(eval_date) for c in policy.person_conditions]
            tallies = [[0, 0, 0] for _ in checks]  # passed, failed, missing
            first_missing: list[str | None] = [None] * len(checks)
            for person in people:
                person_ok = True
                for i, check in enumerate(checks):
                    status = check(person)
                    if status is Status.PASSED:
                        tallies[i][0] += 1
                    else:
                        person_ok = False
                        tallies[i][1 if status is Status.FAILED else 2] += 1
                        if status is Status.MISSING and first_missing[i] is None:
                            first_missing[i] = str(person.get("employee_ref", ""))
                if person_ok:
                    qualifying.append(str(person.get("employee_ref", "")))
            total = len(people)
            for cond, (passed, failed, missing), who in zip(
                policy.person_conditions, tallies, first_missing, strict=True
            ):
                evidence = f"{total} 名新招用人员中 {passed} 人满足"
                if missing:
                    what = FACT_LABELS.get(cond.fact, cond.fact)
                    evidence += f"，{missing} 人缺少数据（{what}，如 {who}）"
                status = Status.PASSED if passed else (
                    Status.MISSING if (missing or not total) and not failed else Status.FAILED)
                if not total:
                    evidence = "缺少数据：平台未提供今年新招用人员"

                conditions.append(ConditionResult(f"人员：{cond.label}", status, evidence))
            if policy.max_people is not None:
                qualifying = qualifying[:policy.max_people]
            enough = len(qualifying) >= policy.min_people
            if not people:
                evidence, status = "缺少数据：平台未提供今年新招用人员", Status.MISSING
            else:
                shown = "、".join(qualifying[:10]) + ("等" if len(qualifying) > 10 else "")
                evidence = f"{len(qualifying)} 人符合" + (f"：{shown}" if qualifying else "")
                status = Status.PASSED if enough else Status.FAILED
            conditions.append(ConditionResult(
                f"同时满足以上条件的人员不少于 {policy.min_people} 人", status, evidence))
            ok = ok and enough
        amount = 0
        if ok:
            amount = policy.amount_fixed + policy.amount_per_person * len(qualifying)
        results.append(PolicyResult(
            policy_id=policy.id, name=policy.name, department=policy.department,
            summary=policy.summary, eligible=ok, conditions=tuple(conditions),
            qualifying_people=tuple(qualifying), amount_yuan=amount,
        ))
    return results


@dataclass
class PolicyCatalogue:
    """Policies loaded once and kept (the page and the benchmark use it)."""

    policies: list[Policy] = field(default_factory=load_policies)

    def evaluate(self, facts: EnterpriseFacts, eval_date: dt.date) -> list[PolicyResult]:
        return evaluate(self.policies, facts, eval_date)
