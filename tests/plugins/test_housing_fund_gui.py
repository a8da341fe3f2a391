"""S10 housing fund end to end through the shell, against the sandbox over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from PyQt6.QtCore import Qt

from plugins.housing_fund.page import HousingFundPage
from sandbox.phone import PhoneClient
from tests.plugins.test_policy_match_gui import phone, window  # noqa: F401  (fixtures)


def open_page(qtbot: Any, win: Any) -> HousingFundPage:
    qtbot.mouseClick(win.launcher.tiles["housing_fund"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, HousingFundPage)
    return page


def request(qtbot: Any, page: HousingFundPage, id_number: str) -> str:
    page.id_field.edit.setText(id_number)
    qtbot.mouseClick(page.request_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.qr_panel.isVisible() and bool(page.qr_panel.qr_text),
                    timeout=10000)
    assert page.qr_panel.qr_text is not None
    return page.qr_panel.qr_text


def approve_and_download(qtbot: Any, page: HousingFundPage, mobile: PhoneClient, qr: str,
                         id_number: str) -> None:
    mobile.approve_consent(qr, id_number)
    qtbot.waitUntil(lambda: page.results.isVisible() and not page.busy.isVisible(),
                    timeout=15000)


def test_download_and_archive_then_back_office(qtbot, core, window, sandbox, phone):  # noqa: F811
    person = sandbox.world.person_with_all_licences
    win = window(core)
    page = open_page(qtbot, win)
    qr = request(qtbot, page, person.id_number)
    assert sandbox.access_log == []  # nothing before the citizen's authorization
    approve_and_download(qtbot, page, phone, qr, person.id_number)
    assert page.table.rowCount() == 3
    assert {page.table.item(r, 1).text() for r in range(3)} == {"有此证照，已下载"}
    qtbot.mouseClick(page.upload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已提交后台审批" in page.notice.text(), timeout=15000)
    subs = sandbox.enterprise.submissions
    assert len(subs.archive_files) == 3 and len(subs.manifests) == 1
    assert subs.manifests[0]["status"] == "pending_approval"
    core.drain()
    assert person.id_number not in str([e.details for e in core.audit.events(limit=200)])


def test_platform_down_mid_upload_resumes_without_duplicates(
    qtbot, core, window, sandbox, phone  # noqa: F811
):
    person = sandbox.world.person_with_all_licences
    page = open_page(qtbot, window(core))
    qr = request(qtbot, page, person.id_number)
    approve_and_download(qtbot, page, phone, qr, person.id_number)
    # the second file arrives, then the platform goes down and its reply is lost
    sandbox.enterprise.down_after_files = 2
    qtbot.mouseClick(page.upload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "恢复后自动续传" in page.upload_label.text(), timeout=15000)
    assert len(sandbox.enterprise.submissions.archive_files) == 2
    assert core.outbox.waiting >= 2
    sandbox.faults.update({"down": False})
    # the backoff is 5 s: make the items due now instead of waiting
    for key in page.upload_keys:
        core.outbox.release(key) if not core.outbox.get(key).sent else None
    qtbot.waitUntil(lambda: "已提交后台审批" in page.notice.text(), timeout=20000)
    files = sandbox.enterprise.submissions.archive_files
    assert len(files) == 3 and len({f["sha256"] for f in files}) == 3
    assert len(sandbox.enterprise.submissions.manifests) == 1


def test_refused_authorization_downloads_nothing(qtbot, core, window, sandbox, phone):  # noqa: F811
    person = sandbox.world.person_with_all_licences
    page = open_page(qtbot, window(core))
    qr = request(qtbot, page, person.id_number)
    phone.refuse_consent(qr)
    qtbot.waitUntil(lambda: "拒绝授权" in page.notice.text(), timeout=10000)
    assert sandbox.access_log == [] and not page.results.isVisible()


def test_invalid_id_number_is_refused_at_the_field(qtbot, core, window, sandbox):  # noqa: F811
    page = open_page(qtbot, window(core))
    page.id_field.edit.setText("110105194912310021")
    qtbot.mouseClick(page.request_button, Qt.MouseButton.LeftButton)
    assert "校验位" in page.id_field.error_text()
    assert not page.qr_panel.isVisible()


@pytest.mark.parametrize("unused", [0])
def test_no_type_selected(qtbot, core, window, unused):  # noqa: F811
    page = open_page(qtbot, window(core))
    for box in page.type_boxes.values():
        box.setChecked(False)
    page.id_field.edit.setText("11010519491231002X")
    qtbot.mouseClick(page.request_button, Qt.MouseButton.LeftButton)
    assert page.types_error.isVisible()


def test_starting_a_case_begins_the_citizens_session_and_closes_the_previous_pages(
    qtbot, core, window, sandbox, phone  # noqa: F811
):
    """GIVEN another applicant at the window with a page of theirs open WHEN the clerk starts
    a housing-fund case for a citizen THEN the session is the citizen's (identified by the
    clerk), the previous applicant's pages are gone, and the consent joins the session."""
    from workstation.services.model import Applicant, HolderKind, IdentifiedBy

    person = sandbox.world.person_with_all_licences
    previous = sandbox.world.sample_enterprise(0)
    win = window(core)
    core.begin_session(Applicant(kind=HolderKind.ENTERPRISE, holder_id=previous.credit_code,
                                 name=previous.name, identified_by=IdentifiedBy.CODE))
    qtbot.mouseClick(win.launcher.tiles["policy_match"], Qt.MouseButton.LeftButton)
    assert "policy_match" in win.pages
    qtbot.waitUntil(lambda: previous.name in win.applicant_panel.who.text(), timeout=5000)
    win.go_home()
    page = open_page(qtbot, win)
    qr = request(qtbot, page, person.id_number)
    applicant = core.sessions.applicant
    assert applicant is not None and applicant.holder_id == person.id_number
    assert applicant.identified_by is IdentifiedBy.CLERK
    assert "policy_match" not in win.pages and "housing_fund" in win.pages
    panel = win.applicant_panel.who.text()
    assert previous.name not in panel and "窗口录入" in panel
    assert person.id_number[-4:] in panel
    approve_and_download(qtbot, page, phone, qr, person.id_number)
    qtbot.waitUntil(lambda: person.name in win.applicant_panel.who.text(), timeout=5000)
    assert "已授权" in win.applicant_panel.consents.text()
    # a second case for the same citizen keeps the session
    session = core.sessions.current
    request(qtbot, page, person.id_number)
    assert core.sessions.current is session and page.table.rowCount() == 0
