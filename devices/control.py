"""A tiny JSON-lines control channel over a Unix socket, for simulator processes.

One JSON object per line in, one JSON reply per line out: ``{"ok": true, ...}`` or
``{"ok": false, "error": "<Chinese message>"}``. The virtual social security card and the
simulated ID-card reader are driven this way by `mianzheng card` / `mianzheng idcard`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.errors import DeviceError

Dispatch = Callable[[dict[str, Any]], dict[str, Any]]


class ControlError(DeviceError):
    code = "control"
    default_message = "模拟设备进程无响应"


class _Handler(socketserver.StreamRequestHandler):
    server: ControlServer

    def handle(self) -> None:
        for line in self.rfile:
            try:
                request = json.loads(line)
                reply = self.server.on_request(request)
            except Exception as exc:  # a bad request must not end the simulator
                reply = {"ok": False, "error": getattr(exc, "message", None) or str(exc)}
            self.wfile.write(json.dumps(reply, ensure_ascii=False).encode("utf-8") + b"\n")
            self.wfile.flush()
            if reply.get("quit"):
                threading.Thread(target=self.server.shutdown, daemon=True).start()
                return


class ControlServer(socketserver.ThreadingUnixStreamServer):
    """Serves ``on_request(request) -> reply``; ``{"quit": true}`` in a reply stops it."""

    daemon_threads = True

    def __init__(self, path: Path, dispatch: Dispatch) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.path = path
        self.on_request = dispatch
        super().__init__(str(path), _Handler)
        os.chmod(path, 0o600)

    def server_close(self) -> None:
        super().server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class ControlClient:
    def __init__(self, path: Path | str, timeout_s: float = 10.0, *,
                 what: str = "模拟设备进程") -> None:
        self.path = str(path)
        self.timeout_s = timeout_s
        self.what = what

    def request(self, **body: Any) -> dict[str, Any]:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout_s)
                sock.connect(self.path)
                sock.sendall(json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n")
                data = b""
                while not data.endswith(b"\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError as exc:
            raise ControlError(
                f"无法连接{self.what}（{self.path}）：{exc.strerror or exc}"
            ) from None
        reply: dict[str, Any] = json.loads(data or b"{}")
        if not reply.get("ok"):
            raise ControlError(str(reply.get("error", f"{self.what}无响应")))
        return reply
