"""The embedded sandbox: the outside platforms as a child process on a free loopback port.

Used when ``platform.base_url = "embedded"`` (the default, so `make run` needs no configuration).
``EmbeddedDevices`` does the same for the simulated card reader (``devices.card_reader =
"simulated"``): a private pcscd, a vpcd reader and the virtual card process.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from devices.process import spawn

_URL_RE = re.compile(r"(http://127\.0\.0\.1:\d+)")


class EmbeddedSandbox:
    def __init__(self, *, start_timeout_s: float = 20.0) -> None:
        self._timeout = start_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        self._proc = spawn(  # a killed workstation takes it along
            [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        found = threading.Event()

        def read() -> None:  # keep draining so the child never blocks on a full pipe
            assert self._proc is not None and self._proc.stdout is not None
            for line in self._proc.stdout:
                m = _URL_RE.search(line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()

        threading.Thread(target=read, name="sandbox-output", daemon=True).start()
        if not found.wait(self._timeout):
            self.stop()
            raise RuntimeError("沙箱平台未能启动 / the embedded sandbox did not start")
        return self.url

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> EmbeddedSandbox:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class EmbeddedDevices:
    """The simulated card path on the real PC/SC stack: a private pcscd with a vpcd reader and
    the virtual social security card process (as the tests use them).

    ``start()`` exports ``PCSCLITE_CSOCK_NAME`` for this process, so it must run before the
    first PC/SC call (the card reader starts after it). ``state_file`` tells
    `mianzheng card insert/remove` where the virtual card listens.
    """

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.pcscd: Any = None
        self.card: Any = None
        self.reader = ""

    def start(self) -> EmbeddedDevices:
        from devices.cards.pcscd import PrivatePcscd, reader_names
        from devices.cards.virtual_card import VirtualCardProcess

        self.pcscd = PrivatePcscd()
        self.pcscd.start()
        self.pcscd.export_socket()
        try:
            self.card = VirtualCardProcess(self.pcscd.ports[0],
                                           self.pcscd.base_dir / "card.sock").start()
        except Exception:
            self.pcscd.cleanup()
            raise
        self.reader = reader_names(0)[0]
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps({
            "control": str(self.card.control_path), "reader": self.reader, "pid": os.getpid(),
        }), encoding="utf-8")
        return self

    def stop(self) -> None:
        if self.card is not None:
            self.card.stop()
            self.card = None
        if self.pcscd is not None:
            self.pcscd.cleanup()
            self.pcscd = None
        with contextlib.suppress(OSError):
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            if data.get("pid") == os.getpid():
                self.state_file.unlink()

    def __enter__(self) -> EmbeddedDevices:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class EmbeddedIdCardReader:
    """The simulated second-generation ID-card reader as a child process on a pseudo-terminal
    (``devices.id_card_reader = "simulated"``); `mianzheng idcard place/take` drive it through
    ``state_file``."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.process: Any = None
        self._dir: Path | None = None

    @property
    def port(self) -> str:
        return str(self.process.port) if self.process is not None else ""

    def start(self) -> EmbeddedIdCardReader:
        import tempfile

        from devices.idcard.simulator import SimulatedIdCardReaderProcess

        self._dir = Path(tempfile.mkdtemp(prefix="mzid-", dir="/tmp"))
        self.process = SimulatedIdCardReaderProcess(self._dir / "id.sock").start()
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps({
            "control": str(self.process.control_path), "port": self.process.port,
            "pid": os.getpid(),
        }), encoding="utf-8")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
        if self._dir is not None:
            import shutil

            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        with contextlib.suppress(OSError):
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            if data.get("pid") == os.getpid():
                self.state_file.unlink()

    def __enter__(self) -> EmbeddedIdCardReader:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
