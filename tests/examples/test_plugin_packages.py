"""Outside packages plug in as a plugin author's would: installed by pip into a temporary
virtual environment, found through their entry point, listed by `mianzheng plugins`, their pages
built and their own tests passing; a package with a bad manifest is refused with a clear error.

The temporary environment is ``python -m venv --system-site-packages`` plus a ``.pth`` file that
adds this interpreter's site-packages (the workstation, PyQt6, pytest...): the base interpreter's
own site-packages do not hold them when the suite runs from a project venv. Packages are installed
with ``pip --no-index --no-deps --no-build-isolation``, so no network is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "household-check"
BAD_MANIFEST = ROOT / "tests" / "data" / "bad-manifest-plugin"


@dataclass
class PluginVenv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["QT_QPA_PLATFORM"] = "offscreen"
        env.pop("PYTHONPATH", None)
        return env

    def run(self, *args: str | Path, cwd: Path | None = None, timeout: float = 300
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.python), *map(str, args)], capture_output=True,
                              text=True, cwd=cwd, env=self.env(), timeout=timeout, check=False)

    def pip_install(self, source: Path, *, editable: bool = False) -> None:
        args = ["-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-build-isolation",
                "--disable-pip-version-check"]
        out = self.run(*args, *(["-e"] if editable else []), source)
        assert out.returncode == 0, f"pip install {source} failed:\n{out.stdout}\n{out.stderr}"

    def plugins_json(self) -> dict[str, object]:
        out = self.run("-m", "workstation.cli", "plugins", "--json")
        assert out.returncode == 0, out.stderr
        return dict(json.loads(out.stdout))


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> PluginVenv:
    path = tmp_path_factory.mktemp("plugin-venv") / "venv"
    # pip and setuptools come from this interpreter through the bridge below (no ensurepip)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(path)],
                   check=True, capture_output=True, timeout=300)
    venv = PluginVenv(path)
    purelib = venv.run("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    bridge = "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages())
    (Path(purelib.stdout.strip()) / "zz_mianzheng_bridge.pth").write_text(bridge)
    return venv


@pytest.fixture(scope="module")
def example_installed(plugin_venv: PluginVenv, tmp_path_factory: pytest.TempPathFactory
                      ) -> Path:
    """The example package, copied (a build leaves files behind) and installed by pip."""
    source = tmp_path_factory.mktemp("example") / "household-check"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(
        "*.egg-info", "build", "__pycache__", ".pytest_cache"))
    plugin_venv.pip_install(source)
    where = plugin_venv.run("-c", "import importlib.metadata as md; "
                            "print(md.distribution('mianzheng-household-check').locate_file(''))")
    assert Path(where.stdout.strip()).is_relative_to(plugin_venv.path)  # not the project's venv
    return source


def test_example_is_discovered_through_its_entry_point(plugin_venv, example_installed):
    out = plugin_venv.run("-c", textwrap.dedent("""
        import importlib.metadata as md
        eps = md.entry_points(group="mianzheng.plugins")
        print([f"{ep.name}={ep.value}@{ep.dist.name}" for ep in eps])
    """))
    assert "household_check=household_check@mianzheng-household-check" in out.stdout


def test_example_appears_in_mianzheng_plugins(plugin_venv, example_installed):
    listing = plugin_venv.plugins_json()
    scenario = next(s for s in listing["scenarios"] if s["id"] == "household_check")  # type: ignore[attr-defined]
    assert scenario["distribution"] == "mianzheng-household-check 0.1.0"
    assert scenario["title"] == "户籍信息核验"
    assert scenario["audiences"] == ["clerk", "kiosk"]
    text = plugin_venv.run("-m", "workstation.cli", "plugins").stdout
    assert "household_check  户籍信息核验" in text


def test_example_page_builds_offscreen_in_the_shell(plugin_venv, example_installed):
    """GIVEN the installed example WHEN the real shell opens its tile (sandbox on a free port)
    THEN its page is built from the lazy factory, not the failed-page placeholder."""
    script = textwrap.dedent("""
        import sys, tempfile
        from pathlib import Path
        from PyQt6.QtWidgets import QApplication
        from sandbox.server import SandboxServer
        from workstation.config import Config, PlatformConfig
        from workstation.core import Workstation
        from workstation.plugins import load_plugins
        from workstation.ui.main_window import FailedPage, MainWindow

        app = QApplication(sys.argv[:1])
        with SandboxServer(port=0) as sandbox, tempfile.TemporaryDirectory() as tmp:
            config = Config(data_dir=Path(tmp), demo_operator=True,
                            platform=PlatformConfig(base_url=sandbox.url, health_interval_s=3600))
            core = Workstation(config, sandbox.url, load_plugins())
            core.sign_in("demo", "demo1234")
            win = MainWindow(kiosk=False)
            win.attach(core)
            win.open_scenario("household_check")
            page = win.stack.currentWidget()
            print(type(page).__module__, type(page).__name__, isinstance(page, FailedPage))
            win.idle.stop()
            win.tasks.wait_for_done(10000)
            win.close()
            core.close()
    """)
    out = plugin_venv.run("-c", script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["household_check.page", "Page", "False"]


def test_example_passes_its_own_tests(plugin_venv, example_installed):
    out = plugin_venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider",
                          cwd=example_installed)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " passed" in out.stdout and "failed" not in out.stdout


def test_bad_manifest_is_rejected_with_a_clear_error(plugin_venv, tmp_path):
    source = tmp_path / "bad-manifest-plugin"
    shutil.copytree(BAD_MANIFEST, source)
    plugin_venv.pip_install(source)
    listing = plugin_venv.plugins_json()
    [error] = [e for e in listing["errors"] if e["plugin"] == "bad_manifest"]  # type: ignore[attr-defined]
    assert error["stage"] == "manifest"
    assert error["message"] == "bad_manifest.licence_types: 未知的证照类型 'passport'"
    ids = [s["id"] for s in listing["scenarios"]]  # type: ignore[attr-defined]
    assert "bad_manifest" not in ids and "unified_intake" in ids  # the others still load
    text = plugin_venv.run("-m", "workstation.cli", "plugins").stdout
    assert "加载失败 / load error: bad_manifest (manifest): bad_manifest.licence_types" in text
    plugin_venv.run("-m", "pip", "uninstall", "-y", "-q", "mianzheng-bad-manifest")


@pytest.mark.parametrize(("name", "audience"), [("water_bill", "clerk"),
                                              ("self_check", "kiosk")])
def test_scaffolded_package_installs_and_passes_its_own_tests(plugin_venv, tmp_path, name,
                                                              audience):
    """GIVEN `mianzheng new-plugin` (a window scenario, or a kiosk one whose citizens sign in
    by code) WHEN its package is pip-installed (editable, as the guide says) THEN the scenario
    is listed, its own tests pass and it is ruff-clean."""
    dest = tmp_path / f"mianzheng-{name.replace('_', '-')}"
    out = plugin_venv.run("-m", "workstation.cli", "new-plugin", name, "--title", "水费账户核验",
                          "--audience", audience, "--dest", dest)
    assert out.returncode == 0, out.stderr
    plugin_venv.pip_install(dest, editable=True)
    listing = plugin_venv.plugins_json()
    assert name in [s["id"] for s in listing["scenarios"]]  # type: ignore[attr-defined]
    tests = plugin_venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=dest)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert "11 passed" in tests.stdout
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(dest)],
                          capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout
