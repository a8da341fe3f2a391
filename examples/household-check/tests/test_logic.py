"""The rules, without a window: plain functions, and the scoped services on the sandbox."""

from __future__ import annotations

import datetime as dt

import pytest
from workstation.api import ScopeError

from household_check import MATTER_CODE, SCENARIO_ID
from household_check.logic import (
    HOUSEHOLD_FACTS,
    InputErrors,
    applicant_from_input,
    assess,
    consent_request,
    household_facts,
)

TODAY = dt.date(2025, 3, 3)


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(InputErrors) as err:
        applicant_from_input("", "110105194912310021")  # wrong check character
    assert set(err.value.errors) == {"name", "id_number"}
    assert "校验位" in err.value.errors["id_number"]


def test_declined_consent_leaves_every_licence_material_on_paper(core):
    matter = core.matters[MATTER_CODE]
    findings = assess(matter, None, TODAY)
    assert findings and not any(f.provided for f in findings)


def test_licences_replace_materials_for_a_citizen_who_holds_them(scenario_context, applicant):
    """GIVEN a sandbox citizen who holds every licence WHEN they consent and the scenario's
    scoped services fetch THEN every licence material is 免提交 and the form is not."""
    ctx = scenario_context(SCENARIO_ID)
    matter = ctx.matters[MATTER_CODE]
    consent = ctx.consents.grant(consent_request(applicant, matter, SCENARIO_ID), operator="t")
    result = ctx.licences.fetch(consent, matter.licence_types, reason="测试核验", operator="t")
    findings = {f.material: f for f in assess(matter, result, TODAY)}
    for material in matter.materials:
        assert findings[material.name].provided is (material.licence_type is not None)


def test_undeclared_licence_types_are_refused(scenario_context, applicant):
    ctx = scenario_context(SCENARIO_ID)
    matter = ctx.matters[MATTER_CODE]
    consent = ctx.consents.grant(consent_request(applicant, matter, SCENARIO_ID), operator="t")
    with pytest.raises(ScopeError):
        ctx.licences.fetch(consent, ["business_licence"], reason="测试越权", operator="t")


def test_household_facts_leave_identifiers_out(scenario_context, applicant):
    ctx = scenario_context(SCENARIO_ID)
    matter = ctx.matters[MATTER_CODE]
    consent = ctx.consents.grant(consent_request(applicant, matter, SCENARIO_ID), operator="t")
    facts = dict(household_facts(ctx.licences.fetch(consent, reason="测试核验", operator="t")))
    assert set(facts) <= set(HOUSEHOLD_FACTS) and "与户主关系" in facts
    assert applicant.holder_id not in "".join(facts.values())
