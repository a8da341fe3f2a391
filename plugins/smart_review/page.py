"""S5 pages: the kiosk's review robot (face login → matter → consent → capture → form → review
→ certificate or clerk queue) and, in clerk mode, the queue of cases the robot could not
approve. Thin widgets over ``logic``, ``rules``, ``ocr`` and ``face``."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from plugins.smart_review import CLEANUP_KEY
from plugins.smart_review.face import FaceDetector, FaceScan, FaceState, frame_preview, search_face
from plugins.smart_review.logic import (
    APPROVED,
    AUTO_APPROVED,
    QUEUED,
    RECORD_KIND,
    RETURNED,
    STATE_LABELS,
    Capture,
    ReviewCase,
    case_cleanup,
    certificate_data,
    consent_request,
    face_applicant,
    image_name,
    licences_by_type,
    matters,
    queue_data,
    queue_summary,
    report_data,
    today_in_china,
    validate_return_reason,
)
from plugins.smart_review.rules import FieldSpec, normalise
from workstation.api import (
    CHINA_TZ,
    Applicant,
    PlatformError,
    PlatformUnavailable,
    RecordConflict,
    ScenarioContext,
)
from workstation.api.ui import ConsentPanel, ScenarioPage, error_message, primary_button

log = logging.getLogger(__name__)

FACE_INTERVAL_MS = 400
FACE_STEADY_FRAMES = 2  # one face in this many frames in a row before asking the platform


def build_page(ctx: ScenarioContext) -> QWidget:
    if ctx.kiosk:
        return ReviewKioskPage(ctx)
    return ClerkQueuePage(ctx)


def _pixmap(rgb: np.ndarray, width: int, height: int) -> QPixmap:
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    image = QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(width, height, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)


def _image_pixmap(data: bytes, width: int, height: int) -> QPixmap:
    pixmap = QPixmap()
    pixmap.loadFromData(data)
    return pixmap.scaled(width, height, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)


def _china_time(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""


def _big(text: str = "", size: int = 22, bold: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"font-size: {size}pt;" + (" font-weight: bold;" if bold else ""))
    return label


class Keypad(QWidget):
    """An on-screen keypad for numbers, dates and ID numbers (citizens never type on a
    keyboard); ``text`` is what was keyed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setSpacing(8)
        self.display = QLineEdit()
        self.display.setReadOnly(True)
        self.display.setStyleSheet("font-size: 26pt;")
        grid.addWidget(self.display, 0, 0, 1, 4)
        self.keys: dict[str, QPushButton] = {}
        for i, key in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0", ".",
                                 "年", "月", "日", "⌫"]):
            button = QPushButton(key)
            button.setMinimumSize(96, 64)
            button.clicked.connect(lambda _c=False, k=key: self.press(k))
            self.keys[key] = button
            grid.addWidget(button, 1 + i // 4, i % 4)

    def press(self, key: str) -> None:
        text = self.display.text()
        self.display.setText(text[:-1] if key == "⌫" else text + key)

    def text(self) -> str:
        return self.display.text()

    def set_text(self, text: str) -> None:
        self.display.setText(text)


class FieldEditor(QFrame):
    """Corrects one field: option buttons for a choice or a name, the keypad for the rest."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Notice")
        layout = QVBoxLayout(self)
        self.title = _big("", 22, True)
        layout.addWidget(self.title)
        self.options_box = QWidget()
        self.options_layout = QHBoxLayout(self.options_box)
        self.options_layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.options_box)
        self.keypad = Keypad()
        layout.addWidget(self.keypad)
        row = QHBoxLayout()
        self.cancel_button = QPushButton("取消")
        self.ok_button = primary_button("确定")
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.ok_button)
        layout.addLayout(row)
        self.option_buttons: list[QPushButton] = []
        self.chosen = ""

    def edit(self, spec: FieldSpec, value: str, candidates: list[str]) -> None:
        self.title.setText(f"更正：{spec.label}")
        for button in self.option_buttons:
            button.deleteLater()
        self.option_buttons = []
        self.chosen = value
        choices = list(spec.options) if spec.type == "choice" else candidates
        keyed = spec.type in ("id_number", "digits", "amount", "date")
        for option in choices:
            button = QPushButton(option)
            button.setCheckable(True)
            button.setChecked(option == value)
            button.clicked.connect(lambda _c=False, o=option: self._choose(o))
            self.options_layout.addWidget(button)
            self.option_buttons.append(button)
        self.options_box.setVisible(not keyed)
        self.keypad.setVisible(keyed)
        self.keypad.set_text(value)
        self.show()

    def _choose(self, option: str) -> None:
        self.chosen = option
        for button in self.option_buttons:
            button.setChecked(button.text() == option)

    def value(self) -> str:
        return self.keypad.text() if self.keypad.isVisible() else self.chosen


class ReviewKioskPage(ScenarioPage):
    """The review robot on the kiosk."""

    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, "智能审批 · 自助出证")
        self.applicant: Applicant | None = None
        self.case: ReviewCase | None = None
        self.case_state = {"queued": False}
        self.detector: FaceDetector | None = None
        self.face_camera: Any = None
        self.doc_camera: Any = None
        self._steady = 0
        self._scanning = False
        self.face_enabled = True
        self.prepared: dict[str, Any] = {}
        self.print_outcome: Any = None
        self.last_scan: FaceScan | None = None
        self.editing: tuple[str, FieldSpec] | None = None

        self.steps = QStackedWidget()
        self.layout_.addWidget(self.steps, 1)
        self._build_login()
        self._build_matters()
        self._build_consent()
        self._build_capture()
        self._build_form()
        self._build_result()
        self._build_done()

        self.face_timer = QTimer(self)
        self.face_timer.setInterval(FACE_INTERVAL_MS)
        self.face_timer.timeout.connect(self.poll_face)
        try:
            self.face_camera = ctx.cameras.face_camera()
        except Exception as exc:  # misconfigured camera: code and card still work
            log.warning("face camera unavailable: %s", type(exc).__name__)
        if self.face_camera is None:
            self.face_enabled = False
            self.face_status.setText("本机未配置人脸摄像头，请扫码或插卡登录")
        else:
            self.face_timer.start()

    # -- building --------------------------------------------------------------------------

    def _build_login(self) -> None:
        page = QWidget()
        row = QHBoxLayout(page)
        left = QVBoxLayout()
        left.addWidget(_big("人脸识别登录", 30, True))
        self.camera_view = QLabel()
        self.camera_view.setFixedSize(720, 540)
        self.camera_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.camera_view.setStyleSheet("background: #26323a; color: white; border-radius: 12px;")
        self.camera_view.setText("正在打开摄像头…")
        left.addWidget(self.camera_view)
        self.face_status = _big("请正对摄像头，保持面部在框内", 24)
        left.addWidget(self.face_status)
        self.face_retry_button = primary_button("重新人脸识别")
        self.face_retry_button.hide()
        self.face_retry_button.clicked.connect(self.retry_face)
        left.addWidget(self.face_retry_button)
        left.addStretch(1)
        row.addLayout(left, 3)
        self.prompt = self.sign_in_prompt()
        row.addWidget(self.prompt, 2, Qt.AlignmentFlag.AlignTop)
        self.steps.addWidget(page)
        self.login_step = page

    def _build_matters(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.greeting = _big("", 26, True)
        layout.addWidget(self.greeting)
        layout.addWidget(_big("请选择要办理的事项：", 24))
        self.matter_buttons: dict[str, QPushButton] = {}
        for code, rules in matters().items():
            names = "、".join(m.name for m in rules.materials)
            button = QPushButton(f"{rules.name}\n需拍摄：{names}")
            button.setMinimumHeight(140)
            button.setStyleSheet("font-size: 24pt; text-align: left; padding: 16px;")
            button.clicked.connect(lambda _c=False, c=code: self.choose_matter(c))
            layout.addWidget(button)
            self.matter_buttons[code] = button
        layout.addStretch(1)
        self.finish_button_matters = QPushButton("结束办理")
        self.finish_button_matters.clicked.connect(self.finish)
        layout.addWidget(self.finish_button_matters, 0, Qt.AlignmentFlag.AlignRight)
        self.steps.addWidget(page)
        self.matters_step = page

    def _build_consent(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(_big("调取电子证照授权", 28, True))
        layout.addWidget(_big("智能审批需要核对您的电子证照。请确认以下授权内容：", 22))
        self.consent_panel = ConsentPanel()
        self.consent_panel.accept_button.setText("我同意调取")
        self.consent_panel.decline_button.setText("不同意")
        self.consent_panel.accepted.connect(self.consent_given)
        self.consent_panel.declined.connect(self.consent_refused)
        layout.addWidget(self.consent_panel)
        layout.addStretch(1)
        self.steps.addWidget(page)
        self.consent_step = page

    def _build_capture(self) -> None:
        page = QWidget()
        layout = QHBoxLayout(page)
        left = QVBoxLayout()
        self.capture_title = _big("", 28, True)
        left.addWidget(self.capture_title)
        self.capture_hint = _big("", 22)
        left.addWidget(self.capture_hint)
        self.capture_result = _big("", 22)
        left.addWidget(self.capture_result)
        left.addStretch(1)
        self.capture_button = primary_button("拍摄")
        self.capture_button.setMinimumHeight(96)
        self.capture_button.clicked.connect(self.capture)
        left.addWidget(self.capture_button)
        self.next_button = primary_button("下一份材料")
        self.next_button.setMinimumHeight(96)
        self.next_button.clicked.connect(self.after_capture)
        self.next_button.hide()
        left.addWidget(self.next_button)
        layout.addLayout(left, 2)
        self.capture_view = QLabel("请将材料正面朝上放在高拍仪下")
        self.capture_view.setFixedSize(600, 800)
        self.capture_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.capture_view.setStyleSheet("background: #e4e7eb; border-radius: 12px;")
        layout.addWidget(self.capture_view, 0, Qt.AlignmentFlag.AlignTop)
        self.steps.addWidget(page)
        self.capture_step = page

    def _build_form(self) -> None:
        page = QWidget()
        layout = QHBoxLayout(page)
        left = QVBoxLayout()
        left.addWidget(_big("请核对自动填写的申请表", 28, True))
        left.addWidget(_big("内容有误时点“更正”。", 22))
        self.form_table = QTableWidget(0, 4)
        self.form_table.setHorizontalHeaderLabels(["材料", "项目", "识别结果", ""])
        self.form_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.form_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header, vertical = self.form_table.horizontalHeader(), self.form_table.verticalHeader()
        assert header is not None and vertical is not None
        vertical.setVisible(False)
        vertical.setDefaultSectionSize(64)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        self.form_table.setColumnWidth(3, 130)
        left.addWidget(self.form_table, 1)
        self.review_button = primary_button("提交智能审查")
        self.review_button.setMinimumHeight(96)
        self.review_button.clicked.connect(self.run_review)
        left.addWidget(self.review_button)
        layout.addLayout(left, 3)
        self.editor = FieldEditor()
        self.editor.hide()
        self.editor.ok_button.clicked.connect(self.apply_edit)
        self.editor.cancel_button.clicked.connect(self.editor.hide)
        layout.addWidget(self.editor, 2, Qt.AlignmentFlag.AlignTop)
        self.correct_buttons: dict[tuple[str, str], QPushButton] = {}
        self.steps.addWidget(page)
        self.form_step = page

    def _build_result(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.outcome_label = _big("", 30, True)
        layout.addWidget(self.outcome_label)
        self.checks_list = QListWidget()
        self.checks_list.setWordWrap(True)
        self.checks_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        layout.addWidget(self.checks_list, 1)
        row = QHBoxLayout()
        self.print_button = primary_button("打印审批结果通知书")
        self.print_button.setMinimumHeight(96)
        self.print_button.clicked.connect(self.print_certificate)
        self.queue_button = primary_button("提交窗口人工审核")
        self.queue_button.setMinimumHeight(96)
        self.queue_button.clicked.connect(self.queue_for_clerk)
        self.back_button = QPushButton("返回修改")
        self.back_button.setMinimumHeight(96)
        self.back_button.clicked.connect(lambda: self.steps.setCurrentWidget(self.form_step))
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.queue_button)
        row.addWidget(self.print_button)
        layout.addLayout(row)
        self.steps.addWidget(page)
        self.result_step = page

    def _build_done(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.done_label = _big("", 30, True)
        self.done_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.done_label)
        self.done_detail = _big("", 24)
        self.done_detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.done_detail)
        layout.addStretch(1)
        self.finish_button = primary_button("结束办理")
        self.finish_button.setMinimumSize(360, 96)
        self.finish_button.clicked.connect(self.finish)
        layout.addWidget(self.finish_button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        self.steps.addWidget(page)
        self.done_step = page

    # -- face login ------------------------------------------------------------------------

    def poll_face(self) -> None:
        """One camera frame, looked at off the GUI thread (the timer's tick)."""
        if self._scanning or self.is_busy or self.applicant is not None or not self.face_enabled:
            return
        self._scanning = True
        camera = self.face_camera

        def work() -> tuple[np.ndarray, FaceScan]:
            if self.detector is None:
                self.detector = FaceDetector()
            frame = np.asarray(camera.frame())
            return frame, self.detector.scan(frame)

        self.tasks.submit(work, self._face_seen, self._face_failed)

    def _face_failed(self, exc: BaseException) -> None:
        self._scanning = False
        self.face_status.setText(f"{error_message(exc)}；也可扫码或插卡登录")

    def _face_seen(self, result: tuple[np.ndarray, FaceScan]) -> None:
        self._scanning = False
        if self.applicant is not None or not self.face_enabled:
            return
        frame, scan = result
        self.last_scan = scan
        colour = (60, 200, 60) if scan.state is FaceState.ONE else (40, 40, 220)
        self.camera_view.setPixmap(_pixmap(frame_preview(frame, scan.boxes, colour), 720, 540))
        self.face_status.setText(scan.message)
        self._steady = self._steady + 1 if scan.state is FaceState.ONE else 0
        if self._steady >= FACE_STEADY_FRAMES:
            self._steady = 0
            self.compare_face(scan)

    def compare_face(self, scan: FaceScan) -> None:
        platform = self.ctx.platform
        self.face_timer.stop()
        self.run_busy("正在与身份证照片比对…", lambda: search_face(platform, scan.crop_png),
                      self._face_compared, on_error=self._face_compare_failed,
                      on_cancel=self.retry_face)

    def _face_compared(self, match: Any) -> None:
        if not match.matched:
            self.ctx.audit.record("face_login", result="no_match", score=round(match.score, 2))
            self._face_stop("人脸比对未通过。请重新识别，或扫码、插卡登录")
            return
        applicant = face_applicant(match.holder_id, match.name, match.score)
        self.ctx.audit.record("face_login", holder_id=applicant.holder_id, result="matched",
                              score=round(match.score, 2))
        self.ctx.sessions.begin(applicant)
        self.applicant_ready(applicant)

    def _face_compare_failed(self, exc: BaseException) -> None:
        if isinstance(exc, PlatformUnavailable):
            text = "人脸比对服务暂时无法连接，请扫码或插卡登录"
        elif isinstance(exc, PlatformError) and exc.code in ("no_face", "several_faces"):
            text = exc.message + "，请重新识别"
        else:
            text = error_message(exc)
        self._face_stop(text)

    def _face_stop(self, text: str) -> None:
        self.face_status.setText(text)
        self.notice.show_message(text, "error")
        self.face_enabled = False
        self.face_timer.stop()
        self.face_retry_button.show()

    def retry_face(self) -> None:
        self.notice.clear_message()
        self.face_retry_button.hide()
        self.face_enabled = self.face_camera is not None
        self._steady = 0
        if self.face_enabled:
            self.face_status.setText("请正对摄像头，保持面部在框内")
            self.face_timer.start()

    # -- the applicant ---------------------------------------------------------------------

    def applicant_ready(self, applicant: Applicant) -> None:
        if self.applicant is not None:
            return
        self.applicant = applicant
        self.face_timer.stop()
        self.face_enabled = False
        self.camera_view.clear()
        self.notice.clear_message()
        self.greeting.setText(f"您好，{applicant.masked_name}（{applicant.identified_by.label}）")
        self.steps.setCurrentWidget(self.matters_step)

    def choose_matter(self, code: str) -> None:
        assert self.applicant is not None
        rules = matters()[code]
        self.case = ReviewCase(self.ctx.new_case_number(), rules, self.applicant)
        self.case_state = {"queued": False}
        session = self.ctx.sessions.current
        if session is not None:
            session.scratch[CLEANUP_KEY] = case_cleanup(
                self.ctx.case_root / self.case.case_number, self.case_state)
        self.request = consent_request(self.applicant, rules, self.ctx.manifest.id)
        self.consent_panel.show_preview(self.request.preview_lines())
        self.steps.setCurrentWidget(self.consent_step)

    def consent_refused(self) -> None:
        request, operator = self.request, self.ctx.operator()
        self.run_busy("正在记录…", lambda: self.ctx.consents.decline(request, operator=operator),
                      lambda _r: self._back_to_matters("您未同意调取证照，无法进行智能审批。"))

    def _back_to_matters(self, text: str) -> None:
        self.notice.show_message(text, "info")
        self.steps.setCurrentWidget(self.matters_step)

    def consent_given(self) -> None:
        assert self.case is not None
        request, operator, case = self.request, self.ctx.operator(), self.case

        def work() -> tuple[Any, Any]:
            consent = self.ctx.consents.grant(request, operator=operator)
            result = self.ctx.licences.fetch(consent, case.rules.licence_types,
                                             reason=f"智能审批：{case.rules.name}",
                                             operator=operator)
            return consent, result

        self.run_busy("正在调取电子证照…", work, self._licences_fetched)

    def _licences_fetched(self, outcome: tuple[Any, Any]) -> None:
        assert self.case is not None
        consent, result = outcome
        self.ctx.sessions.add_consent(consent)
        self.case.licences = licences_by_type(result, self.case.rules.licence_types)
        self.case.offline = bool(result.offline)
        if result.offline:
            self.notice.show_message("证照平台暂时无法连接，已使用本机缓存的电子证照", "offline")
        else:
            self.notice.clear_message()
        self.show_capture()

    # -- capture ---------------------------------------------------------------------------

    def show_capture(self) -> None:
        assert self.case is not None
        key = self.case.next_material
        if key is None:
            self.show_form()
            return
        spec = self.case.rules.material(key)
        index = [m.key for m in self.case.rules.materials].index(key) + 1
        self.current_material = key
        self.capture_title.setText(f"拍摄材料 {index}/{len(self.case.rules.materials)}："
                                   f"{spec.name}")
        self.capture_hint.setText(f"请将《{spec.name}》正面朝上平放在高拍仪下，然后点“拍摄”。")
        self.capture_result.setText("")
        self.capture_view.setText("请将材料放在高拍仪下")
        self.capture_button.setText("拍摄")
        self.next_button.hide()
        self.steps.setCurrentWidget(self.capture_step)

    def capture(self) -> None:
        assert self.case is not None
        try:
            camera = self.ctx.cameras.document_camera()
        except Exception:
            camera = None
        if camera is None:
            self.notice.show_message("本机未配置高拍仪，请到窗口办理", "error")
            return
        case, key = self.case, self.current_material
        spec = case.rules.material(key)

        def work() -> Capture:
            import cv2

            from plugins.smart_review.ocr import read_material

            shot = camera.capture()
            image = np.asarray(shot.image)
            result = read_material(spec, image)
            # JPEG: a 5-megapixel page is ~5 MB as PNG (camera noise), ~0.5 MB as JPEG
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            if not ok:
                raise RuntimeError("jpeg")
            jpeg = bytes(buf)
            self.ctx.write_case_file(case.case_number, image_name(key), jpeg)
            return Capture(key, jpeg, result.fields, result.found)

        self.run_busy("正在拍摄并识别…", work, self._captured)

    def _captured(self, capture: Capture) -> None:
        assert self.case is not None
        spec = self.case.rules.material(capture.material)
        self.capture_view.setPixmap(_image_pixmap(capture.jpeg, 600, 800))
        total = len(spec.fields)
        if capture.found == 0:
            self.capture_result.setText("未能识别材料内容，请摆正材料后重新拍摄。")
            self.capture_button.setText("重新拍摄")
            return
        self.case.add_capture(capture)
        rest = "" if capture.found == total else "未识别的项目稍后可更正。"
        self.capture_result.setText(f"已识别 {capture.found}/{total} 项。{rest}")
        self.capture_button.setText("重新拍摄")
        self.next_button.setText("核对申请表" if self.case.next_material is None else "下一份材料")
        self.next_button.show()

    def after_capture(self) -> None:
        self.show_capture()

    # -- the form --------------------------------------------------------------------------

    def show_form(self) -> None:
        assert self.case is not None
        rows = [(m, f) for m in self.case.rules.materials for f in m.fields]
        self.form_table.setRowCount(len(rows))
        self.correct_buttons = {}
        for i, (material, spec) in enumerate(rows):
            self.form_table.setItem(i, 0, QTableWidgetItem(material.name.split("（")[0]))
            self.form_table.setItem(i, 1, QTableWidgetItem(spec.label))
            value = self.case.form.get(material.key, spec.key)
            corrected = (material.key, spec.key) in self.case.form.corrected
            shown = value or "（未识别）"
            mark = "（已更正）" if corrected else ""
            self.form_table.setItem(i, 2, QTableWidgetItem(shown + mark))
            button = QPushButton("更正")
            button.clicked.connect(lambda _c=False, m=material.key, s=spec: self.edit_field(m, s))
            self.form_table.setCellWidget(i, 3, button)
            self.correct_buttons[(material.key, spec.key)] = button
        self.editor.hide()
        self.steps.setCurrentWidget(self.form_step)

    def edit_field(self, material: str, spec: FieldSpec) -> None:
        assert self.case is not None
        value = self.case.form.get(material, spec.key)
        candidates = [value] if value else []
        if spec.type == "name":  # the names the fetched licences know, to pick from
            for licence in self.case.licences.values():
                if licence is None:
                    continue
                for key in ("姓名", "配偶姓名", "户主姓名"):
                    name = str(licence.fields.get(key, ""))
                    if name and name not in candidates:
                        candidates.append(name)
        self.editing = (material, spec)
        self.editor.edit(spec, value, candidates)

    def apply_edit(self) -> None:
        assert self.case is not None and self.editing is not None
        material, spec = self.editing
        value = normalise(spec, self.editor.value())
        if value != self.case.form.get(material, spec.key):
            self.case.form.set(material, spec.key, value, corrected=True)
        self.editing = None
        self.show_form()

    # -- review ----------------------------------------------------------------------------

    def run_review(self) -> None:
        assert self.case is not None
        case = self.case
        now = self.ctx.clock()
        case.run_review(today_in_china(now))
        data = report_data(case, now, self.ctx.workstation_id)

        def work() -> Any:
            return self.ctx.printing.prepare(
                "smart_review.report", data, purpose=f"智能审批：{case.rules.name}",
                case_number=case.case_number, holder_id=case.applicant.holder_id)

        self.run_busy("正在生成审批报告…", work, self._reviewed)

    def _reviewed(self, prepared: Any) -> None:
        assert self.case is not None
        case = self.case
        self.prepared["report"] = prepared
        self.ctx.audit.record("review", holder_id=case.applicant.holder_id,
                              matter=case.rules.code, passed=case.passed,
                              failed=len(case.failures))
        self.checks_list.clear()
        for result in case.results:
            mark = "✔ 通过" if result.passed else "✘ 未通过"
            item = QListWidgetItem(f"{mark}  {result.label}：{result.reason}\n"
                                   f"    依据：{result.evidence_text()}")
            item.setForeground(Qt.GlobalColor.darkGreen if result.passed else Qt.GlobalColor.red)
            self.checks_list.addItem(item)
        if case.passed:
            self.outcome_label.setText(f"审查通过：全部 {len(case.results)} 项符合要求，"
                                       "可自助打印审批结果通知书")
        else:
            self.outcome_label.setText(f"审查未通过：{len(case.failures)} 项不符合要求。"
                                       "您可返回修改，或提交窗口人工审核")
        self.print_button.setVisible(case.passed)
        self.queue_button.setVisible(not case.passed)
        self.steps.setCurrentWidget(self.result_step)

    def print_certificate(self) -> None:
        assert self.case is not None
        case, now = self.case, self.ctx.clock()
        data = certificate_data(case, now, self.ctx.workstation_id)
        printing, records = self.ctx.printing, self.ctx.records
        history = queue_data(case, {}, now)  # the approved case, kept without its images

        def work() -> Any:
            prepared = self.prepared.get("certificate")
            if prepared is None:
                records.put(RECORD_KIND, case.case_number, history, state=AUTO_APPROVED,
                            holder_id=case.applicant.holder_id)
                prepared = printing.prepare(
                    "smart_review.certificate", data, purpose=f"自助出证：{case.rules.name}",
                    case_number=case.case_number, holder_id=case.applicant.holder_id)
                self.prepared["certificate"] = prepared
            if self.print_outcome is not None and not self.print_outcome.status.terminal:
                return printing.follow(prepared, self.print_outcome, timeout_s=60)
            return printing.print(prepared, timeout_s=60, until=lambda s: s.needs_attention)

        self.run_busy("正在打印审批结果通知书…", work, self._printed)

    def _printed(self, outcome: Any) -> None:
        self.print_outcome = outcome
        state = str(getattr(outcome.status.state, "value", outcome.status.state))
        if outcome.destination == "file" or state == "completed":
            self.notice.clear_message()
            assert self.case is not None
            self.done_label.setText("审批通过，通知书已打印，请取走")
            code = "-".join(outcome.code[i : i + 4] for i in range(0, len(outcome.code), 4))
            self.done_detail.setText(f"案卷编号：{self.case.case_number}\n"
                                     f"通知书上的核验码：{code}")
            self.steps.setCurrentWidget(self.done_step)
            return
        self.notice.show_message(f"打印未完成：{outcome.text}。请联系工作人员处理后点“重新打印”",
                                 "error")
        self.print_button.setText("重新打印")

    def queue_for_clerk(self) -> None:
        assert self.case is not None
        case, now = self.case, self.ctx.clock()
        files = {m: image_name(m) for m in case.captures}
        data = queue_data(case, files, now)
        records = self.ctx.records

        def work() -> Any:
            return records.put(RECORD_KIND, case.case_number, data, state=QUEUED,
                               holder_id=case.applicant.holder_id)

        self.run_busy("正在提交人工审核…", work, self._queued)

    def _queued(self, _record: Any) -> None:
        assert self.case is not None
        self.case_state["queued"] = True
        self.ctx.audit.record("review_queued", holder_id=self.case.applicant.holder_id,
                              matter=self.case.rules.code, reasons=len(self.case.failures))
        self.done_label.setText("已提交窗口人工审核")
        self.done_detail.setText(f"案卷编号：{self.case.case_number}\n工作人员将在1个工作日内"
                                 "审核，可凭案卷编号到窗口查询结果。")
        self.steps.setCurrentWidget(self.done_step)

    def finish(self) -> None:
        self.ctx.sessions.end("finished")


# ---------------------------------------------------------------------------------------------
# Clerk mode: the queue
# ---------------------------------------------------------------------------------------------


class ClerkQueuePage(ScenarioPage):
    """Cases the robot could not approve: the list, one case's evidence and images, and the
    clerk's decision (approve, or return with a reason)."""

    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx, "智能审批 · 人工审核队列")
        self.records: list[Any] = []
        self.current: Any = None
        top = QHBoxLayout()
        self.count_label = QLabel()
        top.addWidget(self.count_label, 1)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        self.layout_.addLayout(top)
        split = QSplitter()
        self.queue_list = QListWidget()
        self.queue_list.setWordWrap(True)
        self.queue_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.queue_list.currentRowChanged.connect(self.show_case)
        split.addWidget(self.queue_list)
        detail = QWidget()
        dl = QVBoxLayout(detail)
        self.detail_title = QLabel()
        self.detail_title.setWordWrap(True)
        dl.addWidget(self.detail_title)
        self.reasons_label = QLabel()
        self.reasons_label.setWordWrap(True)
        self.reasons_label.setStyleSheet("color: #b71c1c;")
        dl.addWidget(self.reasons_label)
        self.checks_table = QTableWidget(0, 3)
        self.checks_table.setHorizontalHeaderLabels(["审查项目", "结果", "说明与依据"])
        self.checks_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.checks_table.setWordWrap(True)
        h = self.checks_table.horizontalHeader()
        assert h is not None
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.checks_table, "审查结果与依据")
        self.images_area = QScrollArea()
        self.images_area.setWidgetResizable(True)
        self.images_box = QWidget()
        self.images_layout = QHBoxLayout(self.images_box)
        self.images_area.setWidget(self.images_box)
        self.tabs.addTab(self.images_area, "材料图像")
        dl.addWidget(self.tabs, 1)
        self.image_labels: list[QLabel] = []
        actions = QHBoxLayout()
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("退回原因（退回时必填）")
        actions.addWidget(self.reason_edit, 1)
        self.return_button = QPushButton("退回")
        self.return_button.clicked.connect(self.return_case)
        self.approve_button = primary_button("审核通过")
        self.approve_button.clicked.connect(self.approve)
        actions.addWidget(self.return_button)
        actions.addWidget(self.approve_button)
        dl.addLayout(actions)
        split.addWidget(detail)
        split.setSizes([360, 900])
        self.layout_.addWidget(split, 1)
        self._enable(False)
        QTimer.singleShot(0, self.refresh)

    def _enable(self, on: bool) -> None:
        for w in (self.reason_edit, self.return_button, self.approve_button):
            w.setEnabled(on)

    def refresh(self) -> None:
        records = self.ctx.records
        self.run_busy("正在读取审核队列…", lambda: records.find(RECORD_KIND, state=QUEUED),
                      self._listed)

    def _listed(self, found: list[Any]) -> None:
        self.records = list(found)
        self.queue_list.clear()
        for record in self.records:
            data = record.data
            when = _china_time(str(data.get("queued_at", "")))
            self.queue_list.addItem(f"{queue_summary(data)}\n{when}  未通过 "
                                    f"{len(data.get('reasons', []))} 项")
        self.count_label.setText(f"待人工审核：{len(self.records)} 件")
        self.current = None
        self._clear_detail()
        if self.records:
            self.queue_list.setCurrentRow(0)

    def _clear_detail(self) -> None:
        self.detail_title.setText("请从左侧选择案件" if self.records else "没有待审核的案件")
        self.reasons_label.setText("")
        self.checks_table.setRowCount(0)
        for label in self.image_labels:
            label.deleteLater()
        self.image_labels = []
        self._enable(False)

    def show_case(self, row: int) -> None:
        self._clear_detail()
        if not 0 <= row < len(self.records):
            return
        self.current = self.records[row]
        data = self.current.data
        self.detail_title.setText(
            f"<b>{data.get('matter_name', '')}</b>　案卷编号 {data.get('case_number', '')}<br>"
            f"申请人 {data.get('name', '')}　证件号码 "
            f"{str(data.get('holder_id', ''))[:6]}********{str(data.get('holder_id', ''))[-4:]}")
        self.reasons_label.setText("未通过：" + "；".join(data.get("reasons", [])))
        checks = data.get("checks", [])
        self.checks_table.setRowCount(len(checks))
        for i, check in enumerate(checks):
            self.checks_table.setItem(i, 0, QTableWidgetItem(check["label"]))
            result = QTableWidgetItem("通过" if check["passed"] else "未通过")
            result.setForeground(Qt.GlobalColor.darkGreen if check["passed"] else
                                 Qt.GlobalColor.red)
            self.checks_table.setItem(i, 1, result)
            self.checks_table.setItem(i, 2, QTableWidgetItem(
                f"{check['reason']}；{check['evidence']}"))
        self.checks_table.resizeRowsToContents()
        folder = self.ctx.case_root / str(data.get("case_number", ""))
        for _material, name in dict(data.get("images", {})).items():
            label = QLabel()
            path = folder / str(name)
            if path.is_file():
                label.setPixmap(_image_pixmap(path.read_bytes(), 420, 560))
            else:
                label.setText("（图像文件缺失）")
            label.setToolTip(str(name))
            self.images_layout.addWidget(label)
            self.image_labels.append(label)
        self._enable(True)

    def approve(self) -> None:
        self._decide(APPROVED, "")

    def return_case(self) -> None:
        try:
            reason = validate_return_reason(self.reason_edit.text())
        except ValueError as exc:
            self.notice.show_message(str(exc), "error")
            return
        self._decide(RETURNED, reason)

    def _decide(self, state: str, reason: str) -> None:
        record = self.current
        if record is None:
            return
        data = dict(record.data)
        data["decision"] = {"state": state, "reason": reason,
                            "by": self.ctx.operator() or "",
                            "at": dt.datetime.now(dt.UTC).isoformat()}
        records, audit = self.ctx.records, self.ctx.audit

        def work() -> Any:
            updated = records.update(RECORD_KIND, record.key, expect_state=QUEUED, state=state,
                                     data=data)
            audit.record("review_decision", holder_id=str(data.get("holder_id", "")),
                         decision=state, matter=str(data.get("matter_code", "")))
            return updated

        def failed(exc: BaseException) -> None:
            if isinstance(exc, RecordConflict):
                self.notice.show_message(exc.message, "error")
                self.refresh()
            else:
                self.notice.show_message(error_message(exc), "error")

        def done(_updated: Any) -> None:
            self.notice.show_message(f"已{STATE_LABELS[state]}：{record.key}", "info")
            self.reason_edit.clear()
            self.refresh()

        self.run_busy("正在保存审核结果…", work, done, on_error=failed)
