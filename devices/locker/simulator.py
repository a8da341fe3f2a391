"""A simulated locker board on a pseudo-terminal.

Doors open on command and close when ``close_door`` is called (a person pushing the door
shut). Faults: doors in ``jammed`` do not open; doors in ``stuck_open`` never close;
``silent`` stops the board answering; ``corrupt_next`` spoils that many replies' checksums.
``open_level`` is the board's wiring: the status level that means "open".
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from types import TracebackType

from devices.locker.protocol import (
    FRAME_LEN,
    OPEN,
    OPEN_ARG,
    QUERY,
    QUERY_ARG,
    checksum,
    make_frame,
)


class SimulatedLockerBoard:
    def __init__(self, board: int = 1, doors: int = 16, open_level: int = 1) -> None:
        self.board = board
        self.doors = doors
        self.open_level = open_level
        self.open: set[int] = set()
        self.jammed: set[int] = set()
        self.stuck_open: set[int] = set()
        self.silent = False
        self.corrupt_next = 0
        self.received: list[bytes] = []
        self.port = ""
        self._master = self._slave = -1
        self._stop_r = self._stop_w = -1
        self._thread: threading.Thread | None = None

    @staticmethod
    def is_usable() -> bool:
        return hasattr(os, "openpty")

    def close_door(self, lock: int) -> None:
        if lock not in self.stuck_open:
            self.open.discard(lock)

    def _status(self, lock: int) -> int:
        level = self.open_level if lock in self.open else 1 - self.open_level
        return 0x11 if level else 0x00

    def start(self) -> SimulatedLockerBoard:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="sim-locker", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        os.write(self._stop_w, b"x")
        self._thread.join(5)
        self._thread = None
        for fd in (self._master, self._slave, self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> SimulatedLockerBoard:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _serve(self) -> None:
        buf = b""
        while True:
            ready, _, _ = select.select([self._master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                buf += os.read(self._master, 256)
            except OSError:
                return
            while len(buf) >= FRAME_LEN:
                frame, buf = buf[:FRAME_LEN], buf[FRAME_LEN:]
                answer = self._answer(frame)
                if answer:
                    os.write(self._master, answer)

    def _answer(self, frame: bytes) -> bytes:
        self.received.append(frame)
        cmd, board, lock, arg, check = frame
        if self.silent or checksum(frame[:4]) != check or board != self.board:
            return b""
        if not 1 <= lock <= self.doors:
            return b""
        if cmd == OPEN and arg == OPEN_ARG:
            if lock not in self.jammed:
                self.open.add(lock)
        elif not (cmd == QUERY and arg == QUERY_ARG):
            return b""
        reply = make_frame(cmd, board, lock, self._status(lock))
        if self.corrupt_next:
            self.corrupt_next -= 1
            reply = reply[:4] + bytes((reply[4] ^ 0xFF,))
        return reply
