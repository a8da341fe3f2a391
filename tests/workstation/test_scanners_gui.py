"""Scanned codes in the shell: the wedge event filter and the checks before the code formats."""

from __future__ import annotations

from typing import Any

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLineEdit, QWidget

from workstation.ui.main_window import MainWindow
from workstation.ui.scanners import WedgeScannerFilter


class KeyRecorder(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.typed = ""

    def keyPressEvent(self, event: Any) -> None:
        self.typed += event.text()


class StepClock:
    """Each reading is ``step`` seconds after the last: a burst or a slow typist."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def recorder(qtbot, qapp):
    widget = KeyRecorder()
    qtbot.addWidget(widget)
    widget.show()
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)
    return widget


def install(qapp, clock) -> WedgeScannerFilter:
    wedge = WedgeScannerFilter(clock=clock)
    qapp.installEventFilter(wedge)
    return wedge


def test_scanner_burst_becomes_one_scan_and_no_keys(qtbot, qapp, recorder):
    wedge = install(qapp, StepClock(0.004))
    try:
        with qtbot.waitSignal(wedge.scanned) as blocker:
            qtbot.keyClicks(recorder, "EHBID1.abc-XYZ")
            qtbot.keyClick(recorder, Qt.Key.Key_Return)
        assert blocker.args == ["EHBID1.abc-XYZ"]
        assert recorder.typed == ""
    finally:
        qapp.removeEventFilter(wedge)


def test_typing_reaches_the_widget_in_order(qtbot, qapp, recorder):
    wedge = install(qapp, StepClock(0.15))
    scans: list[str] = []
    wedge.scanned.connect(scans.append)
    try:
        qtbot.keyClicks(recorder, "wang fang")
        qtbot.waitUntil(lambda: recorder.typed == "wang fang")
        assert scans == []
    finally:
        qapp.removeEventFilter(wedge)


def test_text_fields_get_keys_untouched(qtbot, qapp, recorder):
    """Also when keys are sent to a field that does not have the focus (test drivers do)."""
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    wedge = install(qapp, StepClock(0.004))
    try:
        assert recorder.hasFocus() and not edit.hasFocus()
        qtbot.keyClicks(edit, "demo1234")
        assert edit.text() == "demo1234"  # at once: nothing was held
    finally:
        qapp.removeEventFilter(wedge)


@pytest.fixture
def kiosk(qtbot: Any, make_core: Any) -> Any:
    win = MainWindow(kiosk=True)
    qtbot.addWidget(win)
    win.show()
    win.attach(make_core(mode="kiosk"))
    yield win
    win.stop_scanners()
    win.idle.stop()
    win.tasks.wait_for_done(10000)


@pytest.mark.parametrize(("payload", "words"), [
    ("EHBID1." + "A" * 5000, "过长"),
    ("EHBID1.abc\x00def", "控制字符"),
    ("\ufffd\ufffd\ufffd", "乱码"),
    ("https://example.com/not-a-code", "无法识别此二维码"),
])
def test_refused_scans_say_why_and_change_nothing(qtbot, kiosk, payload, words):
    kiosk.code_scanned(payload)
    assert words in kiosk.banner.text()
    assert kiosk.core.sessions.current is None
    assert not kiosk.busy.isVisible()


def test_binary_bytes_from_a_camera_are_refused(qtbot, kiosk):
    kiosk.code_bytes_scanned(bytes([0x81, 0x00, 0xFF, 0xFE, 0x02]) * 5)
    assert "二进制" in kiosk.banner.text()
    assert kiosk.core.sessions.current is None


def test_wedge_scan_identifies_in_the_kiosk(qtbot, kiosk, sandbox):
    assert kiosk.wedge is not None  # qr_scanner = "simulated": the keyboard wedge
    person = sandbox.world.sample_person(1)
    code = kiosk.core.platform.issue_code(person.id_number).code
    kiosk.wedge.clock = StepClock(0.003)
    kiosk.launcher.setFocus()
    qtbot.keyClicks(kiosk.launcher, code)
    qtbot.keyClick(kiosk.launcher, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: kiosk.core.sessions.current is not None, timeout=10000)
    assert kiosk.core.sessions.current.applicant.holder_id == person.id_number


def test_serial_scanner_codes_reach_the_code_formats(qtbot, make_core, sandbox):
    """GIVEN qr_scanner = serial on a pseudo-terminal WHEN a scanner sends a code + CR
    THEN the applicant is identified, through the GUI thread."""
    import os
    import tty

    from workstation.config import DevicesConfig

    master, slave = os.openpty()
    tty.setraw(slave)
    win = MainWindow(kiosk=True)
    qtbot.addWidget(win)
    win.show()
    win.attach(make_core(mode="kiosk", devices=DevicesConfig(
        qr_scanner=f"serial:{os.ttyname(slave)}", scanner_terminator="CR")))
    try:
        assert win.wedge is None and len(win.scanners) == 1
        person = sandbox.world.sample_person(3)
        code = win.core.platform.issue_code(person.id_number).code
        os.write(master, b"\x00\xff\xfe\x81garbage\r")  # a misconfigured scanner's junk
        qtbot.waitUntil(lambda: "二进制" in win.banner.text(), timeout=10000)
        assert win.core.sessions.current is None
        os.write(master, code.encode() + b"\r")
        qtbot.waitUntil(lambda: win.core.sessions.current is not None, timeout=10000)
        assert win.core.sessions.current.applicant.holder_id == person.id_number
    finally:
        win.stop_scanners()
        win.idle.stop()
        win.tasks.wait_for_done(10000)
        os.close(master)
        os.close(slave)


def test_a_camera_that_cannot_open_is_named_in_the_status_bar(qtbot, make_core):
    from workstation.config import DevicesConfig

    win = MainWindow(kiosk=False)
    qtbot.addWidget(win)
    win.show()
    win.attach(make_core(devices=DevicesConfig(qr_scanner="camera:97")))
    assert "不可用" in win.device_label.text() and "摄像头 97" in win.device_label.text()
    assert win.scanners == []
