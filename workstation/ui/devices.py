"""Qt bridges: device callbacks (on device threads) become signals on the GUI thread.

A device's listener runs on the device's own thread; the bridge lives on the GUI thread, so
emitting its signal from there is a queued call and the slots run on the GUI thread. Nothing
here touches a widget.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

log = logging.getLogger(__name__)


class CardReaderBridge(QObject):
    """Starts a card reader and re-emits its events as ``card_event(CardEvent)``."""

    card_event = pyqtSignal(object)

    def __init__(self, reader: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.label: Any = None  # the status-bar label that shows this reader's state
        self._running = False

    def start(self) -> None:
        if not self._running:
            self._running = True
            self.reader.start(self._from_device_thread)

    def stop(self) -> None:
        if self._running:
            self._running = False
            self.reader.stop()

    def _from_device_thread(self, device_event: Any) -> None:
        # Device thread: only emit. A bridge destroyed meanwhile raises RuntimeError.
        with contextlib.suppress(RuntimeError):
            self.card_event.emit(device_event)
