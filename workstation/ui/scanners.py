"""QR scanners in the shell: the keyboard-wedge event filter and the bridge that brings codes
from serial scanners and cameras (their own threads) to the GUI thread.

Every code ends in ``MainWindow.code_scanned`` (text) or ``code_bytes_scanned`` (raw bytes),
which check it and hand it to the code-format plugins.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit

from devices.qr.wedge import WedgeClassifier

log = logging.getLogger(__name__)

_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)
_KEY_TEXT = {Qt.Key.Key_Return: "\r", Qt.Key.Key_Enter: "\r", Qt.Key.Key_Tab: "\t"}


class WedgeScannerFilter(QObject):
    """An application-wide event filter: scanner bursts become ``scanned(text)``; keys that
    turn out to be typing are handed back to the widget they were meant for, in order.

    While a text field has the focus, keys are not intercepted: the field gets what is typed
    (and a code scanned then, which the clerk can see and delete)."""

    scanned = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None, *,
                 classifier: WedgeClassifier | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.classifier = classifier or WedgeClassifier()
        self.clock = clock
        self._held: list[tuple[QObject, QKeyEvent]] = []
        self._replaying = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._stalled)

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if self._replaying or event is None or event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        if obj is None or not obj.isWidgetType() or event.isAutoRepeat():
            return False
        if isinstance(obj, _TEXT_INPUTS) and not self._held:
            return False  # typing into a field: keys go there untouched (a scan lands there too)
        mods = event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier \
            & ~Qt.KeyboardModifier.KeypadModifier
        text = _KEY_TEXT.get(Qt.Key(event.key()), event.text())
        if mods != Qt.KeyboardModifier.NoModifier or len(text) != 1:
            self._release(len(self._held))
            return False
        result = self.classifier.key(text, self.clock())
        self._release(result.replay)
        if result.scan is not None:
            self._held.clear()
            self._timer.stop()
            self.scanned.emit(result.scan)
            return True
        if result.held:
            copy = QKeyEvent(event.type(), event.key(), event.modifiers(), event.text(),
                             event.isAutoRepeat(), event.count())
            self._held.append((obj, copy))
            self._timer.start(int(self.classifier.max_gap_s * 1000) + 5)
            return True
        return False

    def _stalled(self) -> None:
        self._release(self.classifier.idle(self.clock()))
        if self._held:  # still holding: the gap is not over yet
            self._timer.start(int(self.classifier.max_gap_s * 1000) + 5)

    def _release(self, count: int) -> None:
        """Give the oldest ``count`` held keys back to their widgets."""
        if count <= 0:
            return
        release, self._held = self._held[:count], self._held[count:]
        self._replaying = True
        try:
            for target, event in release:
                with contextlib.suppress(RuntimeError):  # the widget was destroyed meanwhile
                    QApplication.sendEvent(target, event)
        finally:
            self._replaying = False


class ScannerBridge(QObject):
    """Codes from device threads (serial scanner, camera) -> ``code(bytes)`` on the GUI thread."""

    code = pyqtSignal(bytes)

    def from_device_thread(self, payload: bytes) -> None:
        with contextlib.suppress(RuntimeError):
            self.code.emit(bytes(payload))


def start_scanners(window: Any, devices_cfg: Any) -> list[Any]:
    """Start the QR sources ``[devices] qr_scanner`` names; returns what must be stopped."""
    kind = devices_cfg.kind("qr_scanner")
    started: list[Any] = []
    if kind in ("simulated", "wedge"):
        wedge = WedgeScannerFilter(window)
        wedge.scanned.connect(window.code_scanned)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(wedge)
        window.wedge = wedge
        return started
    bridge = ScannerBridge(window)
    bridge.code.connect(window.code_bytes_scanned)
    window.scanner_bridge = bridge
    try:
        if kind == "serial":
            from devices.qr.sources import SerialQrScanner
            from workstation.config import SERIAL_TERMINATORS

            scanner = SerialQrScanner(
                devices_cfg.argument("qr_scanner"), bridge.from_device_thread,
                baudrate=devices_cfg.serial_baud,
                terminator=SERIAL_TERMINATORS[devices_cfg.scanner_terminator].encode(),
            )
            scanner.start()
            started.append(scanner)
        elif kind == "camera":
            from devices.qr.decoders import DecoderChain
            from devices.qr.sources import CameraScanner, FrameScanner, OpenCvCamera

            chain = DecoderChain.from_names(devices_cfg.qr_decoders)
            camera = OpenCvCamera(int(devices_cfg.argument("qr_scanner") or 0))
            camera.open()
            cam = CameraScanner(camera, FrameScanner(chain, bridge.from_device_thread))
            cam.start()
            started.append(cam)
    except Exception as exc:  # the workstation runs on; the status bar says why
        log.error("QR scanner unavailable: %s", getattr(exc, "message", exc))
        window.device_label.setText(f"扫码器：不可用（{getattr(exc, 'message', exc)}）")
    return started
