"""The device stack `mianzheng run` starts (private pcscd, virtual card, simulated ID-card
reader) goes away with the workstation, even when it is killed."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

DEVICE_PROCESSES = ("pcscd", "devices.cards.virtual_card", "devices.idcard.simulator")


def _descendants(pid: int) -> dict[int, str]:
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            for child in (task / "children").read_text().split():
                cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(child)] = cmd
                todo.append(int(child))
    return found


def _wait_gone(pid: int, timeout_s: float) -> bool:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout_s)
        return bool(readable)
    finally:
        os.close(fd)


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[int, str]]:
    config = tmp_path / "ws.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PCSCLITE_CSOCK_NAME"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation.cli", "run", "--config", str(config),
         "--no-demo-phone"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    ready = set()
    for line in proc.stdout:  # each simulated device says when it is ready
        if "模拟读卡器已就绪" in line or "模拟身份证阅读器已就绪" in line:
            ready.add(line)
            if len(ready) == 2:
                break
    else:
        raise AssertionError(f"the device stack never became ready (exit {proc.wait()})")
    devices = {pid: cmd for pid, cmd in _descendants(proc.pid).items()
               if any(name in cmd for name in DEVICE_PROCESSES)}
    assert len(devices) == 3, devices
    return proc, devices


def test_sigterm_stops_the_device_stack(tmp_path):
    proc, devices = _start(tmp_path)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert all(_wait_gone(pid, 10) for pid in devices), devices


def test_a_killed_workstation_takes_its_device_stack_along(tmp_path):
    proc, devices = _start(tmp_path)
    proc.kill()
    proc.wait()
    assert all(_wait_gone(pid, 10) for pid in devices), "a device process kept running"
    # a killed workstation cannot remove its short /tmp folders: the test does
    for cmd in devices.values():
        for word in cmd.split():
            if word.startswith(("/tmp/mzpc-", "/tmp/mzid-")):
                shutil.rmtree("/".join(word.split("/")[:3]), ignore_errors=True)
