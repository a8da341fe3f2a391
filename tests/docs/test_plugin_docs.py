"""The plugin docs stay true: every hook has a reference entry whose runnable example works,
every public API name is documented, every testing fixture is in the guide."""

from __future__ import annotations

import base64
import datetime as dt
import inspect
import json
import logging
import re
import types
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import workstation.api as api
import workstation.api.printing as api_printing
import workstation.api.ui as api_ui
import workstation.testing as testing
from workstation import hookspecs
from workstation.api import (
    Applicant,
    CodeFormat,
    CodeRefused,
    HolderKind,
    IdentifiedBy,
    TrustedKey,
    TrustList,
)
from workstation.services.platform import ResolvedHolder

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins"
HOOKS_MD = DOCS / "hooks.md"
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def hook_names() -> list[str]:
    marker = f"{hookspecs.PROJECT}_spec"
    return sorted(name for name, obj in vars(hookspecs).items() if hasattr(obj, marker))


def sections(path: Path) -> dict[str, str]:
    """``## `name` `` sections of a markdown file, by name."""
    parts = re.split(r"^## `([a-z_]+)`\n", path.read_text(encoding="utf-8"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def signature_text(name: str) -> str:
    sig = inspect.signature(getattr(hookspecs, name))
    return f"{name}{sig}".replace("'", "")


def runnable_example(hook: str) -> str:
    blocks = [b for b in FENCE.findall(sections(HOOKS_MD)[hook])
              if b.startswith(f"# runnable example: {hook}\n")]
    assert len(blocks) == 1, f"{hook}: one block starting '# runnable example: {hook}'"
    return blocks[0]


def load_example(hook: str) -> types.ModuleType:
    module = types.ModuleType(f"docs_example_{hook}")
    exec(compile(runnable_example(hook), f"hooks.md:{hook}", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_reference_entry(hook):
    entry = sections(HOOKS_MD).get(hook)
    assert entry is not None, f"docs/plugins/hooks.md has no section ## `{hook}`"
    assert f"```python\n{signature_text(hook)}\n```" in entry, "signature as in hookspecs.py"
    for part in ("**Arguments:**", "**Returns:**", "**Combination:**"):
        assert part in entry
    runnable_example(hook)
    assert f"[`{hook}`](#{hook})" in HOOKS_MD.read_text(encoding="utf-8")  # in the summary


def test_the_reference_documents_no_hook_that_does_not_exist():
    assert sorted(sections(HOOKS_MD)) == hook_names()


def _signed_code(key: Ed25519PrivateKey, claims: dict[str, Any]) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    signed = f"CBSMK1.{b64(json.dumps(claims).encode())}"
    return f"{signed}.{b64(key.sign(signed.encode('ascii')))}"


class _Client:
    def __init__(self, jti: str) -> None:
        self.jti = jti

    def resolve_code(self, code: str) -> ResolvedHolder:
        return ResolvedHolder(HolderKind.PERSON, "11010519491231002X", "张三", self.jti)


def check_code_formats(core: Any, module: types.ModuleType) -> None:
    [fmt] = [f for f in core.codes.formats if f.kind == "chibi_citizen_card"]
    assert isinstance(fmt, CodeFormat)
    key = Ed25519PrivateKey.generate()
    now = dt.datetime(2025, 3, 3, 1, 30, tzinfo=dt.UTC)
    trusted = TrustedKey("k1", "人社", "Ed25519",
                         key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
                         now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    trust = TrustList({"k1": trusted})
    claims = {"jti": "j1", "iss": "人社", "kid": "k1", "iat": int(now.timestamp()),
              "exp": int(now.timestamp()) + 60}
    code = _signed_code(key, claims)
    assert core.codes.format_for(code) is fmt
    parsed = fmt.parse(code)
    fmt.verify_offline(parsed, trust, now)
    applicant = fmt.resolve(parsed, _Client("j1"))  # type: ignore[arg-type]
    assert applicant.identified_by is IdentifiedBy.CODE and applicant.name == "张三"
    forged = _signed_code(Ed25519PrivateKey.generate(), claims)
    with pytest.raises(CodeRefused) as err:
        fmt.verify_offline(fmt.parse(forged), trust, now)
    assert err.value.reason == "forged"
    with pytest.raises(CodeRefused) as err:
        fmt.verify_offline(parsed, trust, now + dt.timedelta(minutes=5))
    assert err.value.reason == "expired"
    with pytest.raises(CodeRefused) as err:
        fmt.parse("CBSMK1.garbage")
    assert err.value.reason == "malformed"


@pytest.mark.parametrize("hook", hook_names())
def test_every_runnable_example_works(hook, make_core, caplog):
    """GIVEN the example of a hook loaded as a plugin WHEN a real core calls the hook
    THEN it contributes what the reference says, with no load error."""
    module = load_example(hook)
    core = make_core(extra_plugins=[(f"docs_{hook}", module)])
    assert [e for e in core.plugins.errors if e.plugin == f"docs_{hook}"] == []
    if hook == "register_scenarios":
        manifest = core.plugins.scenario("pension_check")
        assert manifest.licence_types == ("id_card", "social_security_card")
    elif hook == "register_code_formats":
        check_code_formats(core, module)
    elif hook == "register_print_templates":
        assert core.templates.render_sample("pension_check.receipt").startswith(b"%PDF")
    elif hook == "register_matters":
        assert core.matters["CB-YL-101"].licence_types == ("id_card", "social_security_card")
    elif hook in ("session_started", "session_ended"):
        caplog.set_level(logging.INFO, logger="pension_check")
        session = core.begin_session(
            Applicant(HolderKind.PERSON, "11010519491231002X", "张三", IdentifiedBy.CARD))
        if hook == "session_started":
            assert session.scratch["pension_check.started"] is True
        core.sessions.end("finished")
        core.drain()
        assert not [e for e in core.audit.events(limit=20) if e.kind == "plugin_error"]
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert ("identified by card" in logged) if hook == "session_started" else (
            "session ended: finished" in logged)
        assert "张三" not in logged and "11010519491231002X" not in logged
    else:
        pytest.fail(f"no check for the example of {hook}: add one here")


def test_every_public_name_is_in_the_api_reference():
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    for module in (api, api_ui, api_printing):
        missing = [n for n in module.__all__ if f"`{n}`" not in text]
        assert missing == [], f"{module.__name__}: document {missing} in docs/plugins/api.md"


def test_every_testing_fixture_is_in_the_guide():
    text = (DOCS / "guide.md").read_text(encoding="utf-8")
    fixtures = [name for name, obj in vars(testing).items()
                if hasattr(obj, "_fixture_function_marker") or
                type(obj).__name__ == "FixtureFunctionDefinition"]
    assert len(fixtures) >= 10
    missing = [f for f in fixtures if f"`{f}`" not in text]
    assert missing == [], f"document the fixtures {missing} in docs/plugins/guide.md"
