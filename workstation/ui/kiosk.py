"""Kiosk idle handling: any touch, click or key resets the timer; a visible countdown precedes
the wipe. Installed as an application-wide event filter."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

_ACTIVITY = {
    QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin,
    QEvent.Type.Wheel, QEvent.Type.TabletPress,
}


class IdleWatcher(QObject):
    """Emits ``countdown(seconds_left)`` during the last ``countdown_s`` and ``expired`` at 0."""

    countdown = pyqtSignal(int)
    expired = pyqtSignal()
    activity = pyqtSignal()

    def __init__(
        self, idle_s: int, countdown_s: int, parent: QObject | None = None, *, tick_ms: int = 1000
    ) -> None:
        super().__init__(parent)
        self.idle_s = idle_s
        self.countdown_s = countdown_s
        self._remaining = idle_s
        self._tick = QTimer(self)
        self._tick.setInterval(tick_ms)  # one "second"; tests shorten it
        self._tick.timeout.connect(self._on_tick)
        self.enabled = True

    def start(self) -> None:
        self._remaining = self.idle_s
        self._tick.start()

    def stop(self) -> None:
        self._tick.stop()

    def reset(self) -> None:
        was_counting = self._remaining <= self.countdown_s
        self._remaining = self.idle_s
        if was_counting:
            self.activity.emit()

    @property
    def remaining(self) -> int:
        return self._remaining

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() in _ACTIVITY:
            self.reset()
        return False

    def _on_tick(self) -> None:
        if not self.enabled:
            return
        self._remaining -= 1
        if self._remaining <= 0:
            self._remaining = self.idle_s
            self.expired.emit()
        elif self._remaining <= self.countdown_s:
            self.countdown.emit(self._remaining)


class CountdownOverlay(QFrame):
    """“n 秒后将自动退出” with a big button to keep going."""

    keep_going = pyqtSignal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("Countdown")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 32, 40, 32)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.button = QPushButton("继续办理")
        self.button.setObjectName("Primary")
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self.button.clicked.connect(self.keep_going)
        self.hide()

    def show_seconds(self, seconds: int) -> None:
        self.label.setText(f"您已较长时间未操作\n{seconds} 秒后将自动退出并清除您的信息")
        parent = self.parentWidget()
        if parent is not None:
            w, h = min(720, parent.width() - 40), 300
            self.setGeometry((parent.width() - w) // 2, (parent.height() - h) // 2, w, h)
        self.raise_()
        self.show()
