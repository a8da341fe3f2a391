"""The sandbox HTTP server: a local stand-in for the provincial licence library and the
鄂汇办 identity-code platform, speaking exactly the API in ``docs/contracts.md``.

Standard library only for HTTP (``ThreadingHTTPServer`` and a small regex router). State lives in
memory: issued codes, consents and the access log are lost on restart, while the world and the
signing keys are derived from the seed and so are the same after every restart.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import hmac
import importlib
import io
import json
import logging
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import qrcode
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.process import exit_with_parent
from sandbox.thumbnails import ThumbnailCache
from sandbox.world import DEFAULT_SEED, World, build_world
from workstation.services.identity import IdentityError, parse_credit_code, parse_id_number
from workstation.services.model import LICENCE_TYPES, HolderKind, Licence

if TYPE_CHECKING:
    from sandbox.enterprise import EnterprisePlatforms
    from sandbox.face import FacePlatform
    from sandbox.forms import FormsPlatform
    from sandbox.locker import LockerPlatform
    from sandbox.medical_insurance import MedicalInsurancePlatform
    from sandbox.mi_accounts import MiAccounts
    from sandbox.pharmacy import PharmacyPlatform
    from sandbox.sms import SmsGateway
    from sandbox.social_security import SocialSecurityPlatform
    from sandbox.utilities import UtilityPlatforms

log = logging.getLogger(__name__)

CST = dt.timezone(dt.timedelta(hours=8), "CST")  # China Standard Time, what the platforms use
DEFAULT_PORT = 8765
DEFAULT_KID = "ehb-2026"
EHB_ISSUER = "鄂汇办"
EHB_PREFIX = "EHBID1"


@dataclass(frozen=True)
class CodeKind:
    """A kind of code citizens show on their phones, and the platform that issues it."""

    kind: str
    prefix: str  # first part of the code text
    typ: str  # the "typ" claim
    issuer: str
    kid: str  # the issuer's default signing key
    sources: tuple[str, ...]  # the apps that display it (first = default)


# The real formats are not public; each is a signed, short-lived, one-time token resolved by its
# issuing platform (DESIGN.md). The sources are the apps the guide names for each code.
CODE_KINDS: dict[str, CodeKind] = {
    k.kind: k
    for k in (
        CodeKind("ehb_identity", EHB_PREFIX, "identity", EHB_ISSUER, DEFAULT_KID, ("ehb_app",)),
        CodeKind("mi_voucher", "YBPZ1", "mi_voucher", "国家医保信息平台", "nhsa-2026",
                 ("hubei_mi_official_account", "my_mi_voucher", "alipay", "nhsa_app")),
        CodeKind("essc", "ESSC1", "essc", "全国电子社保卡平台", "essc-2026",
                 ("wechat_miniprogram", "hubei_12333")),
    )
}
_KIND_BY_PREFIX = {k.prefix: k for k in CODE_KINDS.values()}
KEY_NOT_BEFORE = dt.datetime(2026, 1, 1, tzinfo=CST)
KEY_NOT_AFTER = dt.datetime(2031, 1, 1, tzinfo=CST)
DEFAULT_CREDENTIALS = {"ws-demo": "sandbox-secret"}


def _now() -> dt.datetime:
    return dt.datetime.now(CST)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_signing_key(seed: int, kid: str) -> Ed25519PrivateKey:
    """The issuer's Ed25519 key for ``kid``, derived from the seed (stable across restarts)."""
    digest = hashlib.sha256(f"mianzheng-sandbox:{seed}:{kid}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(digest)


#: The scenario platforms served beside the licence library: (attribute, "module:Class").
#: Each class takes the server, and offers ``routes()`` (method, path regex, handler,
#: needs_auth) and ``reset()`` (back to the seeded state between tests).
PLATFORMS: list[tuple[str, str]] = [
    # S9/S10/S11: electronic business licence login, consent requests, enterprise data,
    # housing-fund archive, trading registrations, policy applications
    ("enterprise", "sandbox.enterprise:EnterprisePlatforms"),
    # Medical-insurance accounts shared by S1 (pharmacy) and S7/S8 (medical insurance)
    ("mi_accounts", "sandbox.mi_accounts:MiAccounts"),
    # SMS gateway: pickup codes, progress messages (GET /sandbox/sms lists what was sent)
    ("sms", "sandbox.sms:SmsGateway"),
    # S5 smart review: face verification against the ID photo (kiosk face login)
    ("face", "sandbox.face:FacePlatform"),
    # S1 药店买药: drug catalogue, insured person, pre-settlement, settlement, refund
    ("pharmacy", "sandbox.pharmacy:PharmacyPlatform"),
    # S3 electronic form platform: filled-in application forms, idempotent by Idempotency-Key
    ("forms", "sandbox.forms:FormsPlatform"),
    # S6: social insurance records (contributions by type, personal accounts)
    ("social_security", "sandbox.social_security:SocialSecurityPlatform"),
    # S7/S8: the medical-insurance information platform (queries, contact phone, 异地就医备案)
    ("medical_insurance", "sandbox.medical_insurance:MedicalInsurancePlatform"),
    # S12/S13: gas and water connection applications (报装), visits, states, SMS
    ("utilities", "sandbox.utilities:UtilityPlatforms"),
    # S4: the 综合收发件政务柜 back office (staff notification feed, pickup-code SMS)
    ("locker", "sandbox.locker:LockerPlatform"),
]


class ApiError(Exception):
    """An error answer: HTTP status plus the contract's error code and a Chinese message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


class Faults:
    """Fault switches. ``error_rate`` draws from a seeded RNG, so a test sees the same failures
    in the same order every run."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self.down = False
        self.latency_ms = 0
        self.error_rate = 0.0
        self._rng = random.Random(seed)

    def reset(self) -> None:
        with self._lock:
            self.down, self.latency_ms, self.error_rate = False, 0, 0.0
            self._rng = random.Random(self._seed)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply the given switches (others unchanged); ``seed`` re-seeds the error draw."""
        down = changes.get("down", self.down)
        latency = changes.get("latency_ms", self.latency_ms)
        rate = changes.get("error_rate", self.error_rate)
        if not isinstance(down, bool):
            raise ApiError(400, "invalid_request", "down 应为 true 或 false")
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 60000:
            raise ApiError(400, "invalid_request", "latency_ms 应为 0 到 60000 之间的整数")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ApiError(400, "invalid_request", "error_rate 应为 0 到 1 之间的数")
        with self._lock:
            self.down, self.latency_ms, self.error_rate = down, latency, float(rate)
            if "seed" in changes:
                self._rng = random.Random(changes["seed"])

    def draw_error(self) -> bool:
        """Whether this call should fail with 500 (always drawn, so the sequence is stable)."""
        with self._lock:
            return self._rng.random() < self.error_rate

    def to_json(self) -> dict[str, Any]:
        return {"down": self.down, "latency_ms": self.latency_ms, "error_rate": self.error_rate}


@dataclass(frozen=True)
class AccessEntry:
    """One licence access, as the licence library records it."""

    time: dt.datetime
    client_id: str
    consent_ref: str
    reason: str
    holder_id: str
    licence_id: str | None
    action: str  # search / detail / thumbnail

    def to_json(self) -> dict[str, Any]:
        return {
            "time": _iso(self.time), "client_id": self.client_id,
            "consent_ref": self.consent_ref, "reason": self.reason,
            "holder_id": self.holder_id, "licence_id": self.licence_id, "action": self.action,
        }


@dataclass
class _Consent:
    ref: str
    client_id: str
    kind: HolderKind
    holder_id: str
    purpose: str
    matter_code: str
    licence_types: frozenset[str]
    expires_at: dt.datetime
    workstation_id: str
    channel: str
    created_at: dt.datetime
    revoked: bool = False


@dataclass
class _IssuedCode:
    jti: str
    holder_id: str
    expires_at: int  # epoch seconds
    kind: str = "ehb_identity"
    source: str = "ehb_app"
    used: bool = False


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Any
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    client_id: str = ""

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(400, "invalid_request", "请求内容不是有效的 JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_request", "请求内容应为 JSON 对象")
        return data


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> _Response:
        return cls(status, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ApiError(400, "invalid_request", f"字段 {key} 应为字符串")
    value = value.strip()
    if required and not value:
        raise ApiError(400, "invalid_request", f"缺少字段 {key}")
    return value


def _holder_kind(value: Any) -> HolderKind:
    try:
        return HolderKind(value)
    except ValueError:
        raise ApiError(400, "invalid_request", "kind 应为 person 或 enterprise") from None


def licence_to_json(licence: Licence, today: dt.date) -> dict[str, Any]:
    """LicenceJSON as in the contract; a valid licence past its end date reads ``expired``."""
    status = licence.status
    if status == "valid" and licence.valid_until is not None and licence.valid_until < today:
        status = "expired"
    return {**licence.to_json(), "status": status}


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

_Handler = Callable[[_Request], _Response]


class SandboxServer:
    """The sandbox platforms on one loopback port.

    ``faults``, ``clock`` and ``access_log`` are public so that tests and demos can steer and
    observe the server programmatically as well as over ``/sandbox/*``.
    """

    if TYPE_CHECKING:  # set from PLATFORMS in __init__
        enterprise: EnterprisePlatforms
        mi_accounts: MiAccounts
        sms: SmsGateway
        face: FacePlatform
        pharmacy: PharmacyPlatform
        forms: FormsPlatform
        social_security: SocialSecurityPlatform
        medical_insurance: MedicalInsurancePlatform
        utilities: UtilityPlatforms
        locker: LockerPlatform


    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = DEFAULT_SEED,
                 client_credentials: dict[str, str] | None = None, code_ttl_s: int = 60,
                 *, clock: Callable[[], dt.datetime] | None = None,
                 world: World | None = None) -> None:
        self.host = host
        self.port = port
        self.seed = seed
        self.client_credentials = dict(
            DEFAULT_CREDENTIALS if client_credentials is None else client_credentials
        )
        self.code_ttl_s = code_ttl_s
        self.world = world if world is not None else build_world(seed)
        self.faults = Faults(seed)
        self.clock: Callable[[], dt.datetime] = clock or _now
        self.access_log: list[AccessEntry] = []
        self.thumbnails = ThumbnailCache()
        self._lock = threading.Lock()
        self._keys: dict[str, Ed25519PrivateKey] = {}
        self._key_issuer: dict[str, str] = {}
        self.signing_kid = DEFAULT_KID  # the 鄂汇办 identity code's current key
        self._signing = {k.kind: k.kid for k in CODE_KINDS.values()}  # kind -> current kid
        for spec in CODE_KINDS.values():
            self._add_key(spec.kid, spec.issuer)
        self._codes: dict[str, _IssuedCode] = {}
        self._subjects: dict[str, str] = {}  # opaque sub -> holder id
        self._consents: dict[str, _Consent] = {}
        self.documents: dict[str, dict[str, Any]] = {}  # verification code -> registration
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], _Handler, bool]] = [
            ("GET", re.compile(r"/api/v1/health"), self._health, False),
            ("GET", re.compile(r"/api/v1/trust-list"), self._trust_list, True),
            ("POST", re.compile(r"/api/v1/codes/issue"), self._codes_issue, False),
            ("POST", re.compile(r"/api/v1/codes/resolve"), self._codes_resolve, True),
            ("POST", re.compile(r"/api/v1/holders/verify"), self._holders_verify, True),
            ("POST", re.compile(r"/api/v1/consents"), self._consent_register, True),
            ("POST", re.compile(r"/api/v1/consents/(?P<ref>[^/]+)/revoke"),
             self._consent_revoke, True),
            ("POST", re.compile(r"/api/v1/licences/search"), self._licence_search, True),
            ("GET", re.compile(r"/api/v1/licences/(?P<licence_id>[^/]+)/thumbnail"),
             self._licence_thumbnail, True),
            ("GET", re.compile(r"/api/v1/licences/(?P<licence_id>[^/]+)"),
             self._licence_detail, True),
            ("POST", re.compile(r"/api/v1/documents"), self._document_register, True),
            ("GET", re.compile(r"/api/v1/documents/(?P<code>[^/]+)"), self._document_verify,
             False),
            ("GET", re.compile(r"/verify/(?P<code>[^/]+)"), self._document_verify, False),
            ("GET", re.compile(r"/sandbox/access-log"), self._access_log, False),
            ("GET", re.compile(r"/sandbox/faults"), self._faults_get, False),
            ("POST", re.compile(r"/sandbox/faults"), self._faults_set, False),
            ("GET", re.compile(r"/sandbox/people"), self._people, False),
            ("GET", re.compile(r"/demo/phone/code\.png"), self._demo_code_png, False),
        ]
        # The scenario platforms, one module each (see PLATFORMS): each object has
        # ``routes()`` and ``reset()`` and is reachable as ``server.<attribute>``.
        self.platforms: dict[str, Any] = {}
        for attribute, platform_spec in PLATFORMS:
            module_name, _, class_name = platform_spec.partition(":")
            module = importlib.import_module(module_name)  # they use this module's types
            platform_ = getattr(module, class_name)(self)
            self.platforms[attribute] = platform_
            setattr(self, attribute, platform_)
            self._routes += [(m, re.compile(p), h, a) for m, p, h, a in platform_.routes()]

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Listen and serve in a daemon thread; returns once the socket is listening."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.port), _RequestHandler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sandbox-http",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        log.info("sandbox listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a clean state for the next test: no faults, real clock, empty access log,
        the default signing key."""
        self.faults.reset()
        self.clock = _now
        for platform_ in self.platforms.values():
            platform_.reset()
        with self._lock:
            self.access_log.clear()
            self.signing_kid = DEFAULT_KID
            self._signing = {k.kind: k.kid for k in CODE_KINDS.values()}
            defaults = set(self._signing.values())
            for kid in [k for k in self._keys if k not in defaults]:
                del self._keys[kid]
                del self._key_issuer[kid]

    # -- signing keys and codes -------------------------------------------------------------

    def _add_key(self, kid: str, issuer: str = EHB_ISSUER) -> None:
        self._keys[kid] = derive_signing_key(self.seed, kid)
        self._key_issuer[kid] = issuer

    def rotate_signing_key(self, kid: str, kind: str = "ehb_identity") -> None:
        """Start signing codes of ``kind`` with a new key ``kid`` (published in the trust list)."""
        issuer = CODE_KINDS[kind].issuer
        with self._lock:
            if kid not in self._keys:
                self._add_key(kid, issuer)
            self._signing[kind] = kid
            if kind == "ehb_identity":
                self.signing_kid = kid

    def trust_list(self) -> dict[str, Any]:
        with self._lock:
            keys = list(self._keys.items())
        issuers = [
            {
                "kid": kid,
                "issuer": self._key_issuer[kid],
                "alg": "Ed25519",
                "public_key": base64.b64encode(
                    key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
                ).decode("ascii"),
                "not_before": _iso(KEY_NOT_BEFORE),
                "not_after": _iso(KEY_NOT_AFTER),
            }
            for kid, key in keys
        ]
        return {"issuers": issuers, "generated_at": _iso(self.clock())}

    def issue_code(self, holder_id: str, kind: str = "ehb_identity",
                   source: str | None = None) -> tuple[str, dt.datetime]:
        """Issue a one-time code of ``kind`` for a citizen, as shown by the app ``source``;
        returns (code, expires_at)."""
        spec = CODE_KINDS.get(kind)
        if spec is None:
            raise ApiError(400, "invalid_request", f"不支持的码类型：{kind}")
        source = source or spec.sources[0]
        if source not in spec.sources:
            raise ApiError(400, "invalid_request", f"{spec.issuer}不支持来源：{source}")
        citizen = self.world.citizen(holder_id)
        if citizen is None:
            if self.world.enterprise(holder_id) is not None:
                raise ApiError(400, "invalid_request", "此类二维码仅适用于个人")
            raise ApiError(404, "holder_not_found", "未找到该持证人")
        iat = int(self.clock().timestamp())
        jti = secrets.token_hex(8)
        sub = secrets.token_hex(12)
        with self._lock:
            kid = self._signing[kind]
            key = self._keys[kid]
            self._codes[jti] = _IssuedCode(jti, citizen.id_number, iat + self.code_ttl_s,
                                           kind, source)
            self._subjects[sub] = citizen.id_number
        claims = {"v": 1, "kid": kid, "iss": spec.issuer, "typ": spec.typ, "jti": jti,
                  "iat": iat, "exp": iat + self.code_ttl_s, "sub": sub, "src": source}
        payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        signed = f"{spec.prefix}.{b64url_encode(payload)}"
        code = f"{signed}.{b64url_encode(key.sign(signed.encode('ascii')))}"
        return code, dt.datetime.fromtimestamp(iat + self.code_ttl_s, CST)

    def _resolve(self, code: str) -> tuple[str, str, _IssuedCode]:
        """Check a code and consume it; returns (holder_id, jti, the issued code)."""
        invalid = ApiError(400, "code_invalid", "二维码格式不正确")
        parts = code.strip().split(".")
        spec = _KIND_BY_PREFIX.get(parts[0]) if len(parts) == 3 else None
        if spec is None:
            raise invalid
        try:
            claims = json.loads(b64url_decode(parts[1]).decode("utf-8"))
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise invalid from None
        if not isinstance(claims, dict) or claims.get("v") != 1 or claims.get("typ") != spec.typ:
            raise invalid
        jti, kid, sub, exp = (claims.get(k) for k in ("jti", "kid", "sub", "exp"))
        if not (isinstance(jti, str) and isinstance(kid, str) and isinstance(sub, str)
                and isinstance(exp, int)):
            raise invalid
        with self._lock:
            key = self._keys.get(kid)
            key_issuer = self._key_issuer.get(kid)
        bad_signature = ApiError(400, "signature_invalid", "二维码签名无效，可能是伪造的二维码")
        if key is None or key_issuer != spec.issuer:
            raise bad_signature
        try:
            key.public_key().verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
        except InvalidSignature:
            raise bad_signature from None
        if int(self.clock().timestamp()) >= exp:
            raise ApiError(410, "code_expired", "身份码已过期，请在手机上刷新后重新出示")
        with self._lock:
            issued = self._codes.get(jti)
            holder_id = self._subjects.get(sub)
            if (issued is None or holder_id is None or issued.holder_id != holder_id
                    or issued.kind != spec.kind):
                raise ApiError(400, "code_invalid", "二维码无效（平台未签发此码）")
            if issued.used:
                raise ApiError(409, "code_used", "二维码已使用过，请在手机上刷新后重新出示")
            issued.used = True
        return holder_id, jti, issued

    # -- consents ---------------------------------------------------------------------------

    def _consent_for(self, req: _Request, ref: str) -> _Consent:
        """The caller's live consent ``ref``; 403 when missing, expired or revoked."""
        if not ref:
            raise ApiError(403, "consent_required", "未提供申请人授权（consent_ref），不能调取证照")
        with self._lock:
            consent = self._consents.get(ref)
        if consent is None or consent.client_id != req.client_id:
            raise ApiError(403, "consent_required", "授权记录不存在，请先取得申请人授权")
        if consent.revoked:
            raise ApiError(403, "consent_revoked", "申请人已撤回授权，请重新取得授权")
        if self.clock() >= consent.expires_at:
            raise ApiError(403, "consent_expired", "授权已过期，请重新取得申请人授权")
        return consent

    @staticmethod
    def _check_scope(consent: _Consent, holder_id: str, types: set[str]) -> None:
        if holder_id != consent.holder_id:
            raise ApiError(403, "consent_scope", "授权不包含该持证人，不能调取其证照")
        missing = types - consent.licence_types
        if missing:
            names = "、".join(LICENCE_TYPES[t].name if t in LICENCE_TYPES else t
                             for t in sorted(missing))
            raise ApiError(403, "consent_scope", f"授权范围不包含：{names}")

    @staticmethod
    def _reason(value: Any) -> str:
        reason = value.strip() if isinstance(value, str) else ""
        if not reason:
            raise ApiError(400, "reason_required", "请填写申请事由")
        return reason

    def _record(self, req: _Request, consent: _Consent, reason: str, holder_id: str,
                licence_id: str | None, action: str) -> None:
        entry = AccessEntry(self.clock(), req.client_id, consent.ref, reason, holder_id,
                            licence_id, action)
        with self._lock:
            self.access_log.append(entry)

    # -- handlers: api ----------------------------------------------------------------------

    def _health(self, req: _Request) -> _Response:
        return _Response.json({"status": "ok", "time": _iso(self.clock())})

    def _trust_list(self, req: _Request) -> _Response:
        return _Response.json(self.trust_list())

    def _codes_issue(self, req: _Request) -> _Response:
        data = req.json()
        kind = data.get("kind", "ehb_identity")
        source = data.get("source")
        if not isinstance(kind, str) or not (source is None or isinstance(source, str)):
            raise ApiError(400, "invalid_request", "kind 和 source 应为字符串")
        code, expires_at = self.issue_code(_text(data, "holder_id").upper(), kind, source)
        return _Response.json({"code": code, "expires_at": _iso(expires_at)})

    def _codes_resolve(self, req: _Request) -> _Response:
        holder_id, jti, issued = self._resolve(_text(req.json(), "code"))
        holder = self.world.holder(holder_id)
        assert holder is not None
        return _Response.json({
            "holder": {"kind": holder.kind.value, "holder_id": holder_id, "name": holder.name},
            "jti": jti, "code_kind": issued.kind, "source": issued.source,
        })

    def _holders_verify(self, req: _Request) -> _Response:
        data = req.json()
        kind = _holder_kind(data.get("kind"))
        holder = self.world.holder(_text(data, "holder_id"))
        name = _text(data, "name", required=False)
        exists = holder is not None and holder.kind is kind
        match = holder is not None and exists and holder.name == name
        return _Response.json({"match": match, "exists": exists})

    def _consent_register(self, req: _Request) -> _Response:
        data = req.json()
        kind = _holder_kind(data.get("kind"))
        holder_id = _text(data, "holder_id").upper()
        try:
            if kind is HolderKind.PERSON:
                parse_id_number(holder_id)
            else:
                parse_credit_code(holder_id)
        except IdentityError as exc:
            raise ApiError(400, "invalid_request", exc.message) from None
        types = data.get("licence_types")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise ApiError(400, "invalid_request", "licence_types 应为非空的证照类型列表")
        for t in types:
            if t not in LICENCE_TYPES:
                raise ApiError(400, "invalid_request", f"未知的证照类型：{t}")
            if LICENCE_TYPES[t].holder_kind is not kind:
                raise ApiError(400, "invalid_request",
                               f"证照类型“{LICENCE_TYPES[t].name}”与持证人类型不符")
        try:
            expires_at = dt.datetime.fromisoformat(_text(data, "expires_at"))
        except ValueError:
            raise ApiError(400, "invalid_request", "expires_at 应为 ISO 8601 时间") from None
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=CST)
        now = self.clock()
        if expires_at <= now:
            raise ApiError(400, "invalid_request", "授权有效期必须晚于当前时间")
        consent = _Consent(
            ref="CS" + secrets.token_hex(10).upper(),
            client_id=req.client_id,
            kind=kind,
            holder_id=holder_id,
            purpose=_text(data, "purpose"),
            matter_code=_text(data, "matter_code", required=False),
            licence_types=frozenset(types),
            expires_at=expires_at,
            workstation_id=_text(data, "workstation_id", required=False),
            channel=_text(data, "channel", required=False),
            created_at=now,
        )
        with self._lock:
            self._consents[consent.ref] = consent
        return _Response.json({"consent_ref": consent.ref, "expires_at": _iso(expires_at)})

    def _consent_revoke(self, req: _Request) -> _Response:
        with self._lock:
            consent = self._consents.get(req.params["ref"])
            if consent is None or consent.client_id != req.client_id:
                raise ApiError(404, "not_found", "授权记录不存在")
            consent.revoked = True
        return _Response.json({"revoked": True})

    def _licence_search(self, req: _Request) -> _Response:
        data = req.json()
        holder_id = _text(data, "holder_id").upper()
        types = data.get("types")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise ApiError(400, "invalid_request", "types 应为非空的证照类型列表")
        consent = self._consent_for(req, _text(data, "consent_ref", required=False))
        self._check_scope(consent, holder_id, set(types))
        reason = self._reason(data.get("reason"))
        found = self.world.licences_of(holder_id, types)
        today = self.clock().date()
        entries: list[Licence | None] = list(found) or [None]
        for lic in entries:
            self._record(req, consent, reason, holder_id, lic.licence_id if lic else None,
                         "search")
        return _Response.json({"licences": [licence_to_json(lic, today) for lic in found]})

    def _licence_access(self, req: _Request, action: str) -> Licence:
        consent = self._consent_for(req, req.query.get("consent_ref", "").strip())
        licence = self.world.licence(req.params["licence_id"])
        if licence is None:
            raise ApiError(404, "not_found", "未找到该电子证照")
        self._check_scope(consent, licence.holder_id, {licence.type_key})
        reason = self._reason(req.query.get("reason"))
        self._record(req, consent, reason, licence.holder_id, licence.licence_id, action)
        return licence

    def _licence_detail(self, req: _Request) -> _Response:
        licence = self._licence_access(req, "detail")
        return _Response.json(licence_to_json(licence, self.clock().date()))

    def _licence_thumbnail(self, req: _Request) -> _Response:
        licence = self._licence_access(req, "thumbnail")
        return _Response(200, self.thumbnails.get(licence), "image/png")

    # -- handlers: issued documents ---------------------------------------------------------

    _CODE_RE = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{16}$")
    _SHA_RE = re.compile(r"^[0-9a-f]{64}$")

    def _document_register(self, req: _Request) -> _Response:
        data = req.json()
        code = _text(data, "code").upper().replace("-", "")
        sha = _text(data, "sha256").lower()
        if not self._CODE_RE.match(code):
            raise ApiError(400, "invalid_request", "验证码格式不正确")
        if not self._SHA_RE.match(sha):
            raise ApiError(400, "invalid_request", "sha256 应为 64 位十六进制摘要")
        pages = data.get("pages", 0)
        if isinstance(pages, bool) or not isinstance(pages, int) or pages < 0:
            raise ApiError(400, "invalid_request", "pages 应为非负整数")
        record = {
            "code": code, "sha256": sha, "kind": _text(data, "kind"),
            "title": _text(data, "title"), "pages": pages,
            "issuing_unit": _text(data, "issuing_unit"),
            "workstation_id": _text(data, "workstation_id"),
            "issued_at": _text(data, "issued_at"), "client_id": req.client_id,
            "registered_at": _iso(self.clock()),
        }
        with self._lock:
            known = self.documents.get(code)
            if known is not None and known["sha256"] != sha:
                raise ApiError(409, "code_conflict", "该验证码已登记为另一份文书")
            self.documents.setdefault(code, record)
        return _Response.json({"registered": True, "code": code})

    def _document_verify(self, req: _Request) -> _Response:
        code = req.params["code"].upper().replace("-", "")
        with self._lock:
            record = self.documents.get(code)
        if record is None:
            raise ApiError(404, "not_found", "未查到该验证码对应的文书")
        answer = {k: record[k] for k in ("code", "kind", "title", "pages", "issuing_unit",
                                         "workstation_id", "issued_at")}
        answer["issued"] = True
        presented = req.query.get("sha256", "").strip().lower()
        if presented:
            answer["sha256_matches"] = hmac.compare_digest(presented, record["sha256"])
        return _Response.json(answer)

    # -- handlers: sandbox and demo ---------------------------------------------------------

    def _access_log(self, req: _Request) -> _Response:
        with self._lock:
            entries = [e.to_json() for e in self.access_log]
        return _Response.json({"entries": entries})

    def _faults_get(self, req: _Request) -> _Response:
        return _Response.json(self.faults.to_json())

    def _faults_set(self, req: _Request) -> _Response:
        self.faults.update(req.json())
        return _Response.json(self.faults.to_json())

    def _people(self, req: _Request) -> _Response:
        try:
            limit = int(req.query.get("limit", "20"))
        except ValueError:
            raise ApiError(400, "invalid_request", "limit 应为整数") from None
        limit = max(1, min(limit, 500))
        kind = _holder_kind(req.query.get("kind", "person"))
        holders = (self.world.sample_people if kind is HolderKind.PERSON
                   else self.world.sample_enterprises)
        return _Response.json({"holders": [
            {"kind": h.kind.value, "holder_id": h.holder_id, "name": h.name}
            for h in holders[:limit]
        ]})

    def _demo_code_png(self, req: _Request) -> _Response:
        holder_id = req.query.get("holder_id", "").strip().upper()
        if not holder_id:
            raise ApiError(400, "invalid_request", "缺少参数 holder_id")
        code, expires_at = self.issue_code(holder_id)
        image = qrcode.make(code, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6,
                            border=4)
        buffer = io.BytesIO()
        image.save(buffer)
        return _Response(200, buffer.getvalue(), "image/png",
                         {"X-Code-Expires-At": _iso(expires_at), "Cache-Control": "no-store"})

    # -- dispatch ---------------------------------------------------------------------------

    def _authenticate(self, req: _Request) -> None:
        client_id = req.headers.get("X-Client-Id", "")
        auth = req.headers.get("Authorization", "")
        secret = auth[7:] if auth.startswith("Bearer ") else ""
        expected = self.client_credentials.get(client_id)
        if not client_id or expected is None or not hmac.compare_digest(
            secret.encode("utf-8"), expected.encode("utf-8")
        ):
            raise ApiError(401, "unauthorized", "客户端未授权：缺少或错误的接入凭证")
        req.client_id = client_id

    def dispatch(self, req: _Request) -> _Response:
        """Route one request, applying faults and the credential check to ``/api/v1``."""
        try:
            allowed: list[str] = []
            for method, pattern, handler, needs_auth in self._routes:
                match = pattern.fullmatch(req.path)
                if match is None:
                    continue
                if method != req.method:
                    allowed.append(method)
                    continue
                req.params = {k: unquote(v) for k, v in match.groupdict().items()}
                if req.path.startswith("/api/v1/"):
                    self._apply_faults()
                if needs_auth:
                    self._authenticate(req)
                return handler(req)
            if allowed:
                raise ApiError(405, "method_not_allowed", "不支持的请求方法")
            raise ApiError(404, "not_found", "接口不存在")
        except ApiError as exc:
            return _Response.json({"error": exc.code, "message": exc.message}, exc.status)
        except Exception:
            log.exception("sandbox handler failed")
            return _Response.json({"error": "internal", "message": "电子证照平台内部错误"}, 500)

    def _apply_faults(self) -> None:
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)  # the server side of a slow link
        if self.faults.down:
            raise ApiError(503, "unavailable", "电子证照平台维护中，暂时无法提供服务")
        if self.faults.draw_error():
            raise ApiError(500, "internal", "电子证照平台内部错误，请稍后重试")


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its sandbox and can drop keep-alive connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MianzhengSandbox/1.0"
    # Headers and body leave in one write (flushed after each request), and without Nagle:
    # separate small writes cost a delayed-ACK round (about 40 ms) per request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _HTTPServer

    def _handle(self) -> None:
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = _Request(self.command, split.path, query, self.headers, body)
        response = self.server.sandbox.dispatch(request)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. timeout)
            self.close_connection = True

    do_GET = do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until Ctrl-C or SIGTERM; the first line printed is its URL."""
    exit_with_parent()
    parser = argparse.ArgumentParser(prog="python -m sandbox",
                                     description="本地模拟电子证照平台与鄂汇办身份码平台")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 = any free port")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--client-id", default="ws-demo")
    parser.add_argument("--client-secret", default="sandbox-secret")
    parser.add_argument("--code-ttl", type=int, default=60, help="身份码有效期（秒）")
    args = parser.parse_args(argv)

    server = SandboxServer(args.host, args.port, args.seed,
                           {args.client_id: args.client_secret}, args.code_ttl)
    try:
        server.start()
    except OSError as exc:
        print(f"无法启动模拟平台：{exc}", file=sys.stderr)
        return 1
    print(server.url, flush=True)
    print(f"模拟平台已启动（种子 {args.seed}，{len(server.world.citizens)} 名居民，"
          f"{len(server.world.enterprises)} 家企业），按 Ctrl-C 停止", file=sys.stderr, flush=True)
    stop = threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main_thread else None
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        server.stop()
    return 0
