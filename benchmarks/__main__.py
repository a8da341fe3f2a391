"""`make bench`: measure the figures the issues name and write benchmarks/results/latest.json.

Figures (flat JSON object):
- startup_wall_ms_median, startup_rss_mib: a fresh `mianzheng run` process to first paint with
  all built-in plugins (median of 5, sandbox already running); startup_bare_qt_wall_ms_median:
  a bare PyQt6 window with 10 widgets in the same run; startup_ratio = the two medians' ratio.
- cache_lookup_p95_ms: licence cache lookup by holder with 100,000 cached licences (SQLite).
- intake_fetch_p95_ms: S2 from "fetch" (the applicant's consent) to licences shown, against the
  sandbox (a separate process) on loopback.
- policy_evaluate_p95_ms: S11 facts built and 20 policies evaluated for an enterprise with 500
  employees hired this year (target at most 50 ms).
- print_render_warm_ms_max: the slowest built-in template's warm median of 20 renders (with a
  verification stamp); print_render_warm_ms_per_page_max: the same per page (target at most
  60 ms per A4 page); print_render_warm_ms_<template>: each template's median.
- print_first_render_ms: a fresh process rendering the material list, from before the import of
  the printing package to the bytes (imports and font registration included), median of 5.
- print_kb_per_page_max: the largest PDF size per page over the templates (without photos).
- print_submit_to_completed_ms_median: a private cupsd with a PDF file queue, from submit
  (pre-flight included) to the job's completed state, median of 20.
- qr_chain_rate, qr_best_single_rate, qr_chain_median_ms_720p, qr_zxing_* / qr_zbar_* and
  qr_candidates (every candidate chain): decoders over 1,100 generated frames, see
  benchmarks/qr.py.
- card_read_p95_ms, card_insert_to_applicant_p95_ms: the card path on a private pcscd + vpcd +
  virtual card, see benchmarks/cards.py.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _first_paint(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall ms from spawn to the child's first-paint line, and the child's peak RSS in MiB."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    wall = None
    for line in proc.stdout:
        if line.startswith("first_paint_ms="):
            wall = (time.perf_counter() - started) * 1000
            break
    proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if wall is None:
        raise RuntimeError(f"{cmd} never painted (exit {proc.returncode})")
    return wall, usage.ru_maxrss / 1024


def bench_startup(sandbox_url: str, runs: int = 5) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MIANZHENG_EXIT_AFTER_FIRST_PAINT="1")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "ws.toml"
        cfg.write_text(
            f'data_dir = "{tmp}/data"\n[platform]\nbase_url = "{sandbox_url}"\n', encoding="utf-8"
        )
        exe = str(Path(sys.executable).parent / "mianzheng")
        app_cmd = [exe, "run", "--config", str(cfg)]
        bare_cmd = [sys.executable, str(ROOT / "benchmarks" / "bare_qt.py")]
        _first_paint(app_cmd, env)  # first run creates the database and key file
        _first_paint(bare_cmd, env)
        app, bare, rss = [], [], []
        for _ in range(runs):  # interleaved, so both see the same machine state
            wall, peak = _first_paint(app_cmd, env)
            app.append(wall)
            rss.append(peak)
            bare.append(_first_paint(bare_cmd, env)[0])
    app_median, bare_median = statistics.median(app), statistics.median(bare)
    return {
        "startup_wall_ms_median": round(app_median, 1),
        "startup_rss_mib": round(statistics.median(rss), 1),
        "startup_bare_qt_wall_ms_median": round(bare_median, 1),
        "startup_ratio": round(app_median / bare_median, 2),
    }


def bench_cache_lookup(rows: int = 100_000, lookups: int = 2000) -> dict[str, float]:
    from workstation.services.crypto import FieldCipher
    from workstation.services.identity import id_check_char
    from workstation.services.licence_ids import make_licence_id
    from workstation.services.licences import LicenceCache
    from workstation.services.model import LICENCE_TYPES, HolderKind, Licence
    from workstation.services.store import Store

    rng = random.Random(7)
    person_types = [t for t in LICENCE_TYPES.values() if t.holder_kind is HolderKind.PERSON]
    issuer = "11421281MB0000000X"
    from workstation.services.identity import credit_check_char

    issuer = issuer[:17] + credit_check_char(issuer[:17])
    with tempfile.TemporaryDirectory() as tmp:
        cipher = FieldCipher.from_key_file(Path(tmp) / "keys.json")
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        now = dt.datetime.now(dt.UTC)
        cache = LicenceCache(store, cipher, clock=lambda: now)
        holders: list[str] = []
        batch: list[tuple[Licence, str | None, dt.datetime]] = []
        serial = 0
        while serial < rows:
            body = f"421281{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}" \
                   f"{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
            holder = body + id_check_char(body)
            holders.append(holder)
            for t in person_types:
                serial += 1
                batch.append((Licence(
                    licence_id=make_licence_id(t.type_code, issuer, serial), type_key=t.key,
                    holder_kind=HolderKind.PERSON, holder_id=holder, holder_name="测试人员",
                    issuer="赤壁市公安局", issuer_code=issuer, issued_on=dt.date(2020, 1, 1),
                    valid_from=dt.date(2020, 1, 1), valid_until=None,
                    fields={"姓名": "测试人员", "公民身份号码": holder, "住址": "湖北省赤壁市"},
                ), None, now))
            if len(batch) >= 5000:
                cache.put_many(batch)
                batch.clear()
        if batch:
            cache.put_many(batch)
        times = []
        for holder in rng.sample(holders, min(lookups, len(holders))):
            t0 = time.perf_counter()
            found = cache.lookup(holder, ["id_card", "marriage_cert"])
            times.append((time.perf_counter() - t0) * 1000)
            assert found, "cached licences must be found"
        store.close()
    return {"cache_lookup_p95_ms": round(p95(times), 3),
            "cache_lookup_median_ms": round(statistics.median(times), 3),
            "cache_rows": rows}


def bench_intake_fetch(runs: int = 30) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import httpx
    from PyQt6.QtCore import QCoreApplication
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
                raise TimeoutError("intake step did not finish")

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, kiosk=False)
    times = []
    with EmbeddedSandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        people = httpx.get(f"{sandbox.url}/sandbox/people",
                           params={"limit": runs, "kind": "person"}).json()["holders"]
        cfg = Config(data_dir=Path(tmp), demo_operator=True,
                     platform=PlatformConfig(base_url=sandbox.url,
                                                                 health_interval_s=3600))
        core = Workstation(cfg, sandbox.url, load_plugins())
        core.sign_in("demo", "demo1234")
        win = MainWindow(kiosk=False)
        win.resize(1280, 800)
        win.show()
        win.attach(core)
        for i in range(runs):
            person = people[i % len(people)]
            win.open_scenario("unified_intake")
            page: Any = win.stack.currentWidget()
            page.name_field.edit.setText(person["name"])
            page.id_field.edit.setText(person["holder_id"])
            page.matter_combo.setCurrentIndex(page.matter_combo.findData("CB-BDC-003"))
            page.submit_button.click()
            wait(lambda page=page: page.consent_panel.isVisible())
            t0 = time.perf_counter()
            page.consent_panel.accept_button.click()
            wait(lambda page=page: page.results.isVisible() and page.table.rowCount() > 0)
            QCoreApplication.processEvents()  # the repaint of the shown table
            times.append((time.perf_counter() - t0) * 1000)
            win.end_session("finished")
            wait(lambda: not win.pages)
        win.close()
        core.close()
    return {"intake_fetch_p95_ms": round(p95(times), 1),
            "intake_fetch_median_ms": round(statistics.median(times), 1)}


def bench_policy_evaluate(runs: int = 200) -> dict[str, float]:
    """S11: one enterprise with 500 employees hired this year against 20 policies."""
    from plugins.policy_match.rules import (
        enterprise_facts,
        evaluate,
        load_policies,
        policy_from_dict,
    )

    rng = random.Random(7)
    base = load_policies()
    policies = list(base)
    while len(policies) < 20:  # copies of the shipped policies under new ids
        src = base[len(policies) % len(base)]
        policies.append(policy_from_dict({
            "id": f"{src.id}_{len(policies)}", "name": src.name, "conditions": [
                {"label": c.label, "fact": c.fact, "op": c.op, "value": c.value,
                 "value_fact": c.value_fact} for c in src.conditions],
            "person_conditions": [
                {"label": c.label, "fact": c.fact, "op": c.op, "value": c.value,
                 "value_fact": c.value_fact} for c in src.person_conditions],
            "amount_per_person": src.amount_per_person, "amount_fixed": src.amount_fixed,
        }))
    employees = []
    for i in range(500):
        hired = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 320))
        employees.append({
            "employee_ref": f"E{i:04d}", "hired_on": hired.isoformat(),
            "graduation_year": rng.choice((2026, 2025, 2024, None)), "education": "本科",
            "hardship": rng.random() < 0.1, "veteran": rng.random() < 0.1,
            "contract": {"signed_on": hired.isoformat(), "type": "固定期限", "term_months": 36}
            if rng.random() < 0.9 else None,
            "unemployment_insurance_months": [f"2026-{m:02d}" for m in range(hired.month, 12)],
        })
    employment = {"headcount": 800, "insured_headcount_last_year": 700,
                  "separations_last_year": 20, "unemployment_insurance_paid_months_last_year": 12,
                  "enterprise": {"founded_on": "2024-05-01", "industry_code": "C1530",
                                 "registered_capital_wan": 500}, "employees": employees}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        facts = enterprise_facts(employment, licence_valid=True)  # facts are built per request
        evaluate(policies, facts, dt.date(2026, 11, 27))
        times.append((time.perf_counter() - t0) * 1000)
    return {"policy_evaluate_p95_ms": round(p95(times), 2),
            "policy_evaluate_median_ms": round(statistics.median(times), 2)}


def bench_print_render(runs: int = 20) -> dict[str, Any]:
    import io

    import pypdf

    from plugins.documents import register_print_templates
    from printing.authenticity import DocumentStamp
    from printing.licence_copy import sample_licence_copy

    stamp = DocumentStamp.sample()
    out: dict[str, Any] = {}
    per_page: dict[str, float] = {}
    medians: dict[str, float] = {}
    kb_per_page: dict[str, float] = {}
    for t in register_print_templates():
        data = t.sample()
        t.render(data, stamp=stamp)  # warm: fonts, styles, glyph tables
        times, pdf = [], b""
        for _ in range(runs):
            t0 = time.perf_counter()
            pdf = t.render(data, stamp=stamp)
            times.append((time.perf_counter() - t0) * 1000)
        pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        medians[t.key] = statistics.median(times)
        per_page[t.key] = medians[t.key] / pages
        out[f"print_render_warm_ms_{t.key}"] = round(medians[t.key], 1)
        if t.key == "licence_copy":  # size without the photo
            pdf = t.render(sample_licence_copy(with_image=False), stamp=stamp)
        kb_per_page[t.key] = len(pdf) / 1024 / pages
    slowest = max(medians, key=lambda k: medians[k])
    out.update({
        "print_render_warm_ms_max": round(medians[slowest], 1),
        "print_render_warm_slowest": slowest,
        "print_render_warm_ms_per_page_max": round(max(per_page.values()), 1),
        "print_kb_per_page_max": round(max(kb_per_page.values()), 1),
        "print_kb_per_page_largest": max(kb_per_page, key=lambda k: kb_per_page[k]),
    })
    return out


_FIRST_RENDER = """
import time
t0 = time.perf_counter()
from printing.material_list import render_material_list, sample_material_list
pdf = render_material_list(sample_material_list())
print(f"first_render_ms={(time.perf_counter() - t0) * 1000:.1f}")
"""


def bench_print_first_render(runs: int = 5) -> dict[str, float]:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _FIRST_RENDER], capture_output=True,
                             text=True, check=True, cwd=ROOT).stdout
        times.append(float(out.strip().rsplit("=", 1)[1]))
    return {"print_first_render_ms": round(statistics.median(times), 1)}


def bench_print_submit(runs: int = 20) -> dict[str, float]:
    from printing.material_list import render_material_list, sample_material_list
    from printing.queue import JobState, PrintQueue
    from tests.helpers.cups_fixtures import start_private_cups

    pdf = render_material_list(sample_material_list())
    times = []
    with start_private_cups() as cups:
        name, _ = cups.add_file_queue()
        queue = PrintQueue({"A4": name}, server=cups.socket, poll_interval_s=0.005)
        for i in range(runs + 1):
            t0 = time.perf_counter()
            job = queue.submit(name, pdf, title="申请材料清单", key=f"BENCH-{i}")
            final = queue.follow(job, timeout_s=30)
            elapsed = (time.perf_counter() - t0) * 1000
            if final.state is not JobState.COMPLETED:
                raise RuntimeError(f"benchmark job ended {final.state}")
            if i:  # the first job also starts the scheduler's filter chain cold
                times.append(elapsed)
    return {"print_submit_to_completed_ms_median": round(statistics.median(times), 1)}


def scenario_benchmarks() -> list[str]:
    """The scenario plugins' benchmark modules: ``benchmarks/scenario_*.py``, each with a
    ``bench() -> dict`` returning its named figures."""
    return sorted(p.stem for p in (ROOT / "benchmarks").glob("scenario_*.py"))


def main() -> int:
    from workstation.embedded import EmbeddedSandbox

    results: dict[str, Any] = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
    }
    with EmbeddedSandbox() as sandbox:
        results.update(bench_startup(sandbox.url))
    print(json.dumps(results, ensure_ascii=False), flush=True)
    results.update(bench_cache_lookup())
    print(json.dumps(results, ensure_ascii=False), flush=True)
    results.update(bench_intake_fetch())
    results.update(bench_policy_evaluate())
    results.update(bench_print_render())
    results.update(bench_print_first_render())
    results.update(bench_print_submit())
    print(json.dumps(results, ensure_ascii=False), flush=True)
    from benchmarks.cards import bench_cards
    from benchmarks.qr import bench_qr

    results.update(bench_cards())
    print(json.dumps(results, ensure_ascii=False), flush=True)
    results.update(bench_qr())
    for name in scenario_benchmarks():
        print(f"benchmark {name} ...", flush=True)
        results.update(importlib.import_module(f"benchmarks.{name}").bench())
        print(json.dumps(results, ensure_ascii=False), flush=True)
    # issue #5's figure: code scanned → first data page, the worst of the kiosk scenarios
    kiosk = {k: v for k, v in results.items()
             if k.startswith("kiosk_login_to_first_page_") and k.endswith("_p95_ms")}
    if kiosk:
        results["kiosk_login_to_first_page_p95_ms"] = max(kiosk.values())
        results["kiosk_login_to_first_page_p95_worst"] = max(kiosk, key=lambda k: kiosk[k])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
