"""`mianzheng run` as a real process: it starts, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out.extend(int(c) for c in (task / "children").read_text().split())
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"pid {pid}"


def _wait_gone(pid: int, timeout_s: float) -> bool:
    """Wait for a process that is not our child to exit (a pidfd turns readable)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout_s)
        return bool(readable)
    finally:
        os.close(fd)


@pytest.fixture
def workstation_process(tmp_path):
    config = tmp_path / "ws.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation.cli", "run", "--config", str(config),
         "--no-demo-phone"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # the log says when the core is attached to the window
        if "workstation ready" in line:
            break
    else:
        raise AssertionError(f"the workstation never became ready (exit {proc.wait()})")
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_run_starts_the_embedded_sandbox_and_stops_it_on_sigterm(workstation_process, tmp_path):
    proc = workstation_process
    assert (tmp_path / "data" / "workstation.db").exists()
    children = _children(proc.pid)
    assert children, "the sandbox runs as a child process"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert all(_wait_gone(child, 20) for child in children)


def test_killed_workstation_takes_its_sandbox_along(workstation_process):
    proc = workstation_process
    children = _children(proc.pid)
    assert children
    commands = {c: _cmdline(c) for c in children}
    proc.kill()
    proc.wait()
    survivors = [commands[c] for c in children if not _wait_gone(c, 30)]
    assert survivors == [], "orphaned child processes kept running"
