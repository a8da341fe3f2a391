"""Sandbox utility companies for S12 (赤壁华润燃气, gas) and S13 (赤壁水务集团, water).

- ``POST /api/v1/utilities/{gas|water}/applications`` (client credential, ``Idempotency-Key``
  header): the connection application is accepted at once (受理), gets an application number
  and a technician visit (the first free half-day slot from the next working day; two visits
  per slot and utility), and the applicant gets an SMS through the sandbox SMS gateway
  (``server.sms``). A repeated key gets the first answer with ``"duplicate": true``; the same
  key with another body is refused (409).
- ``POST /api/v1/utilities/applications/query`` ``{"holder_id": ...}``: the applicant's
  applications at both utilities, newest first, each with its state history (dates).
- ``GET /api/v1/utilities/{gas|water}/applications/{no}``: one application.
- Control for tests and the demo (no credential): ``POST /sandbox/utilities/advance``
  ``{"application_no": ...}`` moves an application one state on (受理 → 勘查 → 施工 →
  通气/通水 → 办结) and texts the applicant; ``GET /sandbox/utilities/applications`` lists
  everything received. Python: ``server.utilities.advance(no)``, ``.applications``.

Field checks mirror the form's (GB 11643 ID numbers, GB 32100 credit codes, mainland mobile
numbers, positive amounts within limits), so a bad submission is refused with a Chinese
message even from a client that skipped them.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.idempotency import IdempotentAnswers
from workstation.services.identity import IdentityError, validate_credit_code, validate_id_number

if TYPE_CHECKING:
    from sandbox.server import SandboxServer, _Request, _Response

SLOTS = (("09:00", "12:00"), ("14:00", "17:30"))
VISITS_PER_SLOT = 2


@dataclass(frozen=True)
class _Company:
    key: str
    name: str
    prefix: str  # application number prefix
    final_state: str  # 通气 / 通水
    medium: str
    people_field: bool  # the water form asks for 预估月用水人数
    limits: dict[str, dict[str, int]]  # variant -> field -> max


COMPANIES = {
    "gas": _Company("gas", "赤壁华润燃气", "RQ", "通气", "气", False,
                    {"residential": {"volume": 300}, "enterprise": {"volume": 500000}}),
    "water": _Company("water", "赤壁水务集团", "SW", "通水", "水", True,
                      {"residential": {"people": 20, "volume": 200},
                       "enterprise": {"people": 5000, "volume": 100000}}),
}
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def states_of(company: _Company) -> tuple[str, ...]:
    return ("受理", "勘查", "施工", company.final_state, "办结")


@dataclass
class Application:
    application_no: str
    utility: str
    client_id: str
    client_ref: str
    variant: str
    holder_id: str
    form: dict[str, Any]
    licences_used: list[str]
    channel: str
    visit_date: dt.date
    visit_slot: tuple[str, str]
    history: list[tuple[str, dt.datetime]] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.history[-1][0]

    def to_json(self) -> dict[str, Any]:
        company = COMPANIES[self.utility]
        return {
            "application_no": self.application_no,
            "utility": self.utility,
            "company": company.name,
            "client_ref": self.client_ref,
            "variant": self.variant,
            "state": self.state,
            "states": list(states_of(company)),
            "history": [{"state": s, "at": at.isoformat(timespec="seconds")}
                        for s, at in self.history],
            "visit": {"date": self.visit_date.isoformat(), "from": self.visit_slot[0],
                      "to": self.visit_slot[1]},
            "address": self.form.get("address", ""),
            "submitted_at": self.history[0][1].isoformat(timespec="seconds"),
        }


class UtilityPlatforms:
    """State and handlers of the utility routes; owned by one SandboxServer."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._lock = threading.Lock()
        self.applications: list[Application] = []
        self._idempotent = IdempotentAnswers()
        self._serial = 0

    def reset(self) -> None:
        with self._lock:
            self.applications.clear()
            self._idempotent.clear()
            self._serial = 0

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return [
            ("POST", r"/api/v1/utilities/(?P<utility>gas|water)/applications",
             self._submit, True),
            ("GET", r"/api/v1/utilities/(?P<utility>gas|water)/applications/(?P<no>[A-Z0-9]+)",
             self._get, True),
            ("POST", r"/api/v1/utilities/applications/query", self._query, True),
            ("POST", r"/sandbox/utilities/advance", self._advance_route, False),
            ("GET", r"/sandbox/utilities/applications", self._list_route, False),
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

    def _now(self) -> dt.datetime:
        from sandbox.server import CST

        return self.server.clock().astimezone(CST)

    def _sms(self, app: Application, text: str) -> None:
        phone = str(app.form.get("phone", ""))
        company = COMPANIES[app.utility].name
        sms = getattr(self.server, "sms", None)
        if sms is not None and phone:
            sms.send(phone, f"【{company}】{text}", sender=company)

    def find(self, application_no: str) -> Application | None:
        with self._lock:
            for app in self.applications:
                if app.application_no == application_no:
                    return app
        return None

    # -- checks -----------------------------------------------------------------------------

    def _check(self, company: _Company, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        variant = data.get("variant")
        if variant not in ("residential", "enterprise"):
            raise self._error(400, "invalid_request", "variant 应为 residential 或 enterprise")
        form = data.get("form")
        if not isinstance(form, dict):
            raise self._error(400, "invalid_request", "缺少申请表 form")

        def text(key: str, label: str, limit: int = 100) -> str:
            value = form.get(key)
            if not isinstance(value, str) or not value.strip():
                raise self._error(400, "invalid_request", f"{label}：请填写")
            if len(value) > limit:
                raise self._error(400, "invalid_request", f"{label}：过长")
            return value.strip()

        text("region", "所属地区")
        text("address", "地址")
        text("community", "小区名称")
        text("reason", "申请原因")
        try:
            if variant == "residential":
                text("owner_name", "业主名称")
                validate_id_number(text("owner_id", "业主身份证号码"))
            else:
                text("unit_name", "单位名称")
                text("agent_name", "经办人")
                validate_id_number(text("agent_id", "经办人身份证号码"))
                validate_credit_code(text("credit_code", "统一社会信用代码"))
        except IdentityError as exc:
            raise self._error(400, "invalid_request", exc.message) from None
        if not _MOBILE.match(text("phone", "手机号码")):
            raise self._error(400, "invalid_request", "手机号码：应为大陆手机号码")
        for key, high in company.limits[variant].items():
            value = form.get(key)
            number = int(value) if isinstance(value, str) and value.isdigit() else value
            if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= high:
                raise self._error(400, "invalid_request", f"{key}：应为 1 到 {high} 之间的整数")
        if company.key == "gas" and not form.get("appliances"):
            raise self._error(400, "invalid_request", "燃气器具：请至少选择一种")
        return variant, form

    def _visit(self, utility: str, after: dt.datetime) -> tuple[dt.date, tuple[str, str]]:
        """The first half-day slot with room, from the next working day (Mon-Sat)."""
        day = after.date() + dt.timedelta(days=1)
        while True:
            if day.weekday() != 6:
                for slot in SLOTS:
                    taken = sum(1 for a in self.applications if a.utility == utility
                                and a.visit_date == day and a.visit_slot == slot)
                    if taken < VISITS_PER_SLOT:
                        return day, slot
            day += dt.timedelta(days=1)

    # -- routes -----------------------------------------------------------------------------

    def _submit(self, req: _Request) -> _Response:
        company = COMPANIES[req.params["utility"]]
        data = req.json()
        answer, duplicate = self._idempotent.answer(
            req, company.key, data, lambda: self._accept(req, company, data))
        if duplicate:
            return self._json({**answer, "duplicate": True})
        app = self.find(answer["application_no"])
        assert app is not None  # just accepted
        self._sms(app, f"您的{'燃气' if company.key == 'gas' else '用水'}报装申请已受理，"
                       f"受理编号 {app.application_no}。服务专员将于{app.visit_date.month}月"
                       f"{app.visit_date.day}日 {app.visit_slot[0]}-{app.visit_slot[1]} 上门勘查，"
                       "请保持电话畅通。")
        return self._json({**answer, "duplicate": False})

    def _accept(self, req: _Request, company: Any, data: dict[str, Any]) -> dict[str, Any]:
        """A new application (checked, numbered, a visit booked); its answer."""
        variant, form = self._check(company, data)
        holder_id = str(data.get("holder_id") or "").strip().upper()
        try:
            validate_id_number(holder_id)
        except IdentityError:
            raise self._error(400, "invalid_request", "holder_id 应为申请人的身份证号码") from None
        now = self._now()
        with self._lock:
            self._serial += 1
            number = f"{company.prefix}{now:%Y%m%d}{self._serial:05d}"
            visit_date, slot = self._visit(company.key, now)
            app = Application(
                application_no=number, utility=company.key, client_id=req.client_id,
                client_ref=str(data.get("client_ref") or "")[:64], variant=variant,
                holder_id=holder_id, form=dict(form),
                licences_used=[str(t) for t in data.get("licences_used") or []][:4],
                channel=str(data.get("channel") or "")[:16], visit_date=visit_date,
                visit_slot=slot, history=[("受理", now)],
            )
            self.applications.append(app)
            return app.to_json()

    def _get(self, req: _Request) -> _Response:
        app = self.find(req.params["no"])
        if app is None or app.utility != req.params["utility"] or app.client_id != req.client_id:
            raise self._error(404, "not_found", "未找到该报装申请")
        return self._json(app.to_json())

    def _query(self, req: _Request) -> _Response:
        data = req.json()
        holder = str(data.get("holder_id") or "").strip().upper()
        try:
            validate_id_number(holder)
        except IdentityError as exc:
            raise self._error(400, "invalid_request", exc.message) from None
        with self._lock:
            found = [a.to_json() for a in reversed(self.applications)
                     if a.holder_id == holder and a.client_id == req.client_id]
        return self._json({"applications": found})

    def advance(self, application_no: str) -> dict[str, Any]:
        """Move an application one state on and text the applicant (tests and the demo)."""
        app = self.find(application_no)
        if app is None:
            raise self._error(404, "not_found", "未找到该报装申请")
        company = COMPANIES[app.utility]
        states = states_of(company)
        with self._lock:
            if app.state == states[-1]:
                raise self._error(409, "finished", "该申请已办结")
            new = states[states.index(app.state) + 1]
            app.history.append((new, self._now()))
            answer = app.to_json()
        texts = {
            "勘查": f"服务专员已完成上门勘查（受理编号 {app.application_no}），即将安排施工。",
            "施工": f"您的报装工程已开始施工（受理编号 {app.application_no}）。",
            company.final_state: f"您的报装已完成{company.final_state}（受理编号 "
                                 f"{app.application_no}），请安全使用。",
            "办结": f"您的报装申请已办结（受理编号 {app.application_no}），感谢您的支持。",
        }
        self._sms(app, texts[new])
        return answer

    def _advance_route(self, req: _Request) -> _Response:
        data = req.json()
        number = data.get("application_no")
        if not isinstance(number, str) or not number:
            raise self._error(400, "invalid_request", "缺少字段 application_no")
        return self._json(self.advance(number))

    def _list_route(self, req: _Request) -> _Response:
        with self._lock:
            return self._json({"applications": [a.to_json() for a in self.applications]})
