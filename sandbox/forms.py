"""The sandbox's electronic form platform (电子填单系统, S3): application forms filled at the
hall's terminals arrive here, each once.

- ``POST /api/v1/forms/submissions`` (credential, ``Idempotency-Key`` header): one filled-in
  form: ``submission_id``, ``form_code`` (a form the platform knows), ``holder_id`` (a valid ID
  number), ``values`` (field key -> text; the form's core fields present, ``id_number`` equal
  to the holder), ``case_number``, ``workstation_id``. A repeated key gets the first answer with
  ``"duplicate": true``; the same key with other content is refused (409). The answer carries
  the platform's ``receipt_no``; an SMS tells the applicant the form arrived.
- ``GET /api/v1/forms/submissions/{submission_id}`` (credential): its status.
- ``GET /sandbox/forms/submissions`` (no credential; tests and the demo): what arrived, values
  left out.

Served by ``sandbox.server.SandboxServer`` (see ``PLATFORMS``); ``faults`` apply as to every
``/api/v1`` route, so ``faults.update({"down": True})`` takes it down.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from sandbox.idempotency import IdempotentAnswers
from workstation.services.identity import IdentityError, mask_name, validate_id_number

if TYPE_CHECKING:
    from sandbox.server import SandboxServer, _Request, _Response

#: The forms this platform accepts, with the fields every submission of it must carry.
FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "CB-RS-SB01": ("社会保险登记表（个人）", ("name", "id_number", "sex", "phone", "address")),
    "CB-YB-JM01": ("城乡居民基本医疗保险参保登记表", ("name", "id_number", "sex", "phone",
                                                    "year")),
    "CB-RS-LH01": ("灵活就业人员参保登记表", ("name", "id_number", "sex", "phone", "address")),
}
MAX_VALUES = 80
MAX_VALUE_LENGTH = 200


class FormsPlatform:
    """State and handlers of the forms routes; owned by one SandboxServer."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._lock = threading.Lock()
        self.submissions: list[dict[str, Any]] = []
        self._idempotent = IdempotentAnswers(self._lock)

    def reset(self) -> None:
        with self._lock:
            self.submissions.clear()
        self._idempotent.clear()  # takes the same lock

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return [
            ("POST", r"/api/v1/forms/submissions", self._submit, True),
            ("GET", r"/api/v1/forms/submissions/(?P<sid>[^/]+)", self._status, True),
            ("GET", r"/sandbox/forms/submissions", self._list, False),
        ]

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str) -> Exception:
        from sandbox.server import ApiError

        return ApiError(status, code, message)

    @staticmethod
    def _json(data: Any, status: int = 200) -> _Response:
        from sandbox.server import _Response

        return _Response.json(data, status)

    def received(self, holder_id: str | None = None) -> list[dict[str, Any]]:
        """Copies of what arrived (for tests), oldest first."""
        with self._lock:
            return [dict(s) for s in self.submissions
                    if holder_id is None or s["holder_id"] == holder_id]

    # -- routes --------------------------------------------------------------------------------

    def _submit(self, req: _Request) -> _Response:
        data = req.json()
        code = str(data.get("form_code", ""))
        if code not in FORMS:
            raise self._error(400, "unknown_form", "电子填单系统中没有此表单")
        try:
            holder = validate_id_number(str(data.get("holder_id", "")))
        except IdentityError as exc:
            raise self._error(400, "invalid_request", f"申请人证件号码：{exc.message}") from None
        values = data.get("values")
        if not isinstance(values, dict) or len(values) > MAX_VALUES or not all(
                isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_VALUE_LENGTH
                for k, v in values.items()):
            raise self._error(400, "invalid_request", "表单内容 values 应为不超过 200 字的文本")
        title, required = FORMS[code]
        missing = [k for k in required if not values.get(k, "").strip()]
        if missing:
            raise self._error(400, "invalid_request", f"表单缺少必填项：{'、'.join(missing)}")
        if values["id_number"].strip().upper() != holder:
            raise self._error(403, "holder_mismatch", "表单中的公民身份号码与申请人不一致")
        submission_id = str(data.get("submission_id", ""))[:64]
        key = (req.headers.get("Idempotency-Key") or "").strip()

        def receive() -> dict[str, Any]:  # under the platform's lock, once per key
            receipt = f"TD{len(self.submissions) + 1:06d}"
            received_at = self.server.clock().isoformat(timespec="seconds")
            self.submissions.append({
                "receipt_no": receipt, "submission_id": submission_id, "form_code": code,
                "holder_id": holder, "values": dict(values),
                "case_number": str(data.get("case_number", ""))[:40],
                "workstation_id": str(data.get("workstation_id", ""))[:40],
                "received_at": received_at, "idempotency_key": key,
            })
            return {"receipt_no": receipt, "status": "received", "received_at": received_at}

        answer, duplicate = self._idempotent.answer(req, "submission", data, receive)
        if duplicate:
            return self._json({**answer, "duplicate": True})
        receipt = answer["receipt_no"]
        phone = values.get("phone", "")
        with contextlib.suppress(ValueError):  # a landline: no message
            self.server.sms.send(phone, f"【电子填单】{mask_name(values['name'])}，您的《{title}》"
                                        f"已提交，受理号 {receipt}。", sender="赤壁市政务服务中心")
        return self._json({**answer, "duplicate": False})

    def _status(self, req: _Request) -> _Response:
        with self._lock:
            found = next((s for s in self.submissions
                          if s["submission_id"] == req.params["sid"]), None)
        if found is None:
            raise self._error(404, "not_found", "没有此提交记录")
        return self._json({"receipt_no": found["receipt_no"], "status": "received",
                           "form_code": found["form_code"], "received_at": found["received_at"]})

    def _list(self, req: _Request) -> _Response:
        with self._lock:
            items = [{k: v for k, v in s.items() if k not in ("values", "holder_id")}
                     for s in self.submissions]
        return self._json({"submissions": items})
