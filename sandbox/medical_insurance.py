"""The medical-insurance information platform (湖北省国家医疗保障信息平台) of S7/S8.

Served over the shared insured people of ``server.mi_accounts`` (``sandbox/mi_accounts.py``),
the same records the pharmacy platform of S1 settles against:

- ``POST /api/v1/mi/insured/query`` ``{"holder_id"}``: insured status and type, region, personal
  account balance (fen), recent settlements, remote-care filings. Personal data travels in the
  body, never in the URL.
- ``POST /api/v1/mi/contact-phone`` ``{"holder_id", "phone", "workstation_id"}``: change the
  contact phone (mainland mobile numbers only); the new number gets an SMS.
- ``POST /api/v1/mi/remote-filings`` ``{"holder_id", "destination_code", "destination_province",
  "destination_city", "reason", "start_date", "end_date", "client_ref"}``: 异地就医备案.
- Both writes are idempotent by their ``Idempotency-Key`` header: a repeated key gets the first
  answer with ``"duplicate": true``; the same key with another body is refused (409).
- ``GET /sandbox/mi/submissions`` (tests and demos): what the platform received.

The platform checks everything itself (the workstation's checks are for the citizen's
convenience, never trusted): phone format, reason, dates and period per reason, that the
destination is outside the insured's own prefecture, that the insurance is active.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import TYPE_CHECKING, Any

from sandbox.idempotency import IdempotentAnswers
from sandbox.mi_accounts import ACTIVE, AccountError

if TYPE_CHECKING:
    from sandbox.server import SandboxServer, _Request, _Response

MOBILE = re.compile(r"1[3-9]\d{9}")
# 异地就医备案 reasons -> (shortest, longest) period in days, start within START_WINDOW days
FILING_REASONS: dict[str, tuple[int, int]] = {
    "异地长期居住": (180, 5 * 366),
    "常驻异地工作": (180, 5 * 366),
    "异地转诊": (1, 180),
    "临时外出就医": (1, 180),
}
START_BACK_DAYS = 0  # a filing starts today at the earliest
START_WINDOW_DAYS = 90  # ... and within three months
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65",
})
RECENT_SETTLEMENTS = 10


def same_area(a: str, b: str) -> bool:
    """Whether two region codes lie in one pooling area (prefecture; 省直管 cities alone)."""
    if a.startswith("4290") or b.startswith("4290"):
        return a == b
    return a[:4] == b[:4]


class MedicalInsurancePlatform:
    """State and handlers of the ``/api/v1/mi`` routes; owned by one SandboxServer."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._lock = threading.RLock()  # held around produce(), which takes it again
        self.phone_changes: list[dict[str, Any]] = []
        self.filings: list[dict[str, Any]] = []
        self._idempotent = IdempotentAnswers(self._lock)
        self.calls: dict[str, int] = {}  # route name -> times it changed something (tests)

    def reset(self) -> None:
        with self._lock:
            self.phone_changes.clear()
            self.filings.clear()
            self._idempotent.clear()
            self.calls.clear()

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return [
            ("POST", r"/api/v1/mi/insured/query", self._query, True),
            ("POST", r"/api/v1/mi/contact-phone", self._contact_phone, True),
            ("POST", r"/api/v1/mi/remote-filings", self._filing, True),
            ("GET", r"/sandbox/mi/submissions", self._submissions, False),
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

    def _today(self) -> dt.date:
        from sandbox.server import CST

        return self.server.clock().astimezone(CST).date()

    def _text(self, data: dict[str, Any], key: str, limit: int = 64) -> str:
        value = data.get(key, "")
        if not isinstance(value, str) or not value.strip():
            raise self._error(400, "invalid_request", f"缺少字段 {key}")
        value = value.strip()
        if len(value) > limit:
            raise self._error(400, "invalid_request", f"字段 {key} 过长")
        return value

    def _holder(self, data: dict[str, Any]) -> str:
        holder_id = self._text(data, "holder_id", 18).upper()
        if self.server.world.citizen(holder_id) is None:
            raise self._error(404, "holder_not_found", "医保信息平台未找到该人员")
        return holder_id

    def _date(self, data: dict[str, Any], key: str, label: str) -> dt.date:
        try:
            return dt.date.fromisoformat(self._text(data, key, 10))
        except ValueError:
            raise self._error(400, "invalid_request", f"{label}不是有效的日期") from None

    def _idempotent_call(self, req: _Request, scope: str, body: dict[str, Any],
                         produce: Any) -> _Response:
        def counted() -> dict[str, Any]:
            answer: dict[str, Any] = produce()
            self.calls[scope] = self.calls.get(scope, 0) + 1
            return answer

        answer, duplicate = self._idempotent.answer(req, scope, body, counted)
        return self._json({**answer, "duplicate": duplicate})

    # -- queries ----------------------------------------------------------------------------

    def _query(self, req: _Request) -> _Response:
        holder_id = self._holder(req.json())
        record = self.server.mi_accounts.insured(holder_id)
        if record is None:
            return self._json({"insured": False})
        with self._lock:
            filings = [f for f in self.filings if f["holder_id"] == holder_id]
        return self._json({
            "insured": True,
            "record": record.to_json(),
            "settlements": record.settlements[:RECENT_SETTLEMENTS],
            "settlement_count": len(record.settlements),
            "filings": [self._filing_json(f) for f in reversed(filings)],
            "as_of": self.server.clock().isoformat(timespec="seconds"),
        })

    @staticmethod
    def _filing_json(filing: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in filing.items() if k != "holder_id"}

    # -- contact phone ----------------------------------------------------------------------

    def _contact_phone(self, req: _Request) -> _Response:
        data = req.json()
        holder_id = self._holder(data)
        phone = self._text(data, "phone", 20).replace(" ", "")
        if not MOBILE.fullmatch(phone):
            raise self._error(400, "invalid_phone", "联系电话应为 11 位中国大陆手机号码")
        if self.server.mi_accounts.insured(holder_id) is None:
            raise self._error(404, "not_insured", "未查询到参保信息，不能变更联系电话")

        def change() -> dict[str, Any]:
            try:
                self.server.mi_accounts.set_phone(holder_id, phone)
            except AccountError as exc:
                raise self._error(409, exc.code, exc.message) from None
            number = f"YBDH{self._today():%Y%m%d}{len(self.phone_changes) + 1:05d}"
            self.phone_changes.append({
                "change_no": number, "holder_id": holder_id, "phone": phone,
                "workstation_id": str(data.get("workstation_id", ""))[:64],
                "received_at": self.server.clock().isoformat(timespec="seconds"),
            })
            sms = getattr(self.server, "sms", None)
            if sms is not None:
                sms.send(phone, "【湖北医保】您的医保预留联系电话已变更为本号码。如非本人操作，"
                         "请致电 12393。", sender="湖北医保")
            return {"change_no": number, "status": "done", "phone_tail": phone[-4:]}

        return self._idempotent_call(req, "contact_phone", data, change)

    # -- 异地就医备案 ---------------------------------------------------------------------------

    def _filing(self, req: _Request) -> _Response:
        data = req.json()
        holder_id = self._holder(data)
        reason = self._text(data, "reason", 16)
        if reason not in FILING_REASONS:
            raise self._error(400, "invalid_request",
                              "备案类型应为异地长期居住、常驻异地工作、异地转诊或临时外出就医")
        code = self._text(data, "destination_code", 6)
        if not re.fullmatch(r"\d{6}", code) or code[:2] not in PROVINCE_CODES:
            raise self._error(400, "invalid_request", "就医地行政区划代码不正确")
        province = self._text(data, "destination_province", 32)
        city = self._text(data, "destination_city", 32)
        start = self._date(data, "start_date", "开始日期")
        end = self._date(data, "end_date", "结束日期")
        today = self._today()
        if start < today - dt.timedelta(days=START_BACK_DAYS):
            raise self._error(400, "invalid_period", "开始日期不能早于今天")
        if start > today + dt.timedelta(days=START_WINDOW_DAYS):
            raise self._error(400, "invalid_period", "开始日期应在三个月之内")
        if end <= start:
            raise self._error(400, "invalid_period", "结束日期应晚于开始日期")
        shortest, longest = FILING_REASONS[reason]
        days = (end - start).days
        if days < shortest:
            raise self._error(400, "invalid_period", f"{reason}备案期限至少 6 个月")
        if days > longest:
            limit = "6 个月" if longest <= 180 else "5 年"
            raise self._error(400, "invalid_period", f"{reason}备案期限最长 {limit}")
        record = self.server.mi_accounts.insured(holder_id)
        if record is None:
            raise self._error(404, "not_insured", "未查询到参保信息，不能办理异地就医备案")
        if record.status != ACTIVE:
            raise self._error(409, "suspended", "参保状态为暂停缴费，不能办理异地就医备案")
        if same_area(code, record.region_code):
            raise self._error(400, "not_remote", "就医地与参保地属同一统筹区，无需备案")
        client_ref = str(data.get("client_ref", ""))[:128]

        def store() -> dict[str, Any]:
            with self._lock:
                clash = [f for f in self.filings if f["holder_id"] == holder_id
                         and f["status"] == "备案成功"
                         and dt.date.fromisoformat(f["start_date"]) <= end
                         and start <= dt.date.fromisoformat(f["end_date"])]
            if clash:
                raise self._error(409, "filing_overlaps",
                                  f"该期间已有有效备案（{clash[0]['filing_no']}），请勿重复备案")
            number = f"YDBA{today:%Y%m%d}{len(self.filings) + 1:05d}"
            filing = {
                "filing_no": number, "holder_id": holder_id, "reason": reason,
                "destination_code": code, "destination_province": province,
                "destination_city": city, "start_date": start.isoformat(),
                "end_date": end.isoformat(), "status": "备案成功", "client_ref": client_ref,
                "filed_at": self.server.clock().isoformat(timespec="seconds"),
            }
            self.filings.append(filing)
            return {"filing_no": number, "status": "备案成功"}

        return self._idempotent_call(req, "remote_filing", data, store)

    # -- observation ------------------------------------------------------------------------

    def _submissions(self, req: _Request) -> _Response:
        with self._lock:
            return self._json({
                "phone_changes": [{k: v for k, v in c.items() if k not in ("holder_id", "phone")}
                                  for c in self.phone_changes],
                "filings": [self._filing_json(f) for f in self.filings],
            })
