"""Watching a serial ID-card reader: the same events as a smart-card reader.

Second-generation ID cards are contactless and readers do not report a card arriving: the
monitor reads every ``interval_s`` (find, select, read). A card that appears gives
``INSERTED`` then ``IDENTITY`` once (not at every poll while it lies there); a card taken away
gives ``REMOVED``; a failing read gives ``READ_FAILED`` once per kind of failure; a reader that
does not answer turns the state to "no reader" until it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from devices.cards.model import ReaderState
from devices.cards.reader import CardEvent, CardEventKind, CardListener, SmartCardReader
from devices.idcard.protocol import (
    FrameError,
    IdCardData,
    IdCardReaderError,
    IdCardStatusError,
    NoIdCard,
)
from devices.idcard.reader import SerialIdCardReader

log = logging.getLogger(__name__)


class IdCardReaderMonitor(SmartCardReader):
    kind = "身份证阅读器"
    label = "身份证阅读器"
    ends_session_on_removal = False  # the citizen takes the card back right after the read

    def __init__(self, reader: SerialIdCardReader, interval_s: float = 0.4) -> None:
        super().__init__()
        self.reader = reader
        self.reader_name = reader.port
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def is_usable(cls) -> bool:
        return SerialIdCardReader.is_usable()

    def state_text(self, state: ReaderState) -> str:
        return {ReaderState.EMPTY: "就绪，请放身份证", ReaderState.CARD: "已读取"}.get(
            state, state.label)

    def read_identity(self) -> Any:
        return self.reader.read_identity()

    def wait_for_identity(self, timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.reader.read_identity()
            except (NoIdCard, FrameError, IdCardStatusError):
                if time.monotonic() + self.interval_s > deadline:
                    raise
            self._stop.wait(self.interval_s)

    def start(self, listener: CardListener) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(listener,),
                                        name="id-reader-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5)
        self.reader.close()

    def _emit(self, listener: CardListener, kind: CardEventKind, state: ReaderState,
              **extra: Any) -> None:
        self._set_state(state)
        try:
            listener(CardEvent(kind, state, self.reader_name, **extra))
        except Exception:
            log.exception("ID-card event listener failed")

    def _run(self, listener: CardListener) -> None:
        current: IdCardData | None = None
        last_error = ""
        while not self._stop.is_set():
            try:
                data = self.reader.read_identity()
            except NoIdCard:
                if current is not None:
                    self._emit(listener, CardEventKind.REMOVED, ReaderState.EMPTY)
                elif self.state is not ReaderState.EMPTY:
                    self._emit(listener, CardEventKind.STATE, ReaderState.EMPTY)
                current, last_error = None, ""
            except (FrameError, IdCardStatusError) as exc:
                if exc.message != last_error:  # say it once, not at every poll
                    last_error = exc.message
                    self._emit(listener, CardEventKind.READ_FAILED, ReaderState.ERROR,
                               error=exc)
            except IdCardReaderError as exc:  # no answer, port gone
                self.reader.close()
                if self.state is not ReaderState.NO_READER:
                    if current is not None:
                        self._emit(listener, CardEventKind.REMOVED, ReaderState.NO_READER)
                    self._emit(listener, CardEventKind.STATE, ReaderState.NO_READER,
                               error=exc)
                current, last_error = None, ""
            else:
                last_error = ""
                if current is None or current.id_number != data.id_number:
                    if current is not None:
                        self._emit(listener, CardEventKind.REMOVED, ReaderState.EMPTY)
                    current = data
                    self._emit(listener, CardEventKind.INSERTED, ReaderState.READING)
                    self._emit(listener, CardEventKind.IDENTITY, ReaderState.CARD,
                               identity=data)
            self._stop.wait(self.interval_s)
