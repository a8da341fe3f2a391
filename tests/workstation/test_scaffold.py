"""`mianzheng new-plugin`: what it writes and what it refuses (the generated package is
installed and its tests run in tests/examples/test_plugin_packages.py)."""

from __future__ import annotations

import py_compile

import pytest

from workstation.cli import main
from workstation.manifest import Audience
from workstation.scaffold import PluginSpec, ScaffoldError, generate


def test_generates_a_package_with_entry_point_logic_page_template_matter_and_tests(tmp_path):
    files = generate(PluginSpec("water_bill", "水费账户核验"), tmp_path / "pkg")
    names = sorted(p.relative_to(tmp_path / "pkg").as_posix() for p in files)
    assert names == [
        ".gitignore", "README.md", "pyproject.toml", "tests/test_logic.py", "tests/test_page.py",
        "tests/test_plugin.py", "tests/test_printout.py", "water_bill/__init__.py",
        "water_bill/logic.py", "water_bill/matters.toml", "water_bill/page.py",
        "water_bill/printout.py",
    ]
    for path in files:
        if path.suffix == ".py":
            py_compile.compile(str(path), doraise=True)
    pyproject = (tmp_path / "pkg" / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."mianzheng.plugins"]\nwater_bill = "water_bill"' in pyproject
    logic = (tmp_path / "pkg" / "water_bill" / "logic.py").read_text(encoding="utf-8")
    assert "PyQt6" not in logic  # the logic module stays Qt-free


def test_kiosk_only_scenario_is_tested_on_a_kiosk_workstation(tmp_path):
    generate(PluginSpec("self_print", "自助打印", audiences=(Audience.KIOSK,)), tmp_path)
    tests = (tmp_path / "tests" / "test_page.py").read_text(encoding="utf-8")
    assert 'open_page(SCENARIO_ID, kiosk=True, core=make_core(mode="kiosk"))' in tests
    init = (tmp_path / "self_print" / "__init__.py").read_text(encoding="utf-8")
    assert "audiences=(Audience.KIOSK,)," in init
    # citizens sign in by code or card; the generated test signs in and agrees on screen
    assert 'sign_in=("ehb_identity", "ss_card", "id_card"),' in init
    assert "driver.scan(code)" in tests and "driver.fill(" not in tests


def test_window_scenario_keeps_typed_applicants(tmp_path):
    generate(PluginSpec("water_bill", "水费账户核验"), tmp_path)
    init = (tmp_path / "water_bill" / "__init__.py").read_text(encoding="utf-8")
    assert "sign_in=" not in init
    tests = (tmp_path / "tests" / "test_page.py").read_text(encoding="utf-8")
    assert 'driver.fill("id_field", applicant.holder_id)' in tests


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["Bad-Name"], "NAME must match"),
        (["workstation"], "name is taken"),
        (["ok_name", "--licence-types", "passport"], "unknown licence type"),
        (["ok_name", "--licence-types", "business_licence"], "serves persons"),
        (["ok_name", "--title", " "], "title is empty"),
    ],
)
def test_refusals_are_clear(tmp_path, capsys, args, fragment):
    assert main(["new-plugin", *args, "--dest", str(tmp_path / "pkg")]) == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "pkg").exists()


def test_refuses_a_directory_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["new-plugin", "ok_name", "--dest", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    with pytest.raises(ScaffoldError):
        generate(PluginSpec("ok_name", "标题"), tmp_path)


def test_refuses_the_name_of_an_installed_plugin(tmp_path, capsys):
    """A generated package named like an installed plugin would shadow it (or fail to load)."""
    assert main(["new-plugin", "housing_fund", "--dest", str(tmp_path / "pkg")]) == 2
    assert "已被已安装的插件使用" in capsys.readouterr().err
    assert not (tmp_path / "pkg").exists()
