"""S7/S8 (medical_insurance) figure for ``make bench``.

- kiosk_login_to_first_page_medical_insurance_p95_ms: on the kiosk, with the 医保自助服务 page
  showing its sign-in prompt, from the e-voucher scanned (``window.code_scanned``: the wedge and
  serial entry) to the first data page shown (insured status, account and settlements on
  screen): offline signature check, online resolution, session start, the fresh page, the
  platform query. The sandbox runs as a separate process on loopback. Target: at most 300 ms.

Prints nothing personal.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_APP: Any = None
SOURCES = ("hubei_mi_official_account", "my_mi_voucher", "alipay", "nhsa_app")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench(runs: int = 40) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import httpx
    from PyQt6.QtCore import QCoreApplication, QEvent
    from PyQt6.QtWidgets import QApplication

    from workstation.config import Config, PlatformConfig
    from workstation.core import Workstation
    from workstation.embedded import EmbeddedSandbox
    from workstation.plugins import load_plugins
    from workstation.ui.main_window import MainWindow
    from workstation.ui.theme import apply_theme

    def wait(cond: Any, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            QCoreApplication.processEvents()
            if time.monotonic() > deadline:
                raise TimeoutError("medical insurance step did not finish")

    global _APP
    app = QApplication.instance() or QApplication(sys.argv[:1])
    _APP = app  # outlives the widgets (destroying it first crashes at exit)
    apply_theme(app, kiosk=True)
    times: list[float] = []
    with EmbeddedSandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        people = httpx.get(f"{sandbox.url}/sandbox/people",
                           params={"limit": 20, "kind": "person"}).json()["holders"]
        cfg = Config(data_dir=Path(tmp), mode="kiosk",
                     platform=PlatformConfig(base_url=sandbox.url, health_interval_s=3600))
        core = Workstation(cfg, sandbox.url, load_plugins())
        win = MainWindow(kiosk=True)
        win.resize(1920, 1080)
        win.show()
        win.attach(core)
        win.idle.stop()

        def first_page_shown() -> bool:
            page: Any = win.stack.currentWidget()
            return (getattr(page, "overview", None) is not None and not page.is_busy
                    and page.stack.currentWidget() is page.overview_view)

        for i in range(runs + 3):  # the first runs warm imports and connections
            person = people[i % len(people)]
            win.open_scenario("medical_insurance")
            code = core.platform.issue_code(person["holder_id"], "mi_voucher",
                                            SOURCES[i % len(SOURCES)]).code
            QCoreApplication.processEvents()
            t0 = time.perf_counter()
            win.code_scanned(code)
            wait(first_page_shown)
            QCoreApplication.processEvents()  # the repaint of the shown page
            if i >= 3:
                times.append((time.perf_counter() - t0) * 1000)
            win.end_session("finished")
            wait(lambda: core.sessions.current is None)
        win.close()
        core.close()
        win.deleteLater()  # destroyed now, while the QApplication exists
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        QCoreApplication.processEvents()
    return {"kiosk_login_to_first_page_medical_insurance_p95_ms": round(_p95(times), 1),
            "kiosk_login_to_first_page_medical_insurance_median_ms":
                round(sorted(times)[len(times) // 2], 1)}


if __name__ == "__main__":
    print(bench())
