"""QR decoder benchmark: each decoder alone, candidate chains, and the default chain.

Over a generated corpus (devices.qr.corpus: 640×480 and 1280×720, every degradation, ~9%
frames without a code). Each decoder and each pre-processing step runs once per frame and is
timed; candidate chains are then scored from those results (a chain's time on a frame = the
times of the steps it ran until its first hit), and the default chain is also timed for real.
A decode counts only when its bytes equal the payload; any payload on a frame without a code,
or a wrong payload, is a false decode.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _timed(fn: Callable[[], list[bytes]]) -> tuple[list[bytes], float]:
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000


CANDIDATES: dict[str, tuple[str, ...]] = {
    "zxing": ("zxing",),
    "zbar": ("zbar",),
    "zxing>zbar": ("zxing", "zbar"),
    "zxing>zbar>downscale": ("zxing", "zbar", "downscale"),
    "zxing>zbar>sharpen": ("zxing", "zbar", "sharpen"),
    "zxing>zbar>equalize": ("zxing", "zbar", "equalize"),
    "zxing>zbar>downscale>sharpen": ("zxing", "zbar", "downscale", "sharpen"),
    "zxing>zbar>sharpen>downscale": ("zxing", "zbar", "sharpen", "downscale"),
    "zxing>downscale>zbar": ("zxing", "downscale", "zbar"),
}


def bench_qr(frames: int = 1100, seed: int = 7) -> dict[str, Any]:
    from devices.qr.corpus import corpus
    from devices.qr.decoders import (
        PREPROCESSORS,
        DecoderChain,
        ZbarDecoder,
        ZxingDecoder,
        to_gray,
    )

    zx, zb = ZxingDecoder(), ZbarDecoder()
    rows: list[dict[str, Any]] = []
    t_gen = 0.0
    it = corpus(frames, seed=seed)
    while True:
        t0 = time.perf_counter()
        frame = next(it, None)
        t_gen += time.perf_counter() - t0
        if frame is None:
            break
        gray = to_gray(frame.image)
        row: dict[str, Any] = {"payload": frame.payload, "kind": frame.degradation,
                               "w": frame.size[0]}
        row["zxing"] = _timed(lambda g=gray: zx.decode(g))
        row["zbar"] = _timed(lambda g=gray: zb.decode(g))
        if not row["zxing"][0] or frame.payload is None:
            for name, step in PREPROCESSORS.items():
                row[name] = _timed(lambda g=gray, s=step: zx.decode(s(g)))
        rows.append(row)

    def score(steps: tuple[str, ...]) -> dict[str, Any]:
        hits = false = 0
        ms_720: list[float] = []
        by_kind: dict[str, list[int]] = {}
        for row in rows:
            spent = 0.0
            found: bytes | None = None
            for step in steps:
                result, ms = row.get(step, ([], 0.0))
                spent += ms
                if result:
                    found = result[0]
                    break
            if row["w"] == 1280:
                ms_720.append(spent)
            if row["payload"] is None:
                false += found is not None
                continue
            ok = found == row["payload"]
            false += found is not None and not ok
            hits += ok
            by_kind.setdefault(row["kind"], []).append(int(ok))
        n_code = sum(r["payload"] is not None for r in rows)
        return {"rate": round(hits / n_code, 4), "false": false,
                "median_ms_720p": round(statistics.median(ms_720), 2),
                "p95_ms_720p": round(_p(ms_720, 0.95), 2),
                "by_degradation": {k: round(sum(v) / len(v), 3) for k, v in by_kind.items()}}

    scores = {name: score(steps) for name, steps in CANDIDATES.items()}
    empty_ms = {d: round(statistics.median([r[d][1] for r in rows if r["payload"] is None]), 2)
                for d in ("zxing", "zbar")}
    # the default chain, timed for real on the 1280×720 frames
    chain = DecoderChain.from_names(("zxing", "zbar"))
    real_ms: list[float] = []
    for frame in corpus(frames, seed=seed):
        if frame.size[0] == 1280:
            t0 = time.perf_counter()
            chain.decode(frame.image)
            real_ms.append((time.perf_counter() - t0) * 1000)
    best_single = max(("zxing", "zbar"), key=lambda n: scores[n]["rate"])
    default_name = ">".join(chain.name.replace("+", "").split(">"))
    chosen = scores[default_name]
    return {
        "qr_frames": len(rows),
        "qr_frames_without_code": sum(r["payload"] is None for r in rows),
        "qr_corpus_generation_s": round(t_gen, 1),
        "qr_chain": chain.name,
        "qr_chain_rate": chosen["rate"],
        "qr_chain_false_decodes": chosen["false"],
        "qr_chain_median_ms_720p": round(statistics.median(real_ms), 2),
        "qr_chain_p95_ms_720p": round(_p(real_ms, 0.95), 2),
        "qr_best_single": best_single,
        "qr_best_single_rate": scores[best_single]["rate"],
        "qr_zxing_rate": scores["zxing"]["rate"],
        "qr_zxing_median_ms_720p": scores["zxing"]["median_ms_720p"],
        "qr_zxing_false_decodes": scores["zxing"]["false"],
        "qr_zbar_rate": scores["zbar"]["rate"],
        "qr_zbar_median_ms_720p": scores["zbar"]["median_ms_720p"],
        "qr_zbar_false_decodes": scores["zbar"]["false"],
        "qr_empty_frame_median_ms": empty_ms,
        "qr_candidates": scores,
    }


if __name__ == "__main__":
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1100
    print(json.dumps(bench_qr(n), ensure_ascii=False, indent=2))
