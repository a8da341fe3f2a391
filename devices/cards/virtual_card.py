"""The virtual card process: a simulated social security card in a vpcd reader, controlled
over a Unix socket.

    python -m devices.cards.virtual_card --port 35963 --control /tmp/card.sock

Control protocol: one JSON object per line, one JSON reply per line.

    {"op": "insert", "card": {profile}, "faults": {...}}   -> {"ok": true}
    {"op": "remove"}                                       -> {"ok": true}
    {"op": "status"}                                       -> {"ok": true, "inserted": bool,
                                                               "apdus": n}
    {"op": "quit"}                                         -> {"ok": true}

Errors: {"ok": false, "error": "<Chinese message>"}. :class:`VirtualCardControl` is the client.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from devices.cards.simulated import (
    CardFaults,
    SimulatedSocialSecurityCard,
    SocialSecurityCardProfile,
)
from devices.cards.vpcd import VpcdCardSlot
from devices.control import ControlClient, ControlError, ControlServer
from devices.process import exit_with_parent, spawn

log = logging.getLogger(__name__)


class VirtualCardError(ControlError):
    code = "virtual_card"
    default_message = "虚拟社保卡进程无响应"


def _dispatch(slot: VpcdCardSlot) -> Any:
    def dispatch(request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "insert":
            profile = SocialSecurityCardProfile.from_json(request["card"])
            faults = CardFaults.from_json(request.get("faults"))
            slot.insert(SimulatedSocialSecurityCard(profile, faults))
            return {"ok": True}
        if op == "remove":
            slot.remove()
            return {"ok": True}
        if op == "status":
            return {"ok": True, "inserted": slot.inserted, "apdus": slot.apdus}
        if op == "quit":
            slot.remove()
            return {"ok": True, "quit": True}
        return {"ok": False, "error": f"未知的指令：{op}"}

    return dispatch


def serve(port: int, control: Path, host: str = "127.0.0.1") -> None:
    """Run until a ``quit`` request or a signal."""
    slot = VpcdCardSlot(port, host)
    with ControlServer(control, _dispatch(slot)) as server:
        print(f"virtual card ready: vpcd {host}:{port} control {control}", flush=True)
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            slot.remove()


class VirtualCardControl:
    """Client of a virtual card process's control socket."""

    def __init__(self, path: Path | str, timeout_s: float = 10.0) -> None:
        self.path = str(path)
        self._client = ControlClient(path, timeout_s, what="虚拟社保卡进程")

    def request(self, **body: Any) -> dict[str, Any]:
        try:
            return self._client.request(**body)
        except ControlError as exc:
            raise VirtualCardError(exc.message) from None

    def insert(self, profile: SocialSecurityCardProfile, faults: CardFaults | None = None
               ) -> None:
        self.request(op="insert", card=profile.to_json(),
                     faults=(faults or CardFaults()).to_json())

    def remove(self) -> None:
        self.request(op="remove")

    def status(self) -> dict[str, Any]:
        return self.request(op="status")

    def quit(self) -> None:
        self.request(op="quit")


class VirtualCardProcess:
    """Starts ``python -m devices.cards.virtual_card`` as a child and controls it."""

    def __init__(self, port: int, control: Path) -> None:
        self.port = port
        self.control_path = control
        self.proc: subprocess.Popen[str] | None = None
        self.control = VirtualCardControl(control)

    def start(self, timeout_s: float = 20.0) -> VirtualCardProcess:
        self.proc = spawn(  # dies with the workstation, even a killed one
            [sys.executable, "-m", "devices.cards.virtual_card", "--port", str(self.port),
             "--control", str(self.control_path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        ready = threading.Event()

        def read() -> None:  # keep draining so the child never blocks on a full pipe
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith("virtual card ready"):
                    ready.set()
                else:
                    log.debug("virtual card: %s", line.rstrip())

        threading.Thread(target=read, name="virtual-card-output", daemon=True).start()
        if not ready.wait(timeout_s):
            self.stop()
            raise VirtualCardError("虚拟社保卡进程未能启动")
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(VirtualCardError):
            self.control.quit()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> VirtualCardProcess:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    exit_with_parent()
    p = argparse.ArgumentParser(description="virtual social security card for vpcd")
    p.add_argument("--port", type=int, required=True, help="vpcd port of the reader")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--control", type=Path, required=True, help="Unix control socket path")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        serve(args.port, args.control, args.host)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
