"""The serial locker-board backend: open a door, read a door, watch the doors.

Every command waits ``timeout_s`` for its 5-byte reply and is sent again up to ``retries``
times on silence or a corrupt reply; then the board "is not answering". ``start(listener)``
polls every door and reports door opened / door closed / board not answering / board back.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from devices.locker.protocol import (
    FRAME_LEN,
    OPEN,
    QUERY,
    BadFrame,
    BoardNotAnswering,
    DoorJammed,
    DoorState,
    LockerError,
    door_state,
    open_frame,
    parse_reply,
    query_frame,
)

log = logging.getLogger(__name__)


class LockerEventKind(StrEnum):
    DOOR_OPENED = "door_opened"
    DOOR_CLOSED = "door_closed"
    BOARD_NOT_ANSWERING = "board_not_answering"
    BOARD_BACK = "board_back"


@dataclass(frozen=True)
class LockerEvent:
    kind: LockerEventKind
    lock: int | None = None
    error: LockerError | None = field(default=None, compare=False)


LockerListener = Callable[[LockerEvent], None]


class SerialLockerBoard:
    kind = "储物柜控制板（串口）"

    def __init__(self, port: str, *, board: int = 1, doors: int = 16, open_level: int = 1,
                 timeout_s: float = 0.5, retries: int = 2, baudrate: int = 9600) -> None:
        self.port = port
        self.board = board
        self.doors = doors
        self.open_level = open_level
        self.timeout_s = timeout_s
        self.retries = retries
        self.baudrate = baudrate
        self._serial: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.known: dict[int, DoorState] = {}
        self.answering = True

    @classmethod
    def is_usable(cls) -> bool:
        try:
            import serial  # noqa: F401
        except ImportError:
            return False
        return True

    def _port(self) -> Any:
        if self._serial is None:
            import serial

            try:
                self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate,
                                                     timeout=self.timeout_s)
            except (serial.SerialException, OSError) as exc:
                raise LockerError(f"无法打开储物柜控制板串口 {self.port}：{exc}") from None
        return self._serial

    def _check_lock(self, lock: int) -> None:
        if not 1 <= lock <= self.doors:
            raise LockerError(f"没有 {lock} 号柜门（共 {self.doors} 个）", code="no_such_door")

    def _command(self, frame: bytes, cmd: int, lock: int) -> int:
        with self._lock:
            port = self._port()
            last: LockerError = BoardNotAnswering()
            for _attempt in range(self.retries + 1):
                port.reset_input_buffer()
                port.write(frame)
                port.flush()
                reply = port.read(FRAME_LEN)
                if not reply:
                    last = BoardNotAnswering()
                    continue
                try:
                    return parse_reply(reply, cmd, self.board, lock)
                except BadFrame as exc:
                    last = exc
            raise last

    def door(self, lock: int) -> DoorState:
        self._check_lock(lock)
        return door_state(self._command(query_frame(self.board, lock), QUERY, lock),
                          self.open_level)

    def open_door(self, lock: int) -> DoorState:
        """Open ``lock``; raises DoorJammed when the board reports it still closed."""
        self._check_lock(lock)
        status = self._command(open_frame(self.board, lock), OPEN, lock)
        state = door_state(status, self.open_level)
        if state is not DoorState.OPEN:
            raise DoorJammed(f"{lock} 号柜门未能打开，可能被卡住，请联系工作人员")
        return state

    # -- watching ---------------------------------------------------------------------------

    def poll(self, listener: LockerListener) -> None:
        """Query every door once and report what changed."""
        try:
            states = {lock: self.door(lock) for lock in range(1, self.doors + 1)}
        except BoardNotAnswering as exc:
            if self.answering:
                self.answering = False
                listener(LockerEvent(LockerEventKind.BOARD_NOT_ANSWERING, error=exc))
            return
        except LockerError as exc:
            log.warning("locker poll: %s", exc.code)
            return
        if not self.answering:
            self.answering = True
            listener(LockerEvent(LockerEventKind.BOARD_BACK))
        for lock, state in states.items():
            before = self.known.get(lock)
            self.known[lock] = state
            if before is not None and before != state:
                kind = (LockerEventKind.DOOR_OPENED if state is DoorState.OPEN
                        else LockerEventKind.DOOR_CLOSED)
                listener(LockerEvent(kind, lock))

    def start(self, listener: LockerListener, interval_s: float = 0.5) -> None:
        self._stop.clear()

        def run() -> None:
            while not self._stop.is_set():
                self.poll(listener)
                self._stop.wait(interval_s)

        self._thread = threading.Thread(target=run, name="locker-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None
