"""S5 智能审批 end to end on the kiosk and in clerk mode: the real shell, the sandbox's face
service over HTTP, the simulated face camera and document camera fed with real photographs
(scikit-image's astronaut; the LFW subset for another person) and printed-then-photographed
materials, Tesseract, the CUPS PDF queue, the workstation database."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import cv2
import numpy as np
import pytest
from pypdf import PdfReader
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QPushButton, QWidget

from plugins.smart_review import samples
from plugins.smart_review.logic import AUTO_APPROVED, QUEUED, RECORD_KIND, RETURNED, matters
from plugins.smart_review.page import ClerkQueuePage, ReviewKioskPage
from workstation.config import PrintersConfig

MATERNITY = "SMART_REVIEW-MATERNITY"
PENSION = "SMART_REVIEW-RESIDENT-PENSION"


# -- pictures --------------------------------------------------------------------------------


def astronaut_in_front(shift: int = 30, gain: float = 0.9) -> np.ndarray:
    """The ID photo's person, re-photographed: smaller, moved, darker, noisy (not the file)."""
    from devices.facecam import demo_face, empty_scene

    scene = empty_scene().astype(np.float32)
    face = cv2.resize(demo_face(), None, fx=0.8, fy=0.8).astype(np.float32) * gain
    h, w = face.shape[:2]
    y0, x0 = max(0, (480 - h) // 2), max(0, (640 - w) // 2 + shift)
    h, w = min(h, 480 - y0), min(w, 640 - x0)
    scene[y0 : y0 + h, x0 : x0 + w] = face[:h, :w]
    noise = np.random.default_rng(7).normal(0, 3, scene.shape)
    return np.clip(scene + noise, 0, 255).astype(np.uint8)


def other_person(i: int = 3) -> np.ndarray:
    """Another real face: one of scikit-image's LFW subset (a different person)."""
    from skimage import data

    from devices.facecam import empty_scene

    face = cv2.resize((data.lfw_subset()[i] * 255).astype(np.uint8), (240, 240),
                      interpolation=cv2.INTER_CUBIC)
    scene = empty_scene()
    scene[120:360, 200:440] = cv2.cvtColor(face, cv2.COLOR_GRAY2BGR)
    return scene


def two_people() -> np.ndarray:
    from skimage import data

    from devices.facecam import demo_face, empty_scene

    scene = cv2.resize(empty_scene(), (960, 480))
    astro = cv2.resize(demo_face()[0:300, 100:400], (300, 300))
    scene[90:390, 40:340] = astro
    other = cv2.resize((data.lfw_subset()[5] * 255).astype(np.uint8), (260, 260),
                       interpolation=cv2.INTER_CUBIC)
    scene[110:370, 620:880] = cv2.cvtColor(other, cv2.COLOR_GRAY2BGR)
    return scene


@functools.lru_cache(maxsize=8)
def _material(matter: str, material: str, values: tuple[tuple[str, str], ...],
              seed: int) -> np.ndarray:
    return samples.material_photo(matters()[matter], material, dict(values), seed=seed)


def material(matter: str, key: str, values: dict[str, str], seed: int = 2) -> np.ndarray:
    return _material(matter, key, tuple(sorted(values.items())), seed)


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def kiosk_theme(qapp: Any) -> Any:
    from workstation.ui.theme import apply_theme

    apply_theme(qapp, kiosk=True)
    yield
    apply_theme(qapp, kiosk=False)


@pytest.fixture
def kiosk(qtbot: Any, make_core: Any, workstation_window: Any, private_cups: Any,
           kiosk_theme: Any) -> Any:
    queue, out = private_cups.add_file_queue()
    core = make_core(mode="kiosk", printers=PrintersConfig(a4=queue,
                                                           cups_server=private_cups.socket))
    win = workstation_window(core, kiosk=True)
    win.pdf_out = out
    return win


def wife(sandbox: Any) -> Any:
    return sandbox.world.married_couple[1]


def maternity(sandbox: Any, **kwargs: Any) -> dict[str, dict[str, str]]:
    w = wife(sandbox)
    husband = sandbox.world.citizen(w.spouse_id)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    return samples.maternity_values(w.name, w.id_number, husband.name, today, **kwargs)


def face_camera(win: Any) -> Any:
    return win.core.cameras.face_camera()


def doc_camera(win: Any) -> Any:
    return win.core.cameras.document_camera()


def click(qtbot: Any, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_review(qtbot: Any, win: Any) -> ReviewKioskPage:
    click(qtbot, win.launcher.tiles["smart_review"])
    page = win.stack.currentWidget()
    assert isinstance(page, ReviewKioskPage)
    return page


def current(win: Any) -> ReviewKioskPage:
    page = win.stack.currentWidget()
    assert isinstance(page, ReviewKioskPage)
    return page


def wait_idle(qtbot: Any, page: ReviewKioskPage, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: not page.is_busy, timeout=timeout)


def through_consent(qtbot: Any, page: ReviewKioskPage, matter: str) -> None:
    click(qtbot, page.matter_buttons[matter])
    assert page.steps.currentWidget() is page.consent_step
    click(qtbot, page.consent_panel.accept_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.capture_step, timeout=20000)


def capture(qtbot: Any, win: Any, page: ReviewKioskPage, image: np.ndarray) -> None:
    doc_camera(win).present(image)
    click(qtbot, page.capture_button)
    qtbot.waitUntil(lambda: page.next_button.isVisible() or "未能识别" in
                    page.capture_result.text(), timeout=60000)


def face_login(qtbot: Any, win: Any) -> ReviewKioskPage:
    face_camera(win).show(astronaut_in_front())
    page = open_review(qtbot, win)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.matters_step, timeout=20000)
    return page


def assert_touch_sized(page: QWidget) -> None:
    for button in page.findChildren(QPushButton):
        if button.isVisible():
            assert button.height() >= 48, button.text()
            assert button.font().pointSize() >= 20, button.text()
    for label in page.findChildren(QLabel):
        if label.isVisible() and label.text():
            assert label.font().pointSize() >= 20 or "font-size" in label.styleSheet(), \
                label.text()


# -- tests -----------------------------------------------------------------------------------


def test_face_login_all_checks_pass_and_the_certificate_prints(qtbot, kiosk, sandbox):
    """GIVEN the citizen whose ID photo is the astronaut stands before the camera
    WHEN she chooses 生育津贴申领, consents, photographs both materials and submits
    THEN every check passes and the certificate with its verification code is printed."""
    page = face_login(qtbot, kiosk)
    session = kiosk.core.sessions.current
    assert session.applicant.holder_id == wife(sandbox).id_number
    assert session.applicant.identified_by.value == "face"
    assert wife(sandbox).name not in page.greeting.text()  # masked
    assert_touch_sized(page)
    through_consent(qtbot, page, MATERNITY)
    values = maternity(sandbox)
    capture(qtbot, kiosk, page, material(MATERNITY, "birth_cert", values["birth_cert"]))
    assert "已识别 7/7" in page.capture_result.text()
    click(qtbot, page.next_button)
    capture(qtbot, kiosk, page, material(MATERNITY, "hospital_bill", values["hospital_bill"]))
    click(qtbot, page.next_button)
    assert page.steps.currentWidget() is page.form_step
    assert page.case.form.get("birth_cert", "mother_id") == wife(sandbox).id_number
    click(qtbot, page.review_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.result_step, timeout=20000)
    assert page.case.passed, [(r.label, r.reason) for r in page.case.failures]
    assert page.checks_list.count() == len(matters()[MATERNITY].checks)
    assert page.prepared["report"].path.is_file()
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step, timeout=60000)
    text = "".join(p.extract_text() for p in PdfReader(str(kiosk.pdf_out)).pages)
    assert "生育津贴申领审批结果通知书" in text
    assert page.print_outcome.code in text.replace("-", "")
    assert wife(sandbox).id_number not in text
    kiosk.core.drain()
    kinds = [e.kind for e in kiosk.core.audit.events(limit=100)]
    assert "face_login" in kinds and "review" in kinds
    records = kiosk.core.context_for(kiosk.core.plugins.scenario("smart_review")).records
    assert records.get(RECORD_KIND, page.case.case_number).state == AUTO_APPROVED
    click(qtbot, page.finish_button)
    qtbot.waitUntil(lambda: kiosk.core.sessions.current is None, timeout=5000)
    assert not (kiosk.core.config.case_dir / page.case.case_number).exists()


def test_no_face_two_faces_and_another_person_do_not_sign_in(qtbot, kiosk, sandbox):
    camera = face_camera(kiosk)
    camera.leave()
    page = open_review(qtbot, kiosk)
    qtbot.waitUntil(lambda: page.last_scan is not None, timeout=10000)
    assert "请正对摄像头" in page.face_status.text()
    camera.show(two_people())
    qtbot.waitUntil(lambda: "多张人脸" in page.face_status.text(), timeout=10000)
    assert sandbox.face.requests == 0  # nothing sent while two people stand there
    camera.show(other_person())
    qtbot.waitUntil(lambda: "比对未通过" in page.face_status.text(), timeout=20000)
    assert sandbox.face.requests == 1
    assert kiosk.core.sessions.current is None
    assert page.face_retry_button.isVisible()
    # the right person, after "重新人脸识别"
    camera.show(astronaut_in_front(shift=-20))
    click(qtbot, page.face_retry_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.matters_step, timeout=20000)
    kiosk.core.drain()
    results = [e.details.get("result") for e in kiosk.core.audit.events(limit=50)
               if e.kind == "face_login"]
    assert "no_match" in results and "matched" in results


def test_a_broken_face_camera_says_so_and_code_still_works(qtbot, kiosk, sandbox):
    face_camera(kiosk).failing = True
    page = open_review(qtbot, kiosk)
    qtbot.waitUntil(lambda: "人脸摄像头无法取得画面" in page.face_status.text(), timeout=10000)
    assert "扫码或插卡" in page.face_status.text()
    person = sandbox.world.sample_person(1)
    kiosk.code_scanned(sandbox.issue_code(person.id_number)[0])
    qtbot.waitUntil(lambda: current(kiosk) is not page and current(kiosk).applicant is not None,
                    timeout=20000)


def test_face_service_down_falls_back_to_the_identity_code(qtbot, kiosk, sandbox):
    sandbox.faults.update({"down": True})
    face_camera(kiosk).show(astronaut_in_front())
    page = open_review(qtbot, kiosk)
    qtbot.waitUntil(lambda: "无法连接" in page.face_status.text(), timeout=20000)
    assert kiosk.core.sessions.current is None
    sandbox.faults.update({"down": False})
    person = sandbox.world.sample_person(2)
    code, _ = sandbox.issue_code(person.id_number)
    kiosk.code_scanned(code)
    qtbot.waitUntil(lambda: current(kiosk) is not page
                    and current(kiosk).steps.currentWidget() is current(kiosk).matters_step,
                    timeout=20000)
    assert kiosk.core.sessions.current.applicant.holder_id == person.id_number


def test_declined_consent_and_licence_platform_down_lose_nothing(qtbot, kiosk, sandbox):
    page = face_login(qtbot, kiosk)
    click(qtbot, page.matter_buttons[PENSION])
    click(qtbot, page.consent_panel.decline_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.matters_step, timeout=10000)
    assert "未同意调取证照" in page.notice.text()
    assert sandbox.access_log == []  # nothing fetched
    click(qtbot, page.matter_buttons[PENSION])
    sandbox.faults.update({"down": True})
    click(qtbot, page.consent_panel.accept_button)
    wait_idle(qtbot, page)
    assert page.steps.currentWidget() is page.consent_step  # still there, to try again
    assert page.notice.text()
    sandbox.faults.update({"down": False})
    click(qtbot, page.consent_panel.accept_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.capture_step, timeout=20000)
    assert {e.action for e in sandbox.access_log} >= {"search"}


def test_failed_review_is_corrected_on_the_keypad(qtbot, kiosk, sandbox):
    """An amount over the limit fails; the citizen corrects the OCR'd amount on the keypad
    (the bill said 3650.00, say it was misread) and the review passes."""
    page = face_login(qtbot, kiosk)
    through_consent(qtbot, page, MATERNITY)
    values = maternity(sandbox, total="3650.00")
    capture(qtbot, kiosk, page, material(MATERNITY, "birth_cert", values["birth_cert"]))
    click(qtbot, page.next_button)
    capture(qtbot, kiosk, page, material(MATERNITY, "hospital_bill", values["hospital_bill"]))
    click(qtbot, page.next_button)
    click(qtbot, page.review_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.result_step, timeout=20000)
    assert [r.label for r in page.case.failures] == ["医疗费用在分娩方式限额内"]
    assert "超过限额3000.00元" in page.case.failures[0].reason
    assert page.queue_button.isVisible() and not page.print_button.isVisible()
    click(qtbot, page.back_button)
    click(qtbot, page.correct_buttons[("hospital_bill", "total")])
    keypad = page.editor.keypad
    keypad.set_text("")
    for key in "2650.00":
        click(qtbot, keypad.keys[key])
    click(qtbot, page.editor.ok_button)
    assert page.case.form.get("hospital_bill", "total") == "2650.00"
    click(qtbot, page.review_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.result_step
                    and page.print_button.isVisible(), timeout=20000)
    assert page.case.passed
    assert "申请人更正" in page.case.results[8].evidence_text()


def test_failed_review_goes_to_the_clerk_queue_and_the_clerk_returns_it(
        qtbot, kiosk, sandbox, make_core, workstation_window):
    page = face_login(qtbot, kiosk)
    through_consent(qtbot, page, PENSION)
    w = wife(sandbox)
    values = samples.pension_values(w.name, w.id_number)["bank_book"]
    capture(qtbot, kiosk, page, material(PENSION, "bank_book", values))
    click(qtbot, page.next_button)
    click(qtbot, page.review_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.result_step, timeout=20000)
    assert "年满60周岁" in [r.label for r in page.case.failures]  # she is 33
    click(qtbot, page.queue_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step, timeout=20000)
    case_number = page.case.case_number
    folder = kiosk.core.config.case_dir / case_number
    click(qtbot, page.finish_button)
    qtbot.waitUntil(lambda: kiosk.core.sessions.current is None, timeout=5000)
    assert (folder / "材料-bank_book.jpg").is_file()  # queued: kept for the clerk

    clerk_core = make_core(mode="clerk")
    win = workstation_window(clerk_core)
    win.resize(1280, 800)
    click(qtbot, win.launcher.tiles["smart_review"])
    clerk = win.stack.currentWidget()
    assert isinstance(clerk, ClerkQueuePage)
    qtbot.waitUntil(lambda: clerk.queue_list.count() == 1 and clerk.current is not None,
                    timeout=10000)
    assert "年满60周岁" in clerk.reasons_label.text()
    assert clerk.image_labels and clerk.image_labels[0].pixmap() is not None
    assert not clerk.image_labels[0].pixmap().isNull()
    click(qtbot, clerk.return_button)  # no reason yet
    assert "请填写退回原因" in clerk.notice.text()
    clerk.reason_edit.setText("申请人未满60周岁，不符合待遇领取条件")
    click(qtbot, clerk.return_button)
    qtbot.waitUntil(lambda: clerk.queue_list.count() == 0 and not clerk.is_busy, timeout=10000)
    record = clerk_core.context_for(clerk_core.plugins.scenario("smart_review")).records.get(
        RECORD_KIND, case_number)
    assert record.state == RETURNED and record.state != QUEUED
    assert record.data["decision"]["reason"].startswith("申请人未满60周岁")


def test_printer_out_of_paper_then_reprint_once(qtbot, make_core, workstation_window,
                                                private_cups, sandbox, kiosk_theme):
    printer = private_cups.add_fake_printer()
    printer.set_fault("media-empty")
    core = make_core(mode="kiosk", printers=PrintersConfig(a4=printer.name,
                                                           cups_server=private_cups.socket))
    win = workstation_window(core, kiosk=True)
    page = face_login(qtbot, win)
    through_consent(qtbot, page, MATERNITY)
    values = maternity(sandbox)
    capture(qtbot, win, page, material(MATERNITY, "birth_cert", values["birth_cert"]))
    click(qtbot, page.next_button)
    capture(qtbot, win, page, material(MATERNITY, "hospital_bill", values["hospital_bill"]))
    click(qtbot, page.next_button)
    click(qtbot, page.review_button)
    qtbot.waitUntil(lambda: page.print_button.isVisible(), timeout=20000)
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: "缺纸" in page.notice.text(), timeout=60000)
    assert page.print_button.text() == "重新打印"
    printer.set_fault(None)
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: page.steps.currentWidget() is page.done_step, timeout=60000)
    assert len(printer.outputs()) == 1


def test_idle_timeout_mid_review_wipes_everything(qtbot, kiosk, sandbox):
    page = face_login(qtbot, kiosk)
    through_consent(qtbot, page, MATERNITY)
    values = maternity(sandbox)
    capture(qtbot, kiosk, page, material(MATERNITY, "birth_cert", values["birth_cert"]))
    folder = kiosk.core.config.case_dir / page.case.case_number
    assert (folder / "材料-birth_cert.jpg").is_file()
    kiosk.idle._tick.setInterval(10)  # a "second" of 10 ms: the test does not wait a minute
    kiosk.idle.reset()
    qtbot.waitUntil(lambda: kiosk.core.sessions.current is None, timeout=20000)
    qtbot.waitUntil(lambda: not any(isinstance(p, ReviewKioskPage)
                                    for p in kiosk.pages.values()), timeout=5000)
    assert not folder.exists()


def test_social_security_card_signs_in_instead_of_the_face(qtbot, kiosk, sandbox,
                                                           virtual_card):
    """GIVEN nobody is visible to the face camera WHEN the citizen inserts a social security
    card (the real PC/SC stack, the virtual card) THEN a fresh page greets them; pulling the
    card ends the session."""
    from devices.cards.pcsc import PcscCardReader
    from devices.cards.simulated import SocialSecurityCardProfile
    from sandbox.cards import card_data_for
    from tests.helpers.pcsc_fixtures import READER

    face_camera(kiosk).leave()
    kiosk.attach_card_reader(PcscCardReader(READER))
    try:
        qtbot.waitUntil(lambda: "就绪" in kiosk.reader_label.text(), timeout=10000)
        page = open_review(qtbot, kiosk)
        person = sandbox.world.sample_person(0)
        virtual_card.insert(SocialSecurityCardProfile.from_json(
            card_data_for(person.id_number, sandbox.world)))
        qtbot.waitUntil(lambda: current(kiosk) is not page and
                        current(kiosk).steps.currentWidget() is current(kiosk).matters_step,
                        timeout=15000)
        assert current(kiosk).applicant.identified_by.value == "card"
        assert sandbox.face.requests == 0
        virtual_card.remove()
        qtbot.waitUntil(lambda: kiosk.core.sessions.current is None, timeout=10000)
    finally:
        kiosk.detach_card_reader()
