"""Sample materials for tests, demos, screenshots and benchmarks. Qt-free.

``material_lines`` says what a citizen's paper says (from the licence data of a sandbox
citizen, or deliberately wrong), ``render_page`` prints it with the printing layer and
rasterises the PDF (poppler's ``pdftoppm``), ``photograph`` makes the page look taken by a
document camera: on a desk, turned a little, unevenly lit, slightly out of focus, noisy.
Everything is seeded: the same inputs give the same pixels.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from plugins.smart_review.rules import MatterRules


def material_lines(rules: MatterRules, material: str,
                   values: dict[str, str]) -> list[tuple[str, str]]:
    """(label, value) lines of ``material`` in the rules' field order."""
    spec = rules.material(material)
    return [(f.label, values.get(f.key, "")) for f in spec.fields]


def maternity_values(mother_name: str, mother_id: str, father_name: str, today: dt.date,
                     *, total: str = "2680.50", delivery: str = "顺产",
                     born_days_ago: int = 40) -> dict[str, dict[str, str]]:
    born = today - dt.timedelta(days=born_days_ago)
    admitted, discharged = born - dt.timedelta(days=2), born + dt.timedelta(days=3)

    def cn(day: dt.date) -> str:
        return f"{day.year}年{day.month}月{day.day}日"

    return {
        "birth_cert": {"baby_name": "夏可欣", "baby_sex": "女", "birth_date": cn(born),
                       "mother_name": mother_name, "mother_id": mother_id,
                       "father_name": father_name, "cert_no": "Q421281752"},
        "hospital_bill": {"patient_name": mother_name, "patient_id": mother_id,
                          "admitted": cn(admitted), "discharged": cn(discharged),
                          "delivery": delivery, "total": total},
    }


def pension_values(name: str, id_number: str) -> dict[str, dict[str, str]]:
    return {"bank_book": {"holder_name": name, "holder_id": id_number,
                          "account": "6228480402564890018", "bank": "中国农业银行赤壁支行",
                          "opened": "2012年3月15日"}}


def render_page(title: str, lines: list[tuple[str, str]], issuer: str = "",
                dpi: int = 150) -> np.ndarray:
    """The material printed (ReportLab, via the printing layer) and rasterised: grey uint8."""
    import cv2

    from plugins.smart_review.printout import render_material

    pdf = render_material(title, lines, issuer)
    with tempfile.TemporaryDirectory(prefix="sr-page-") as tmp:
        source = Path(tmp) / "page.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-gray", "-png", "-r", str(dpi), "-f", "1", "-l", "1",
                        "-singlefile", str(source), str(Path(tmp) / "page")],
                       check=True, capture_output=True, timeout=60)
        image = cv2.imread(str(Path(tmp) / "page.png"), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise RuntimeError("pdftoppm produced no image")
    return np.asarray(image)


def photograph(page: np.ndarray, seed: int = 0, *, angle: float | None = None,
               blur: float = 1.1, light: float = 0.45, noise: float = 5.0) -> np.ndarray:
    """``page`` (grey) as a document camera sees it: a BGR frame larger than the page."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = page.shape[:2]
    pad = int(0.06 * max(h, w))
    canvas_h, canvas_w = h + 2 * pad, w + 2 * pad
    desk = np.full((canvas_h, canvas_w), 70, np.uint8)
    desk[pad : pad + h, pad : pad + w] = page
    turn = float(rng.uniform(-4.0, 4.0)) if angle is None else angle
    matrix = cv2.getRotationMatrix2D((canvas_w / 2, canvas_h / 2), turn, 1.0)
    shot = cv2.warpAffine(desk, matrix, (canvas_w, canvas_h), flags=cv2.INTER_LINEAR,
                          borderValue=(70,))
    # uneven light: brighter on one side, a soft hot spot, darker corners
    yy, xx = np.mgrid[0:canvas_h, 0:canvas_w].astype(np.float32)
    sx, sy = rng.uniform(0.3, 0.7) * canvas_w, rng.uniform(0.3, 0.7) * canvas_h
    spot = np.exp(-(((xx - sx) / canvas_w) ** 2 + ((yy - sy) / canvas_h) ** 2) * 3.0)
    side = 1.0 - light * (xx / canvas_w if rng.random() < 0.5 else 1 - yy / canvas_h)
    gain = np.clip(side * (0.75 + 0.35 * spot), 0.35, 1.15)
    lit = shot.astype(np.float32) * gain
    if blur > 0:
        lit = cv2.GaussianBlur(lit, (0, 0), blur)
    lit += rng.normal(0, noise, lit.shape).astype(np.float32)
    grey = np.clip(lit, 0, 255).astype(np.uint8)
    tint = np.stack([grey * 0.96, grey * 0.99, grey], axis=2)  # a warm desk lamp
    return np.clip(tint, 0, 255).astype(np.uint8)


def material_photo(rules: MatterRules, material: str, values: dict[str, str], seed: int = 0,
                   **kwargs: float) -> np.ndarray:
    from plugins.smart_review.printout import MATERIAL_ISSUERS

    spec = rules.material(material)
    page = render_page(spec.name.split("（")[0], material_lines(rules, material, values),
                       MATERIAL_ISSUERS.get(material, ""))
    return photograph(page, seed, **kwargs)  # type: ignore[arg-type]
