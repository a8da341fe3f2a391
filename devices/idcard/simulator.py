"""A simulated second-generation ID-card reader on a pseudo-terminal.

``SimulatedIdCardReader().start()`` opens a pty pair and answers the frame protocol on the
master side; :attr:`port` (the slave's path) is what a ``SerialIdCardReader`` opens, exactly
like a real /dev/ttyUSB0. A card is placed with ``place(card)`` and taken away with ``take()``;
``faults`` break the next reply of a step on purpose.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import subprocess
import sys
import threading
import tty
from pathlib import Path
from types import TracebackType
from typing import Any

from devices.control import ControlClient, ControlError, ControlServer
from devices.idcard.protocol import (
    FIND,
    HEADER,
    PHOTO_LEN,
    READ,
    SELECT,
    TEXT_LEN,
    IdCardData,
    encode_text,
    reply,
    xor,
)
from devices.process import exit_with_parent, spawn

STEPS = {FIND: "find", SELECT: "select", READ: "read"}


class SimulatedIdCardReader:
    """Faults (by step "find" / "select" / "read", used once): ``"bad_checksum"``,
    ``"short"`` (reply cut in half), ``"silent"`` (no reply), or ``"status:41"`` (that SW3)."""

    def __init__(self) -> None:
        self.card: IdCardData | None = None
        self.faults: dict[str, str] = {}
        self.commands: list[str] = []
        self._master = -1
        self._slave = -1
        self._stop_r, self._stop_w = -1, -1
        self._thread: threading.Thread | None = None
        self.port = ""

    @staticmethod
    def is_usable() -> bool:
        return hasattr(os, "openpty")

    def place(self, card: IdCardData) -> None:
        self.card = card

    def take(self) -> None:
        self.card = None

    def start(self) -> SimulatedIdCardReader:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no line discipline: bytes pass as they are
        self.port = os.ttyname(self._slave)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="sim-id-reader", daemon=True)
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

    def __enter__(self) -> SimulatedIdCardReader:
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
                buf += os.read(self._master, 4096)
            except OSError:
                return
            while True:
                start = buf.find(HEADER)
                if start < 0 or len(buf) < start + 7:
                    break
                length = int.from_bytes(buf[start + 5 : start + 7], "big")
                end = start + 7 + length
                if len(buf) < end:
                    break
                frame, buf = buf[start:end], buf[end:]
                answer = self._answer(frame)
                if answer:
                    os.write(self._master, answer)

    def _answer(self, frame: bytes) -> bytes:
        if xor(frame[5:-1]) != frame[-1]:
            return reply(0x10)
        cmd = (frame[7], frame[8]) if len(frame) >= 10 else (0, 0)
        step = STEPS.get(cmd)
        if step is None:
            return reply(0x21)
        self.commands.append(step)
        fault = self.faults.pop(step, "")
        if fault == "silent":
            return b""
        if fault.startswith("status:"):
            return reply(int(fault.split(":", 1)[1], 16))
        answer = self._normal(step)
        if fault == "bad_checksum":
            return answer[:-1] + bytes((answer[-1] ^ 0x5A,))
        if fault == "short":
            return answer[: len(answer) // 2]
        return answer

    def _normal(self, step: str) -> bytes:
        if self.card is None:
            return reply(0x80 if step == "find" else 0x41)
        if step == "find":
            return reply(0x9F, bytes(4))
        if step == "select":
            return reply(0x90, bytes(8))
        photo = self.card.photo[:PHOTO_LEN].ljust(PHOTO_LEN, b"\x00")
        data = TEXT_LEN.to_bytes(2, "big") + PHOTO_LEN.to_bytes(2, "big")
        return reply(0x90, data + encode_text(self.card) + photo)


# ---------------------------------------------------------------------------------------------
# As a process of its own, driven over a control socket (`mianzheng idcard place/take`)
# ---------------------------------------------------------------------------------------------


def _dispatch(sim: SimulatedIdCardReader) -> Any:
    def dispatch(request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "place":
            sim.place(IdCardData.from_json(request["card"]))
            return {"ok": True}
        if op == "take":
            sim.take()
            return {"ok": True}
        if op == "fault":
            sim.faults[str(request["step"])] = str(request["fault"])
            return {"ok": True}
        if op == "status":
            return {"ok": True, "port": sim.port, "card": sim.card is not None,
                    "commands": len(sim.commands)}
        if op == "quit":
            return {"ok": True, "quit": True}
        return {"ok": False, "error": f"未知的指令：{op}"}

    return dispatch


class SimulatedIdCardReaderProcess:
    """Starts ``python -m devices.idcard.simulator`` and tells its pty path and control."""

    def __init__(self, control: Path) -> None:
        self.control_path = control
        self.control = ControlClient(control, what="模拟身份证阅读器进程")
        self.port = ""
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 20.0) -> SimulatedIdCardReaderProcess:
        self.proc = spawn(  # dies with the workstation, even a killed one
            [sys.executable, "-m", "devices.idcard.simulator", "--control",
             str(self.control_path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True,
        )
        ready = threading.Event()

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith("id reader ready: "):
                    self.port = line.split("port=", 1)[1].split()[0]
                    ready.set()

        threading.Thread(target=read, name="id-reader-output", daemon=True).start()
        if not ready.wait(timeout_s):
            self.stop()
            raise ControlError("模拟身份证阅读器进程未能启动")
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ControlError):
            self.control.request(op="quit")
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> SimulatedIdCardReaderProcess:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    exit_with_parent()
    p = argparse.ArgumentParser(description="simulated ID-card reader on a pseudo-terminal")
    p.add_argument("--control", type=Path, required=True, help="Unix control socket path")
    args = p.parse_args(argv)
    with SimulatedIdCardReader() as sim, ControlServer(args.control, _dispatch(sim)) as server:
        print(f"id reader ready: port={sim.port} control={args.control}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever(poll_interval=0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
