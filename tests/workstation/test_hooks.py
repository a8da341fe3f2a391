"""One test per hook of workstation/hookspecs.py, through a real workstation core.

``test_plugin_hooks_have_tests`` fails when a hook is added without a ``test_hook_<name>`` here
(as datasette's test of the same name); tests/docs/test_plugin_docs.py does the same for the
reference in docs/plugins/hooks.md.
"""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import pytest

from workstation import hookspecs
from workstation.api import (
    Applicant,
    ApplicantSession,
    Audience,
    CodeFormat,
    CodeRefused,
    HolderKind,
    IdentifiedBy,
    Material,
    Matter,
    ParsedCode,
    PrintTemplate,
    ScenarioManifest,
    hookimpl,
)


def hook_names() -> list[str]:
    marker = f"{hookspecs.PROJECT}_spec"
    return sorted(name for name, obj in vars(hookspecs).items() if hasattr(obj, marker))


def plugin(name: str, **hooks: Any) -> tuple[str, types.ModuleType]:
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    return name, module


def test_plugin_hooks_have_tests():
    """Every hook in hookspecs.py has a test_hook_<name> in this module."""
    missing = [h for h in hook_names() if f"test_hook_{h}" not in globals()]
    assert missing == [], f"write test_hook_<name> for: {missing}"


def test_hook_register_scenarios(make_core):
    def register_scenarios() -> list[ScenarioManifest]:
        return [ScenarioManifest(id="hook_demo", title="钩子演示",
                                 audiences=(Audience.KIOSK,), page="json:dumps",
                                 licence_types=("id_card",), order=1)]

    core = make_core(extra_plugins=[plugin("hook_demo_plugin",
                                           register_scenarios=register_scenarios)])
    assert core.scenarios_for(Audience.KIOSK)[0].id == "hook_demo"  # order=1 sorts first
    assert "hook_demo" not in [m.id for m in core.scenarios_for(Audience.CLERK)]
    ctx = core.context_for(core.plugins.scenario("hook_demo"))
    assert ctx.licences.allowed_types == ("id_card",)
    assert core.plugins.plugin_of("hook_demo") == "hook_demo_plugin"


class _DemoCode(CodeFormat):
    kind = "demo"
    title = "演示码"

    def matches(self, payload: str) -> bool:
        return payload.startswith("DEMO.")

    def parse(self, payload: str) -> ParsedCode:
        raise CodeRefused("malformed", "演示码不完整")

    def verify_offline(self, parsed: ParsedCode, trust_list: Any, now: dt.datetime) -> None:
        raise AssertionError("not reached")

    def resolve(self, parsed: ParsedCode, client: Any) -> Applicant:
        raise AssertionError("not reached")


def test_hook_register_code_formats(make_core):
    def register_code_formats() -> list[CodeFormat]:
        return [_DemoCode()]

    core = make_core(extra_plugins=[plugin("demo_code",
                                           register_code_formats=register_code_formats)])
    kinds = [f.kind for f in core.codes.formats]
    assert "demo" in kinds and "ehb_identity" in kinds  # built-in formats stay
    assert isinstance(core.codes.format_for("DEMO.x"), _DemoCode)
    with pytest.raises(CodeRefused) as err:
        core.identify_by_code("DEMO.x")
    assert err.value.message == "演示码不完整"
    with pytest.raises(CodeRefused) as err:
        core.codes.format_for("SOMETHING-ELSE")
    assert err.value.reason == "unknown_format" and "演示码" in err.value.message


def test_hook_register_print_templates(make_core):
    def register_print_templates() -> list[PrintTemplate]:
        return [PrintTemplate(key="demo.doc", title="演示文书",
                              render=lambda d, stamp=None: b"%PDF-" + d,
                              sample=lambda: b"sample")]

    core = make_core(extra_plugins=[
        plugin("demo_a", register_print_templates=register_print_templates),
        plugin("demo_b", register_print_templates=register_print_templates),
    ])
    assert core.templates.render_sample("demo.doc") == b"%PDF-sample"
    duplicates = [e for e in core.plugins.errors if "demo.doc" in e.message]
    assert len(duplicates) == 1 and duplicates[0].stage == "register"


def test_hook_register_matters(make_core):
    matter = Matter(code="DEMO-001", name="演示事项", department="演示部门",
                    holder_kind=HolderKind.PERSON,
                    materials=(Material("身份证", "id_card"), Material("申请表")))

    def register_matters() -> list[Matter]:
        return [matter]

    core = make_core(extra_plugins=[plugin("m1", register_matters=register_matters),
                                    plugin("m2", register_matters=register_matters)])
    manifest = core.plugins.scenario("unified_intake")
    assert core.context_for(manifest).matters["DEMO-001"] is matter  # every scenario sees it
    assert [e.message for e in core.plugins.errors] == ["事项编码重复：DEMO-001"]


def _applicant() -> Applicant:
    return Applicant(HolderKind.PERSON, "11010519491231002X", "张三", IdentifiedBy.CARD)


def test_hook_session_started(make_core):
    seen: list[ApplicantSession] = []

    def session_started(session: ApplicantSession) -> None:
        seen.append(session)

    def session_started_raises(session: ApplicantSession) -> None:
        raise RuntimeError("listener broke")

    core = make_core(extra_plugins=[plugin("ok", session_started=session_started),
                                    plugin("broken", session_started=session_started_raises)])
    session = core.begin_session(_applicant())
    assert seen == [session] and session.applicant is not None  # the others still ran
    core.drain()
    errors = [e for e in core.audit.events(limit=20) if e.kind == "plugin_error"]
    assert errors and errors[0].details["plugin"] == "broken"
    assert core.sessions.current is session


def test_hook_session_ended(make_core):
    seen: list[tuple[str | None, str]] = []

    def session_ended(session: ApplicantSession, reason: str) -> None:
        # called before the wipe: the applicant is still there
        seen.append((session.applicant.name if session.applicant else None, reason))

    core = make_core(extra_plugins=[plugin("ok", session_ended=session_ended)])
    session = core.begin_session(_applicant())
    core.sessions.end("finished")
    assert seen == [("张三", "finished")]
    assert session.applicant is None and session.ended  # wiped afterwards
