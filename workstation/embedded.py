"""The embedded sandbox: the outside platforms as a child process on a free loopback port.

Used when ``platform.base_url = "embedded"`` (the default, so `make run` needs no configuration).
"""

from __future__ import annotations

import ctypes
import re
import signal
import subprocess
import sys
import threading
from types import TracebackType

_URL_RE = re.compile(r"(http://127\.0\.0\.1:\d+)")


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to send SIGTERM when the parent dies, so a killed
    workstation never leaves its sandbox running."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the parent's normal stop() still applies
        pass


_PR_SET_PDEATHSIG = 1


class EmbeddedSandbox:
    def __init__(self, *, start_timeout_s: float = 20.0) -> None:
        self._timeout = start_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            preexec_fn=_die_with_parent,
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
