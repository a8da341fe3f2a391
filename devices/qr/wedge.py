"""Telling a keyboard-wedge scanner's burst from a person typing (Qt-free, clock injected).

A wedge scanner "types" a whole code in one burst (every gap a few ms; on a loaded 2-core
machine up to ~28 ms) and ends it with Enter (or Tab). People type with gaps of 80 ms and more.
Keys are held while they may be the start of a burst; held keys that turn out to be typing
are handed back (``replay``) so the focused field still gets them, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TERMINATORS = frozenset({"\r", "\n", "\t"})


@dataclass(frozen=True)
class WedgeResult:
    held: bool = False  # the key was taken (part of a possible burst)
    replay: int = 0  # how many held keys (oldest first) to give back to the focused widget
    scan: str | None = None  # a completed burst: the scanned text


@dataclass
class WedgeClassifier:
    max_gap_s: float = 0.045
    min_length: int = 8
    _chars: list[str] = field(default_factory=list)
    _last: float = 0.0

    @property
    def holding(self) -> int:
        return len(self._chars)

    def key(self, char: str, at: float) -> WedgeResult:
        """One key press (its text) at time ``at`` (seconds, monotonic)."""
        if self._chars and at - self._last > self.max_gap_s:
            released = len(self._chars)  # too slow for a scanner: it was typing
            self._chars.clear()
            if char in TERMINATORS:
                return WedgeResult(replay=released)
            self._chars.append(char)
            self._last = at
            return WedgeResult(held=True, replay=released)
        if char in TERMINATORS:
            if len(self._chars) >= self.min_length:
                text = "".join(self._chars)
                self._chars.clear()
                return WedgeResult(held=True, scan=text)
            released = len(self._chars)
            self._chars.clear()
            return WedgeResult(replay=released)
        self._chars.append(char)
        self._last = at
        return WedgeResult(held=True)

    def idle(self, at: float) -> int:
        """Called by a timer: the number of held keys to give back when the burst stalled."""
        if self._chars and at - self._last > self.max_gap_s:
            released = len(self._chars)
            self._chars.clear()
            return released
        return 0
