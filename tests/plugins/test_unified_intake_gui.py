"""S2 unified intake driven end to end through the shell, against the sandbox over real HTTP."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PyQt6.QtCore import QCoreApplication, Qt

from plugins.unified_intake.logic import MaterialState
from plugins.unified_intake.page import IntakePage
from workstation.hookspecs import hookimpl
from workstation.manifest import Audience, ScenarioManifest
from workstation.testing import PrintPreviews
from workstation.ui.main_window import FailedPage, MainWindow

MATTER_PROPERTY = "CB-BDC-003"  # 不动产转移登记: id_card, property_cert, marriage_cert + 2 paper
MATTER_CHANGE = "CB-SCJG-006"  # 企业变更登记: business_licence + 2 paper


@pytest.fixture(autouse=True)
def previews(print_previews: PrintPreviews) -> PrintPreviews:
    """Every page of this module prints without its modal preview (workstation.testing)."""
    return print_previews


@pytest.fixture
def window(qtbot: Any) -> Any:
    made: list[MainWindow] = []

    def make(core: Any, *, kiosk: bool = False, sign_in: bool = True) -> MainWindow:
        win = MainWindow(kiosk=kiosk)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        if sign_in and not kiosk:
            core.sign_in("demo", "demo1234")
        win.attach(core)
        made.append(win)
        return win

    yield make
    for win in made:
        win.idle.stop()
        win.tasks.wait_for_done(10000)


def open_intake(qtbot: Any, win: MainWindow) -> IntakePage:
    qtbot.mouseClick(win.launcher.tiles["unified_intake"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, IntakePage)
    return page


def fill(page: IntakePage, *, name: str, holder_id: str, matter: str, person: bool = True) -> None:
    (page.person_radio if person else page.enterprise_radio).setChecked(True)
    page.name_field.edit.setText(name)
    page.id_field.edit.setText(holder_id)
    page.matter_combo.setCurrentIndex(page.matter_combo.findData(matter))


def submit_and_consent(qtbot: Any, page: IntakePage, *, accept: bool = True) -> None:
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.consent_panel.isVisible(), timeout=10000)
    button = page.consent_panel.accept_button if accept else page.consent_panel.decline_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.results.isVisible() and not page.busy.isVisible(),
                    timeout=10000)


def states(page: IntakePage) -> dict[str, MaterialState]:
    return {a.material.name: a.state for a in page.assessments}


def test_person_with_all_licences_gets_licence_materials_waived(
    qtbot, core, window, sandbox, previews
):
    person = sandbox.world.person_with_all_licences
    win = window(core)
    page = open_intake(qtbot, win)
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.consent_panel.isVisible(), timeout=10000)
    preview = page.consent_panel.body.text()
    assert "不动产转移登记" in preview and "结婚证" in preview and "不动产权证书" in preview
    # nothing was fetched before the applicant agreed
    assert [e for e in sandbox.access_log if e.holder_id == person.id_number] == []
    # the applicant panel shows who is served, with the ID number masked
    qtbot.waitUntil(lambda: person.name in win.applicant_panel.who.text(), timeout=5000)
    panel = win.applicant_panel.who.text()
    assert person.id_number not in panel and person.id_number[:6] + "********" in panel
    qtbot.mouseClick(page.consent_panel.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.results.isVisible(), timeout=10000)

    got = states(page)
    assert got["申请人身份证明"] is MaterialState.PROVIDED
    assert got["不动产权属证书"] is MaterialState.PROVIDED
    assert got["婚姻状况证明"] is MaterialState.PROVIDED
    assert got["存量房买卖合同"] is MaterialState.TO_SUBMIT
    assert page.summary_label.text() == "免提交 3 项，需提交纸质材料 2 项"
    assert page.table.item(0, 2).text() == "电子证照免提交"
    shown = page.table.item(0, 3).text().replace("\u200b", "")
    assert shown.startswith("居民身份证\n1.2.156.3005.2.")
    # the platform saw the consent reference and the stated reason for every licence
    log = [e for e in sandbox.access_log if e.holder_id == person.id_number]
    assert log and all(e.consent_ref and "不动产转移登记" in e.reason for e in log)
    qtbot.waitUntil(lambda: "已授权" in win.applicant_panel.consents.text(), timeout=5000)

    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.print_outcome is not None, timeout=15000)
    assert len(previews) == 1 and previews[0]["printer"] is None
    assert "保存为 PDF" in page.print_outcome.text
    pdf = Path(page.document_path)
    assert pdf.read_bytes() == previews[0]["pdf"]  # what was previewed is what was kept
    assert pdf.parent.parent == core.config.case_dir
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "申请材料清单" in text and "不动产转移登记" in text
    assert "存量房买卖合同" in text and "电子证照免提交" in text
    assert person.id_number not in text
    core.drain()  # session audit events are written in the background
    kinds = [e.kind for e in core.audit.events(limit=100)]
    for expected in ("identification", "consent_granted", "licence_access", "print"):
        assert expected in kinds


def test_missing_licences_are_still_to_hand_in(qtbot, core, window, sandbox):
    person = sandbox.world.person_without_marriage_or_property
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    got = states(page)
    assert got["申请人身份证明"] is MaterialState.PROVIDED
    assert got["不动产权属证书"] is MaterialState.TO_SUBMIT
    assert got["婚姻状况证明"] is MaterialState.TO_SUBMIT
    reasons = {a.material.name: a.reason for a in page.assessments}
    assert "未查到申请人的结婚证" in reasons["婚姻状况证明"]


def test_enterprise_with_business_licence(qtbot, core, window, sandbox):
    ent = sandbox.world.sample_enterprise(0)
    page = open_intake(qtbot, window(core))
    fill(page, name=ent.name, holder_id=ent.credit_code, matter=MATTER_CHANGE, person=False)
    submit_and_consent(qtbot, page)
    assert states(page)["营业执照"] is MaterialState.PROVIDED


def test_invalid_id_number_shows_at_the_field_and_calls_nothing(qtbot, core, window, sandbox):
    page = open_intake(qtbot, window(core))
    fill(page, name="张三", holder_id="110105194912310021", matter=MATTER_PROPERTY)
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    assert "校验位不正确" in page.id_field.error_text()
    assert page.name_field.error_text() == ""
    assert not page.consent_panel.isVisible()
    assert core.sessions.current is None
    assert sandbox.access_log == []


def test_name_not_matching_id_is_refused_by_platform(qtbot, core, window, sandbox):
    person = sandbox.world.person_with_all_licences
    page = open_intake(qtbot, window(core))
    fill(page, name="王不对", holder_id=person.id_number, matter=MATTER_PROPERTY)
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.name_field.error_text() != "", timeout=10000)
    assert "不一致" in page.name_field.error_text()
    assert not page.consent_panel.isVisible()


def test_consent_declined_fetches_nothing(qtbot, core, window, sandbox):
    person = sandbox.world.person_with_all_licences
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page, accept=False)
    assert all(s is not MaterialState.PROVIDED for s in states(page).values())
    assert "未同意" in page.notice.text()
    assert [e for e in sandbox.access_log if e.holder_id == person.id_number] == []
    core.drain()  # session audit events are written in the background
    kinds = [e.kind for e in core.audit.events(limit=50)]
    assert "consent_declined" in kinds and "licence_access" not in kinds


def test_platform_down_serves_cached_copy_with_marker(qtbot, core, window, sandbox):
    person = sandbox.world.person_with_all_licences
    win = window(core)
    page = open_intake(qtbot, win)
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    assert not page.offline_marker.isVisible()

    sandbox.faults.update({"down": True})
    page.consent_panel.hide()
    submit_and_consent(qtbot, page)
    assert "离线" in page.offline_marker.text() and "截至" in page.offline_marker.text()
    assert states(page)["申请人身份证明"] is MaterialState.PROVIDED
    assert not core.link.online
    qtbot.waitUntil(lambda: "平台离线" in win.link_label.text(), timeout=5000)


def test_platform_down_without_cache_says_so(qtbot, core, window, sandbox):
    person = sandbox.world.person_without_marriage_or_property
    sandbox.faults.update({"down": True})
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    assert "无法连接" in page.notice.text()
    assert all(s is not MaterialState.PROVIDED for s in states(page).values())
    reasons = [a.reason for a in page.assessments if a.material.licence_type]
    assert all("无法连接" in r for r in reasons)


def test_finishing_wipes_the_page_and_the_panel(qtbot, core, window, sandbox):
    person = sandbox.world.person_with_all_licences
    win = window(core)
    page = open_intake(qtbot, win)
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    qtbot.mouseClick(page.finish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.pages == {}, timeout=5000)
    assert win.applicant_panel.who.text() == "暂无办事人"
    assert core.sessions.current is None
    assert win.stack.currentWidget() is win.launcher_scroll


def _plugin(name: str, **hooks: Any) -> tuple[str, types.ModuleType]:
    mod = types.ModuleType(name)
    for k, v in hooks.items():
        setattr(mod, k, v)
    return name, mod


def build_broken_page(ctx: Any) -> Any:
    raise RuntimeError("page exploded")


def test_broken_plugins_show_as_failed_tiles_and_others_work(qtbot, make_core, window, sandbox):
    @hookimpl
    def register_scenarios() -> list[ScenarioManifest]:
        return [ScenarioManifest(
            id="broken_page", title="坏页面", audiences=(Audience.CLERK,),
            page=f"{__name__}:build_broken_page",
        )]

    @hookimpl
    def register_scenarios_raises() -> list[ScenarioManifest]:
        raise RuntimeError("cannot register")

    core = make_core(extra_plugins=[
        _plugin("broken_page_plugin", register_scenarios=register_scenarios),
        _plugin("broken_register_plugin", register_scenarios=register_scenarios_raises),
    ])
    win = window(core)
    failed_tile = win.launcher.tiles["failed:broken_register_plugin:"]
    assert failed_tile.property("failed") is True

    qtbot.mouseClick(win.launcher.tiles["broken_page"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, FailedPage)
    assert win.launcher.tiles["broken_page"].property("failed") is True
    core.drain()  # session audit events are written in the background
    assert any(e.kind == "plugin_error" for e in core.audit.events(limit=20))

    win.go_home()
    person = sandbox.world.person_with_all_licences
    intake = open_intake(qtbot, win)
    fill(intake, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, intake)
    assert states(intake)["申请人身份证明"] is MaterialState.PROVIDED


def test_clerk_must_sign_in_and_bad_password_is_refused(qtbot, core, window):
    win = window(core, sign_in=False)
    assert win.stack.currentWidget() is win.sign_in
    win.sign_in.username.edit.setText("demo")
    win.sign_in.password.edit.setText("wrong")
    qtbot.mouseClick(win.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.sign_in.notice.isVisible(), timeout=10000)
    assert win.stack.currentWidget() is win.sign_in
    win.sign_in.password.edit.setText("demo1234")
    qtbot.mouseClick(win.sign_in.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.stack.currentWidget() is win.launcher_scroll, timeout=10000)
    assert "演示窗口人员" in win.operator_label.text()
    core.drain()  # session audit events are written in the background
    events = core.audit.events(limit=20)
    assert any(e.kind == "operator_sign_in" and e.operator == "demo" for e in events)
    qtbot.mouseClick(win.sign_out_button, Qt.MouseButton.LeftButton)
    assert win.stack.currentWidget() is win.sign_in
    assert core.operator is None


def test_no_personal_data_in_database_files_or_logs(qtbot, core, window, sandbox, caplog):
    """GIVEN a full S2 case with logging at DEBUG
    WHEN the database files, the case folder and the log records are read raw
    THEN neither the applicant's ID number nor name appears anywhere in plaintext."""
    import logging

    caplog.set_level(logging.DEBUG)
    person = sandbox.world.person_with_all_licences
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.document_path is not None, timeout=15000)
    secrets = [person.id_number.encode(), person.name.encode("utf-8"),
               person.name.encode("utf-16-le"), person.name.encode("gbk")]
    files = [p for p in core.config.data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("workstation.db") for p in files)
    for path in files:
        raw = path.read_bytes()
        for secret in secrets:
            assert secret not in raw, f"{secret!r} in {path.name}"
    pdf_text = "".join(p.extract_text() for p in PdfReader(page.document_path).pages)
    assert person.id_number not in pdf_text and person.name not in pdf_text
    for record in caplog.records:
        message = record.getMessage()
        assert person.id_number not in message and person.name not in message


def test_cancel_a_slow_fetch(qtbot, core, window, sandbox):
    person = sandbox.world.person_with_all_licences
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.consent_panel.isVisible(), timeout=10000)
    sandbox.faults.update({"latency_ms": 1500})
    qtbot.mouseClick(page.consent_panel.accept_button, Qt.MouseButton.LeftButton)
    assert page.busy.isVisible() and page.busy.cancel_button.isVisible()
    qtbot.mouseClick(page.busy.cancel_button, Qt.MouseButton.LeftButton)
    assert not page.busy.isVisible()
    page.tasks.wait_for_done(10000)  # the call itself finishes; its result must not show
    QCoreApplication.processEvents()  # delivers the queued result signal
    assert not page.results.isVisible()
    assert not page.busy.isVisible()
    # the consent registered before the cancel was revoked and no licence was fetched
    assert [e for e in sandbox.access_log if e.holder_id == person.id_number] == []
    history = core.consents.history(person.id_number)
    assert history and all(c.revoked_at is not None for c in history)


def test_slow_platform_beyond_timeout_counts_as_offline(qtbot, make_core, window, sandbox,
                                                       ws_config):
    from dataclasses import replace

    person = sandbox.world.person_with_all_licences
    core = make_core(platform=replace(ws_config.platform, timeout_s=0.5))
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)  # online: caches the licences
    sandbox.faults.update({"latency_ms": 1200})
    submit_and_consent(qtbot, page)
    assert "离线" in page.offline_marker.text()
    assert states(page)["申请人身份证明"] is MaterialState.PROVIDED


def test_scoped_services_refuse_undeclared_licence_types(core, sandbox):
    from workstation.services.consent import ConsentRequest
    from workstation.services.licences import ScopeError
    from workstation.services.model import Applicant, HolderKind, IdentifiedBy

    manifest = ScenarioManifest(id="narrow", title="只查身份证", audiences=(Audience.CLERK,),
                                page="x:y", licence_types=("id_card",))
    ctx = core.context_for(manifest)
    person = sandbox.world.person_with_all_licences
    applicant = Applicant(HolderKind.PERSON, person.id_number, person.name, IdentifiedBy.CLERK)
    consent = core.consents.grant(ConsentRequest(
        applicant=applicant, purpose="测试", matter_code="T-1",
        licence_types=("id_card", "property_cert"), scenario="narrow",
    ), operator="demo")
    with pytest.raises(ScopeError) as err:
        ctx.licences.fetch(consent, ["property_cert"], reason="测试", operator="demo")
    assert "narrow" in err.value.message and "不动产权证书" in err.value.message
    core.drain()  # session audit events are written in the background
    assert any(e.kind == "scope_refused" for e in core.audit.events(limit=10))
    assert [e for e in sandbox.access_log if e.holder_id == person.id_number] == []
    got = ctx.licences.fetch(consent, ["id_card"], reason="测试", operator="demo")
    assert [lic.type_key for lic in got.licences] == ["id_card"]


def test_finishing_while_a_fetch_runs_drops_it_cleanly(qtbot, core, window, sandbox):
    """GIVEN a slow fetch in flight WHEN the clerk clicks 办结 in the applicant panel
    THEN the page is destroyed, the late result goes nowhere, and nothing crashes."""
    from PyQt6.QtCore import QThreadPool

    person = sandbox.world.person_with_all_licences
    win = window(core)
    page = open_intake(qtbot, win)
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.consent_panel.isVisible(), timeout=10000)
    sandbox.faults.update({"latency_ms": 800})
    qtbot.mouseClick(page.consent_panel.accept_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(win.applicant_panel.finish, Qt.MouseButton.LeftButton)
    assert win.pages == {} and core.sessions.current is None
    QThreadPool.globalInstance().waitForDone(10000)
    QCoreApplication.processEvents()
    assert win.applicant_panel.who.text() == "暂无办事人"
    assert core.sessions.current is None


def test_scanned_code_replaces_the_applicant_and_closes_pages(qtbot, core, window, sandbox):
    a = sandbox.world.person_with_all_licences
    b = sandbox.world.person_without_marriage_or_property
    win = window(core)
    page = open_intake(qtbot, win)
    fill(page, name=a.name, holder_id=a.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    code, _ = sandbox.issue_code(b.id_number)
    win.code_scanned(code)
    qtbot.waitUntil(lambda: b.name in win.applicant_panel.who.text(), timeout=10000)
    assert win.pages == {}  # nothing of A's is left on a page
    assert win.stack.currentWidget() is win.launcher_scroll
    assert a.name not in win.applicant_panel.who.text()
    # reopening the scenario starts from B, identified by code
    page = open_intake(qtbot, win)
    assert page.id_field.text() == b.id_number


def test_consents_are_revoked_when_the_applicant_leaves(qtbot, core, window, sandbox):
    from workstation.services.platform import PlatformError

    person = sandbox.world.person_with_all_licences
    win = window(core)
    page = open_intake(qtbot, win)
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    consent = core.sessions.current.consents[0]
    ref = consent.consent_ref
    assert ref
    qtbot.mouseClick(page.finish_button, Qt.MouseButton.LeftButton)
    core.drain()
    with pytest.raises(PlatformError) as err:
        core.platform.search_licences(person.id_number, ["id_card"], ref, "复用已结束的授权")
    assert err.value.code == "consent_revoked"
    assert core.consents.get(consent.id).revoked_at is not None


def test_clerk_views_a_licence_with_its_picture(qtbot, core, window, sandbox):
    from workstation.ui.widgets import LicenceCard

    person = sandbox.world.person_with_all_licences
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    shown: list[tuple[Any, bytes | None]] = []
    page.licence_dialog = lambda parent, licence, png: shown.append((licence, png))
    assert not page.view_button.isEnabled()
    page.table.selectRow(3)  # 存量房买卖合同: paper only, nothing to view
    assert not page.view_button.isEnabled()
    page.table.selectRow(1)  # 不动产权属证书
    assert page.view_button.isEnabled()
    qtbot.mouseClick(page.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    licence, png = shown[0]
    assert licence.type_key == "property_cert" and png and png.startswith(b"\x89PNG")
    card = LicenceCard(licence, png)
    qtbot.addWidget(card)
    texts = [w.text() for w in card.findChildren(type(page.summary_label))]
    assert licence.licence_id in texts and "有效" in texts
    log = [e for e in sandbox.access_log if e.action == "thumbnail"]
    assert log and log[-1].licence_id == licence.licence_id and "查看证照" in log[-1].reason


@pytest.mark.cups
def test_material_list_prints_through_the_queue(qtbot, make_core, window, sandbox,
                                                private_cups, previews):
    """GIVEN an A4 printer WHEN the clerk prints the material list THEN the preview shows it,
    the printer receives exactly that PDF, the case folder keeps it, and it verifies."""
    from tests.printing.pdf_inspect import page_texts, squash
    from workstation.config import PrintersConfig

    name, out = private_cups.add_file_queue()
    core = make_core(printers=PrintersConfig(a4=name, cups_server=private_cups.socket))
    person = sandbox.world.person_with_all_licences
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.print_outcome is not None, timeout=30000)
    assert previews[0]["printer"] == name
    assert page.print_outcome.status.state.value == "completed", page.print_outcome.status
    assert "打印完成" in page.document_label.text()
    kept = Path(page.document_path).read_bytes()
    assert squash("".join(page_texts(out.read_bytes()))) == squash("".join(page_texts(kept)))
    assert core.documents.verify(page.prepared.code, kept).ok
    assert page.reprint_button.isVisible()
    core.drain()
    results = [e.details["result"] for e in core.audit.events(kind="print")]
    assert results == ["submitted", "completed"]


def test_declined_preview_prints_nothing(qtbot, core, window, sandbox, previews):
    previews.decline = True
    person = sandbox.world.person_with_all_licences
    page = open_intake(qtbot, window(core))
    fill(page, name=person.name, holder_id=person.id_number, matter=MATTER_PROPERTY)
    submit_and_consent(qtbot, page)
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "未打印" in page.document_label.text(), timeout=15000)
    assert page.print_outcome is None and Path(page.document_path).exists()
    assert core.audit.events(kind="print") == []
    assert core.audit.events(kind="document_issued")
