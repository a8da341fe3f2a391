"""A pytest plugin for plugin authors (and the workstation's own suite).

Installed with the workstation and loaded automatically through the ``pytest11`` entry point
``workstation.testing`` (or explicitly with ``pytest -p workstation.testing``). It gives a plugin
package's tests the same world the workstation is tested in:

========================  ======================================================================
fixture                   what it is
========================  ======================================================================
``sandbox_server``        session: the sandbox platforms over real HTTP on a free 127.0.0.1 port
``sandbox``               that server, reset for this test (no faults, empty access log);
                          ``sandbox.world`` holds the seeded synthetic citizens and enterprises,
                          ``sandbox.faults.update({"down": True})`` takes the platforms down
``platform_client``       a PlatformClient logged in to the sandbox
``ws_config``             a Config: private data dir under ``tmp_path``, the sandbox's URL
``make_core``             ``make_core(extra_plugins=[...], **config_overrides) -> Workstation``
``core``                  a Workstation core with every installed plugin (your entry point too)
``scenario_context``      ``scenario_context("my_scenario") -> ScenarioContext``: the services
                          exactly as your page receives them, scoped to your manifest
``applicant``             an Applicant: a sandbox citizen who holds every licence type
``enterprise_applicant``  an Applicant: a sandbox enterprise with a business licence
``applicant_session``     ``core`` serving ``applicant`` (as after a card swipe)
``workstation_window``    (pytest-qt) ``workstation_window(core, kiosk=False) -> MainWindow``,
                          shown offscreen, the demo clerk signed in
``open_page``             (pytest-qt) ``open_page("my_scenario") -> PageDriver``: clicks your
                          tile in a real MainWindow and returns a driver for the page
``fake_distribution``     install a module with a ``mianzheng.plugins`` entry point on sys.path
``manual_clock``          a ManualClock to pass where a service takes ``clock``
========================  ======================================================================

Only :mod:`workstation.api` and this module are public for plugin authors. Qt, the sandbox and
the core are imported inside the fixtures, so loading the plugin costs a pytest run nothing.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QWidget

    from sandbox.server import SandboxServer
    from workstation.api import Applicant, ApplicantSession, ScenarioContext
    from workstation.config import Config
    from workstation.core import Workstation
    from workstation.services.platform import PlatformClient
    from workstation.ui.main_window import MainWindow

__all__ = [
    "DEMO_OPERATOR",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "ManualClock",
    "PageDriver",
    "scan_code",
    "type_text",
]

SANDBOX_CLIENT_ID = "ws-demo"
SANDBOX_CLIENT_SECRET = "sandbox-secret"
DEMO_OPERATOR = ("demo", "demo1234")  # created on a core whose config wants it (ws_config)
DEFAULT_TIMEOUT_MS = 10_000


def pytest_configure(config: pytest.Config) -> None:
    # Qt aborts the process without a display platform; tests run offscreen unless the caller
    # chose one (QT_QPA_PLATFORM=xcb to watch them).
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    config.addinivalue_line("markers", "gui: needs a QApplication (tests using qtbot)")


# -- time -------------------------------------------------------------------------------------


class ManualClock:
    """An injectable clock: ``clock()`` returns the current fake time; ``advance`` moves it."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2025, 3, 3, 1, 30, tzinfo=dt.UTC)  # 09:30 in China

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        self.now += delta if delta is not None else dt.timedelta(**kwargs)
        return self.now


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


# -- the sandbox platforms --------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox for the test session, on a free loopback port, stopped at the end."""
    from sandbox.server import SandboxServer

    server = SandboxServer(port=0, client_credentials={SANDBOX_CLIENT_ID: SANDBOX_CLIENT_SECRET})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The session's sandbox, reset (no faults, real clock, empty access log, default key)."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def platform_client(sandbox: SandboxServer) -> Iterator[PlatformClient]:
    from workstation.services.platform import PlatformClient

    client = PlatformClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, timeout_s=5.0)
    yield client
    client.close()


# -- the core ---------------------------------------------------------------------------------


@pytest.fixture
def ws_config(tmp_path: Path, sandbox: SandboxServer) -> Config:
    """A clerk workstation on the sandbox, its data (keys, SQLite, case files) in tmp_path."""
    from workstation.config import Config, KioskConfig, PlatformConfig

    return Config(
        workstation_id="TEST-01",
        demo_operator=True,
        data_dir=tmp_path / "data",
        platform=PlatformConfig(base_url=sandbox.url, timeout_s=3.0, health_interval_s=3600),
        kiosk=KioskConfig(idle_timeout_s=60, countdown_s=10),
    )


@pytest.fixture
def make_core(ws_config: Config, sandbox: SandboxServer) -> Iterator[Callable[..., Workstation]]:
    """``make_core(extra_plugins=[(name, module)], **config_overrides)``: a Workstation with
    every installed plugin plus ``extra_plugins``; closed after the test."""
    from workstation.core import Workstation
    from workstation.plugins import load_plugins

    made: list[Workstation] = []

    def make(*, extra_plugins: list[tuple[str, Any]] = (),  # type: ignore[assignment]
             **overrides: Any) -> Workstation:
        cfg = replace(ws_config, **overrides)
        plugins = load_plugins(blocked=cfg.blocked_plugins, extra=extra_plugins)
        core = Workstation(cfg, sandbox.url, plugins)
        made.append(core)
        return core

    yield make
    for core in made:
        core.close()


@pytest.fixture
def core(make_core: Callable[..., Workstation]) -> Workstation:
    return make_core()


def _scenario_or_fail(core: Workstation, scenario_id: str) -> Any:
    try:
        return core.plugins.scenario(scenario_id)
    except KeyError:
        loaded = [m.id for _, m in core.plugins.scenarios]
        errors = [f"{e.plugin} ({e.stage}): {e.message}" for e in core.plugins.errors]
        pytest.fail(
            f"scenario {scenario_id!r} is not loaded. Loaded: {loaded}. Load errors: {errors}. "
            "Is the package installed (pip install -e .) with an entry point in the group "
            "'mianzheng.plugins'?",
            pytrace=False,
        )


@pytest.fixture
def scenario_context(core: Workstation) -> Callable[[str], ScenarioContext]:
    """``scenario_context("my_scenario")``: the context the scenario's page receives, with
    licence access scoped to its manifest."""

    def make(scenario_id: str) -> ScenarioContext:
        return core.context_for(_scenario_or_fail(core, scenario_id))

    return make


# -- applicants -------------------------------------------------------------------------------


@pytest.fixture
def applicant(sandbox: SandboxServer) -> Applicant:
    """A sandbox citizen holding every licence type, identified by card."""
    from workstation.api import Applicant, HolderKind, IdentifiedBy

    person = sandbox.world.person_with_all_licences
    return Applicant(HolderKind.PERSON, person.id_number, person.name, IdentifiedBy.CARD)


@pytest.fixture
def enterprise_applicant(sandbox: SandboxServer) -> Applicant:
    """A sandbox enterprise with a valid business licence, entered by the clerk."""
    from workstation.api import Applicant, HolderKind, IdentifiedBy

    ent = sandbox.world.sample_enterprise(0)
    return Applicant(HolderKind.ENTERPRISE, ent.credit_code, ent.name, IdentifiedBy.CLERK)


@pytest.fixture
def applicant_session(core: Workstation, applicant: Applicant) -> ApplicantSession:
    """``core`` serving ``applicant``, as after a card swipe: pages opened now see them."""
    return core.begin_session(applicant)


class PrintPreviews(list[dict[str, Any]]):
    """The print previews a test's pages asked for, each ``{"pdf", "title", "printer"}``;
    set ``decline = True`` and the next ones are declined, as a citizen pressing 取消."""

    decline = False

    def confirm(self, parent: Any, pdf: bytes, title: str, printer: str | None) -> bool:
        self.append({"pdf": pdf, "title": title, "printer": printer})
        return not self.decline


@pytest.fixture
def print_previews(monkeypatch: pytest.MonkeyPatch) -> PrintPreviews:
    """The print preview answers at once instead of opening its modal dialog (a modal loop has
    no place in a test); the previews shown are recorded. Request it (or make it autouse in
    your module) in every test whose page prints through ``print_preview.confirm_print``."""
    from workstation.ui import print_preview

    shown = PrintPreviews()
    monkeypatch.setattr(print_preview, "confirm_print", shown.confirm)
    return shown


# -- driving pages with pytest-qt -------------------------------------------------------------


@pytest.fixture
def workstation_window(qtbot: Any, core: Workstation) -> Iterator[Callable[..., MainWindow]]:
    """``workstation_window(core=None, kiosk=False, sign_in=True)``: the real shell, shown
    offscreen at 1280x800 with ``core`` attached (the demo clerk signed in)."""
    from workstation.ui.main_window import MainWindow

    made: list[MainWindow] = []

    def make(core_: Workstation | None = None, *, kiosk: bool = False,
             sign_in: bool = True) -> MainWindow:
        target = core_ if core_ is not None else core
        win = MainWindow(kiosk=kiosk)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        if sign_in and not kiosk and target.operator is None:
            target.sign_in(*DEMO_OPERATOR)
        win.attach(target)
        made.append(win)
        return win

    yield make
    for win in made:
        win.idle.stop()
        win.tasks.wait_for_done(DEFAULT_TIMEOUT_MS)


@dataclass
class PageDriver:
    """A scenario page opened in a real MainWindow, with helpers to drive it like a person."""

    qtbot: Any
    window: MainWindow
    page: QWidget
    core: Workstation

    def widget(self, name: str) -> Any:
        """The page's attribute ``name`` (``page.submit_button``) or its child of that
        objectName."""
        if hasattr(self.page, name):
            return getattr(self.page, name)
        from PyQt6.QtWidgets import QWidget

        found = self.page.findChild(QWidget, name)
        if found is None:
            raise LookupError(f"{type(self.page).__name__} has no widget {name!r}")
        return found

    def fill(self, target: Any, value: Any) -> None:
        """Type ``value`` into a FieldRow or line edit, pick it in a combo box (by item data or
        text), or set a check box / radio button. ``target``: a widget or a name (widget())."""
        from PyQt6.QtWidgets import (
            QAbstractButton,
            QComboBox,
            QLineEdit,
            QPlainTextEdit,
            QSpinBox,
            QTextEdit,
        )

        from workstation.ui.widgets import FieldRow

        w = self.widget(target) if isinstance(target, str) else target
        if isinstance(w, FieldRow):
            w = w.edit
        if isinstance(w, QLineEdit):
            w.clear()
            type_text(w, str(value))
        elif isinstance(w, QComboBox):
            index = w.findData(value)
            if index < 0:
                index = w.findText(str(value))
            if index < 0:
                items = [w.itemText(i) for i in range(w.count())]
                raise LookupError(f"{value!r} is not among the items {items}")
            w.setCurrentIndex(index)
        elif isinstance(w, QAbstractButton) and w.isCheckable():
            w.setChecked(bool(value))
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
        elif isinstance(w, QPlainTextEdit | QTextEdit):
            w.setPlainText(str(value))
        else:
            raise TypeError(f"cannot fill a {type(w).__name__}")

    def click(self, target: Any) -> None:
        """Click a button with the mouse (it must be visible and enabled, as for a person)."""
        from PyQt6.QtCore import Qt

        w = self.widget(target) if isinstance(target, str) else target
        assert w.isVisible(), f"{w.text() if hasattr(w, 'text') else w} is not visible"
        assert w.isEnabled(), f"{w.text() if hasattr(w, 'text') else w} is disabled"
        self.qtbot.mouseClick(w, Qt.MouseButton.LeftButton)

    def scan(self, code: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Show a QR ``code`` to the scanner while the page is open, as a citizen signing in.

        For a scenario with ``sign_in`` the shell starts the session on a fresh page of the
        scenario: ``self.page`` follows it (and waits until the shell has offered it the
        applicant). Elsewhere the session starts and the launcher shows, as after any scan.
        """
        window, old = self.window, self.page
        scenario = window.current_scenario
        window.code_scanned(code)

        def settled() -> bool:
            if window.core.sessions.applicant is None:
                return False
            current = window.stack.currentWidget()
            return current is not old and not window.tasks.busy

        self.qtbot.waitUntil(settled, timeout=timeout_ms)
        current = window.stack.currentWidget()
        if scenario is not None and current is not None and current is window.pages.get(scenario):
            self.page = current
            from PyQt6.QtWidgets import QApplication

            QApplication.processEvents()  # the page is offered its applicant on a zero timer

    @property
    def busy(self) -> bool:
        """Whether a busy overlay covers the page or the window, or page work is running."""
        from workstation.ui.tasks import TaskRunner
        from workstation.ui.widgets import BusyOverlay

        overlays = self.page.findChildren(BusyOverlay)
        runners = self.page.findChildren(TaskRunner)
        window_busy = self.window.busy.isVisible() or self.window.tasks.busy
        return (window_busy or any(o.isVisible() for o in overlays)
                or any(r.busy for r in runners))

    def wait_idle(self, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Wait until the busy overlay is gone and the page's background work has finished
        (its result shown)."""
        self.qtbot.waitUntil(lambda: not self.busy, timeout=timeout_ms)

    def wait_until(self, condition: Callable[[], Any], timeout_ms: int = DEFAULT_TIMEOUT_MS
                   ) -> None:
        """Wait until ``condition()`` is true (or an assertion in it passes)."""
        self.qtbot.waitUntil(condition, timeout=timeout_ms)

    def text(self) -> str:
        """Every visible label and button text on the page, one per line (for asserts)."""
        from PyQt6.QtWidgets import QAbstractButton, QLabel

        parts = [w.text() for w in self.page.findChildren(QLabel) if w.isVisible()]
        parts += [w.text() for w in self.page.findChildren(QAbstractButton) if w.isVisible()]
        return "\n".join(p for p in parts if p)


def type_text(widget: QWidget, text: str) -> None:
    """Type ``text`` into ``widget`` key by key, as a keyboard (or an input method) would.

    ``qtbot.keyClicks`` cannot type Chinese: QTest maps each character to a key code and
    aborts the process on characters outside Latin-1. A key event that carries the text works
    for every character and emits ``textEdited`` like real typing.
    """
    from PyQt6.QtCore import QEvent, Qt
    from PyQt6.QtGui import QKeyEvent
    from PyQt6.QtWidgets import QApplication

    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(
                widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch)
            )


def scan_code(qtbot: Any, window: MainWindow, code: str,
              timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """Show a QR ``code`` to the window's scanner and wait until the applicant is identified.

    Get a code for a sandbox citizen with ``sandbox.issue_code(id_number)[0]``. Scanning
    closes open pages (they belonged to the previous applicant): open your page afterwards.
    """
    core = window.core
    window.code_scanned(code)
    qtbot.waitUntil(lambda: core.sessions.applicant is not None, timeout=timeout_ms)


@pytest.fixture
def open_page(qtbot: Any, core: Workstation, workstation_window: Callable[..., MainWindow]
              ) -> Callable[..., PageDriver]:
    """``open_page("my_scenario", kiosk=False, core=None) -> PageDriver``: click the
    scenario's tile in a real shell and return a driver for the page it opens.

    A kiosk page needs a kiosk core: ``open_page("s", kiosk=True, core=make_core(mode="kiosk"))``.
    A page that fails to build fails the test with the error the shell would show.
    """
    from PyQt6.QtCore import Qt

    from workstation.ui.main_window import FailedPage

    default_core = core

    def open_(scenario_id: str, *, kiosk: bool = False,
              core: Workstation | None = None) -> PageDriver:
        target = core if core is not None else default_core
        _scenario_or_fail(target, scenario_id)
        win = workstation_window(target, kiosk=kiosk)
        tile = win.launcher.tiles.get(scenario_id)
        if tile is None:
            where = "kiosk" if kiosk else "clerk"
            pytest.fail(f"no tile for {scenario_id!r} on a {where} workstation: check the "
                        "manifest's audiences", pytrace=False)
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
        page = win.stack.currentWidget()
        if isinstance(page, FailedPage) or page is None:
            pytest.fail(f"the page of {scenario_id!r} failed to build: {tile.toolTip()}",
                        pytrace=False)
        return PageDriver(qtbot=qtbot, window=win, page=page, core=target)

    return open_


# -- discovery --------------------------------------------------------------------------------


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> Iterator[Callable[[str, str, str], None]]:
    """``fake_distribution(dist, plugin_name, source)``: a package installed the way pip would
    (module ``<dist>_plugin`` + a dist-info with a ``mianzheng.plugins`` entry point) on
    sys.path for this test, so ``load_plugins()`` discovers it."""
    from workstation.hookspecs import ENTRY_POINT_GROUP

    modules: list[str] = []

    def install(dist: str, plugin_name: str, source: str) -> None:
        module = f"{dist}_plugin"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = tmp_path / f"{dist}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(
            f"[{ENTRY_POINT_GROUP}]\n{plugin_name} = {module}\n"
        )
        modules.append(module)
        importlib.invalidate_caches()

    monkeypatch.syspath_prepend(str(tmp_path))
    yield install
    for name in modules:
        sys.modules.pop(name, None)
