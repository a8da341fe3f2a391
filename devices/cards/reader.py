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

from devices.cards.model import CardError, ReaderState, SocialSecurityCardData


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
    identity: SocialSecurityCardData | None = field(default=None, repr=False)
    error: CardError | None = None
    at: float = field(default_factory=time.monotonic)  # time.monotonic() of the event


CardListener = Callable[[CardEvent], None]


class SmartCardReader(ABC):
    """One card slot. Backends implement the five abstract members."""

    kind: str = "card_reader"

    def __init__(self) -> None:
        self._state = ReaderState.NO_READER
        self._state_lock = threading.Lock()
        self.reader_name: str | None = None  # the resolved reader, once found

    @classmethod
    @abstractmethod
    def is_usable(cls) -> bool:
        """Whether this backend can run on this machine (its library loads)."""

    @abstractmethod
    def read_identity(self) -> SocialSecurityCardData:
        """Read the card in the reader now (blocking): a whole identity or a CardError."""

    @abstractmethod
    def wait_for_identity(self, timeout_s: float) -> SocialSecurityCardData:
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

    def describe(self) -> str:
        name = self.reader_name or "—"
        return f"{self.kind}（{name}）：{self.state.label}"
