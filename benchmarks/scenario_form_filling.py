"""S3 电子填单 figure for `make bench`.

- kiosk_login_to_first_page_form_filling_p95_ms: on a kiosk showing the 电子填单 sign-in
  prompt, from the 鄂汇办 code handed over by the scanner (``window.code_scanned``) to the
  form list shown for the citizen (code verified and resolved by the sandbox over loopback,
  session begun, fresh page built, the citizen's earlier forms read from the encrypted records,
  list painted). Half the citizens have an earlier form on record. Target <= 300 ms.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench(runs: int = 30) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import httpx
    from PyQt6.QtCore import QCoreApplication
    from PyQt6.QtWidgets import QApplication

    from plugins.form_filling.logic import form_by_code, submit
    from plugins.form_filling.page import FormFillingPage
    from workstation.api import Applicant, HolderKind, IdentifiedBy
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
                raise TimeoutError("form list did not show")

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, kiosk=True)
    times: list[float] = []
    with EmbeddedSandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        people = httpx.get(f"{sandbox.url}/sandbox/people",
                           params={"limit": runs, "kind": "person"}).json()["holders"]
        cfg = Config(data_dir=Path(tmp), mode="kiosk",
                     platform=PlatformConfig(base_url=sandbox.url, health_interval_s=3600))
        core = Workstation(cfg, sandbox.url, load_plugins())
        ctx = core.context_for(core.plugins.scenario("form_filling"))
        form = form_by_code("CB-RS-SB01")
        for person in people[::2]:  # an earlier form on record for half of them
            applicant = Applicant(HolderKind.PERSON, person["holder_id"], person["name"],
                                  IdentifiedBy.CODE)
            info_sex = "男" if int(person["holder_id"][16]) % 2 else "女"
            birth = person["holder_id"][6:14]
            submit(ctx, applicant, form, {
                "name": person["name"], "id_number": person["holder_id"], "sex": info_sex,
                "nation": "汉族", "birth_date": f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
                "hukou_type": "农业户口", "hukou_address": "湖北省赤壁市蒲圻街道河北社区1号",
                "phone": "13972581234", "address": "湖北省赤壁市蒲圻街道河北社区1号",
                "register_kind": "城乡居民", "start_date": dt.date.today().isoformat()})
        win = MainWindow(kiosk=True)
        win.resize(1920, 1080)
        win.show()
        win.attach(core)
        win.idle.stop()
        for i in range(runs):
            person = people[i % len(people)]
            win.open_scenario("form_filling")
            code = core.platform.issue_code(person["holder_id"]).code
            QCoreApplication.processEvents()
            t0 = time.perf_counter()
            win.code_scanned(code)

            def shown() -> bool:
                page = win.stack.currentWidget()
                return isinstance(page, FormFillingPage) and page.applicant is not None \
                    and page.steps.currentWidget() is page.list_step and not page.is_busy

            wait(shown)
            QCoreApplication.processEvents()  # the repaint of the list
            times.append((time.perf_counter() - t0) * 1000)
            win.end_session("finished")
            wait(lambda: not win.pages)
        win.close()
        core.close()
    return {"kiosk_login_to_first_page_form_filling_p95_ms": round(_p95(times), 1),
            "kiosk_login_to_first_page_form_filling_median_ms":
                round(sorted(times)[len(times) // 2], 1)}


if __name__ == "__main__":
    print(bench())
