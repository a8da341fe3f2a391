"""Photographed sample materials for the S5 demo: the sandbox citizen whose ID photo is the
face camera's demo picture (``world.married_couple[1]``), as PNG files in a folder the
simulated document camera can read in turn.

    .venv/bin/python tools/review_demo_materials.py /tmp/review-materials
    # then, in the configuration: [devices] document_camera = "folder:/tmp/review-materials"
    #                             mode = "kiosk"

Files are named so that the folder camera returns them in the order the kiosk asks for them:
生育津贴申领 (出生医学证明, 住院费用结算单), then 城乡居民养老保险待遇申领 (银行卡开户信息).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import cv2

from plugins.smart_review import samples
from plugins.smart_review.logic import matters
from sandbox.world import build_world


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    world = build_world()
    wife = world.married_couple[1]
    husband = world.citizen(wife.spouse_id or "")
    assert husband is not None
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    maternity = samples.maternity_values(wife.name, wife.id_number, husband.name, today)
    pension = samples.pension_values(wife.name, wife.id_number)
    rules = matters()
    shots = [("1-birth_cert", "SMART_REVIEW-MATERNITY", "birth_cert", maternity),
             ("2-hospital_bill", "SMART_REVIEW-MATERNITY", "hospital_bill", maternity),
             ("3-bank_book", "SMART_REVIEW-RESIDENT-PENSION", "bank_book", pension)]
    for name, matter, key, values in shots:
        image = samples.material_photo(rules[matter], key, values[key], seed=2)
        path = out / f"{name}.png"
        cv2.imwrite(str(path), image)
        print(path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("review-materials"))
