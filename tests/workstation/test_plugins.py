"""The plugin contract: discovery through entry points, failures kept local, tracing."""

from __future__ import annotations

import json
import logging
import types

import pytest

from workstation.cli import main
from workstation.hookspecs import hookimpl
from workstation.manifest import Audience, ManifestError, ScenarioManifest
from workstation.plugins import API_VERSION, load_plugins, resolve_factory


def _module(name: str, **attrs: object) -> types.ModuleType:
    mod = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(mod, k, v)
    return mod


def _manifest(sid: str = "demo_scenario", **kw: object) -> ScenarioManifest:
    base: dict[str, object] = dict(id=sid, title="演示", audiences=(Audience.CLERK,),
                                   page="some.module:build")
    base.update(kw)
    return ScenarioManifest(**base)  # type: ignore[arg-type]


# fake_distribution: a fixture of workstation.testing (installs a module + dist-info).


def test_builtin_scenario_found_through_entry_point():
    loaded = load_plugins()
    assert "unified_intake" in [m.id for _, m in loaded.scenarios]
    assert loaded.distributions["unified_intake"].startswith("mianzheng-workstation")
    assert loaded.errors == []


def test_third_party_package_is_discovered(fake_distribution):
    fake_distribution("acme", "acme_scenario", """
        from workstation.hookspecs import hookimpl
        from workstation.manifest import Audience, ScenarioManifest

        @hookimpl
        def register_scenarios():
            return [ScenarioManifest(id="acme", title="第三方场景", audiences=(Audience.KIOSK,),
                                     page="acme_plugin:build")]
    """)
    loaded = load_plugins()
    assert ("acme_scenario", "acme") in [(n, m.id) for n, m in loaded.scenarios]
    assert loaded.distributions["acme_scenario"] == "acme 1.0"


def test_plugin_that_raises_on_import_is_a_load_error_and_others_load(fake_distribution):
    fake_distribution("broken", "broken_scenario", "raise RuntimeError('boom at import')\n")
    loaded = load_plugins()
    assert [e.plugin for e in loaded.errors] == ["broken_scenario"]
    assert "boom at import" in loaded.errors[0].message
    assert "unified_intake" in [m.id for _, m in loaded.scenarios]


def test_misspelt_hook_fails_loudly():
    @hookimpl
    def register_scenarioz() -> list[ScenarioManifest]:
        return []

    loaded = load_plugins(entry_points=False,
                          extra=[("typo", _module("typo", register_scenarioz=register_scenarioz))])
    assert len(loaded.errors) == 1
    assert "register_scenarioz" in loaded.errors[0].message


def test_register_hook_that_raises_stays_local():
    @hookimpl
    def register_scenarios() -> list[ScenarioManifest]:
        raise ValueError("manifest service down")

    @hookimpl
    def register_scenarios_ok() -> list[ScenarioManifest]:
        return [_manifest("good_one")]

    bad = _module("bad", register_scenarios=register_scenarios)
    good = _module("good", register_scenarios=register_scenarios_ok)
    good.register_scenarios = register_scenarios_ok  # type: ignore[attr-defined]
    loaded = load_plugins(entry_points=False, extra=[("bad", bad), ("good", good)])
    assert [m.id for _, m in loaded.scenarios] == ["good_one"]
    assert loaded.errors[0].plugin == "bad" and loaded.errors[0].stage == "register"


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        (_manifest("Bad-Id"), "id"),
        (_manifest(page="no_colon"), "page"),
        (_manifest(licence_types=("passport",)), "passport"),
        (_manifest(devices=("teleporter",)), "teleporter"),
        (_manifest(audiences=()), "audiences"),
        (_manifest(api_version=API_VERSION + 1), "升级"),
    ],
)
def test_bad_manifest_rejected_with_clear_error(manifest, fragment):
    @hookimpl
    def register_scenarios() -> list[ScenarioManifest]:
        return [manifest]

    loaded = load_plugins(entry_points=False,
                          extra=[("p", _module("p", register_scenarios=register_scenarios))])
    assert loaded.scenarios == []
    assert fragment in loaded.errors[0].message


def test_duplicate_scenario_id_rejected():
    @hookimpl
    def register_scenarios() -> list[ScenarioManifest]:
        return [_manifest("same"), _manifest("same")]

    loaded = load_plugins(entry_points=False,
                          extra=[("p", _module("p", register_scenarios=register_scenarios))])
    assert len(loaded.scenarios) == 1
    assert "已被" in loaded.errors[0].message


def test_blocked_by_configuration():
    loaded = load_plugins(blocked=["unified_intake"])
    assert loaded.blocked == ["unified_intake"]
    assert "unified_intake" not in [m.id for _, m in loaded.scenarios]


def test_tracing_by_environment(monkeypatch, caplog):
    monkeypatch.setenv("MIANZHENG_TRACE_PLUGINS", "1")
    with caplog.at_level(logging.INFO, logger="workstation.plugins"):
        loaded = load_plugins()
        loaded.collect("register_matters")
    traced = [r.getMessage() for r in caplog.records if "plugin trace" in r.getMessage()]
    assert any("register_scenarios" in m for m in traced)  # the calls load_plugins makes
    assert any("register_matters" in m for m in traced)


def test_implementation_may_take_a_subset_of_the_arguments():
    seen: list[str] = []

    @hookimpl
    def session_ended(reason: str) -> None:  # no `session` argument: legal in pluggy
        seen.append(reason)

    @hookimpl
    def session_ended_raises(session: object, reason: str) -> None:
        raise RuntimeError("listener broke")

    loaded = load_plugins(entry_points=False, extra=[
        ("a", _module("a", session_ended=session_ended_raises)),
        ("b", _module("b", session_ended=session_ended)),
    ])
    results = loaded.call_each("session_ended", session=object(), reason="idle")
    assert seen == ["idle"]
    outcomes = {(name, type(exc).__name__ if exc else None) for name, _, exc in results}
    assert outcomes == {("b", None), ("a", "RuntimeError")}


def test_manifest_validate_ok():
    assert _manifest().validate().id == "demo_scenario"
    with pytest.raises(ManifestError):
        _manifest(title=" ").validate()


def test_resolve_factory():
    assert resolve_factory("json:dumps") is json.dumps
    with pytest.raises(ImportError):
        resolve_factory("json:nope")


def test_cli_plugins_lists_manifest_and_errors(fake_distribution, capsys):
    fake_distribution("broken", "broken_scenario", "raise RuntimeError('boom')\n")
    assert main(["plugins", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ui = next(s for s in out["scenarios"] if s["id"] == "unified_intake")
    assert ui["title"] == "统一受理" and ui["audiences"] == ["clerk"]
    assert "business_licence" in ui["licence_types"]
    assert ui["sign_in"] == []  # the clerk types the applicant in
    pharmacy = next(s for s in out["scenarios"] if s["id"] == "pharmacy")
    assert pharmacy["sign_in"] == ["mi_voucher"]
    assert out["errors"][0]["plugin"] == "broken_scenario"
    assert out["plugins"]["code_formats"]["code_formats"] == [
        "ehb_identity（鄂汇办身份码）", "mi_voucher（医保电子凭证）", "essc（电子社保卡）"
    ]
    assert "CB-BDC-003 不动产转移登记（存量房买卖）" in out["plugins"]["unified_intake"]["matters"]
    assert "material_list（申请材料清单）" in out["plugins"]["documents"]["print_templates"]
    assert out["api_version"] == API_VERSION
