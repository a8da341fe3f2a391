"""Sandbox platforms for the enterprise and back-office scenarios (S9, S10, S11).

- Employment data of the enterprise platform (企心协力, S11): per enterprise, the employees it
  hired in the world's year, with graduation years, labour contracts and the months of
  unemployment insurance it paid for them, drawn deterministically from the seed and the
  credit code (so the same after every restart).
- Electronic business licence login (S9): the workstation opens a login session and shows its
  QR; the representative's phone "scans" it, picks the licence and confirms with the licence
  password; the workstation polls the session for the result.
- Consent requests (S10, S9's second authorization, S11): the workstation asks, shows a QR;
  the holder approves or refuses on the phone; an approved request becomes a consent of the
  licence library (the usual ``consent_ref``), with data scopes for non-licence data.
- Submissions, each idempotent by its ``Idempotency-Key`` header (a repeated key gets the first
  answer with ``"duplicate": true``): housing-fund archive files and manifests (S10),
  trading-platform registrations (S9), policy applications (S11).

The routes are served by ``sandbox.server.SandboxServer`` (see docs/contracts.md).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import random
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.idempotency import IdempotentAnswers
from workstation.services.model import LICENCE_TYPES, HolderKind

if TYPE_CHECKING:
    from sandbox.server import SandboxServer, _Request, _Response

DEMO_LICENCE_PASSWORD = "888888"  # every sandbox enterprise's electronic licence password
LOGIN_TTL_S = 120
CONSENT_REQUEST_TTL_S = 300
DATA_SCOPES = ("employment",)
MAX_FILE_BYTES = 1024 * 1024
LOGIN_PREFIX = "EBLLOGIN1."
CONSENT_PREFIX = "EHBAUTH1."
EDUCATION = ("本科", "大专", "硕士研究生", "高中", "中专")


# ---------------------------------------------------------------------------------------------
# Employment data
# ---------------------------------------------------------------------------------------------


def employment_of(seed: int, credit_code: str, year: int, as_of: dt.date,
                  founded_on: dt.date) -> dict[str, Any]:
    """The enterprise's employment facts for ``year`` (deterministic per seed and code)."""
    rng = random.Random(f"{seed}:employment:{credit_code}:{year}")
    start = max(dt.date(year, 1, 1), founded_on)
    end = min(dt.date(year, 12, 31), as_of)
    headcount = rng.randint(3, 60)
    hires = rng.randint(1, 8) if end >= start else 0
    employees = []
    for i in range(hires):
        hired_on = start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))
        education = rng.choice(EDUCATION)
        graduate = education in ("本科", "大专", "硕士研究生")
        graduation_year: int | None = None
        if graduate:
            graduation_year = year if rng.random() < 0.6 else year - rng.randint(1, 4)
            if rng.random() < 0.08:
                graduation_year = None  # not on record: the rule engine must say so
        contract = None
        if rng.random() < 0.85:
            months = rng.choice((12, 24, 36, 0))  # 0 = 无固定期限
            contract = {
                "signed_on": hired_on.isoformat(),
                "type": "无固定期限" if months == 0 else "固定期限",
                "term_months": months or None,
            }
        insurance: list[str] = []
        if rng.random() < 0.8:
            month = dt.date(hired_on.year, hired_on.month, 1)
            while month <= end:
                insurance.append(f"{month:%Y-%m}")
                month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        employees.append({
            "employee_ref": hashlib.sha256(f"{credit_code}:{year}:{i}".encode()).hexdigest()[:12],
            "name_masked": rng.choice("张王李刘陈杨黄周吴徐") + "**",
            "hired_on": hired_on.isoformat(),
            "education": education,
            "graduation_year": graduation_year,
            "hardship": rng.random() < 0.1,  # 就业困难人员
            "veteran": rng.random() < 0.08,  # 退役军人
            "contract": contract,
            "unemployment_insurance_months": insurance,
        })
    employees.sort(key=lambda e: (e["hired_on"], e["employee_ref"]))
    insured_last_year = max(1, headcount - rng.randint(0, 5))
    return {
        "credit_code": credit_code,
        "year": year,
        "as_of": as_of.isoformat(),
        "headcount": headcount + hires,
        "insured_headcount_last_year": insured_last_year,
        "separations_last_year": rng.randint(0, max(1, insured_last_year // 8)),
        "unemployment_insurance_paid_months_last_year": rng.choice((12, 12, 12, 10)),
        "employees": employees,
    }


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


@dataclass
class _LoginSession:
    session_id: str
    client_id: str
    expires_at: dt.datetime
    status: str = "pending"  # pending / confirmed / refused (expired is computed)
    credit_code: str | None = None
    login_token: str | None = None


@dataclass
class _ConsentRequest:
    request_id: str
    client_id: str
    kind: HolderKind
    holder_id: str | None  # None: the approving phone picks the holder (enterprise scan)
    body: dict[str, Any]
    licence_types: list[str]
    data_scopes: list[str]
    expires_at: dt.datetime
    status: str = "pending"  # pending / approved / refused
    consent_ref: str | None = None
    approved_holder: str | None = None


@dataclass
class Submissions:
    """What the back-office platforms received (observable by tests over /sandbox)."""

    archive_files: list[dict[str, Any]] = field(default_factory=list)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    applications: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "archive_files": [{k: v for k, v in f.items() if k != "content_b64"}
                              for f in self.archive_files],
            "manifests": list(self.manifests),
            "registrations": [{k: v for k, v in r.items() if k != "licence_file"}
                              for r in self.registrations],
            "applications": list(self.applications),
        }


class EnterprisePlatforms:
    """State and handlers of the S9/S10/S11 routes; owned by one SandboxServer."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self._lock = threading.Lock()
        self.logins: dict[str, _LoginSession] = {}
        self.tokens: dict[str, str] = {}  # login token -> credit code
        self.requests: dict[str, _ConsentRequest] = {}
        self.scopes: dict[str, list[str]] = {}  # consent_ref -> data scopes
        self.submissions = Submissions()
        self._idempotent = IdempotentAnswers()
        # Fault switch: after this many archive files are stored, the platform goes down and
        # the reply of that very upload is lost (stored, but answered 503).
        self.down_after_files: int | None = None

    def reset(self) -> None:
        with self._lock:
            self.logins.clear()
            self.tokens.clear()
            self.requests.clear()
            self.scopes.clear()
            self.submissions = Submissions()
            self._idempotent.clear()
            self.down_after_files = None

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        """(method, path regex, handler, needs the client credential)."""
        return [
            ("POST", r"/api/v1/elicence/login-sessions", self._login_open, True),
            ("GET", r"/api/v1/elicence/login-sessions/(?P<sid>[^/]+)", self._login_get, True),
            ("POST", r"/api/v1/consent-requests", self._request_open, True),
            ("GET", r"/api/v1/consent-requests/(?P<rid>[^/]+)", self._request_get, True),
            ("POST", r"/api/v1/enterprise/employment", self._employment, True),
            ("POST", r"/api/v1/housing-fund/archive/files", self._archive_file, True),
            ("POST", r"/api/v1/housing-fund/archive/manifests", self._archive_manifest, True),
            ("POST", r"/api/v1/trading/registrations", self._registration, True),
            ("POST", r"/api/v1/policies/applications", self._application, True),
            ("POST", r"/api/v1/phone/elicence-login", self._phone_login, False),
            ("POST", r"/api/v1/phone/consent", self._phone_consent, False),
            ("GET", r"/sandbox/enterprise/submissions", self._submissions, False),
        ]

    # -- helpers ----------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return self.server.clock()

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

    def _consent(self, req: _Request, ref: str, holder_id: str, scope: str) -> None:
        consent = self.server._consent_for(req, ref)
        if consent.holder_id != holder_id:
            raise self._error(403, "consent_scope", "授权不包含该企业，不能提供其数据")
        if scope not in self.scopes.get(consent.ref, []):
            raise self._error(403, "consent_scope", "授权范围不包含企业用工数据")

    # -- electronic business licence login (S9) ---------------------------------------------

    def _login_open(self, req: _Request) -> _Response:
        req.json()
        sid = "L" + secrets.token_hex(10).upper()
        expires_at = self._now() + dt.timedelta(seconds=LOGIN_TTL_S)
        with self._lock:
            self.logins[sid] = _LoginSession(sid, req.client_id, expires_at)
        return self._json({"session_id": sid, "qr_text": LOGIN_PREFIX + sid,
                           "expires_at": expires_at.isoformat(timespec="seconds")})

    def _login_status(self, session: _LoginSession) -> str:
        if session.status == "pending" and self._now() >= session.expires_at:
            return "expired"
        return session.status

    def _login_get(self, req: _Request) -> _Response:
        with self._lock:
            session = self.logins.get(req.params["sid"])
        if session is None or session.client_id != req.client_id:
            raise self._error(404, "not_found", "登录会话不存在")
        status = self._login_status(session)
        answer: dict[str, Any] = {"status": status,
                                  "expires_at": session.expires_at.isoformat(timespec="seconds")}
        if status == "confirmed" and session.credit_code:
            ent = self.server.world.enterprise(session.credit_code)
            assert ent is not None
            answer["enterprise"] = {"credit_code": ent.credit_code, "name": ent.name}
            answer["login_token"] = session.login_token
        return self._json(answer)

    def _phone_login(self, req: _Request) -> _Response:
        data = req.json()
        qr = self._text(data, "qr_text")
        if not qr.startswith(LOGIN_PREFIX):
            raise self._error(400, "code_invalid", "不是电子营业执照登录二维码")
        with self._lock:
            session = self.logins.get(qr[len(LOGIN_PREFIX):])
        if session is None:
            raise self._error(400, "code_invalid", "登录二维码无效")
        status = self._login_status(session)
        if status == "expired":
            raise self._error(410, "login_expired", "登录二维码已过期，请在电脑上刷新二维码")
        if status != "pending":
            raise self._error(409, "login_used", "该登录二维码已使用")
        if data.get("refuse") is True:
            session.status = "refused"
            return self._json({"status": "refused"})
        code = self._text(data, "credit_code").upper()
        ent = self.server.world.enterprise(code)
        if ent is None or ent not in self.server.world.sample_enterprises:
            raise self._error(404, "holder_not_found", "未找到有效的电子营业执照")
        if self._text(data, "password", limit=32) != DEMO_LICENCE_PASSWORD:
            raise self._error(403, "password_wrong", "电子营业执照密码错误")
        token = "T" + secrets.token_hex(16)
        with self._lock:
            session.status, session.credit_code, session.login_token = "confirmed", code, token
            self.tokens[token] = code
        return self._json({"status": "confirmed", "enterprise": ent.name})

    # -- consent requests -------------------------------------------------------------------

    def _request_open(self, req: _Request) -> _Response:
        data = req.json()
        kind = data.get("kind")
        if kind not in ("person", "enterprise"):
            raise self._error(400, "invalid_request", "kind 应为 person 或 enterprise")
        holder_kind = HolderKind(kind)
        holder_id = self._text(data, "holder_id", required=False).upper() or None
        if holder_id is not None and self.server.world.holder(holder_id) is None:
            raise self._error(404, "holder_not_found", "未找到该持证人")
        types = data.get("licence_types")
        if not isinstance(types, list) or not types or not all(
            isinstance(t, str) and t in LICENCE_TYPES and
            LICENCE_TYPES[t].holder_kind is holder_kind for t in types
        ):
            raise self._error(400, "invalid_request",
                              "licence_types 应为与持证人类型相符的证照类型")
        scopes = data.get("data_scopes") or []
        if not isinstance(scopes, list) or any(s not in DATA_SCOPES for s in scopes):
            raise self._error(400, "invalid_request", "data_scopes 只能包含 employment")
        self._text(data, "purpose")
        try:
            dt.datetime.fromisoformat(self._text(data, "expires_at"))
        except ValueError:
            raise self._error(400, "invalid_request", "expires_at 应为 ISO 8601 时间") from None
        rid = "R" + secrets.token_hex(10).upper()
        expires_at = self._now() + dt.timedelta(seconds=CONSENT_REQUEST_TTL_S)
        with self._lock:
            self.requests[rid] = _ConsentRequest(rid, req.client_id, holder_kind, holder_id,
                                                 data, list(types), list(scopes), expires_at)
        return self._json({"request_id": rid, "qr_text": CONSENT_PREFIX + rid,
                           "expires_at": expires_at.isoformat(timespec="seconds")})

    def _request_status(self, request: _ConsentRequest) -> str:
        if request.status == "pending" and self._now() >= request.expires_at:
            return "expired"
        return request.status

    def _request_get(self, req: _Request) -> _Response:
        with self._lock:
            request = self.requests.get(req.params["rid"])
        if request is None or request.client_id != req.client_id:
            raise self._error(404, "not_found", "授权请求不存在")
        status = self._request_status(request)
        answer: dict[str, Any] = {"status": status,
                                  "expires_at": request.expires_at.isoformat(timespec="seconds")}
        if status == "approved" and request.consent_ref and request.approved_holder:
            holder = self.server.world.holder(request.approved_holder)
            assert holder is not None
            consent = self.server._consents[request.consent_ref]
            answer.update({
                "consent_ref": request.consent_ref,
                "consent_expires_at": consent.expires_at.isoformat(timespec="seconds"),
                "holder": {"kind": holder.kind.value, "holder_id": holder.holder_id,
                           "name": holder.name},
                "data_scopes": request.data_scopes,
            })
        return self._json(answer)

    def _phone_consent(self, req: _Request) -> _Response:
        from sandbox.server import _Consent

        data = req.json()
        qr = self._text(data, "qr_text")
        if not qr.startswith(CONSENT_PREFIX):
            raise self._error(400, "code_invalid", "不是授权二维码")
        with self._lock:
            request = self.requests.get(qr[len(CONSENT_PREFIX):])
        if request is None:
            raise self._error(400, "code_invalid", "授权二维码无效")
        status = self._request_status(request)
        if status == "expired":
            raise self._error(410, "request_expired", "授权请求已过期")
        if status != "pending":
            raise self._error(409, "request_used", "该授权请求已处理")
        if data.get("approve") is not True:
            request.status = "refused"
            return self._json({"status": "refused"})
        holder_id = self._text(data, "holder_id").upper()
        holder = self.server.world.holder(holder_id)
        if holder is None or holder.kind is not request.kind:
            raise self._error(404, "holder_not_found", "未找到该持证人")
        if request.holder_id is not None and holder_id != request.holder_id:
            raise self._error(403, "holder_mismatch", "该授权请求不是发给您的")
        body = request.body
        expires_at = dt.datetime.fromisoformat(str(body["expires_at"]))
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=dt.UTC)
        now = self._now()
        consent = _Consent(
            ref="CS" + secrets.token_hex(10).upper(), client_id=request.client_id,
            kind=request.kind, holder_id=holder_id, purpose=str(body.get("purpose", "")),
            matter_code=str(body.get("matter_code", "")),
            licence_types=frozenset(request.licence_types),
            expires_at=max(expires_at, now + dt.timedelta(minutes=1)),
            workstation_id=str(body.get("workstation_id", "")), channel="phone",
            created_at=now,
        )
        with self.server._lock:
            self.server._consents[consent.ref] = consent
        with self._lock:
            request.status, request.consent_ref = "approved", consent.ref
            request.approved_holder = holder_id
            self.scopes[consent.ref] = list(request.data_scopes)
        return self._json({"status": "approved"})

    # -- enterprise data (S11) --------------------------------------------------------------

    def _employment(self, req: _Request) -> _Response:
        data = req.json()
        code = self._text(data, "credit_code").upper()
        self._consent(req, self._text(data, "consent_ref"), code, "employment")
        ent = self.server.world.enterprise(code)
        if ent is None:
            raise self._error(404, "holder_not_found", "未找到该企业")
        year = data.get("year", self.server.world.as_of.year)
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise self._error(400, "invalid_request", "year 应为年份")
        facts = employment_of(self.server.seed, code, year, self.server.world.as_of,
                              ent.founded_on)
        facts["enterprise"] = {
            "credit_code": ent.credit_code, "name": ent.name,
            "founded_on": ent.founded_on.isoformat(),
            "industry_code": ent.industry_code,
            "registered_capital_wan": ent.registered_capital_wan,
            "enterprise_type": ent.enterprise_type,
        }
        return self._json(facts)

    # -- submissions ------------------------------------------------------------------------

    def _archive_file(self, req: _Request) -> _Response:
        data = req.json()
        case_no = self._text(data, "case_no", limit=64)
        licence_id = self._text(data, "licence_id", limit=128)
        type_key = self._text(data, "type_key", limit=64)
        try:
            content = base64.b64decode(self._text(data, "content_b64", limit=4 * MAX_FILE_BYTES),
                                       validate=True)
        except (binascii.Error, ValueError):
            raise self._error(400, "invalid_request", "content_b64 不是有效的 Base64") from None
        if not content.startswith(b"\x89PNG") and not content.startswith(b"\xff\xd8"):
            raise self._error(400, "invalid_request", "只接受 PNG 或 JPEG 图像")
        sha = hashlib.sha256(content).hexdigest()
        if self._text(data, "sha256", limit=64) != sha:
            raise self._error(400, "invalid_request", "文件校验值不符")

        def store() -> dict[str, Any]:
            with self._lock:
                file_id = f"F{len(self.submissions.archive_files) + 1:06d}"
                self.submissions.archive_files.append({
                    "file_id": file_id, "case_no": case_no, "licence_id": licence_id,
                    "type_key": type_key, "sha256": sha, "bytes": len(content),
                    "received_at": self._now().isoformat(timespec="seconds"),
                })
                stored = len(self.submissions.archive_files)
            if self.down_after_files is not None and stored >= self.down_after_files:
                self.down_after_files = None
                self.server.faults.update({"down": True})
            return {"file_id": file_id, "sha256": sha}

        response = self._idempotent_call(req, "archive_file", data, store)
        if self.server.faults.down:  # stored, but the answer is lost on the way back
            raise self._error(503, "unavailable", "档案系统维护中，暂时无法提供服务")
        return response

    def _archive_manifest(self, req: _Request) -> _Response:
        data = req.json()
        case_no = self._text(data, "case_no", limit=64)
        business = self._text(data, "business", limit=16)
        if business not in ("withdrawal", "loan"):
            raise self._error(400, "invalid_request", "business 应为 withdrawal 或 loan")
        files = data.get("files")
        if not isinstance(files, list) or not files:
            raise self._error(400, "invalid_request", "files 应为非空列表")
        with self._lock:
            received = {(f["case_no"], f["sha256"]) for f in self.submissions.archive_files}
        for f in files:
            if not isinstance(f, dict) or (case_no, f.get("sha256")) not in received:
                raise self._error(409, "files_missing", "清单中的文件尚未全部上传")

        def store() -> dict[str, Any]:
            with self._lock:
                archive_id = f"GJJ{len(self.submissions.manifests) + 1:06d}"
                self.submissions.manifests.append({
                    "archive_id": archive_id, "case_no": case_no, "business": business,
                    "files": len(files), "status": "pending_approval",
                })
            return {"archive_id": archive_id, "status": "pending_approval"}

        return self._idempotent_call(req, "archive_manifest", data, store)

    def _registration(self, req: _Request) -> _Response:
        data = req.json()
        token = self._text(data, "login_token", limit=64)
        with self._lock:
            code = self.tokens.get(token)
        if code is None:
            raise self._error(401, "login_required", "请先用电子营业执照登录")
        form = data.get("form")
        if not isinstance(form, dict):
            raise self._error(400, "invalid_request", "缺少登记信息 form")
        from workstation.services.model import CHINA_TZ
        from workstation.services.trading_form import (
            FIELDS,
            check_licence_file,
            validate_registration,
        )

        errors = validate_registration(form, today=self._now().astimezone(CHINA_TZ).date())
        if errors:
            field_name, message = next(iter(errors.items()))
            raise self._error(400, "invalid_request",
                              f"{FIELDS.get(field_name, field_name)}：{message}")
        if str(form.get("cert_no", "")).strip().upper() != code:
            raise self._error(403, "holder_mismatch", "登记的证书编号与登录企业不一致")
        lic = data.get("licence_file")
        if not isinstance(lic, dict):
            raise self._error(400, "invalid_request", "缺少营业执照文件")
        try:
            content = base64.b64decode(str(lic.get("content_b64", "")), validate=True)
        except (binascii.Error, ValueError):
            raise self._error(400, "invalid_request", "营业执照文件不是有效的 Base64") from None
        if len(content) > MAX_FILE_BYTES:
            raise self._error(400, "invalid_request", "营业执照文件超过 1M")
        problem = check_licence_file(str(lic.get("name", "")), content)
        if problem:
            raise self._error(400, "invalid_request", f"营业执照文件：{problem}")

        def store() -> dict[str, Any]:
            with self._lock:
                number = f"ZB{len(self.submissions.registrations) + 1:06d}"
                self.submissions.registrations.append({
                    "registration_no": number, "credit_code": code, "form": form,
                    "licence_file": lic, "file_bytes": len(content),
                })
            return {"registration_no": number, "status": "submitted"}

        return self._idempotent_call(req, "registration", data, store)

    def _application(self, req: _Request) -> _Response:
        data = req.json()
        code = self._text(data, "credit_code").upper()
        self._consent(req, self._text(data, "consent_ref"), code, "employment")
        policy_id = self._text(data, "policy_id", limit=64)
        amount = data.get("amount_yuan")
        if amount is not None and (not isinstance(amount, int) or amount < 0):
            raise self._error(400, "invalid_request", "amount_yuan 应为非负整数")

        def store() -> dict[str, Any]:
            with self._lock:
                number = f"QX{len(self.submissions.applications) + 1:06d}"
                self.submissions.applications.append({
                    "application_no": number, "credit_code": code, "policy_id": policy_id,
                    "amount_yuan": amount, "people": len(data.get("people") or []),
                })
            return {"application_no": number, "status": "accepted"}

        return self._idempotent_call(req, "application", data, store)

    def _submissions(self, req: _Request) -> _Response:
        with self._lock:
            return self._json(self.submissions.to_json())
