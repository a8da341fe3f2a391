"""QR codes citizens show on their phones: formats, offline checks and online resolution.

Each kind of code is a ``CodeFormat``: it recognises its payloads, parses them, verifies the
issuer's signature and expiry offline against a cached ``TrustList``, and resolves the code to an
``Applicant`` through the platform. ``CodeService.identify`` runs the whole chain:

    pick the format -> parse -> verify offline (one trust-list refresh on an unknown key)
    -> local replay check (not marking) -> resolve online -> mark the code as used

so a forged, expired or replayed code is refused even while the platform is unreachable, and a
still-valid code whose resolution failed (platform down) may be shown again.
Every refusal is a ``CodeRefused`` with a fixed reason and a Chinese message for the screen.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import os
import re
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from workstation.services.model import Applicant, IdentifiedBy
from workstation.services.platform import PlatformClient, PlatformError, PlatformUnavailable

log = logging.getLogger(__name__)

REFUSAL_REASONS = (
    "malformed", "unknown_format", "forged", "unknown_issuer", "expired", "replayed",
    "platform_unavailable",
)

# Default screen messages per reason; a format may give a more specific one.
REFUSAL_MESSAGES: dict[str, str] = {
    "malformed": "二维码内容不完整或格式不正确，请在手机上刷新后重新出示",
    "unknown_format": "无法识别此二维码，请出示本窗口支持的码",
    "forged": "签名无效，可能是伪造的二维码，请改用身份证办理",
    "unknown_issuer": "二维码的签发机构不在信任列表中，无法核验",
    "expired": "此码已过期，请在手机上刷新后重新出示",
    "replayed": "此码已使用过，请在手机上刷新后重新出示",
    "platform_unavailable": "暂时无法连接电子证照平台核验此码，请稍后重试或改用身份证",
}

# Platform error codes of codes/resolve -> refusal reasons.
_RESOLVE_ERRORS = {
    "code_invalid": "malformed",
    "signature_invalid": "forged",
    "code_expired": "expired",
    "code_used": "replayed",
}


class CodeRefused(Exception):
    """A scanned code is not accepted; ``message`` (Chinese) says why and what to do."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        if reason not in REFUSAL_REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        self.reason = reason
        self.message = message or REFUSAL_MESSAGES[reason]
        super().__init__(f"{reason}: {self.message}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------------------------------
# Trust list
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedKey:
    """An issuer's public signing key, as published by the platform."""

    kid: str
    issuer: str
    alg: str
    public_key: bytes  # raw 32-byte Ed25519 key
    not_before: dt.datetime
    not_after: dt.datetime

    def valid_at(self, moment: dt.datetime) -> bool:
        return self.not_before <= moment < self.not_after

    def verify(self, signature: bytes, data: bytes) -> bool:
        if self.alg != "Ed25519":
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, str]:
        return {
            "kid": self.kid, "issuer": self.issuer, "alg": self.alg,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "not_before": self.not_before.isoformat(), "not_after": self.not_after.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrustedKey:
        return cls(
            kid=str(data["kid"]),
            issuer=str(data["issuer"]),
            alg=str(data["alg"]),
            public_key=base64.b64decode(data["public_key"], validate=True),
            not_before=dt.datetime.fromisoformat(data["not_before"]),
            not_after=dt.datetime.fromisoformat(data["not_after"]),
        )


@dataclass(frozen=True)
class TrustList:
    """The issuer keys the workstation trusts (public keys only), by key id."""

    keys: dict[str, TrustedKey] = field(default_factory=dict)
    generated_at: dt.datetime | None = None

    def key(self, kid: str) -> TrustedKey | None:
        return self.keys.get(kid)

    def to_json(self) -> dict[str, Any]:
        return {
            "issuers": [k.to_json() for k in self.keys.values()],
            "generated_at": self.generated_at.isoformat() if self.generated_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrustList:
        """Parse the platform's trust-list reply (or a saved file); raises ValueError."""
        try:
            keys = [TrustedKey.from_json(item) for item in data["issuers"]]
            generated = data.get("generated_at")
            return cls({k.kid: k for k in keys},
                       dt.datetime.fromisoformat(generated) if generated else None)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise ValueError(f"malformed trust list: {exc}") from exc

    @classmethod
    def load(cls, path: Path) -> TrustList:
        """The saved trust list; an empty one when the file does not exist yet."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        return cls.from_json(json.loads(text))

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, then rename) so a crash never leaves half a file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".trust-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.to_json(), out, ensure_ascii=False, indent=2)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def fetch(cls, client: PlatformClient) -> TrustList:
        """Download the current trust list; raises PlatformUnavailable / PlatformError."""
        try:
            return cls.from_json(client.trust_list())
        except ValueError as exc:
            raise PlatformUnavailable("电子证照平台返回的信任列表格式不正确") from exc


class TrustListStore:
    """The cached trust list: loaded from ``path`` on first use, saved after each refresh.

    ``path=None`` keeps it in memory only (tests, demos).
    """

    def __init__(self, path: Path | None = None, initial: TrustList | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._current = initial
        self._lock = threading.Lock()

    @property
    def current(self) -> TrustList:
        with self._lock:
            if self._current is None:
                try:
                    self._current = TrustList.load(self.path) if self.path else TrustList()
                except (OSError, ValueError):
                    log.warning("cached trust list unreadable; starting with an empty one")
                    self._current = TrustList()
            return self._current

    def refresh(self, client: PlatformClient) -> TrustList:
        """Fetch the platform's trust list, keep and save it; raises on platform failure."""
        fresh = TrustList.fetch(client)
        with self._lock:
            self._current = fresh
            if self.path is not None:
                fresh.save(self.path)
        log.info("trust list refreshed: %d keys", len(fresh.keys))
        return fresh


# ---------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedCode:
    """A code split into what the checks need. Carries no personal data by itself, but the
    raw payload is a bearer credential until it expires: do not log it."""

    kind: str  # the CodeFormat.kind that parsed it
    jti: str  # one-time identifier
    issuer: str
    kid: str | None
    issued_at: dt.datetime
    expires_at: dt.datetime
    signed: bytes = field(repr=False)  # the bytes the signature covers
    signature: bytes = field(repr=False)
    raw: str = field(repr=False, default="")
    claims: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


class CodeFormat(ABC):
    """One kind of QR code. Subclasses set ``kind`` and ``title`` and implement the four steps."""

    kind: ClassVar[str]
    title: ClassVar[str]  # Chinese, shown to users, e.g. 鄂汇办身份码

    @abstractmethod
    def matches(self, payload: str) -> bool:
        """Whether the payload looks like this format (cheap; no verification)."""

    @abstractmethod
    def parse(self, payload: str) -> ParsedCode:
        """Split and decode the payload; raises CodeRefused("malformed")."""

    @abstractmethod
    def verify_offline(self, parsed: ParsedCode, trust_list: TrustList,
                       now: dt.datetime) -> None:
        """Check signature and validity without the network; raises CodeRefused."""

    @abstractmethod
    def resolve(self, parsed: ParsedCode, client: PlatformClient) -> Applicant:
        """Resolve online to the applicant (consumes one-time codes); raises CodeRefused."""


class SignedPlatformCode(CodeFormat):
    """A code issued by a platform as ``PREFIX.<b64url JSON claims>.<b64url Ed25519 signature>``.

    Short-lived (about 60 s), one-time by ``jti``, no personal data inside: the platform maps the
    opaque ``sub`` to the citizen on resolution. ``src`` names the app that displayed it.
    Subclasses set the prefix, the ``typ`` claim, the issuer, the noun users know the code by
    and the apps that show it.
    """

    PREFIX: ClassVar[str]
    TYP: ClassVar[str]
    ISSUER: ClassVar[str]
    NOUN: ClassVar[str]  # what people call it, e.g. 身份码
    SOURCES: ClassVar[dict[str, str]]  # src claim -> the app's Chinese name
    # Tolerated difference between this PC's clock and the issuer's.
    CLOCK_SKEW = dt.timedelta(seconds=15)

    def _refused(self, reason: str) -> CodeRefused:
        noun = self.NOUN
        messages = {
            "malformed": f"{noun}内容不完整，请在手机上刷新{noun}后重新出示",
            "forged": "签名无效，可能是伪造的二维码，请改用身份证办理",
            "expired": f"{noun}已过期，请在手机上刷新{noun}后重新出示",
            "replayed": f"该{noun}已使用过，请在手机上刷新{noun}后重新出示",
        }
        return CodeRefused(reason, messages.get(reason))

    def matches(self, payload: str) -> bool:
        return payload.strip().startswith(self.PREFIX + ".")

    def parse(self, payload: str) -> ParsedCode:
        malformed = self._refused("malformed")
        text = payload.strip()
        parts = text.split(".")
        if len(parts) != 3 or parts[0] != self.PREFIX:
            raise malformed
        try:
            claims = json.loads(_b64url_decode(parts[1]).decode("utf-8"))
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise malformed from None
        if not isinstance(claims, dict) or claims.get("v") != 1 or claims.get(
                "typ") != self.TYP:
            raise malformed
        source = claims.get("src", next(iter(self.SOURCES)))
        if source not in self.SOURCES:
            raise malformed
        strings = [claims.get(k) for k in ("kid", "iss", "jti", "sub")]
        times = [claims.get(k) for k in ("iat", "exp")]
        if not all(isinstance(s, str) and s for s in strings) or not all(
                isinstance(t, int) and not isinstance(t, bool) for t in times):
            raise malformed
        kid, issuer, jti, _sub = (str(s) for s in strings)
        try:
            issued_at, expires_at = (dt.datetime.fromtimestamp(int(t or 0), dt.UTC) for t in times)
        except (OverflowError, OSError, ValueError):
            raise malformed from None
        return ParsedCode(
            kind=self.kind, jti=jti, issuer=issuer, kid=kid, issued_at=issued_at,
            expires_at=expires_at, signed=f"{parts[0]}.{parts[1]}".encode("ascii"),
            signature=signature, raw=text, claims=claims,
        )

    def verify_offline(self, parsed: ParsedCode, trust_list: TrustList,
                       now: dt.datetime) -> None:
        key = trust_list.key(parsed.kid or "")
        if key is None:
            raise CodeRefused("unknown_issuer",
                              f"{self.NOUN}的签发密钥不在本机信任列表中，无法核验")
        if not key.valid_at(now):
            raise CodeRefused("unknown_issuer", f"{self.NOUN}的签发密钥已失效，无法核验")
        if parsed.issuer != key.issuer or not key.verify(parsed.signature, parsed.signed):
            raise self._refused("forged")
        if now >= parsed.expires_at + self.CLOCK_SKEW:
            raise self._refused("expired")
        if parsed.issued_at > now + self.CLOCK_SKEW or parsed.expires_at <= parsed.issued_at:
            raise CodeRefused("expired", f"{self.NOUN}时间异常，请核对本机时间或在手机上刷新")

    def resolve(self, parsed: ParsedCode, client: PlatformClient) -> Applicant:
        try:
            holder = client.resolve_code(parsed.raw)
        except PlatformUnavailable as exc:
            raise CodeRefused("platform_unavailable",
                              f"{exc.message}，暂时无法核验{self.NOUN}，请稍后重试或改用身份证"
                              ) from exc
        except PlatformError as exc:
            reason = _RESOLVE_ERRORS.get(exc.code)
            if reason is None:
                raise CodeRefused("platform_unavailable",
                                  f"平台拒绝核验{self.NOUN}：{exc.message}") from exc
            raise self._refused(reason) from exc
        if holder.jti != parsed.jti or holder.code_kind not in (None, self.kind):
            raise self._refused("forged")
        source = str(parsed.claims.get("src", next(iter(self.SOURCES))))
        return Applicant(kind=holder.kind, holder_id=holder.holder_id, name=holder.name,
                         identified_by=IdentifiedBy.CODE,
                         extra={"code_format": self.kind, "code_title": self.title,
                                "code_source": source, "code_source_label": self.SOURCES[source]})


class EhbIdentityCode(SignedPlatformCode):
    """The 鄂汇办 identity code (电子身份码) shown by the 鄂汇办 app."""

    kind = "ehb_identity"
    title = "鄂汇办身份码"
    PREFIX = "EHBID1"
    TYP = "identity"
    ISSUER = "鄂汇办"
    NOUN = "身份码"
    SOURCES: ClassVar[dict[str, str]] = {"ehb_app": "鄂汇办App"}


class MedicalInsuranceVoucher(SignedPlatformCode):
    """The medical-insurance e-voucher (医保电子凭证), whichever app displays it."""

    kind = "mi_voucher"
    title = "医保电子凭证"
    PREFIX = "YBPZ1"
    TYP = "mi_voucher"
    ISSUER = "国家医保信息平台"
    NOUN = "医保码"
    SOURCES: ClassVar[dict[str, str]] = {
        "hubei_mi_official_account": "湖北医疗保障公众号",
        "my_mi_voucher": "我的医保凭证小程序",
        "alipay": "支付宝医保电子凭证",
        "nhsa_app": "国家医保服务平台App",
    }


class ElectronicSocialSecurityCard(SignedPlatformCode):
    """The electronic social security card's QR (电子社保卡), from WeChat or 湖北12333."""

    kind = "essc"
    title = "电子社保卡"
    PREFIX = "ESSC1"
    TYP = "essc"
    ISSUER = "全国电子社保卡平台"
    NOUN = "电子社保卡二维码"
    SOURCES: ClassVar[dict[str, str]] = {
        "wechat_miniprogram": "微信电子社保卡小程序",
        "hubei_12333": "湖北12333公众号",
    }


# ---------------------------------------------------------------------------------------------
# Service
# ---------------------------------------------------------------------------------------------

ReplayGuard = Callable[[str, dt.datetime], bool]
SeenCheck = Callable[[str], bool]


class CodeService:
    """Identifies an applicant from a scanned payload through the registered formats.

    ``replay_guard(key, expires_at)`` records a code as used and returns False when it was seen
    before; ``key`` is ``"<format kind>:<jti>"`` and ``expires_at`` says when it may be
    forgotten. It is called only after the platform resolved the code.

    ``seen_check(key)`` (optional) says whether a code was already used, without marking it:
    a code seen before is refused locally before the platform is asked (so also while the
    platform is down). Without it, a replay is caught by the platform or by ``replay_guard``
    after resolution. With ``replay.SeenCodes``: ``replay_guard=seen.mark,
    seen_check=seen.seen``.
    """

    def __init__(self, formats: Sequence[CodeFormat], trust_list_store: TrustListStore,
                 client: PlatformClient, replay_guard: ReplayGuard,
                 clock: Callable[[], dt.datetime] = _now, *,
                 seen_check: SeenCheck | None = None) -> None:
        self.formats = list(formats)
        self.trust = trust_list_store
        self.client = client
        self.replay_guard = replay_guard
        self.seen_check = seen_check
        self.clock = clock

    def format_for(self, payload: str) -> CodeFormat:
        for fmt in self.formats:
            if fmt.matches(payload):
                return fmt
        titles = "、".join(f.title for f in self.formats)
        raise CodeRefused("unknown_format", f"无法识别此二维码，请出示{titles}"
                          if titles else None)

    def verify_offline(self, fmt: CodeFormat, parsed: ParsedCode) -> None:
        """Offline checks; an unknown key triggers one trust-list refresh, then a re-check."""
        try:
            fmt.verify_offline(parsed, self.trust.current, self.clock())
            return
        except CodeRefused as exc:
            if exc.reason != "unknown_issuer":
                raise
        try:
            self.trust.refresh(self.client)
        except (PlatformUnavailable, PlatformError) as exc:
            raise CodeRefused(
                "platform_unavailable",
                f"无法更新信任列表，暂时不能核验此{fmt.title}，请稍后重试或改用身份证",
            ) from exc
        fmt.verify_offline(parsed, self.trust.current, self.clock())

    def identify(self, payload: str) -> Applicant:
        """The applicant a scanned code stands for; raises CodeRefused."""
        payload = payload.strip()
        fmt = self.format_for(payload)
        parsed = fmt.parse(payload)
        self.verify_offline(fmt, parsed)
        key = f"{parsed.kind}:{parsed.jti}"
        replayed = CodeRefused("replayed", f"此{fmt.title}已使用过，请在手机上刷新后重新出示")
        if self.seen_check is not None and self.seen_check(key):
            raise replayed
        # Resolve first: a failed resolution (platform down) must not use the code up.
        applicant = fmt.resolve(parsed, self.client)
        if not self.replay_guard(key, parsed.expires_at):
            # Another scan of the same code was accepted in the meantime.
            log.warning("code accepted twice at once: format=%s; refused", fmt.kind)
            raise replayed
        log.info("code identified: format=%s", fmt.kind)
        return applicant

