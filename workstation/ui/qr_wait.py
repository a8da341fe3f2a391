"""A QR shown for the phone to scan, and a poller that asks the platform for the outcome.

Used by the scenario pages whose flow is "show a QR, wait for the phone" (electronic business
licence login, consent requests). Polling runs each call off the GUI thread (TaskRunner), one
at a time, on a QTimer: the GUI never blocks and never sleeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject, Qt, QTimer
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workstation.services.model import CHINA_TZ
from workstation.ui.demo_phone import qr_pixmap
from workstation.ui.tasks import TaskRunner


class QrPanel(QFrame):
    """A QR code with a title, an instruction and a status line."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Notice")
        layout = QHBoxLayout(self)
        self.qr = QLabel()
        self.qr.setFixedSize(220, 220)
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QVBoxLayout()
        self.title = QLabel(f"<b>{title}</b>")
        self.instruction = QLabel()
        self.instruction.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        text.addWidget(self.title)
        text.addWidget(self.instruction)
        text.addWidget(self.status)
        text.addStretch(1)
        layout.addWidget(self.qr)
        layout.addLayout(text, 1)
        self.qr_text: str | None = None
        self.hide()

    def show_code(self, qr_text: str, instruction: str, expires_at: dt.datetime) -> None:
        self.qr_text = qr_text
        self.qr.setPixmap(qr_pixmap(qr_text, 220))
        self.instruction.setText(instruction)
        until = expires_at.astimezone(CHINA_TZ).strftime("%H:%M:%S")
        self.status.setText(f"等待扫码确认…（二维码 {until} 前有效）")
        self.show()

    def clear(self) -> None:
        self.qr_text = None
        self.qr.clear()
        self.hide()


class Poller(QObject):
    """Calls ``fetch`` (off the GUI thread) every ``interval_ms`` until ``on_result`` says stop.

    ``on_result(value) -> bool``: True to keep polling. ``on_error(exc) -> bool`` likewise.
    """

    def __init__(self, tasks: TaskRunner, interval_ms: int = 1000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._fetch: Callable[[], Any] | None = None
        self._on_result: Callable[[Any], bool] = lambda _v: False
        self._on_error: Callable[[BaseException], bool] = lambda _e: False
        self._in_flight = False
        self._generation = 0

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self, fetch: Callable[[], Any], on_result: Callable[[Any], bool],
              on_error: Callable[[BaseException], bool]) -> None:
        self._generation += 1
        self._fetch, self._on_result, self._on_error = fetch, on_result, on_error
        self._in_flight = False
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        self._generation += 1
        self._timer.stop()
        self._in_flight = False

    def _tick(self) -> None:
        if self._in_flight or self._fetch is None:
            return
        self._in_flight = True
        generation = self._generation

        def done(value: Any) -> None:
            if generation != self._generation:
                return  # stopped or restarted meanwhile
            self._in_flight = False
            if not self._on_result(value):
                self.stop()

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._in_flight = False
            if not self._on_error(exc):
                self.stop()

        self._tasks.submit(self._fetch, done, failed)
