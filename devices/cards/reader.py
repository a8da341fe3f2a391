"""The card-reader interface the shell and the self-tests use, and its events.

A reader watches one slot: ``start(listener)`` runs a monitor thread that calls ``listener``
with a :class:`CardEvent` for every change (reader found or lost, card inserted or removed) and
reads every inserted card at once, so the listener gets either a whole identity or a clear
error. The listener runs on the reader's thread: a GUI must hand the event over to its own
thread (the Qt bridge emits a signal) and never touch a widget there.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from devices.cards.model import ReaderState
from devices.errors import DeviceError


class CardHolder(Protocol):
    """What every identity read from a card offers (social security card, ID card)."""

    @property
    def name(self) -> str: ...

    @property
    def id_number(self) -> str: ...


class CardEventKind(StrEnum):
    STATE = "state"  # the reader's state changed (found, lost, service up or down)
    INSERTED = "inserted"
    REMOVED = "removed"
    IDENTITY = "identity"  # a whole identity was read from the inserted card
    READ_FAILED = "read_failed"  # the read failed; ``error`` says why


@dataclass(frozen=True)
class CardEvent:
    kind: CardEventKind
    state: ReaderState
    reader: str | None = None
    identity: CardHolder | None = field(default=None, repr=False)
    error: DeviceError | None = None  # its ``message`` is shown as it is
    at: float = field(default_factory=time.monotonic)  # time.monotonic() of the event


CardListener = Callable[[CardEvent], None]


class SmartCardReader(ABC):
    """One card slot. Backends implement the five abstract members."""

    kind: str = "card_reader"
    label: str = "读卡器"  # how the status bar names it
    # A contact card stays in the reader while the citizen is served: taking it out ends the
    # kiosk session. A contactless ID card is taken back right after the read: it does not.
    ends_session_on_removal: bool = True

    def __init__(self) -> None:
        self._state = ReaderState.NO_READER
        self._state_lock = threading.Lock()
        self.reader_name: str | None = None  # the resolved reader, once found

    @classmethod
    @abstractmethod
    def is_usable(cls) -> bool:
        """Whether this backend can run on this machine (its library loads)."""

    @abstractmethod
    def read_identity(self) -> Any:
        """Read the card in the reader now (blocking): a whole identity or a CardError."""

    @abstractmethod
    def wait_for_identity(self, timeout_s: float) -> Any:
        """Wait for a card and read it; a card pulled mid-read is read again from the start
        once it is back. Raises CardError (NoCard when none came in time)."""

    @abstractmethod
    def start(self, listener: CardListener) -> None:
        """Start watching the slot; ``listener`` runs on the reader's thread."""

    @abstractmethod
    def stop(self) -> None:
        """Stop watching (idempotent); releases every PC/SC handle."""

    @property
    def state(self) -> ReaderState:
        with self._state_lock:
            return self._state

    def _set_state(self, state: ReaderState) -> bool:
        with self._state_lock:
            changed = state != self._state
            self._state = state
            return changed

    def state_text(self, state: ReaderState) -> str:
        """How the status bar words ``state`` for this kind of reader."""
        return state.label

    def describe(self) -> str:
        name = self.reader_name or "—"
        return f"{self.kind}（{name}）：{self.state.label}"
