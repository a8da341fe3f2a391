"""A private pcscd with vpcd readers, for tests, `make run` and self-tests.

pcscd always serves /run/pcscd/pcscd.comm. To run one of our own beside (or without) the
system's, it is started in its own mount namespace with a short temporary folder bind-mounted
over /run, and clients find it through ``PCSCLITE_CSOCK_NAME`` = that folder's
``pcscd/pcscd.comm``. libpcsclite reads the variable **once per process, at its first PC/SC
call**: set it (``export_socket()``) before anything talks to PC/SC. See shared notes/pcsc.md.

Each vpcd port in ``ports`` gives two readers: "Virtual PCD 00 00" on PORT and
"Virtual PCD 00 01" on PORT+1 (vpcd listens on all interfaces: use unused high ports).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from devices.errors import DeviceError
from devices.process import spawn

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD = "pcscd"
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"


class PcscdError(DeviceError):
    code = "pcscd"
    default_message = "无法启动智能卡服务（pcscd）"


def free_port_pair() -> int:
    """A port P with P and P+1 both free (vpcd uses two)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("0.0.0.0", 0))
            port = int(s.getsockname()[1])
        if port > 65000:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("0.0.0.0", port + 1))
            except OSError:
                continue
        return port
    raise PcscdError("找不到可用的端口，无法启动虚拟读卡器")


def reader_names(index: int = 0) -> tuple[str, str]:
    """The two reader names vpcd's ``index``-th configured port shows (0-based)."""
    return f"Virtual PCD {index:02d} 00", f"Virtual PCD {index:02d} 01"


class PrivatePcscd:
    """pcscd in a mount namespace of its own, with vpcd readers on ``ports``."""

    def __init__(self, ports: list[int] | None = None, base_dir: Path | None = None) -> None:
        self.ports = ports if ports is not None else [free_port_pair()]
        self._own_dir = base_dir is None
        # short: the socket path must stay under 108 bytes
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="mzpc-", dir="/tmp"))
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def is_usable() -> bool:
        return shutil.which(PCSCD) is not None and shutil.which("unshare") is not None \
            and VPCD_DRIVER.exists()

    @property
    def socket_path(self) -> Path:
        return self.base_dir / "run" / "pcscd" / "pcscd.comm"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "pcscd.log"

    def export_socket(self) -> None:
        """Point this process's libpcsclite at the private pcscd (before its first call)."""
        os.environ[SOCKET_ENV] = str(self.socket_path)

    def _write_config(self) -> Path:
        conf = self.base_dir / "reader.conf"
        stanzas = [
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:{port}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID {port}\n"
            for port in self.ports
        ]
        conf.write_text("\n".join(stanzas), encoding="ascii")
        return conf

    def start(self, timeout_s: float = 10.0) -> None:
        if not self.is_usable():
            raise PcscdError(
                "缺少 pcscd、unshare 或 vsmartcard-vpcd 驱动，无法启动虚拟读卡器"
                "（Debian：apt-get install pcscd vsmartcard-vpcd）"
            )
        run = self.base_dir / "run"
        run.mkdir(parents=True, exist_ok=True)
        conf = self._write_config()
        ns = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:  # an unprivileged user needs a user namespace for the mount
            ns = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
        script = f'mount --bind "{run}" /run && exec {PCSCD} --foreground -c "{conf}"'
        log = self.log_path.open("ab")
        try:
            # unshare and sh exec: pcscd stays our direct child, so terminate() reaches it, and
            # it dies with the workstation, even a killed one (spawn)
            self.proc = spawn([*ns, "sh", "-c", script], stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()
        deadline = time.monotonic() + timeout_s
        while not self.socket_path.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                output = self.log_path.read_text(errors="replace")[-2000:]
                self.stop()
                raise PcscdError(f"智能卡服务（pcscd）未能启动：{output.strip() or '无输出'}")
            time.sleep(0.02)  # start-up only: the socket appears within ~100 ms

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> PrivatePcscd:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()
