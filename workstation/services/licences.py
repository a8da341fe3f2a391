"""Electronic licences: fetching under a consent, the offline cache, and plugin scoping.

- ``LicenceCache`` keeps every licence fetched under a consent, encrypted, until its type's
  time-to-live (``LICENCE_TYPES[type].cache_ttl``) runs out. Rows are found by the holder's
  keyed hash through the composite index (holder_hash, type_key, expires_at).
- ``LicenceService.fetch`` refuses without a valid consent covering every requested type,
  searches the platform online, and when the platform is unreachable serves the cached
  licences still inside their time-to-live, saying so (``offline``, ``as_of``).
- ``ScopedLicenceService`` is what a plugin receives: only its manifest's licence types.
- A licence whose GB/T 36904 identifier is not valid is never cached nor returned: it is
  dropped and audited (``licence_refused``, refusal ``invalid_identifier``).
- ``FetchResult.failures`` says, per type that could not be provided, why (Chinese).

Every access and every refusal is audited; audit rows carry licence ids and types, never the
holder's plaintext identity.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from workstation.services.audit import (
    AuditKind,
    AuditLog,
    check_no_personal_data,
    personal_data_problem,
    utc_now,
)
from workstation.services.consent import (
    CHINA_TZ,
    Consent,
    ConsentRequired,
    ConsentScopeError,
)
from workstation.services.crypto import DecryptionError, FieldCipher, normalise_holder_id
from workstation.services.licence_ids import is_valid_licence_id
from workstation.services.model import LICENCE_TYPES, Licence
from workstation.services.platform import PlatformError, PlatformUnavailable
from workstation.services.store import Store
from workstation.services.tables import LicenceCacheRow

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

UNAVAILABLE_MESSAGE = (
    "电子证照平台暂时无法连接，且本机没有该申请人的有效缓存，请稍后重试或请申请人提交纸质材料"
)
THUMBNAIL_UNAVAILABLE_MESSAGE = "电子证照平台暂时无法连接，且本机没有该证照的缓存图像，请稍后重试"


class LicencePlatform(Protocol):
    """What licence fetching needs from ``platform.PlatformClient``."""

    def search_licences(
        self, holder_id: str, types: Sequence[str], consent_ref: str, reason: str
    ) -> list[Licence]: ...

    def thumbnail(self, licence_id: str, consent_ref: str, reason: str) -> bytes: ...


class LicencesUnavailable(RuntimeError):
    """Neither the platform nor the cache can provide the licences; ``message`` is Chinese."""

    def __init__(self, message: str = UNAVAILABLE_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


class ScopeError(PermissionError):
    """A plugin asked for a licence type outside its manifest; ``message`` is Chinese."""

    def __init__(self, plugin_id: str, type_key: str) -> None:
        name = LICENCE_TYPES[type_key].name if type_key in LICENCE_TYPES else type_key
        message = f"业务插件“{plugin_id}”未声明使用“{name}”（{type_key}），已拒绝调取"
        super().__init__(message)
        self.message = message
        self.plugin_id = plugin_id
        self.type_key = type_key


# -- (de)serialisation of licences -----------------------------------------------------------

def licence_to_json(licence: Licence) -> dict[str, Any]:
    """The contract's LicenceJSON form of a licence (kept encrypted in the cache)."""
    return licence.to_json()


def licence_from_json(data: dict[str, Any]) -> Licence:
    return Licence.from_json(data)


# -- the cache -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CachedLicence:
    licence: Licence
    fetched_at: dt.datetime
    expires_at: dt.datetime
    consent_id: str | None
    has_thumbnail: bool


@dataclass(frozen=True)
class CacheStats:
    total: int
    live: int
    expired: int
    by_type: dict[str, int]  # all rows per licence type
    oldest: dt.datetime | None  # earliest fetched_at
    newest: dt.datetime | None  # latest fetched_at


def _licence_context(holder_hash: str) -> str:
    # Bound to the holder: a row whose hash was changed no longer decrypts.
    return f"licence.fields:{holder_hash}"


def _thumbnail_context(licence_id: str) -> str:
    return f"licence.thumbnail:{licence_id}"


@dataclass
class LicenceCache:
    store: Store
    cipher: FieldCipher
    clock: Clock = field(default=utc_now)

    def put(
        self, licence: Licence, consent_id: str | None, fetched_at: dt.datetime
    ) -> CachedLicence:
        """Store (or refresh) ``licence``; it expires ``cache_ttl`` after ``fetched_at``."""
        self.put_many([(licence, consent_id, fetched_at)])
        return CachedLicence(
            licence=licence, fetched_at=fetched_at,
            expires_at=fetched_at + LICENCE_TYPES[licence.type_key].cache_ttl,
            consent_id=consent_id, has_thumbnail=self.has_thumbnail(licence.licence_id),
        )

    def put_many(self, items: Iterable[tuple[Licence, str | None, dt.datetime]]) -> int:
        """Upsert many licences by licence_id in one transaction; returns how many."""
        values = []
        for licence, consent_id, fetched_at in items:
            if licence.type_key not in LICENCE_TYPES:
                raise ValueError(f"unknown licence type {licence.type_key!r}")
            holder_hash = self.cipher.holder_hash(licence.holder_id)
            values.append({
                "licence_id": licence.licence_id,
                "holder_hash": holder_hash,
                "type_key": licence.type_key,
                "licence_data": self.cipher.encrypt_json(
                    licence_to_json(licence), _licence_context(holder_hash)
                ),
                "fetched_at": fetched_at,
                "expires_at": fetched_at + LICENCE_TYPES[licence.type_key].cache_ttl,
                "consent_id": consent_id,
            })
        if not values:
            return 0
        insert = postgresql.insert if self.store.is_postgresql else sqlite.insert
        statement = insert(LicenceCacheRow)
        statement = statement.on_conflict_do_update(
            index_elements=[LicenceCacheRow.licence_id],
            set_={
                name: statement.excluded[name]
                for name in ("holder_hash", "type_key", "licence_data", "fetched_at",
                             "expires_at", "consent_id")
            },
        )
        with self.store.session() as session:
            for start in range(0, len(values), 1000):
                session.execute(statement, values[start:start + 1000])
        return len(values)

    def put_thumbnail(self, licence_id: str, png: bytes) -> bool:
        """Attach an encrypted thumbnail to a cached licence; False if it is not cached."""
        sealed = self.cipher.encrypt(png, _thumbnail_context(licence_id))
        with self.store.session() as session:
            result = session.execute(
                update(LicenceCacheRow).where(LicenceCacheRow.licence_id == licence_id)
                .values(thumbnail=sealed)
            )
            return bool(getattr(result, "rowcount", 0))

    def has_thumbnail(self, licence_id: str) -> bool:
        with self.store.session() as session:
            return bool(session.execute(
                select(func.count()).select_from(LicenceCacheRow).where(
                    LicenceCacheRow.licence_id == licence_id,
                    LicenceCacheRow.thumbnail.is_not(None),
                )
            ).scalar_one())

    def thumbnail(self, licence_id: str, now: dt.datetime | None = None) -> bytes | None:
        """The cached thumbnail of a licence still inside its time-to-live, else None."""
        now = now or self.clock()
        with self.store.session(write_lock=False) as session:
            sealed = session.execute(
                select(LicenceCacheRow.thumbnail).where(
                    LicenceCacheRow.licence_id == licence_id, LicenceCacheRow.expires_at > now
                )
            ).scalar_one_or_none()
        if sealed is None:
            return None
        try:
            return self.cipher.decrypt(sealed, _thumbnail_context(licence_id))
        except DecryptionError:
            log.warning("cached thumbnail of %s does not decrypt; ignored", licence_id)
            return None

    def lookup(
        self,
        holder_id: str,
        types: Iterable[str] | None = None,
        now: dt.datetime | None = None,
    ) -> list[CachedLicence]:
        """The holder's cached licences of ``types`` (None = all) still inside their TTL."""
        now = now or self.clock()
        holder_hash = self.cipher.holder_hash(holder_id)
        query = select(LicenceCacheRow).where(LicenceCacheRow.holder_hash == holder_hash)
        if types is not None:
            type_list = sorted(set(types))
            if not type_list:
                return []
            query = query.where(LicenceCacheRow.type_key.in_(type_list))
        query = query.where(LicenceCacheRow.expires_at > now).order_by(
            LicenceCacheRow.type_key, LicenceCacheRow.fetched_at.desc(), LicenceCacheRow.id
        )
        with self.store.session(write_lock=False) as session:
            rows = session.execute(query).scalars().all()
        wanted = normalise_holder_id(holder_id)
        found: list[CachedLicence] = []
        for row in rows:
            try:
                licence = licence_from_json(
                    self.cipher.decrypt_json(row.licence_data, _licence_context(row.holder_hash))
                )
            except (DecryptionError, KeyError, ValueError):
                log.warning("cached licence %s does not decrypt; ignored", row.licence_id)
                continue
            if normalise_holder_id(licence.holder_id) != wanted:
                log.warning("cached licence %s belongs to another holder; ignored", row.licence_id)
                continue
            found.append(CachedLicence(
                licence=licence, fetched_at=row.fetched_at, expires_at=row.expires_at,
                consent_id=row.consent_id, has_thumbnail=row.thumbnail is not None,
            ))
        return found

    def stats(self, now: dt.datetime | None = None) -> CacheStats:
        now = now or self.clock()
        with self.store.session(write_lock=False) as session:
            total, oldest, newest = session.execute(
                select(func.count(), func.min(LicenceCacheRow.fetched_at),
                       func.max(LicenceCacheRow.fetched_at))
            ).one()
            live = session.execute(
                select(func.count()).select_from(LicenceCacheRow)
                .where(LicenceCacheRow.expires_at > now)
            ).scalar_one()
            by_type = dict(session.execute(
                select(LicenceCacheRow.type_key, func.count()).group_by(LicenceCacheRow.type_key)
            ).all())
        return CacheStats(
            total=int(total), live=int(live), expired=int(total) - int(live),
            by_type={str(k): int(v) for k, v in by_type.items()},
            oldest=_as_utc(oldest), newest=_as_utc(newest),
        )

    def purge(
        self,
        expired_only: bool = True,
        now: dt.datetime | None = None,
        *,
        audit: AuditLog | None = None,
        operator: str | None = None,
    ) -> int:
        """Delete expired rows (or every row); returns how many were deleted.

        With ``audit``, a ``cache_purged`` event (how many rows, which purge; no personal
        data) is recorded in the same transaction as the delete.
        """
        now = now or self.clock()
        statement = delete(LicenceCacheRow)
        if expired_only:
            statement = statement.where(LicenceCacheRow.expires_at <= now)
        with self.store.session(write_lock=audit is not None) as session:
            removed = int(getattr(session.execute(statement), "rowcount", 0) or 0)
            if audit is not None:
                audit.record_in(
                    session, AuditKind.CACHE_PURGED, operator=operator,
                    details={"scope": "expired" if expired_only else "all",
                             "removed": removed},
                )
        return removed

    def purge_holder(
        self, holder_id: str, *, audit: AuditLog | None = None, operator: str | None = None
    ) -> int:
        """Delete everything cached about one holder (e.g. on the holder's request).

        With ``audit``, a ``cache_purged`` event for the holder (keyed hash) is recorded.
        """
        holder_hash = self.cipher.holder_hash(holder_id)
        with self.store.session(write_lock=audit is not None) as session:
            result = session.execute(
                delete(LicenceCacheRow).where(LicenceCacheRow.holder_hash == holder_hash)
            )
            removed = int(getattr(result, "rowcount", 0) or 0)
            if audit is not None:
                audit.record_in(
                    session, AuditKind.CACHE_PURGED, operator=operator, holder_id=holder_id,
                    details={"scope": "holder", "removed": removed},
                )
        return removed


def _as_utc(value: Any) -> dt.datetime | None:
    """Aggregates may come back naive (or as text on SQLite): make them aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


# -- fetching --------------------------------------------------------------------------------

class FailureCode(StrEnum):
    """Why a requested licence type could not be (fully) provided (``FetchFailure.code``)."""

    MISSING = "missing"  # the platform has no licence of that type for the holder
    UNAVAILABLE = "unavailable"  # platform unreachable and nothing (valid) cached
    INVALID_IDENTIFIER = "invalid_identifier"  # a licence with a malformed identifier


def _type_name(type_key: str) -> str:
    return LICENCE_TYPES[type_key].name if type_key in LICENCE_TYPES else type_key


def _failure_reason(code: str, type_key: str) -> str:
    name = _type_name(type_key)
    if code == FailureCode.MISSING:
        return f"电子证照平台未查到申请人的{name}"
    if code == FailureCode.UNAVAILABLE:
        return f"电子证照平台暂时无法连接，本机也没有{name}的有效缓存"
    if code == FailureCode.INVALID_IDENTIFIER:
        return f"电子证照平台返回的{name}证照标识不合规，已拒收，请联系发证机关核实"
    return f"{name}暂时无法调取"


@dataclass(frozen=True)
class FetchFailure:
    """One requested licence type that could not be provided, and why."""

    type_key: str
    code: str  # a FailureCode value
    reason: str  # short Chinese sentence the page can show

    @classmethod
    def of(cls, code: str, type_key: str) -> FetchFailure:
        return cls(type_key=type_key, code=code, reason=_failure_reason(code, type_key))


@dataclass(frozen=True)
class FetchResult:
    licences: tuple[Licence, ...]
    offline: bool  # True: served from the local cache because the platform is unreachable
    as_of: dt.datetime | None  # offline: when the oldest served licence was fetched
    missing: tuple[str, ...] = ()  # types the holder has no licence of (known online only)
    unavailable: tuple[str, ...] = ()  # types neither fetched nor cached
    # Every failure, with a Chinese reason: the missing and unavailable types above, plus
    # licences dropped for an invalid identifier (their type may still have other licences).
    failures: tuple[FetchFailure, ...] = ()

    def of_type(self, type_key: str) -> list[Licence]:
        return [lic for lic in self.licences if lic.type_key == type_key]

    def reason_for(self, type_key: str) -> str | None:
        """The Chinese reason(s) ``type_key`` was not (fully) provided, or None."""
        reasons = list(dict.fromkeys(f.reason for f in self.failures if f.type_key == type_key))
        return "；".join(reasons) if reasons else None

    @property
    def reasons(self) -> dict[str, str]:
        """Per failed type, the reason(s) to show."""
        return {t: r for t in dict.fromkeys(f.type_key for f in self.failures)
                if (r := self.reason_for(t)) is not None}


@dataclass
class LicenceService:
    platform: LicencePlatform
    cache: LicenceCache
    audit: AuditLog
    workstation_id: str
    clock: Clock = field(default=utc_now)
    # Registers consents granted while offline once the link returns (ConsentService method).
    register_consent: Callable[[Consent], bool] | None = None

    def fetch(
        self,
        consent: Consent | None,
        types: Iterable[str] | None = None,
        *,
        reason: str,
        operator: str | None,
    ) -> FetchResult:
        """Fetch the applicant's licences of ``types`` (default: all the consent covers)."""
        now = self.clock()
        wanted = self._check(consent, types, now, operator=operator, action="fetch")
        assert consent is not None
        self._check_reason(reason)
        if not wanted:
            return FetchResult(licences=(), offline=False, as_of=None)
        holder_id = consent.applicant.holder_id
        if consent.consent_ref is None and self.register_consent is not None:
            self.register_consent(consent)
        if consent.consent_ref is not None:
            try:
                found = self.platform.search_licences(
                    holder_id=holder_id, types=list(wanted), consent_ref=consent.consent_ref,
                    reason=reason,
                )
            except PlatformUnavailable:
                log.info("licence platform unavailable: serving the offline cache")
            except PlatformError as exc:
                self._platform_refusal(consent, wanted, exc, operator)
                raise
            else:
                return self._online(consent, wanted, found, now, reason, operator)
        return self._offline(consent, wanted, now, reason, operator)

    def thumbnail(
        self, consent: Consent | None, licence: Licence, reason: str, *,
        operator: str | None = None,
    ) -> bytes:
        """The licence's thumbnail (PNG), from the cache or the platform (then cached)."""
        now = self.clock()
        self._check(consent, (licence.type_key,), now, operator=operator, action="thumbnail")
        assert consent is not None
        self._check_reason(reason)
        if normalise_holder_id(licence.holder_id) != normalise_holder_id(
            consent.applicant.holder_id
        ):
            self._refuse(consent, (licence.type_key,), "other_holder", operator,
                         ConsentScopeError("该证照不属于已授权的申请人，不能调取"))
        png = self.cache.thumbnail(licence.licence_id, now)
        source = "cache"
        if png is None:
            if consent.consent_ref is None and self.register_consent is not None:
                self.register_consent(consent)
            if consent.consent_ref is None:
                raise LicencesUnavailable(THUMBNAIL_UNAVAILABLE_MESSAGE)
            try:
                png = self.platform.thumbnail(
                    licence_id=licence.licence_id, consent_ref=consent.consent_ref, reason=reason
                )
            except PlatformUnavailable:
                raise LicencesUnavailable(THUMBNAIL_UNAVAILABLE_MESSAGE) from None
            except PlatformError as exc:
                self._platform_refusal(consent, (licence.type_key,), exc, operator)
                raise
            self.cache.put_thumbnail(licence.licence_id, png)
            source = "platform"
        self.audit.record(
            AuditKind.LICENCE_ACCESS, operator=operator, holder_id=consent.applicant.holder_id,
            scenario=consent.request.scenario,
            details={"action": "thumbnail", "consent_id": consent.id,
                     "licence_ids": [licence.licence_id], "types": [licence.type_key],
                     "reason": reason, "source": source},
        )
        return png

    # -- internals -----------------------------------------------------------------------

    def _online(
        self, consent: Consent, wanted: tuple[str, ...], found: Sequence[Licence],
        now: dt.datetime, reason: str, operator: str | None,
    ) -> FetchResult:
        holder = normalise_holder_id(consent.applicant.holder_id)
        covered: list[Licence] = []
        for lic in found:
            # Keep only what the consent covers, even if the platform returned more.
            if lic.type_key in wanted and normalise_holder_id(lic.holder_id) == holder:
                covered.append(lic)
            else:
                log.warning("platform returned an unrequested licence %s; dropped", lic)
        licences, invalid = self._drop_invalid_identifiers(
            consent, covered, operator, source="platform"
        )
        self.cache.put_many([(lic, consent.id, now) for lic in licences])
        present = {lic.type_key for lic in licences}
        rejected = {lic.type_key for lic in invalid}
        missing = tuple(t for t in wanted if t not in present and t not in rejected)
        failures = tuple(
            [FetchFailure.of(FailureCode.INVALID_IDENTIFIER, t) for t in wanted if t in rejected]
            + [FetchFailure.of(FailureCode.MISSING, t) for t in missing]
        )
        self._audit_access(consent, licences, wanted, reason, operator, offline=False,
                           missing=missing)
        return FetchResult(licences=tuple(licences), offline=False, as_of=None, missing=missing,
                           failures=failures)

    def _offline(
        self, consent: Consent, wanted: tuple[str, ...], now: dt.datetime, reason: str,
        operator: str | None,
    ) -> FetchResult:
        found = self.cache.lookup(consent.applicant.holder_id, wanted, now)
        # Rows cached before identifiers were checked: never serve an invalid one.
        valid, invalid = self._drop_invalid_identifiers(
            consent, [c.licence for c in found], operator, source="cache"
        )
        valid_ids = {lic.licence_id for lic in valid}
        cached = [c for c in found if c.licence.licence_id in valid_ids]
        if not cached:
            raise LicencesUnavailable()
        licences = tuple(c.licence for c in cached)
        present = {lic.type_key for lic in licences}
        rejected = {lic.type_key for lic in invalid}
        unavailable = tuple(t for t in wanted if t not in present)
        failures = tuple(
            [FetchFailure.of(FailureCode.INVALID_IDENTIFIER, t) for t in wanted if t in rejected]
            + [FetchFailure.of(FailureCode.UNAVAILABLE, t) for t in unavailable
               if t not in rejected]
        )
        as_of = min(c.fetched_at for c in cached)
        self._audit_access(consent, list(licences), wanted, reason, operator, offline=True,
                           unavailable=unavailable, as_of=as_of)
        return FetchResult(licences=licences, offline=True, as_of=as_of,
                           unavailable=unavailable, failures=failures)

    def _drop_invalid_identifiers(
        self, consent: Consent, licences: Sequence[Licence], operator: str | None, *,
        source: str,
    ) -> tuple[list[Licence], list[Licence]]:
        """Split into (valid, invalid) by GB/T 36904 identifier; audit every invalid one."""
        valid: list[Licence] = []
        invalid: list[Licence] = []
        for lic in licences:
            (valid if is_valid_licence_id(lic.licence_id) else invalid).append(lic)
        for lic in invalid:
            log.warning("licence with an invalid identifier from the %s; dropped", source)
            details: dict[str, Any] = {
                "action": "fetch", "refusal": FailureCode.INVALID_IDENTIFIER,
                "consent_id": consent.id, "types": [lic.type_key], "source": source,
            }
            # The bad identifier is recorded when it is safe to (it might hold anything).
            bad_id = str(lic.licence_id)[:128]
            if bad_id and personal_data_problem(bad_id) is None:
                details["licence_id"] = bad_id
            else:
                details["licence_id_hash"] = self.audit.cipher.keyed_hash(bad_id, "licence-id")
            self.audit.record(
                AuditKind.LICENCE_REFUSED, operator=operator,
                holder_id=consent.applicant.holder_id or None,
                scenario=consent.request.scenario, details=details,
            )
        return valid, invalid

    def _audit_access(
        self, consent: Consent, licences: Sequence[Licence], wanted: tuple[str, ...],
        reason: str, operator: str | None, *, offline: bool,
        missing: tuple[str, ...] = (), unavailable: tuple[str, ...] = (),
        as_of: dt.datetime | None = None,
    ) -> None:
        details: dict[str, Any] = {
            "action": "fetch",
            "consent_id": consent.id,
            "consent_ref": consent.consent_ref,
            "types": list(wanted),
            "licence_ids": [lic.licence_id for lic in licences],
            "licence_types": [lic.type_key for lic in licences],
            "reason": reason,
            "offline": offline,
        }
        if missing:
            details["missing"] = list(missing)
        if unavailable:
            details["unavailable"] = list(unavailable)
        if as_of is not None:
            details["as_of"] = as_of
        self.audit.record(
            AuditKind.LICENCE_ACCESS, operator=operator, holder_id=consent.applicant.holder_id,
            scenario=consent.request.scenario, details=details,
        )

    def _check(
        self, consent: Consent | None, types: Iterable[str] | None, now: dt.datetime, *,
        operator: str | None, action: str,
    ) -> tuple[str, ...]:
        """The requested types, or raise (and audit) if the consent does not allow them."""
        requested = tuple(dict.fromkeys(types)) if types is not None else None
        for t in requested or ():
            if t not in LICENCE_TYPES:
                raise ValueError(f"未知的证照类型：{t}")
        if consent is None:
            self._refuse(None, requested or (), "no_consent", operator, ConsentRequired(
                "尚未取得申请人授权，不能调取电子证照。请先向申请人展示调取内容并取得同意"
            ), action=action)
        assert consent is not None
        wanted = requested if requested is not None else consent.request.licence_types
        if consent.declined:
            self._refuse(consent, wanted, "declined", operator, ConsentRequired(
                "申请人未同意调取电子证照，不能调取。如需调取，请重新取得申请人授权"
            ), action=action)
        if consent.revoked_at is not None and consent.revoked_at <= now:
            self._refuse(consent, wanted, "revoked", operator, ConsentRequired(
                "申请人已撤回授权，不能调取电子证照"
            ), action=action)
        if now >= consent.expires_at:
            until = consent.expires_at.astimezone(CHINA_TZ).strftime("%H:%M")
            self._refuse(consent, wanted, "expired", operator, ConsentRequired(
                f"申请人的授权已于 {until} 过期，请重新取得申请人授权"
            ), action=action)
        if now < consent.granted_at:
            self._refuse(consent, wanted, "not_yet_valid", operator, ConsentRequired(
                "授权时间晚于当前时间，请核对本机时钟后重新取得授权"
            ), action=action)
        outside = [t for t in wanted if not consent.covers(t, now)]
        if outside:
            names = "、".join(LICENCE_TYPES[t].name for t in outside)
            self._refuse(consent, wanted, "scope", operator, ConsentScopeError(
                f"申请人的授权不包括：{names}，不能调取。如需调取，请重新取得申请人授权"
            ), action=action, outside=outside)
        return wanted

    def _refuse(
        self, consent: Consent | None, types: Sequence[str], code: str, operator: str | None,
        error: Exception, *, action: str = "fetch", outside: Sequence[str] = (),
    ) -> None:
        details: dict[str, Any] = {"action": action, "refusal": code, "types": list(types)}
        if consent is not None:
            details["consent_id"] = consent.id
        if outside:
            details["outside_consent"] = list(outside)
        self.audit.record(
            AuditKind.LICENCE_REFUSED, operator=operator,
            holder_id=consent.applicant.holder_id if consent and consent.applicant.holder_id
            else None,
            scenario=consent.request.scenario if consent else None, details=details,
        )
        raise error

    def _platform_refusal(
        self, consent: Consent, types: Sequence[str], exc: PlatformError, operator: str | None
    ) -> None:
        """Audit a platform refusal; consent refusals are re-raised as ConsentError."""
        code = str(getattr(exc, "code", "") or "")
        message = str(getattr(exc, "message", "") or exc)
        if code == "consent_revoked":
            self._refuse(consent, types, f"platform:{code}", operator, ConsentRequired(
                "申请人已在电子证照平台撤回授权，不能调取电子证照。如需调取，请重新取得申请人授权"
            ))
        if code in ("consent_required", "consent_expired", "consent_scope"):
            error_type = ConsentScopeError if code == "consent_scope" else ConsentRequired
            self._refuse(consent, types, f"platform:{code}", operator,
                         error_type(f"电子证照平台拒绝调取：{message}"))
        self.audit.record(
            AuditKind.LICENCE_REFUSED, operator=operator, holder_id=consent.applicant.holder_id,
            scenario=consent.request.scenario,
            details={"refusal": f"platform:{code or 'error'}", "consent_id": consent.id,
                     "types": list(types), "status": getattr(exc, "status", None)},
        )

    @staticmethod
    def _check_reason(reason: str) -> None:
        if not reason or not reason.strip():
            raise ValueError("调取证照须说明事由（reason）")
        check_no_personal_data(reason, "reason")


class ScopedLicenceService:
    """The licence service as a plugin sees it: limited to the types in its manifest."""

    def __init__(
        self, service: LicenceService, allowed_types: Iterable[str], plugin_id: str,
        audit: AuditLog,
    ) -> None:
        self._service = service
        self._allowed = tuple(dict.fromkeys(allowed_types))
        self._plugin_id = plugin_id
        self._audit = audit

    @property
    def allowed_types(self) -> tuple[str, ...]:
        return self._allowed

    @property
    def plugin_id(self) -> str:
        return self._plugin_id

    def fetch(
        self,
        consent: Consent | None,
        types: Iterable[str] | None = None,
        *,
        reason: str,
        operator: str | None,
    ) -> FetchResult:
        """As ``LicenceService.fetch``; ``types=None`` means the consent's types in scope."""
        if types is None:
            if consent is None:
                wanted: tuple[str, ...] | None = None
            else:
                wanted = tuple(t for t in consent.request.licence_types if t in self._allowed)
                if not wanted:
                    self._refuse(consent, consent.request.licence_types[0], operator)
        else:
            wanted = tuple(dict.fromkeys(types))
            for t in wanted:
                if t not in self._allowed:
                    self._refuse(consent, t, operator)
        return self._service.fetch(consent, wanted, reason=reason, operator=operator)

    def thumbnail(
        self, consent: Consent | None, licence: Licence, reason: str, *,
        operator: str | None = None,
    ) -> bytes:
        if licence.type_key not in self._allowed:
            self._refuse(consent, licence.type_key, operator)
        return self._service.thumbnail(consent, licence, reason, operator=operator)

    def _refuse(self, consent: Consent | None, type_key: str, operator: str | None) -> None:
        holder_id = consent.applicant.holder_id if consent is not None else None
        self._audit.record(
            AuditKind.SCOPE_REFUSED, operator=operator, holder_id=holder_id or None,
            scenario=self._plugin_id,
            details={"plugin": self._plugin_id, "type": type_key,
                     "allowed": list(self._allowed),
                     "consent_id": consent.id if consent is not None else None},
        )
        raise ScopeError(self._plugin_id, type_key)

    def __repr__(self) -> str:
        return f"ScopedLicenceService({self._plugin_id}, {list(self._allowed)})"
