"""The page driven like a person would, in the real shell, against the sandbox over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from household_check import SCENARIO_ID


@pytest.fixture
def driver(open_page, make_core):
    """The page, opened from its tile on a clerk workstation."""
    return open_page(SCENARIO_ID)


def test_consent_fetch_and_print(driver, applicant):
    driver.fill("name_field", applicant.name)
    driver.fill("id_field", applicant.holder_id)
    driver.click("start_button")
    assert driver.page.consent_panel.isVisible()  # nothing fetched before the applicant agrees
    driver.click(driver.page.consent_panel.accept_button)
    driver.wait_idle()
    assert "免提交" in driver.page.findings_label.text()
    assert "与户主关系" in driver.page.findings_label.text()
    driver.click("print_button")
    driver.wait_idle()
    assert Path(driver.page.document_path).read_bytes().startswith(b"%PDF")


def test_bad_id_number_is_shown_at_the_field(driver):
    driver.fill("name_field", "张三")
    driver.fill("id_field", "110105194912310021")
    driver.click("start_button")
    assert "校验位" in driver.page.id_field.error_text()
    assert not driver.page.consent_panel.isVisible()


def test_declined_consent_fetches_nothing(driver, applicant, sandbox):
    driver.fill("name_field", applicant.name)
    driver.fill("id_field", applicant.holder_id)
    driver.click("start_button")
    driver.click(driver.page.consent_panel.decline_button)
    driver.wait_idle()
    assert "未同意" in driver.page.notice.text()
    assert [e for e in sandbox.access_log if e.holder_id == applicant.holder_id] == []
