"""The public pytest plugin workstation.testing, exercised on the built-in unified intake page
the way plugin authors use it on theirs."""

from __future__ import annotations

import pytest

from plugins.unified_intake.logic import MaterialState
from workstation.api import HolderKind, IdentifiedBy, validate_credit_code
from workstation.testing import PageDriver, scan_code


def test_applicants_are_valid_sandbox_holders(applicant, enterprise_applicant, platform_client):
    assert applicant.kind is HolderKind.PERSON and applicant.identified_by is IdentifiedBy.CARD
    assert validate_credit_code(enterprise_applicant.holder_id) == enterprise_applicant.holder_id
    check = platform_client.verify_holder("person", applicant.holder_id, applicant.name)
    assert check.match


def test_scenario_context_is_scoped_to_the_manifest(scenario_context):
    ctx = scenario_context("unified_intake")
    assert ctx.manifest.id == "unified_intake"
    assert "business_licence" in ctx.licences.allowed_types


def test_unknown_scenario_fails_with_what_is_loaded(scenario_context):
    with pytest.raises(pytest.fail.Exception) as err:
        scenario_context("no_such_scenario")
    assert "unified_intake" in str(err.value) and "mianzheng.plugins" in str(err.value)


def test_open_page_fill_click_and_wait_idle(open_page, applicant_session):
    """GIVEN an applicant identified by card WHEN the page is opened, filled and submitted
    with the driver THEN it waits for the background work and sees the results."""
    driver = open_page("unified_intake")
    assert isinstance(driver, PageDriver)
    assert driver.page.id_field.text() == applicant_session.applicant.holder_id  # prefilled
    driver.fill("matter_combo", "CB-BDC-003")  # by item data
    driver.fill("name_field", applicant_session.applicant.name)  # Chinese, typed key by key
    driver.click("submit_button")
    driver.wait_until(lambda: driver.page.consent_panel.isVisible())
    driver.click(driver.page.consent_panel.accept_button)
    driver.wait_idle()
    states = {a.material.name: a.state for a in driver.page.assessments}
    assert states["申请人身份证明"] is MaterialState.PROVIDED
    assert "免提交" in driver.text()


def test_fill_picks_radio_buttons_and_refuses_unknown_items(open_page):
    driver = open_page("unified_intake")
    driver.fill("enterprise_radio", True)
    assert driver.page.id_field.label.text() == "统一社会信用代码"
    with pytest.raises(LookupError):
        driver.fill("matter_combo", "no such matter")
    with pytest.raises(LookupError):
        driver.widget("no_such_widget")


def test_scan_code_identifies_through_the_window(qtbot, workstation_window, core, sandbox,
                                                 applicant):
    win = workstation_window(core)
    scan_code(qtbot, win, sandbox.issue_code(applicant.holder_id)[0])
    assert core.sessions.applicant.holder_id == applicant.holder_id
    assert core.sessions.applicant.identified_by is IdentifiedBy.CODE


def test_manual_clock(manual_clock):
    start = manual_clock()
    manual_clock.advance(minutes=5)
    assert (manual_clock() - start).total_seconds() == 300
