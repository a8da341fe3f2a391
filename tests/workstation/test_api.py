"""The public plugin API: one stable module, Qt-free, versioned, used by the built-in plugins."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import workstation.api as api
import workstation.api.printing as api_printing
import workstation.api.ui as api_ui
from workstation import hookspecs
from workstation.plugins import API_VERSION, load_plugins

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", [api, api_ui, api_printing])
def test_every_exported_name_exists(module):
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def test_api_is_the_source_of_truth_for_the_version_and_the_markers():
    assert API_VERSION == api.API_VERSION
    assert api.hookimpl is hookspecs.hookimpl
    assert api.ENTRY_POINT_GROUP == "mianzheng.plugins"


def test_importing_the_api_imports_neither_qt_nor_reportlab():
    """GIVEN a fresh interpreter WHEN a Qt-free logic module imports workstation.api
    THEN PyQt6 and ReportLab stay unimported (logic is testable without them, start-up fast)."""
    code = ("import sys, workstation.api; "
            "print(sorted(m for m in ('PyQt6', 'reportlab') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_require_api_version():
    api.require_api_version(API_VERSION)
    with pytest.raises(api.ApiVersionError) as err:
        api.require_api_version(API_VERSION + 1, "my_plugin")
    assert "my_plugin" in err.value.message and "升级" in err.value.message
    assert isinstance(err.value, ImportError)


def test_plugin_requiring_a_newer_api_at_import_gets_a_clear_error(fake_distribution):
    fake_distribution("future", "future_codes", f"""
        from workstation.api import require_api_version
        require_api_version({API_VERSION + 1})
    """)
    loaded = load_plugins()
    [error] = [e for e in loaded.errors if e.plugin == "future_codes"]
    assert error.stage == "import"
    assert f"需要插件接口版本 {API_VERSION + 1}" in error.message
    assert "upgrade the workstation" in error.message


def test_plugin_importing_a_name_the_api_lacks_is_told_it_may_need_a_newer_api(
        fake_distribution):
    fake_distribution("newer", "newer_scenario", """
        from workstation.api import something_from_the_future
    """)
    loaded = load_plugins()
    [error] = [e for e in loaded.errors if e.plugin == "newer_scenario"]
    assert "something_from_the_future" in error.message
    assert "newer plugin API" in error.message


def _workstation_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m == "workstation" or m.startswith("workstation.")}


# Built-in implementations that are deliberately not part of the plugin API.
PRIVATE_IMPORTS_ALLOWED = {("plugins/code_formats/__init__.py", "workstation.services.codes")}


@pytest.mark.parametrize("tree", ["plugins", "examples"])
def test_plugins_import_only_the_public_api(tree):
    """Built-in and example plugins import the workstation only through workstation.api, as a
    third-party plugin must. A missing name belongs in workstation.api (and its docs)."""
    offending = []
    for path in sorted((ROOT / tree).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for module in _workstation_imports(path):
            public = module == "workstation.api" or module.startswith("workstation.api.")
            public = public or module == "workstation.testing"  # authors' tests
            if not public and (rel, module) not in PRIVATE_IMPORTS_ALLOWED:
                offending.append(f"{rel}: {module}")
    assert offending == [], "import these names from workstation.api instead"
