"""S12/S13 figures (gas and water connection), against the sandbox on loopback, real database.

- utility_submit_p95_ms: 下一步 → the utility's application number: record, outbox item, HTTP
  POST to the utility (idempotent), reply stored (30 applications).
- utility_progress_p95_ms: the progress screen's query for an applicant with 6 applications at
  both utilities (gas and water), pending ones refreshed first.
- utility_draft_roundtrip_p95_ms: 暂存 (encrypted record) and the restore on the next sign-in.
- utility_outbox_recovery_ms_median: the platform answers again → the pending application is
  sent and has its number (``refresh_pending``), 10 runs.
- utility_receipt_render_warm_ms_median: the 受理回执 (A4, one page) rendered warm, 20 runs.

Nothing personal is printed: the figures only.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def bench() -> dict[str, Any]:
    from plugins.utility_connection import service
    from plugins.utility_connection.forms import GAS, RESIDENTIAL, WATER, validate_form
    from plugins.utility_connection.printout import render_receipt, sample_receipt
    from sandbox.server import SandboxServer
    from workstation.config import Config, PlatformConfig
    from workstation.core import Workstation
    from workstation.plugins import load_plugins

    server = SandboxServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Config(data_dir=Path(tmp), demo_operator=True,
                         platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
            core = Workstation(cfg, server.url, load_plugins())
            try:
                water = core.context_for(core.plugins.scenario("water_connection"))
                gas = core.context_for(core.plugins.scenario("gas_connection"))
                people = [server.world.sample_person(i) for i in range(2, 40)]

                def form(utility: Any, person: Any) -> dict[str, Any]:
                    values = {
                        "region": utility.fields(RESIDENTIAL)[0].choices[0],
                        "owner_name": person.name, "owner_id": person.id_number,
                        "address": "湖北省赤壁市蒲圻街道河北社区东风路9号9栋3单元601室",
                        "community": "河北社区", "phone": "13972601234", "people": "3",
                        "volume": "20", "appliances": ["燃气灶"], "reason": "首次报装"}
                    return validate_form(utility, RESIDENTIAL, values)

                submit: list[float] = []
                for i in range(30):
                    person = people[i % 5]
                    ctx, utility = (water, WATER) if i % 2 else (gas, GAS)
                    started = time.perf_counter()
                    sub = service.submit(ctx, utility, RESIDENTIAL, form(utility, person),
                                         holder_id=person.id_number, licences_used=[],
                                         client_ref=service.new_client_ref(ctx, utility))
                    submit.append(_ms(started))
                    assert not sub.pending
                progress: list[float] = []
                for i in range(30):
                    started = time.perf_counter()
                    rows = service.progress(water, people[i % 5].id_number).rows
                    progress.append(_ms(started))
                    assert len(rows) == 6
                drafts: list[float] = []
                for i in range(30):
                    person = people[10 + i % 5]
                    started = time.perf_counter()
                    service.save_draft(water, person.id_number, RESIDENTIAL, {"phone": "139"})
                    assert service.load_draft(water, person.id_number) is not None
                    drafts.append(_ms(started))
                recovery: list[float] = []
                for i in range(10):
                    person = people[20 + i]
                    ref = service.new_client_ref(water, WATER)
                    server.faults.update({"down": True})
                    pending = service.submit(water, WATER, RESIDENTIAL, form(WATER, person),
                                             holder_id=person.id_number, licences_used=[],
                                             client_ref=ref)
                    assert pending.pending
                    server.faults.update({"down": False})
                    core.outbox.release(f"water:{ref}")
                    started = time.perf_counter()
                    [done] = service.refresh_pending(water, person.id_number)
                    recovery.append(_ms(started))
                    assert not done.pending
            finally:
                core.close()
        data = sample_receipt(WATER)
        render_receipt(data)
        renders = []
        for _ in range(20):
            started = time.perf_counter()
            render_receipt(data)
            renders.append(_ms(started))
    finally:
        server.stop()
    return {
        "utility_submit_p95_ms": _p95(submit),
        "utility_progress_p95_ms": _p95(progress),
        "utility_draft_roundtrip_p95_ms": _p95(drafts),
        "utility_outbox_recovery_ms_median": round(statistics.median(recovery), 1),
        "utility_receipt_render_warm_ms_median": round(statistics.median(renders), 1),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(bench(), ensure_ascii=False, indent=2))
