"""The sandbox's SMS gateway: platforms "send" text messages, tests and the demo read them.

Scenario platforms call ``server.sms.send(phone, text, sender=...)`` (pickup codes of the
document locker, progress of gas and water connections, ...); a workstation may also ask for a
message over ``POST /api/v1/sms``. Nothing leaves the machine: messages are kept in memory and
listed by ``GET /sandbox/sms?phone=...`` (no credential: the demo phone window reads it).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.server import SandboxServer, _Request, _Response

MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_TEXT = 500
MAX_KEPT = 5000


class SmsGateway:
    """Sent messages, oldest first (at most ``MAX_KEPT``)."""

    def __init__(self, server: SandboxServer) -> None:
        self._server = server
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return [
            ("POST", r"/api/v1/sms", self._send, True),
            ("GET", r"/sandbox/sms", self._list, False),
        ]

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()

    def send(self, phone: str, text: str, sender: str = "政务服务") -> dict[str, Any]:
        """Record one message to a mainland mobile number; raises ValueError otherwise."""
        phone = phone.strip()
        if not MAINLAND_MOBILE.match(phone):
            raise ValueError("not a mainland mobile number")
        if not text.strip() or len(text) > MAX_TEXT:
            raise ValueError(f"text must be 1 to {MAX_TEXT} characters")
        message = {"phone": phone, "text": text, "sender": sender,
                   "sent_at": self._server.clock().isoformat(timespec="seconds")}
        with self._lock:
            self._messages.append(message)
            del self._messages[:-MAX_KEPT]
        return dict(message)

    def messages(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Copies of the messages sent (to ``phone`` only when given), oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages if phone is None or m["phone"] == phone]

    # -- routes --------------------------------------------------------------------------------

    def _send(self, req: _Request) -> _Response:
        from sandbox.server import ApiError, _Response, _text

        data = req.json()
        try:
            message = self.send(_text(data, "phone"), _text(data, "text"),
                                _text(data, "sender", required=False) or "政务服务")
        except ValueError:
            raise ApiError(400, "invalid_request", "手机号码应为 11 位大陆手机号，短信内容不能为空"
                           ) from None
        return _Response.json({"sent": True, "sent_at": message["sent_at"]})

    def _list(self, req: _Request) -> _Response:
        from sandbox.server import _Response

        phone = req.query.get("phone") or None
        return _Response.json({"messages": self.messages(phone)})
