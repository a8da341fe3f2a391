"""Screenshots of S5 (smart_review), offscreen, into docs/screenshots/review/: the kiosk at
1920×1080 (face login with the camera view, matter choice, consent, capture, the OCR-filled
form with the keypad, review passed and failed, done) and the clerk queue at 1280×800, plus the
review report and the result certificate PDFs rendered to PNG (``pdftoppm -png -r 80``).

    .venv/bin/python tools/screenshots_review.py [OUT_DIR]
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtWidgets import QApplication

from plugins.smart_review import samples
from plugins.smart_review.logic import matters
from sandbox.server import SandboxServer
from workstation.config import Config, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins
from workstation.ui.main_window import MainWindow
from workstation.ui.theme import apply_theme

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import shoot, wait

MATERNITY = "SMART_REVIEW-MATERNITY"
PENSION = "SMART_REVIEW-RESIDENT-PENSION"


def _pdf_png(pdf: Path, out: Path) -> None:
    prefix = out.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(prefix)], check=True)
    print(out)


def _face_frame() -> Any:
    import cv2
    import numpy as np

    from devices.facecam import demo_face, empty_scene

    scene = empty_scene().astype(np.float32)
    face = cv2.resize(demo_face(), None, fx=0.8, fy=0.8).astype(np.float32) * 0.95
    h, w = face.shape[:2]
    y0, x0 = (480 - h) // 2, (640 - w) // 2
    scene[y0 : y0 + h, x0 : x0 + w] = face
    return np.clip(scene, 0, 255).astype(np.uint8)


def kiosk(server: SandboxServer, data: Path, out: Path) -> str:
    app = QApplication.instance()
    apply_theme(app, kiosk=True)  # type: ignore[arg-type]
    cfg = Config(data_dir=data, mode="kiosk",
                 platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
    core = Workstation(cfg, server.url, load_plugins())
    win = MainWindow(kiosk=True)
    win.resize(1920, 1080)
    win.show()
    win.attach(core)
    win.idle.stop()
    wife = server.world.married_couple[1]
    husband = server.world.citizen(wife.spouse_id or "")
    assert husband is not None
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    values = samples.maternity_values(wife.name, wife.id_number, husband.name, today,
                                      total="2680.50")
    rules = matters()[MATERNITY]
    face_cam = core.cameras.face_camera()
    doc_cam = core.cameras.document_camera()

    face_cam.show(_face_frame())
    server.faults.update({"latency_ms": 1500})  # keep the login page on screen a moment
    win.open_scenario("smart_review")
    page: Any = win.stack.currentWidget()
    wait(lambda: page.last_scan is not None and page.is_busy, 20)
    page.busy.stop()
    shoot(win, out / "kiosk-face-login.png")
    server.faults.update({"latency_ms": 0})
    wait(lambda: page.steps.currentWidget() is page.matters_step, 20)
    shoot(win, out / "kiosk-matters.png")
    page.matter_buttons[MATERNITY].click()
    shoot(win, out / "kiosk-consent.png")
    page.consent_panel.accept_button.click()
    wait(lambda: page.steps.currentWidget() is page.capture_step, 20)
    shoot(win, out / "kiosk-capture-ready.png")
    for i, key in enumerate(("birth_cert", "hospital_bill")):
        doc_cam.present(samples.material_photo(rules, key, values[key], seed=2))
        page.capture_button.click()
        wait(lambda: page.next_button.isVisible(), 90)
        if i == 0:
            shoot(win, out / "kiosk-capture-done.png")
        page.next_button.click()
    wait(lambda: page.steps.currentWidget() is page.form_step)
    shoot(win, out / "kiosk-form.png")
    page.correct_buttons[("hospital_bill", "total")].click()
    shoot(win, out / "kiosk-form-keypad.png")
    page.editor.cancel_button.click()
    page.review_button.click()
    wait(lambda: page.steps.currentWidget() is page.result_step and not page.is_busy, 30)
    shoot(win, out / "kiosk-review-passed.png")
    report = page.prepared["report"].path
    page.print_button.click()
    wait(lambda: page.steps.currentWidget() is page.done_step, 60)
    shoot(win, out / "kiosk-done-printed.png")
    _pdf_png(report, out / "pdf-review-report-passed.png")
    _pdf_png(page.prepared["certificate"].path, out / "pdf-certificate.png")
    page.finish_button.click()
    wait(lambda: core.sessions.current is None)

    # a failing case: the pension matter for someone who is 33 -> the clerk queue
    face_cam.show(_face_frame())
    win.open_scenario("smart_review")
    page = win.stack.currentWidget()
    wait(lambda: page.steps.currentWidget() is page.matters_step, 20)
    page.matter_buttons[PENSION].click()
    page.consent_panel.accept_button.click()
    wait(lambda: page.steps.currentWidget() is page.capture_step, 20)
    pension = samples.pension_values(wife.name, wife.id_number)["bank_book"]
    doc_cam.present(samples.material_photo(matters()[PENSION], "bank_book", pension, seed=2))
    page.capture_button.click()
    wait(lambda: page.next_button.isVisible(), 90)
    page.next_button.click()
    page.review_button.click()
    wait(lambda: page.steps.currentWidget() is page.result_step and not page.is_busy, 30)
    shoot(win, out / "kiosk-review-failed.png")
    _pdf_png(page.prepared["report"].path, out / "pdf-review-report-failed.png")
    page.queue_button.click()
    wait(lambda: page.steps.currentWidget() is page.done_step, 20)
    shoot(win, out / "kiosk-done-queued.png")
    page.finish_button.click()
    wait(lambda: core.sessions.current is None)
    win.close()
    core.close()
    return wife.id_number


def clerk(server: SandboxServer, data: Path, out: Path) -> None:
    app = QApplication.instance()
    apply_theme(app, kiosk=False)  # type: ignore[arg-type]
    cfg = Config(data_dir=data, mode="clerk", demo_operator=True,
                 platform=PlatformConfig(base_url=server.url, health_interval_s=3600))
    core = Workstation(cfg, server.url, load_plugins())
    win = MainWindow(kiosk=False)
    win.resize(1280, 800)
    win.show()
    win.attach(core)
    core.sign_in("demo", "demo1234")
    win._signed_in(None)
    win.open_scenario("smart_review")
    page: Any = win.stack.currentWidget()
    wait(lambda: page.current is not None and not page.is_busy, 20)
    shoot(win, out / "clerk-queue.png")
    win.close()
    core.close()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    server = SandboxServer()
    server.start()
    data = Path(tempfile.mkdtemp())
    try:
        kiosk(server, data, out)
        clerk(server, data, out)
    finally:
        server.stop()
    del app


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots/review"))
