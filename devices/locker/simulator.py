"""A simulated locker board on a pseudo-terminal.

Doors open on command and close when ``close_door`` is called (a person pushing the door
shut). Faults: doors in ``jammed`` do not open; doors in ``stuck_open`` never close;
``silent`` stops the board answering; ``corrupt_next`` spoils that many replies' checksums.
``open_level`` is the board's wiring: the status level that means "open".
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import threading
import tty
from pathlib import Path
from types import TracebackType
from typing import Any

from devices.control import ControlServer
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


# ---------------------------------------------------------------------------------------------
# A control channel for a running simulator (`mianzheng locker close N` in the demo)
# ---------------------------------------------------------------------------------------------


class LockerControl:
    """Serves a simulated board's doors on a Unix control socket (JSON lines, see
    ``devices.control``): ``{"op": "close", "door": n}`` (a person shuts the door), ``jam`` /
    ``unjam`` (the door will not open), ``status``. ``state_file`` tells the command line where
    the socket is."""

    def __init__(self, sim: SimulatedLockerBoard, state_file: Path) -> None:
        self.sim = sim
        self.state_file = state_file
        self._dir: Path | None = None
        self._server: ControlServer | None = None
        self._thread: threading.Thread | None = None

    def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "status":
            return {"ok": True, "port": self.sim.port, "doors": self.sim.doors,
                    "open": sorted(self.sim.open), "jammed": sorted(self.sim.jammed)}
        door = int(request.get("door", 0))
        if not 1 <= door <= self.sim.doors:
            return {"ok": False, "error": f"没有 {door} 号柜门（共 {self.sim.doors} 个）"}
        if op == "close":
            self.sim.close_door(door)
        elif op == "jam":
            self.sim.jammed.add(door)
        elif op == "unjam":
            self.sim.jammed.discard(door)
        else:
            return {"ok": False, "error": f"未知的指令：{op}"}
        return {"ok": True, "open": sorted(self.sim.open)}

    def start(self) -> LockerControl:
        import tempfile

        self._dir = Path(tempfile.mkdtemp(prefix="mzlk-", dir="/tmp"))  # short socket path
        path = self._dir / "locker.sock"
        self._server = ControlServer(path, self._dispatch)
        self._thread = threading.Thread(target=self._server.serve_forever, name="locker-control",
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps({"control": str(path), "port": self.sim.port,
                                               "pid": os.getpid()}), encoding="utf-8")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            import shutil

            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            if data.get("pid") == os.getpid():
                self.state_file.unlink()
