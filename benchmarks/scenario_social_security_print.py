"""S6 社保自助查询打印: from the electronic social security card code being scanned at the kiosk
to the scenario's first data page (the insured summary) shown, with the sandbox in its own
process on loopback.

Figures:
- kiosk_login_to_first_page_social_security_print_p95_ms (target at most 300 ms) and
  _median_ms: `code_scanned` on the kiosk's sign-in prompt → code verified offline and
  resolved by the platform → session → fresh page → summary fetched from the social security
  platform → query view painted. `make bench` reports the worst of the kiosk scenarios as
  kiosk_login_to_first_page_p95_ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUNS = 40


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench(runs: int = RUNS) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QCoreApplication, QEvent, QEventLoop
    from PyQt6.QtWidgets import QApplication

    from plugins.social_security_print.page import SocialSecurityPage
    from sandbox.social_security import _insured_place, history_of
    from sandbox.world import build_world
    from workstation.config import Config, PlatformConfig
    from workstation.core import Workstation
    from workstation.embedded import EmbeddedSandbox
    from workstation.plugins import load_plugins
    from workstation.services.platform import PlatformClient
    from workstation.ui.main_window import MainWindow
    from workstation.ui.theme import apply_theme

    def wait(cond: Any, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 2)
            if time.monotonic() > deadline:
                raise TimeoutError("the S6 first page never showed")

    # citizens with a record here (the sandbox process derives the same world from the seed)
    world = build_world()
    holders = [c.id_number for c in world.citizens
               if history_of(world.seed, c, world.as_of, _insured_place(c.place_code))][:runs]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, kiosk=True)
    times: list[float] = []
    with EmbeddedSandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        cfg = Config(data_dir=Path(tmp), mode="kiosk",
                     platform=PlatformConfig(base_url=sandbox.url, health_interval_s=3600))
        core = Workstation(cfg, sandbox.url, load_plugins())
        issuer = PlatformClient(sandbox.url, "ws-demo", "sandbox-secret")
        win = MainWindow(kiosk=True)
        win.resize(1920, 1080)
        win.show()
        win.attach(core)
        wait(lambda: "social_security_print" in win.launcher.tiles)

        def shown() -> bool:
            page = win.stack.currentWidget()
            return (isinstance(page, SocialSecurityPage) and page.applicant is not None
                    and page.stack.currentWidget() is page.query_view
                    and page.summary is not None and not page.busy.isVisible())

        try:
            for i in range(runs + 3):  # three warm-up rounds
                win.open_scenario("social_security_print")
                code = issuer.issue_code(holders[i % len(holders)], kind="essc").code
                started = time.perf_counter()
                win.code_scanned(code)
                wait(shown)
                win.repaint()  # the first data page painted
                elapsed = (time.perf_counter() - started) * 1000
                if i >= 3:
                    times.append(elapsed)
                win.end_session("finished")
                wait(lambda: core.sessions.current is None)
        finally:
            issuer.close()
            win.idle.stop()
            win.stop_scanners()
            win.close()
            core.close()
            # destroy the widgets while the QApplication still exists (the other order
            # crashes at interpreter exit)
            win.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            QCoreApplication.processEvents()
    return {
        "kiosk_login_to_first_page_social_security_print_p95_ms": round(_p95(times), 1),
        "kiosk_login_to_first_page_social_security_print_median_ms":
            round(statistics.median(times), 1),
    }


if __name__ == "__main__":
    print(bench())
