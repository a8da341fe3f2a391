"""A private CUPS server for the test session, with PDF file queues and a fault-injecting fake
printer.

``private_cups`` (session scope) writes a ``cups-files.conf`` and a ``cupsd.conf`` into a fresh
directory under /tmp and runs ``cupsd -f -c cupsd.conf -s cups-files.conf`` listening only on a
Unix socket there; clients reach it through ``PrintQueue(server=socket)`` or ``CUPS_SERVER``.

- As root, cupsd runs filters and backends as ``User lp`` / ``Group lp`` (its own default would
  refuse to run them as root): the temporary directory is world-writable with the sticky bit,
  and the tree is traversable by lp.
- ``ServerBin`` is a private directory whose ``filter``, ``daemon``, ``cgi-bin``, ``monitor``
  and ``notifier`` link to the system's ``/usr/lib/cups``, and whose ``backend`` holds
  ``mzfake``: a fake printer (a shell script) whose behaviour a test switches through a file.
  It runs as root when mode 0700 (CUPS runs non-world-executable backends as root), so it can
  write into the test's folder.
- Queues use the Generic PDF printer PPD of cups-filters, so what a queue receives is PDF.

Fake printer faults (``FakePrinter.set_fault``): ``media-empty`` (reports
``STATE: +media-empty-error`` and waits until the paper is back, then prints), ``offline``
(``STATE: +offline-report``, waits), ``unreachable`` ("The printer is not responding", then fails
the job attempt: the queue's ``printer-error-policy`` decides what happens to the job). Each
delivered job is written to ``job-<id>-<n>.pdf``, so a duplicate shows as a second file.

Missing binaries are a test failure, not a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CUPSD = "/usr/sbin/cupsd"
SYSTEM_SERVER_BIN = Path("/usr/lib/cups")
PDF_PPD_CANDIDATES = (
    Path("/usr/share/ppd/cupsfilters/Generic-PDF_Printer-PDF.ppd"),
    Path("/usr/share/cups/model/Generic-PDF_Printer-PDF.ppd"),
)

FAKE_BACKEND = textwrap.dedent(r"""
    #!/bin/sh
    # mzfake: a fault-injecting fake printer for the tests (device URI mzfake:/DIR).
    # DIR/fault holds one word: none, media-empty, offline or unreachable.
    if [ $# -eq 0 ]; then
        echo 'direct mzfake "Unknown" "Mianzheng test printer"'
        exit 0
    fi
    dir="/${DEVICE_URI#mzfake:}"
    while [ "${dir#//}" != "$dir" ]; do dir="${dir#/}"; done
    fault() { cat "$dir/fault" 2>/dev/null || echo none; }
    # read the job first (the filters must not die of a broken pipe), then talk to "the device"
    tmp="$dir/.incoming-$1-$$"
    if [ -n "$6" ]; then cat "$6" > "$tmp"; else cat > "$tmp"; fi
    case "$(fault)" in
    unreachable)
        rm -f "$tmp"
        echo "STATE: +connecting-to-device" >&2
        echo "ERROR: The printer is not responding." >&2
        exit 1
        ;;
    esac
    while :; do
        case "$(fault)" in
        media-empty)
            echo "STATE: +media-empty-error" >&2
            echo "INFO: Media tray empty" >&2
            ;;
        offline)
            echo "STATE: +offline-report" >&2
            echo "INFO: The printer is offline" >&2
            ;;
        *) break ;;
        esac
        sleep 0.05
    done
    echo "STATE: -media-empty-error,offline-report,connecting-to-device" >&2
    n=1
    while [ -e "$dir/job-$1-$n.pdf" ]; do n=$((n + 1)); done
    mv "$tmp" "$dir/job-$1-$n.pdf"
    chmod 0644 "$dir/job-$1-$n.pdf"
    echo "INFO: Ready to print." >&2
    exit 0
""").lstrip()


def deadline_poll(condition: Callable[[], Any], timeout_s: float = 20.0,
                  message: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy (returned) or the deadline passes
    (AssertionError). Waits grow from 10 ms; no fixed sleep decides a test."""
    deadline = time.monotonic() + timeout_s
    wait = threading.Event()
    interval = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {message}")
        wait.wait(interval)
        interval = min(0.2, interval * 1.5)


@dataclass
class FakePrinter:
    name: str
    folder: Path

    def set_fault(self, fault: str | None) -> None:
        (self.folder / "fault").write_text(f"{fault or 'none'}\n")

    def outputs(self) -> list[Path]:
        return sorted(self.folder.glob("job-*.pdf"))


@dataclass
class PrivateCups:
    base: Path
    socket: str
    ppd: Path
    as_root: bool
    process: subprocess.Popen[bytes] | None = None
    _names: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, CUPS_SERVER=self.socket)

    def run(self, *cmd: str) -> str:
        result = subprocess.run(list(cmd), env=self.env, capture_output=True, text=True,
                                timeout=60, check=False)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed: {result.stderr or result.stdout}")
        return result.stdout

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self._names)}"

    def add_file_queue(self, name: str | None = None) -> tuple[str, Path]:
        """A queue printing into ``out/NAME.pdf`` (cupsd itself writes file: devices)."""
        name = name or self.unique("filequeue")
        out = self.base / "out" / f"{name}.pdf"
        self.run("lpadmin", "-p", name, "-E", "-v", f"file://{out}", "-P", str(self.ppd))
        return name, out

    def add_fake_printer(self, name: str | None = None, *,
                         error_policy: str = "stop-printer") -> FakePrinter:
        name = name or self.unique("fake")
        folder = self.base / "fake" / name
        folder.mkdir(parents=True)
        printer = FakePrinter(name, folder)
        printer.set_fault(None)
        self.run("lpadmin", "-p", name, "-E", "-v", f"mzfake:{folder}", "-P", str(self.ppd),
                 "-o", f"printer-error-policy={error_policy}")
        return printer

    def disable(self, name: str) -> None:
        self.run("cupsdisable", name)

    def enable(self, name: str) -> None:
        self.run("cupsenable", name)

    def reject(self, name: str) -> None:
        self.run("cupsreject", name)

    def accept(self, name: str) -> None:
        self.run("cupsaccept", name)

    def delete(self, name: str) -> None:
        self.run("lpadmin", "-x", name)

    def error_log(self) -> str:
        path = self.base / "log" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""


def _write_config(base: Path, as_root: bool) -> None:
    conf, server_bin = base / "conf", base / "bin"
    for d in ("conf", "conf/ppd", "conf/ssl", "bin", "bin/backend", "spool", "cache", "state",
              "log", "out", "fake", "tmp"):
        (base / d).mkdir(parents=True, exist_ok=True)
    for link in ("filter", "daemon", "cgi-bin", "monitor", "notifier", "driver"):
        target = SYSTEM_SERVER_BIN / link
        if target.exists():
            (server_bin / link).symlink_to(target)
    backend = server_bin / "backend" / "mzfake"
    backend.write_text(FAKE_BACKEND)
    backend.chmod(0o700)  # not world-executable: cupsd runs it as root
    user = "User lp\nGroup lp\n" if as_root else ""
    (conf / "cups-files.conf").write_text(textwrap.dedent(f"""\
        ServerRoot {conf}
        ServerBin {server_bin}
        RequestRoot {base}/spool
        TempDir {base}/tmp
        CacheDir {base}/cache
        StateDir {base}/state
        AccessLog {base}/log/access_log
        ErrorLog {base}/log/error_log
        PageLog {base}/log/page_log
        FileDevice Yes
        SystemGroup root
        {user}"""))
    (conf / "cupsd.conf").write_text(textwrap.dedent(f"""\
        Listen {base}/cups.sock
        LogLevel info
        MaxLogSize 0
        Browsing No
        WebInterface No
        DefaultAuthType None
        JobRetryInterval 1
        PreserveJobHistory Yes
        <Location />
          Order allow,deny
          Allow all
        </Location>
        <Policy default>
          <Limit All>
            Order allow,deny
            Allow all
          </Limit>
        </Policy>
        """))
    # filters (as lp) need to reach the links and write temporary files
    for d in (base, server_bin, server_bin / "backend", base / "out"):
        d.chmod(0o755)
    (base / "tmp").chmod(0o1777)
    if as_root:
        import grp
        import pwd

        lp = pwd.getpwnam("lp")
        lp_group = grp.getgrnam("lp").gr_gid
        for d in ("spool", "cache", "state"):
            os.chown(base / d, 0, lp_group)
            (base / d).chmod(0o770)
        del lp


class CupsUnavailable(RuntimeError):
    """cupsd or the PDF printer PPD is missing; the message names the Debian packages."""


@contextlib.contextmanager
def start_private_cups() -> Iterator[PrivateCups]:
    """Run a private cupsd until the block ends (also used by ``make bench``)."""
    missing = [p for p in (CUPSD, "/usr/sbin/lpadmin", "/usr/sbin/cupsenable")
               if not Path(p).exists()]
    ppd = next((p for p in PDF_PPD_CANDIDATES if p.exists()), None)
    if missing or ppd is None:
        raise CupsUnavailable(
            "CUPS is needed for the printing tests: install the Debian packages cups-daemon, "
            "cups-client and cups-filters (apt-get install cups-daemon cups-client "
            f"cups-filters); missing: {', '.join(missing) or 'the Generic PDF printer PPD'}"
        )
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="mzcups-", dir="/tmp"))  # short: socket path limit
    _write_config(base, as_root)
    conf = base / "conf"
    log = (base / "log" / "cupsd.out").open("wb")
    process = subprocess.Popen(
        [CUPSD, "-f", "-c", str(conf / "cupsd.conf"), "-s", str(conf / "cups-files.conf")],
        stdout=log, stderr=subprocess.STDOUT,
    )
    server = PrivateCups(base, str(base / "cups.sock"), ppd, as_root, process)
    try:
        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(
                    f"cupsd exited with {process.returncode}:\n"
                    f"{(base / 'log' / 'cupsd.out').read_text(errors='replace')}\n"
                    f"{server.error_log()}")
            return subprocess.run(["lpstat", "-r"], env=server.env, capture_output=True,
                                  text=True, check=False).stdout.startswith("scheduler is running")

        deadline_poll(ready, 20, "the private cupsd to start")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def private_cups() -> Iterator[PrivateCups]:
    try:
        with start_private_cups() as server:
            yield server
    except CupsUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
