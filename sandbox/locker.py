"""Sandbox platform of the 综合收发件政务柜 (S4): the hall's locker back office.

- ``POST /api/v1/locker/deposits``: a kiosk reports materials deposited in a door; the hall
  staff's notification feed gets an entry and the duty phone an SMS (through ``server.sms``).
- ``POST /api/v1/locker/pickup-notices``: a result certificate was put into a door; the
  applicant gets the pickup code by SMS. The workstation generates the code and keeps only
  what it needs to check it; the platform is the SMS channel.
- ``POST /api/v1/locker/collections``: the applicant took the result (feed entry).
- ``GET /api/v1/locker/notifications``: the staff feed, oldest first (``?since=ID``).
- ``GET /sandbox/locker/notifications``: the same without a credential (demo, tests).

Every POST is idempotent by its ``Idempotency-Key`` header: a repeated key gets the first
answer with ``"duplicate": true`` and sends no second SMS (the workstation's outbox may
re-send an item whose reply was lost).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import TYPE_CHECKING, Any

from sandbox.idempotency import IdempotentAnswers

if TYPE_CHECKING:
    from sandbox.server import SandboxServer, _Request, _Response

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
CODE_RE = re.compile(r"^\d{6}$")
STAFF_DUTY_PHONE = "13971500000"  # the hall's duty phone (synthetic)
SENDER = "赤壁市政务服务中心"


class LockerPlatform:
    """State and handlers of the ``/api/v1/locker`` routes; owned by one SandboxServer."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._lock = threading.Lock()
        self.notifications: list[dict[str, Any]] = []
        self._idempotent = IdempotentAnswers(self._lock)  # produce() holds it
        self.staff_phone = STAFF_DUTY_PHONE

    def reset(self) -> None:
        with self._lock:
            self.notifications.clear()
            self.staff_phone = STAFF_DUTY_PHONE
        self._idempotent.clear()  # takes the same lock

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return [
            ("POST", r"/api/v1/locker/deposits", self._deposit, True),
            ("POST", r"/api/v1/locker/pickup-notices", self._pickup_notice, True),
            ("POST", r"/api/v1/locker/collections", self._collection, True),
            ("GET", r"/api/v1/locker/notifications", self._feed, True),
            ("GET", r"/sandbox/locker/notifications", self._feed, False),
        ]

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str) -> Exception:
        from sandbox.server import ApiError

        return ApiError(status, code, message)

    @staticmethod
    def _json(data: Any, status: int = 200) -> _Response:
        from sandbox.server import _Response

        return _Response.json(data, status)

    def _text(self, data: dict[str, Any], key: str, *, required: bool = True,
              limit: int = 200) -> str:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise self._error(400, "invalid_request", f"字段 {key} 应为字符串")
        value = value.strip()
        if required and not value:
            raise self._error(400, "invalid_request", f"缺少字段 {key}")
        if len(value) > limit:
            raise self._error(400, "invalid_request", f"字段 {key} 过长")
        return value

    def _idempotent_call(self, req: _Request, scope: str, body: dict[str, Any],
                         produce: Any) -> _Response:
        """Answer a repeated Idempotency-Key with the first answer (``duplicate`` true)."""
        answer, duplicate = self._idempotent.answer(req, scope, body, produce)
        return self._json({**answer, "duplicate": duplicate})

    def _note(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Append to the staff feed (call with the lock held)."""
        entry = {"id": len(self.notifications) + 1, "kind": kind,
                 "at": self.server.clock().isoformat(timespec="seconds"), **body}
        self.notifications.append(entry)
        return entry

    def _sms(self, phone: str, text: str) -> None:
        self.server.sms.send(phone, text, sender=SENDER)

    # -- handlers ---------------------------------------------------------------------------

    def _deposit(self, req: _Request) -> _Response:
        data = req.json()
        body = {
            "item": self._text(data, "item", limit=64),
            "kiosk": self._text(data, "kiosk", limit=64),
            "door": self._text(data, "door", limit=16),
            "size": self._text(data, "size", limit=4),
            "matter": self._text(data, "matter", limit=100),
            "phone_masked": self._text(data, "phone_masked", required=False, limit=20),
            "unconfirmed": bool(data.get("unconfirmed", False)),
        }

        def produce() -> dict[str, Any]:
            entry = self._note("deposited", body)
            extra = "（申请人未在屏幕上确认，请核查柜内材料）" if body["unconfirmed"] else ""
            self._sms(self.staff_phone,
                      f"【政务柜】{body['kiosk']} {body['door']} 号柜门新存入办件材料"
                      f"（{body['matter']}）{extra}，请及时取件处理。")
            return {"notification_id": entry["id"]}

        return self._idempotent_call(req, "deposit", body, produce)

    def _pickup_notice(self, req: _Request) -> _Response:
        data = req.json()
        phone = self._text(data, "phone", limit=20)
        if not PHONE_RE.match(phone):
            raise self._error(400, "invalid_phone", "手机号码格式不正确，无法发送短信")
        code = self._text(data, "code", limit=6)
        if not CODE_RE.match(code):
            raise self._error(400, "invalid_request", "取件码应为 6 位数字")
        body = {
            "item": self._text(data, "item", limit=64),
            "kiosk": self._text(data, "kiosk", limit=64),
            "door": self._text(data, "door", limit=16),
            "matter": self._text(data, "matter", limit=100),
            "expires_at": self._text(data, "expires_at", required=False, limit=40),
            "phone": phone, "code": code,
        }

        def produce() -> dict[str, Any]:
            until = ""
            if body["expires_at"]:
                try:
                    moment = dt.datetime.fromisoformat(body["expires_at"])
                    until = f"，请于{moment.month}月{moment.day}日前"
                except ValueError:
                    until = "，请尽快"
            self._sms(phone,
                      f"【赤壁市政务服务中心】您办理的“{body['matter']}”已办结，结果证照已放入"
                      f"{body['kiosk']} {body['door']} 号柜门，取件码 {code}{until}到自助服务区"
                      "刷身份证或出示鄂汇办身份码，输入取件码领取。取件码请勿告知他人。")
            shown = {k: v for k, v in body.items() if k not in ("phone", "code")}
            entry = self._note("result_ready", {**shown, "phone_masked":
                                                phone[:3] + "****" + phone[-4:]})
            return {"notification_id": entry["id"]}

        return self._idempotent_call(req, "pickup", body, produce)

    def _collection(self, req: _Request) -> _Response:
        data = req.json()
        body = {
            "item": self._text(data, "item", limit=64),
            "kiosk": self._text(data, "kiosk", limit=64),
            "door": self._text(data, "door", limit=16),
        }

        def produce() -> dict[str, Any]:
            entry = self._note("collected", body)
            return {"notification_id": entry["id"]}

        return self._idempotent_call(req, "collection", body, produce)

    def _feed(self, req: _Request) -> _Response:
        since_raw = req.query.get("since", "0")
        since = int(since_raw) if since_raw.isdigit() else 0
        with self._lock:
            items = [dict(n) for n in self.notifications if n["id"] > since]
        return self._json({"notifications": items})
