"""The S11 rule engine: declarative policies, per-condition evidence, boundaries, missing data."""

from __future__ import annotations

import datetime as dt

import pytest

from plugins.policy_match.rules import (
    EnterpriseFacts,
    PolicyError,
    Status,
    enterprise_facts,
    evaluate,
    load_policies,
    policy_from_dict,
)

EVAL = dt.date(2026, 11, 27)


def employee(ref: str = "E1", *, hired_on: str = "2026-07-01", graduation_year: int | None = 2026,
             contract: bool = True, ui: int = 3, **extra):
    record = {
        "employee_ref": ref, "hired_on": hired_on, "graduation_year": graduation_year,
        "education": "本科", "hardship": False, "veteran": False,
        "contract": {"signed_on": hired_on, "type": "固定期限", "term_months": 36}
        if contract else None,
        "unemployment_insurance_months": [f"2026-{m:02d}" for m in range(7, 7 + ui)],
    }
    record.update(extra)
    return record


def employment(*people, founded_on: str = "2020-01-01", **extra):
    data = {
        "headcount": 20, "insured_headcount_last_year": 20, "separations_last_year": 1,
        "unemployment_insurance_paid_months_last_year": 12,
        "enterprise": {"founded_on": founded_on, "industry_code": "C1530",
                       "registered_capital_wan": 100},
        "employees": list(people),
    }
    data.update(extra)
    return data


def result(policy_id: str, facts: EnterpriseFacts, when: dt.date = EVAL):
    policies = [p for p in load_policies() if p.id == policy_id]
    return evaluate(policies, facts, when)[0]


def test_at_least_six_policies_including_the_expansion_subsidy():
    policies = load_policies()
    assert len(policies) >= 6
    assert "一次性扩岗补助" in [p.name for p in policies]


def test_expansion_subsidy_pays_per_qualifying_graduate():
    facts = enterprise_facts(employment(
        employee("E1"), employee("E2", graduation_year=2024), employee("E3", contract=False),
        employee("E4", ui=0), employee("E5")), licence_valid=True)
    r = result("expansion_subsidy", facts)
    assert r.eligible and r.qualifying_people == ("E1", "E5") and r.amount_yuan == 3000
    by_label = {c.label: c for c in r.conditions}
    graduates = by_label["人员：毕业年度内招用（毕业当年）"]
    assert graduates.evidence.startswith("5 名新招用人员中 4 人满足")
    assert all(c.status is Status.PASSED for c in r.conditions)


def test_graduation_year_boundary_hired_on_1_january_and_31_december():
    jan1 = enterprise_facts(employment(employee("E1", hired_on="2026-01-01")), licence_valid=True)
    assert result("expansion_subsidy", jan1).eligible
    dec31 = enterprise_facts(employment(employee("E1", hired_on="2025-12-31",
                                                 graduation_year=2025)), licence_valid=True)
    r = result("expansion_subsidy", dec31)
    assert not r.eligible  # hired last year, even if in the graduation year
    assert any("今年招用" in reason for reason in r.reasons)


def test_missing_graduation_year_is_not_eligible_with_the_reason():
    facts = enterprise_facts(employment(employee("E1", graduation_year=None)), licence_valid=True)
    r = result("expansion_subsidy", facts)
    assert not r.eligible and r.amount_yuan == 0
    missing = [c for c in r.conditions if c.status is Status.MISSING]
    assert missing and "毕业年份" in missing[0].evidence and "E1" in missing[0].evidence


def test_no_employment_data_at_all_is_missing_not_failed():
    facts = enterprise_facts({"enterprise": {}}, licence_valid=None)
    r = result("expansion_subsidy", facts)
    assert not r.eligible
    assert [c.status for c in r.conditions] == [Status.MISSING] * len(r.conditions)
    assert "缺少数据" in r.conditions[0].evidence


@pytest.mark.parametrize(("founded_on", "eligible"), [
    ("2023-11-28", True),   # one day short of three years: still 未满3年
    ("2023-11-27", False),  # exactly three years on the evaluation date
    ("2023-11-26", False),
])
def test_startup_subsidy_three_year_boundary(founded_on, eligible):
    facts = enterprise_facts(employment(founded_on=founded_on), licence_valid=True)
    assert result("startup_subsidy", facts).eligible is eligible


def test_leap_day_offsets():
    policy = policy_from_dict({"id": "p", "name": "p", "conditions": [
        {"label": "成立满一年", "fact": "founded_on", "op": "le", "value": "$eval_date-1y"}]})
    facts = EnterpriseFacts({"founded_on": dt.date(2023, 2, 28)})
    assert evaluate([policy], facts, dt.date(2024, 2, 29))[0].eligible
    facts = EnterpriseFacts({"founded_on": dt.date(2023, 3, 1)})
    assert not evaluate([policy], facts, dt.date(2024, 2, 29))[0].eligible


def test_layoff_rate_boundary_and_evidence():
    at_limit = enterprise_facts(employment(insured_headcount_last_year=200,
                                           separations_last_year=11), licence_valid=True)
    r = result("job_retention_refund", at_limit)
    assert r.eligible and r.amount_yuan == 5000
    assert "5.5" in r.conditions[2].evidence
    over = enterprise_facts(employment(insured_headcount_last_year=200,
                                       separations_last_year=12), licence_valid=True)
    assert not result("job_retention_refund", over).eligible


def test_revoked_licence_fails_every_policy():
    facts = enterprise_facts(employment(employee()), licence_valid=False)
    assert not any(r.eligible for r in evaluate(load_policies(), facts, EVAL))


def test_invalid_policy_data_is_refused():
    with pytest.raises(PolicyError):
        policy_from_dict({"id": "p", "name": "p", "conditions": [
            {"label": "x", "fact": "headcount", "op": "between", "value": 1}]})
    with pytest.raises(PolicyError):
        policy_from_dict({"id": "p", "name": "p", "conditions": [
            {"label": "x", "fact": "founded_on", "op": "le", "value": "$tomorrow"}]})
