"""Card benchmarks on the real PC/SC stack: a private pcscd, vpcd and the virtual card process.

- card_read_p95_ms: ``PcscCardReader.read_identity()`` with the card in the reader: PC/SC
  context, connect, SELECT DF, EF05 and EF06 with 10 READ RECORDs, disconnect.
- card_insert_to_applicant_p95_ms: from the virtual card connecting to vpcd (insertion) to the
  kiosk's applicant panel showing the holder; dominated by pcscd's polling of the reader
  (every ~400 ms), so insertions are spread over the polling cycle (random pause before each).

Must run before anything else in the process talks to PC/SC (``PCSCLITE_CSOCK_NAME`` is read
once per process).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench_cards(reads: int = 300, inserts: int = 30) -> dict[str, Any]:
    from devices.cards.pcsc import PcscCardReader
    from devices.cards.pcscd import PrivatePcscd, reader_names
    from devices.cards.simulated import SocialSecurityCardProfile
    from devices.cards.virtual_card import VirtualCardProcess
    from sandbox.cards import card_data_for
    from sandbox.world import build_world

    world = build_world()
    people = [SocialSecurityCardProfile.from_json(card_data_for(c.id_number, world))
              for c in world.sample_people[:inserts]]
    reader_name = reader_names(0)[0]
    with PrivatePcscd() as pcscd:
        pcscd.export_socket()
        with VirtualCardProcess(pcscd.ports[0], pcscd.base_dir / "card.sock") as card:
            reader = PcscCardReader(reader_name)
            card.control.insert(people[0])
            reader.wait_for_identity(15)  # pcscd has seen the card
            times = []
            for _ in range(reads):
                t0 = time.perf_counter()
                data = reader.read_identity()
                times.append((time.perf_counter() - t0) * 1000)
                assert data.ssn == people[0].ssn
            card.control.remove()
            result = {
                "card_read_p95_ms": round(_p95(times), 2),
                "card_read_median_ms": round(statistics.median(times), 2),
                "card_read_apdus": 13,
            }
            result.update(_insert_to_applicant(card.control, reader_name, people))
    return result


def _insert_to_applicant(control: Any, reader_name: str, people: list[Any]) -> dict[str, Any]:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QCoreApplication
    from PyQt6.QtWidgets import QApplication

    from devices.cards.pcsc import PcscCardReader
    from workstation.config import Config, PlatformConfig
    from workstation.core import Workstation
    from workstation.embedded import EmbeddedSandbox
    from workstation.plugins import load_plugins
    from workstation.services.identity import mask_id_number
    from workstation.ui.main_window import MainWindow
    from workstation.ui.theme import apply_theme

    def wait(cond: Any, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            QCoreApplication.processEvents()
            if time.monotonic() > deadline:
                raise TimeoutError("card step did not finish")

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, kiosk=True)
    times: list[float] = []
    with EmbeddedSandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        cfg = Config(data_dir=Path(tmp), mode="kiosk",
                     platform=PlatformConfig(base_url=sandbox.url, health_interval_s=3600))
        core = Workstation(cfg, sandbox.url, load_plugins())
        win = MainWindow(kiosk=True)
        win.resize(1280, 800)
        win.show()
        win.attach(core)
        win.attach_card_reader(PcscCardReader(reader_name))
        wait(lambda: "就绪" in win.reader_label.text())
        rng = random.Random(5)
        for person in people:
            # A citizen inserts at any moment of pcscd's ~400 ms polling cycle; right after
            # the previous removal was seen would always be just after a poll (worst case).
            time.sleep(rng.uniform(0.0, 0.45))
            t0 = time.perf_counter()
            control.insert(person)
            # the kiosk shows the masked ID number once the panel is filled
            wait(lambda p=person: mask_id_number(p.ssn) in win.applicant_panel.who.text())
            QCoreApplication.processEvents()  # the repaint of the filled panel
            times.append((time.perf_counter() - t0) * 1000)
            control.remove()
            wait(lambda: core.sessions.current is None and "就绪" in win.reader_label.text())
        win.detach_card_reader()
        win.idle.stop()
        win.close()
        core.close()
    apply_theme(app, kiosk=False)
    return {"card_insert_to_applicant_p95_ms": round(_p95(times), 1),
            "card_insert_to_applicant_median_ms": round(statistics.median(times), 1),
            "card_inserts": len(times)}


if __name__ == "__main__":
    import json

    print(json.dumps(bench_cards(), ensure_ascii=False, indent=2))
