"""Scenario pages that sign citizens in themselves (manifest ``sign_in``): the shell hands an
accepted scan to a fresh page, refuses other methods, and offers an earlier identification."""

from __future__ import annotations

import types
from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QLabel

from workstation.api import Applicant, HolderKind, IdentifiedBy, ManifestError, sign_in_method
from workstation.api.ui import ScenarioPage, SignInPrompt
from workstation.hookspecs import hookimpl
from workstation.manifest import Audience, ScenarioManifest
from workstation.ui.main_window import MainWindow

BUILT: list[SocialPage] = []


class SocialPage(ScenarioPage):
    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx, "社保查询")
        self.prompt = self.sign_in_prompt()
        self.layout_.addWidget(self.prompt)
        self.greeting = QLabel()
        self.layout_.addWidget(self.greeting)
        self.ready: list[Applicant] = []
        BUILT.append(self)

    def applicant_ready(self, applicant: Applicant) -> None:
        self.ready.append(applicant)
        self.prompt.hide()
        self.greeting.setText(f"您好，{applicant.masked_name}")


def build_page(ctx: Any) -> SocialPage:
    return SocialPage(ctx)


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [ScenarioManifest(id="social_demo", title="社保查询演示",
                             audiences=(Audience.KIOSK, Audience.CLERK),
                             page=f"{__name__}:build_page", sign_in=("essc", "ss_card"),
                             api_version=2)]


@pytest.fixture
def kiosk(qtbot: Any, make_core: Any) -> Any:
    BUILT.clear()
    plugin = types.ModuleType("social_demo")
    plugin.register_scenarios = register_scenarios  # type: ignore[attr-defined]
    core = make_core(mode="kiosk", extra_plugins=[("social_demo", plugin)])
    win = MainWindow(kiosk=True)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    win.attach(core)
    qtbot.waitUntil(lambda: "social_demo" in win.launcher.tiles, timeout=10000)
    yield win
    win.idle.stop()
    win.tasks.wait_for_done(10000)


def open_tile(qtbot: Any, win: MainWindow) -> SocialPage:
    qtbot.mouseClick(win.launcher.tiles["social_demo"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, SocialPage)
    return page


def test_an_accepted_code_starts_the_session_on_a_fresh_page(qtbot, kiosk, sandbox):
    person = sandbox.world.sample_person(3)
    page = open_tile(qtbot, kiosk)
    assert "电子社保卡二维码" in page.prompt.rows["essc"].text()
    assert set(page.prompt.rows) == {"essc", "ss_card"}
    code, _ = sandbox.issue_code(person.id_number, kind="essc", source="hubei_12333")
    kiosk.code_scanned(code)
    qtbot.waitUntil(lambda: BUILT[-1] is not page and bool(BUILT[-1].ready), timeout=10000)
    fresh = BUILT[-1]
    assert kiosk.stack.currentWidget() is fresh  # still in the scenario, not the launcher
    assert fresh.ready[0].holder_id == person.id_number
    assert fresh.ready[0].extra["code_source_label"] == "湖北12333公众号"
    assert sign_in_method(fresh.ready[0]) == "essc"
    assert kiosk.core.sessions.applicant.holder_id == person.id_number
    assert "您好" in fresh.greeting.text() and person.name not in fresh.greeting.text()


def test_another_method_is_refused_and_changes_nothing(qtbot, kiosk, sandbox):
    person = sandbox.world.sample_person(4)
    page = open_tile(qtbot, kiosk)
    code, _ = sandbox.issue_code(person.id_number, kind="ehb_identity")
    kiosk.code_scanned(code)
    qtbot.waitUntil(lambda: "本业务请使用" in kiosk.banner.text(), timeout=10000)
    assert "电子社保卡二维码或社会保障卡" in kiosk.banner.text()
    assert kiosk.core.sessions.applicant is None
    assert kiosk.stack.currentWidget() is page and page.ready == []
    kiosk.core.drain()
    refusals = [e for e in kiosk.core.audit.events(limit=50) if e.kind == "refusal"]
    assert refusals and refusals[0].details["what"] == "sign_in_method"
    assert person.id_number not in str(refusals[0].details)


def test_an_earlier_identification_is_offered_to_the_page(qtbot, kiosk, sandbox):
    person = sandbox.world.sample_person(5)
    code, _ = sandbox.issue_code(person.id_number, kind="essc")
    kiosk.code_scanned(code)  # on the launcher: the session starts there
    qtbot.waitUntil(lambda: kiosk.core.sessions.applicant is not None, timeout=10000)
    page = open_tile(qtbot, kiosk)
    qtbot.waitUntil(lambda: bool(page.ready), timeout=5000)
    assert page.ready[0].holder_id == person.id_number


def test_a_page_is_not_offered_an_applicant_it_does_not_accept(qtbot, kiosk, sandbox):
    person = sandbox.world.sample_person(6)
    code, _ = sandbox.issue_code(person.id_number, kind="ehb_identity")
    kiosk.code_scanned(code)
    qtbot.waitUntil(lambda: kiosk.core.sessions.applicant is not None, timeout=10000)
    page = open_tile(qtbot, kiosk)
    for _ in range(3):  # the offer is queued on a zero timer: let it run
        QApplication.processEvents()
    assert page.ready == [] and page.prompt.isVisible()


def test_sign_in_method_names_each_way():
    def who(by: IdentifiedBy, **extra: str) -> Applicant:
        return Applicant(kind=HolderKind.PERSON, holder_id="421202199001011651", name="张三",
                         identified_by=by, extra=extra)

    assert sign_in_method(who(IdentifiedBy.CODE, code_format="mi_voucher")) == "mi_voucher"
    assert sign_in_method(who(IdentifiedBy.CARD, card="SocialSecurityCardData")) == "ss_card"
    assert sign_in_method(who(IdentifiedBy.CARD, card="IdCardData")) == "id_card"
    assert sign_in_method(who(IdentifiedBy.FACE)) == "face"
    assert sign_in_method(who(IdentifiedBy.CLERK)) is None
    assert sign_in_method(None) is None


def test_manifest_sign_in_is_validated():
    base = {"id": "x_demo", "title": "演示", "audiences": (Audience.KIOSK,), "page": "m:f"}
    ScenarioManifest(**base, sign_in=("essc", "my_code")).validate()
    with pytest.raises(ManifestError, match="sign_in"):
        ScenarioManifest(**base, sign_in="essc").validate()  # type: ignore[arg-type]
    with pytest.raises(ManifestError, match="sign_in"):
        ScenarioManifest(**base, sign_in=("Essc!",)).validate()


def test_the_prompt_is_large_on_a_kiosk(qtbot):
    prompt = SignInPrompt(["essc", "ss_card", "their_code"], kiosk=True,
                          titles={"their_code": "某某码"})
    qtbot.addWidget(prompt)
    assert "某某码" in prompt.rows["their_code"].text()
    assert "30pt" in prompt.heading.styleSheet()


@pytest.fixture
def clerk(qtbot: Any, make_core: Any) -> Any:
    BUILT.clear()
    plugin = types.ModuleType("social_demo")
    plugin.register_scenarios = register_scenarios  # type: ignore[attr-defined]
    core = make_core(extra_plugins=[("social_demo", plugin)])
    core.sign_in("demo", "demo1234")
    win = MainWindow(kiosk=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    win.attach(core)
    qtbot.waitUntil(lambda: "social_demo" in win.launcher.tiles, timeout=10000)
    yield win
    win.idle.stop()
    win.tasks.wait_for_done(10000)


def test_a_window_stays_on_the_scenario_for_the_next_citizen(qtbot, clerk, sandbox):
    """At a window (a pharmacy till) the page the citizen finished is replaced by a fresh one
    waiting for the next scan; nothing of the previous citizen is left on it."""
    open_tile(qtbot, clerk)
    code, _ = sandbox.issue_code(sandbox.world.sample_person(7).id_number, kind="essc")
    clerk.code_scanned(code)
    qtbot.waitUntil(lambda: bool(BUILT[-1].ready), timeout=10000)
    served = BUILT[-1]
    clerk.core.sessions.end("finished")  # the page's 办结
    fresh = clerk.stack.currentWidget()
    assert isinstance(fresh, SocialPage) and fresh is not served and fresh.ready == []
    assert fresh.greeting.text() == "" and fresh.prompt.isVisible()
    assert clerk.core.sessions.applicant is None
    # the shell's own 办结 button does the same; signing out leaves nothing behind
    clerk.sign_out()
    assert clerk.pages == {}


def test_a_kiosk_goes_home_when_the_citizen_is_done(qtbot, kiosk, sandbox):
    open_tile(qtbot, kiosk)
    code, _ = sandbox.issue_code(sandbox.world.sample_person(8).id_number, kind="essc")
    kiosk.code_scanned(code)
    qtbot.waitUntil(lambda: bool(BUILT[-1].ready), timeout=10000)
    kiosk.core.sessions.end("finished")
    assert kiosk.stack.currentWidget() is kiosk.launcher_scroll and kiosk.pages == {}
