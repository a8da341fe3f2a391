"""Consent: no licence is fetched unless the applicant agreed, for a purpose, types and a time.

The applicant first sees ``ConsentRequest.preview_lines()`` (what will be fetched, why, until
when, by whom). ``ConsentService.grant`` records the consent locally (applicant name encrypted,
holder as keyed hash), registers it with the licence platform and audits it. When the platform
cannot be reached the consent is still recorded, with ``consent_ref`` None: cached licences may
then be served under it, and ``ensure_registered`` registers it once the link returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select

from workstation.services.audit import AuditKind, AuditLog, check_no_personal_data, utc_now
from workstation.services.crypto import DecryptionError, FieldCipher
from workstation.services.model import (
    CHINA_TZ,
    LICENCE_TYPES,
    Applicant,
    HolderKind,
    IdentifiedBy,
)
from workstation.services.platform import PlatformError, PlatformUnavailable
from workstation.services.store import Store
from workstation.services.tables import ConsentRow

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
DEFAULT_VALIDITY = dt.timedelta(minutes=30)
MAX_VALIDITY = dt.timedelta(days=1)
DEFAULT_REQUESTER = "本政务服务窗口"


class ConsentError(PermissionError):
    """Licences may not be fetched under this consent; ``message`` is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConsentRequired(ConsentError):
    """No valid consent: missing, declined, revoked or expired."""


class ConsentScopeError(ConsentError):
    """The consent does not cover a requested licence type."""


class ConsentRecordUnreadable(ConsentError):
    """A stored consent cannot be read back (corrupted row, or written with other field keys).

    Raised by ``ConsentService.get`` / ``history`` instead of the underlying decryption error;
    ``consent_id`` names the row.
    """

    def __init__(self, consent_id: str) -> None:
        super().__init__(
            f"授权记录 {consent_id} 无法读取（记录已损坏，或由其他密钥写入），"
            "请重新取得申请人授权，并请管理员检查数据库和密钥文件"
        )
        self.consent_id = consent_id


class ConsentPlatform(Protocol):
    """What consent handling needs from ``platform.PlatformClient``."""

    def register_consent(
        self,
        *,
        kind: str,
        holder_id: str,
        purpose: str,
        matter_code: str,
        licence_types: Sequence[str],
        expires_at: dt.datetime,
        workstation_id: str,
        channel: str,
    ) -> Any:  # (consent_ref, expires_at) or an object with those attributes
        ...

    def revoke_consent(self, consent_ref: str) -> Any: ...


class ConsentDecision(StrEnum):
    GRANTED = "granted"
    DECLINED = "declined"


@dataclass(frozen=True)
class ConsentRequest:
    """What the applicant is asked to agree to."""

    applicant: Applicant
    purpose: str  # 用途: what the licences are used for
    matter_code: str  # 事项编码
    licence_types: tuple[str, ...]
    scenario: str  # scenario (plugin) id
    validity: dt.timedelta = DEFAULT_VALIDITY
    matter_name: str | None = None  # 办理事项 shown to the applicant; defaults to the purpose
    requester: str = DEFAULT_REQUESTER  # 调取方 shown to the applicant

    def __post_init__(self) -> None:
        types = tuple(self.licence_types)
        object.__setattr__(self, "licence_types", types)
        if not types:
            raise ValueError("请至少选择一种需要调取的证照")
        if len(set(types)) != len(types):
            raise ValueError("证照类型重复")
        for key in types:
            if key not in LICENCE_TYPES:
                raise ValueError(f"未知的证照类型：{key}")
        if not self.purpose.strip():
            raise ValueError("请填写调取证照的用途")
        if not self.matter_code.strip():
            raise ValueError("缺少办理事项编码")
        if not dt.timedelta(minutes=1) <= self.validity <= MAX_VALIDITY:
            raise ValueError("授权有效期应在 1 分钟到 24 小时之间")
        # Purpose, matter and scenario are written to the audit: no personal data in them.
        check_no_personal_data(
            {"purpose": self.purpose, "matter_code": self.matter_code, "scenario": self.scenario}
        )

    @property
    def licence_type_names(self) -> tuple[str, ...]:
        return tuple(LICENCE_TYPES[k].name for k in self.licence_types)

    def expires_at(self, now: dt.datetime) -> dt.datetime:
        return now + self.validity

    def preview_lines(
        self, now: dt.datetime | None = None, *, tz: dt.tzinfo = CHINA_TZ
    ) -> list[str]:
        """The lines the applicant reads before agreeing (Chinese)."""
        now = now or utc_now()
        until = self.expires_at(now).astimezone(tz)
        same_day = until.date() == now.astimezone(tz).date()
        until_text = until.strftime("%H:%M") if same_day else until.strftime("%m月%d日 %H:%M")
        a = self.applicant
        return [
            f"申请人：{a.masked_name}（{a.masked_id}）",
            f"办理事项：{self.matter_name or self.purpose}",
            f"将调取的证照：{'、'.join(self.licence_type_names)}",
            f"用途：{self.purpose}",
            f"有效期至：{until_text}",
            f"调取方：{self.requester}",
        ]


@dataclass(eq=False)
class Consent:
    """A recorded decision. ``granted_at`` is the time of the decision (also when declined).

    ``consent_ref`` is the platform's reference, or None while registered only locally.
    ``revoked_at`` is set in place by ``ConsentService.revoke``.
    """

    id: str
    consent_ref: str | None
    request: ConsentRequest
    granted_at: dt.datetime
    expires_at: dt.datetime
    decision: str = ConsentDecision.GRANTED
    revoked_at: dt.datetime | None = None
    operator: str | None = None

    @property
    def applicant(self) -> Applicant:
        return self.request.applicant

    @property
    def licence_types(self) -> tuple[str, ...]:
        return self.request.licence_types

    @property
    def declined(self) -> bool:
        return self.decision == ConsentDecision.DECLINED

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def registered(self) -> bool:
        return self.consent_ref is not None

    def is_active(self, now: dt.datetime) -> bool:
        return (
            not self.declined
            and (self.revoked_at is None or self.revoked_at > now)
            and self.granted_at <= now < self.expires_at
        )

    def covers(self, type_key: str, now: dt.datetime) -> bool:
        """True if licences of ``type_key`` may be fetched under this consent at ``now``."""
        return self.is_active(now) and type_key in self.request.licence_types

    def __repr__(self) -> str:
        return (f"Consent({self.id}, {self.decision}, types={list(self.licence_types)}, "
                f"ref={self.consent_ref!r})")


@dataclass
class ConsentService:
    store: Store
    cipher: FieldCipher
    audit: AuditLog
    platform: ConsentPlatform
    workstation_id: str
    clock: Clock = field(default=utc_now)
    channel: str = "counter"  # "counter" (window) or "kiosk"

    def grant(self, request: ConsentRequest, operator: str | None) -> Consent:
        """Record the applicant's consent, register it with the platform, audit it.

        If the platform is unavailable the consent is kept locally (``consent_ref`` None).
        A platform refusal (e.g. unknown holder) raises ConsentError and records nothing.
        """
        now = self.clock()
        expires_at = request.expires_at(now)
        consent_ref, platform_expiry = self._register(request, expires_at)
        if platform_expiry is not None:
            expires_at = min(expires_at, platform_expiry)
        consent = Consent(
            id=str(uuid.uuid4()), consent_ref=consent_ref, request=request, granted_at=now,
            expires_at=expires_at, decision=ConsentDecision.GRANTED, operator=operator,
        )
        self._save(consent, AuditKind.CONSENT_GRANTED)
        return consent

    def record_remote(self, request: ConsentRequest, consent_ref: str,
                      expires_at: dt.datetime, operator: str | None) -> Consent:
        """Record a consent the holder gave on their phone (the platform registered it).

        Used when the workstation showed a consent-request QR: the platform's ``consent_ref``
        and expiry are taken as they are; recorded and audited like ``grant``.
        """
        now = self.clock()
        consent = Consent(
            id=str(uuid.uuid4()), consent_ref=consent_ref, request=request, granted_at=now,
            expires_at=min(expires_at, request.expires_at(now)),
            decision=ConsentDecision.GRANTED, operator=operator,
        )
        self._save(consent, AuditKind.CONSENT_GRANTED)
        return consent

    def decline(self, request: ConsentRequest, operator: str | None) -> Consent:
        """Record that the applicant declined; nothing is registered or fetched."""
        now = self.clock()
        consent = Consent(
            id=str(uuid.uuid4()), consent_ref=None, request=request, granted_at=now,
            expires_at=now, decision=ConsentDecision.DECLINED, operator=operator,
        )
        self._save(consent, AuditKind.CONSENT_DECLINED)
        return consent

    def revoke(self, consent: Consent, operator: str | None) -> Consent:
        """Withdraw a consent locally and (when reachable) on the platform; audit it."""
        if consent.revoked_at is not None:
            return consent
        now = self.clock()
        platform_revoked = False
        if consent.consent_ref is not None:
            try:
                self.platform.revoke_consent(consent.consent_ref)
                platform_revoked = True
            except PlatformUnavailable:
                log.warning("platform unavailable: consent %s revoked locally only", consent.id)
            except PlatformError as exc:
                log.warning("platform refused to revoke consent %s: %s", consent.id, exc)
        with self.store.session(write_lock=True) as session:
            row = session.get(ConsentRow, consent.id)
            if row is not None:
                row.revoked_at = now
            self.audit.record_in(
                session, AuditKind.CONSENT_REVOKED, operator=operator,
                holder_id=consent.applicant.holder_id, scenario=consent.request.scenario,
                details={"consent_id": consent.id, "consent_ref": consent.consent_ref,
                         "platform_revoked": platform_revoked},
            )
        consent.revoked_at = now
        return consent

    def ensure_registered(self, consent: Consent) -> bool:
        """Register a consent granted while offline; True if it now has a ``consent_ref``."""
        if consent.consent_ref is not None:
            return True
        now = self.clock()
        if not consent.is_active(now):
            return False
        try:
            ref, platform_expiry = self._register(consent.request, consent.expires_at)
        except ConsentError:
            return False
        if ref is None:
            return False
        with self.store.session() as session:
            row = session.get(ConsentRow, consent.id)
            if row is not None:
                row.consent_ref = ref
                if platform_expiry is not None and platform_expiry < row.expires_at:
                    row.expires_at = platform_expiry
        consent.consent_ref = ref
        if platform_expiry is not None:
            consent.expires_at = min(consent.expires_at, platform_expiry)
        return True

    def get(self, consent_id: str) -> Consent | None:
        """Load a recorded consent (applicant name decrypted)."""
        with self.store.session() as session:
            row = session.get(ConsentRow, consent_id)
            if row is None:
                return None
            return self._from_row(row)

    def history(self, holder_id: str, *, limit: int = 50) -> list[Consent]:
        """The holder's consents, newest first."""
        holder_hash = self.cipher.holder_hash(holder_id)
        with self.store.session() as session:
            rows = session.execute(
                select(ConsentRow).where(ConsentRow.holder_hash == holder_hash)
                .order_by(ConsentRow.created_at.desc()).limit(limit)
            ).scalars().all()
            return [self._from_row(row, holder_id=holder_id) for row in rows]

    # -- internals -----------------------------------------------------------------------

    def _register(
        self, request: ConsentRequest, expires_at: dt.datetime
    ) -> tuple[str | None, dt.datetime | None]:
        a = request.applicant
        try:
            result = self.platform.register_consent(
                kind=a.kind.value, holder_id=a.holder_id, purpose=request.purpose,
                matter_code=request.matter_code, licence_types=list(request.licence_types),
                expires_at=expires_at, workstation_id=self.workstation_id,
                channel=self.channel,
            )
        except PlatformUnavailable:
            log.warning("licence platform unavailable: consent recorded locally only")
            return None, None
        except PlatformError as exc:
            message = getattr(exc, "message", "") or str(exc)
            raise ConsentError(f"电子证照平台未能登记授权：{message}") from exc
        return _unpack_registration(result)

    def _save(self, consent: Consent, kind: AuditKind) -> None:
        request = consent.request
        a = request.applicant
        with self.store.session(write_lock=True) as session:
            session.add(ConsentRow(
                id=consent.id, consent_ref=consent.consent_ref,
                holder_hash=self.cipher.holder_hash(a.holder_id), holder_kind=a.kind.value,
                identified_by=a.identified_by.value,
                applicant_name=self.cipher.encrypt_text(a.name, _name_context(consent.id)),
                purpose=request.purpose, matter_code=request.matter_code,
                licence_types=list(request.licence_types), scenario=request.scenario,
                decision=consent.decision, channel=self.channel,
                workstation_id=self.workstation_id, operator=consent.operator,
                created_at=consent.granted_at, expires_at=consent.expires_at,
            ))
            session.flush()
            self.audit.record_in(
                session, kind, operator=consent.operator, holder_id=a.holder_id,
                scenario=request.scenario,
                details={
                    "consent_id": consent.id,
                    "consent_ref": consent.consent_ref,
                    "matter_code": request.matter_code,
                    "purpose": request.purpose,
                    "licence_types": list(request.licence_types),
                    "expires_at": consent.expires_at,
                    "channel": self.channel,
                    "registered": consent.consent_ref is not None,
                },
            )

    def _from_row(self, row: ConsentRow, holder_id: str | None = None) -> Consent:
        # The holder's ID number is not stored (only its keyed hash): callers that need it
        # pass it in (history), otherwise it is left empty.
        try:
            applicant = Applicant(
                kind=HolderKind(row.holder_kind), holder_id=holder_id or "",
                name=self.cipher.decrypt_text(row.applicant_name, _name_context(row.id)),
                identified_by=IdentifiedBy(row.identified_by),
            )
        except (DecryptionError, UnicodeDecodeError, ValueError) as exc:
            log.warning("consent %s unreadable: %s", row.id, type(exc).__name__)
            raise ConsentRecordUnreadable(row.id) from exc
        request = ConsentRequest.__new__(ConsentRequest)
        for name, value in {
            "applicant": applicant, "purpose": row.purpose, "matter_code": row.matter_code,
            "licence_types": tuple(row.licence_types), "scenario": row.scenario,
            "validity": row.expires_at - row.created_at, "matter_name": None,
            "requester": DEFAULT_REQUESTER,
        }.items():
            object.__setattr__(request, name, value)  # stored rows skip re-validation
        return Consent(
            id=row.id, consent_ref=row.consent_ref, request=request, granted_at=row.created_at,
            expires_at=row.expires_at, decision=row.decision, revoked_at=row.revoked_at,
            operator=row.operator,
        )


def _name_context(consent_id: str) -> str:
    return f"consent.applicant_name:{consent_id}"


def _unpack_registration(result: Any) -> tuple[str | None, dt.datetime | None]:
    """Accept ``(consent_ref, expires_at)`` or an object/dict with those fields."""
    if isinstance(result, tuple | list):
        ref, expiry = (result[0], result[1] if len(result) > 1 else None)
    elif isinstance(result, dict):
        ref, expiry = result.get("consent_ref"), result.get("expires_at")
    else:
        ref, expiry = getattr(result, "consent_ref", None), getattr(result, "expires_at", None)
    if isinstance(expiry, str):
        expiry = dt.datetime.fromisoformat(expiry.replace("Z", "+00:00"))
    if isinstance(expiry, dt.datetime) and expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=dt.UTC)
    return (str(ref) if ref else None), expiry
