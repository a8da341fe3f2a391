"""The licence cache, fetching under consent, the offline fallback and plugin scoping."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random

import pytest
from sqlalchemy import select, text, update

from tests.helpers.db_fixtures import (
    COMPANY_ID,
    OTHER_ID,
    PERSON_ID,
    FakePlatform,
    ManualClock,
    make_applicant,
    make_licence,
)
from workstation.services.audit import AuditKind, AuditLog
from workstation.services.consent import (
    ConsentRequest,
    ConsentRequired,
    ConsentScopeError,
    ConsentService,
)
from workstation.services.crypto import FieldCipher
from workstation.services.licences import (
    UNAVAILABLE_MESSAGE,
    FailureCode,
    FetchFailure,
    LicenceCache,
    LicenceService,
    LicencesUnavailable,
    ScopedLicenceService,
    ScopeError,
    licence_from_json,
    licence_to_json,
)
from workstation.services.model import LICENCE_TYPES
from workstation.services.store import Store
from workstation.services.tables import LicenceCacheRow

ALL_PERSON_TYPES = ("id_card", "household_register", "marriage_cert", "property_cert")


@pytest.fixture
def cache(store: Store, cipher: FieldCipher, clock: ManualClock) -> LicenceCache:
    return LicenceCache(store, cipher, clock=clock)


@pytest.fixture
def audit(store: Store, cipher: FieldCipher, clock: ManualClock) -> AuditLog:
    return AuditLog(store, cipher, "WS-1", clock=clock)


@pytest.fixture
def licences() -> dict[str, object]:
    return {
        "id_card": make_licence("id_card"),
        "household_register": make_licence("household_register"),
        "property_cert": make_licence("property_cert"),
        "other_id_card": make_licence("id_card", OTHER_ID, "李秀英"),
    }


@pytest.fixture
def platform(licences: dict) -> FakePlatform:
    return FakePlatform(list(licences.values()))


@pytest.fixture
def consents(store: Store, cipher: FieldCipher, audit: AuditLog, platform: FakePlatform,
             clock: ManualClock) -> ConsentService:
    return ConsentService(store, cipher, audit, platform, "WS-1", clock=clock)


@pytest.fixture
def service(platform: FakePlatform, cache: LicenceCache, audit: AuditLog,
            clock: ManualClock) -> LicenceService:
    return LicenceService(platform, cache, audit, "WS-1", clock=clock)


def grant(consents: ConsentService, types: tuple[str, ...] = ALL_PERSON_TYPES,
          holder_id: str = PERSON_ID):
    req = ConsentRequest(make_applicant(holder_id), "城乡居民医保参保登记", "MATTER-001", types,
                         "unified_intake")
    return consents.grant(req, operator="clerk1")


# -- cache -----------------------------------------------------------------------------------

def test_json_round_trip(licences: dict) -> None:
    lic = licences["id_card"]
    assert licence_from_json(json.loads(json.dumps(licence_to_json(lic)))) == lic


def test_put_lookup_upsert(cache: LicenceCache, licences: dict, clock: ManualClock,
                           store: Store, cipher: FieldCipher) -> None:
    cached = cache.put(licences["id_card"], None, clock())
    assert cached.expires_at == clock() + LICENCE_TYPES["id_card"].cache_ttl
    cache.put(licences["household_register"], None, clock())
    cache.put(licences["other_id_card"], None, clock())
    clock.advance(hours=1)
    cache.put(licences["id_card"], None, clock())  # refreshed, not duplicated
    found = cache.lookup(PERSON_ID, None, clock())
    assert sorted(c.licence.type_key for c in found) == ["household_register", "id_card"]
    by_type = {c.licence.type_key: c.licence for c in found}
    assert by_type == {"id_card": licences["id_card"],
                       "household_register": licences["household_register"]}
    refreshed = next(c for c in found if c.licence.type_key == "id_card")
    assert refreshed.fetched_at == clock()
    assert [c.licence.type_key for c in cache.lookup(PERSON_ID, ["id_card"])] == ["id_card"]
    assert cache.lookup(PERSON_ID, []) == []
    assert cache.lookup(PERSON_ID.lower(), ["id_card"])  # normalised holder id
    with store.session() as session:
        rows = session.execute(select(LicenceCacheRow)).scalars().all()
    assert len(rows) == 3
    assert all(PERSON_ID.encode() not in r.licence_data for r in rows)
    assert {r.holder_hash for r in rows} == {cipher.holder_hash(PERSON_ID),
                                             cipher.holder_hash(OTHER_ID)}


def test_ttl_expiry(cache: LicenceCache, licences: dict, clock: ManualClock) -> None:
    start = clock()
    cache.put(licences["id_card"], None, start)  # 7 days
    cache.put(licences["property_cert"], None, start)  # 1 day
    clock.advance(hours=23, minutes=59)
    assert len(cache.lookup(PERSON_ID)) == 2
    clock.advance(minutes=1)  # exactly one day: property_cert is out
    assert [c.licence.type_key for c in cache.lookup(PERSON_ID)] == ["id_card"]
    stats = cache.stats()
    assert (stats.total, stats.live, stats.expired) == (2, 1, 1)
    assert stats.by_type == {"id_card": 1, "property_cert": 1}
    assert stats.oldest == start == stats.newest
    clock.advance(days=6)
    assert cache.lookup(PERSON_ID) == []
    assert cache.purge(expired_only=True) == 2
    assert cache.stats().total == 0


def test_purge(cache: LicenceCache, licences: dict, clock: ManualClock) -> None:
    cache.put(licences["id_card"], None, clock())
    cache.put(licences["property_cert"], None, clock())
    cache.put(licences["other_id_card"], None, clock())
    clock.advance(days=2)
    assert cache.purge(expired_only=True) == 1
    assert cache.purge_holder(OTHER_ID) == 1
    assert cache.purge(expired_only=False) == 1
    empty = cache.stats()
    assert empty.total == 0 and empty.oldest is None and empty.by_type == {}


def test_purge_audited(cache: LicenceCache, licences: dict, clock: ManualClock,
                       audit: AuditLog, cipher: FieldCipher) -> None:
    cache.put(licences["id_card"], None, clock())
    cache.put(licences["property_cert"], None, clock())
    cache.put(licences["other_id_card"], None, clock())
    clock.advance(days=2)
    assert cache.purge(audit=audit, operator="admin") == 1
    assert cache.purge_holder(OTHER_ID, audit=audit, operator="admin") == 1
    assert cache.purge(expired_only=False, audit=audit, operator="cli") == 1
    assert cache.purge(audit=audit, operator="cli") == 0
    events = audit.events(kind=AuditKind.CACHE_PURGED)
    assert [(e.operator, e.details) for e in events] == [
        ("admin", {"scope": "expired", "removed": 1}),
        ("admin", {"scope": "holder", "removed": 1}),
        ("cli", {"scope": "all", "removed": 1}),
        ("cli", {"scope": "expired", "removed": 0}),
    ]
    assert events[1].holder_hash == cipher.holder_hash(OTHER_ID)
    assert events[0].holder_hash is None
    assert audit.verify().ok
    assert cache.purge() == 0  # without an audit log: nothing recorded
    assert len(audit.events(kind=AuditKind.CACHE_PURGED)) == 4


def test_thumbnail_cache(cache: LicenceCache, licences: dict, clock: ManualClock,
                         store: Store) -> None:
    lic = licences["id_card"]
    assert cache.put_thumbnail(lic.licence_id, b"png") is False  # not cached yet
    cache.put(lic, None, clock())
    assert cache.put_thumbnail(lic.licence_id, b"\x89PNG-bytes") is True
    assert cache.thumbnail(lic.licence_id) == b"\x89PNG-bytes"
    assert cache.lookup(PERSON_ID)[0].has_thumbnail
    with store.session() as session:
        sealed = session.execute(select(LicenceCacheRow.thumbnail)).scalar_one()
    assert b"PNG-bytes" not in sealed
    clock.advance(days=8)
    assert cache.thumbnail(lic.licence_id) is None


def test_swapped_row_does_not_decrypt(cache: LicenceCache, licences: dict, clock: ManualClock,
                                      store: Store, cipher: FieldCipher) -> None:
    cache.put(licences["other_id_card"], None, clock())
    with store.session() as session:  # pretend the other person's licence is ours
        session.execute(update(LicenceCacheRow).values(holder_hash=cipher.holder_hash(PERSON_ID)))
    assert cache.lookup(PERSON_ID) == []


def test_lookup_among_many_rows(cache: LicenceCache, clock: ManualClock, store: Store) -> None:
    """Correctness with many holders (the 100,000-row timing is in benchmarks/)."""
    rng = random.Random(7)
    holders = [f"4212811980{m:02d}{d:02d}{s:03d}" for m in range(1, 13)
               for d in range(1, 29) for s in range(1, 3)][:600]
    from workstation.services.identity import id_check_char

    holders = [h[:17] + id_check_char(h[:17]) for h in holders]
    expected: dict[str, set[str]] = {}
    items = []
    for i, holder in enumerate(holders):
        for type_key in rng.sample(ALL_PERSON_TYPES, 3):
            lic = make_licence(type_key, holder, "测试人员", serial=100000 + i * 10
                               + ALL_PERSON_TYPES.index(type_key))
            fetched = clock() - dt.timedelta(hours=rng.choice([1, 30]))
            items.append((lic, None, fetched))
            if fetched + LICENCE_TYPES[type_key].cache_ttl > clock():
                expected.setdefault(holder, set()).add(lic.licence_id)
    assert cache.put_many(items) == len(items)
    assert cache.stats().total == len(items)
    for holder in rng.sample(holders, 25):
        found = {c.licence.licence_id for c in cache.lookup(holder, ALL_PERSON_TYPES)}
        assert found == expected.get(holder, set())
    if store.is_sqlite:
        with store.engine.connect() as conn:
            plan = " ".join(str(r) for r in conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT * FROM licence_cache WHERE holder_hash = 'x' "
                "AND type_key IN ('id_card', 'marriage_cert') AND expires_at > '2025'"
            )))
        assert "ix_licence_cache_lookup" in plan


# -- fetching --------------------------------------------------------------------------------

def test_fetch_online(service: LicenceService, consents: ConsentService, platform: FakePlatform,
                      audit: AuditLog, cache: LicenceCache, licences: dict, clock: ManualClock,
                      cipher: FieldCipher, store: Store) -> None:
    consent = grant(consents)
    result = service.fetch(consent, reason="参保登记核验", operator="clerk1")
    assert not result.offline and result.as_of is None
    assert {lic.type_key for lic in result.licences} == {
        "id_card", "household_register", "property_cert"}
    assert result.missing == ("marriage_cert",) and result.unavailable == ()
    assert result.failures == (FetchFailure.of(FailureCode.MISSING, "marriage_cert"),)
    assert result.reasons == {"marriage_cert": "电子证照平台未查到申请人的结婚证"}
    assert result.of_type("id_card") == [licences["id_card"]]
    call = platform.calls_to("search_licences")[0]
    assert call["consent_ref"] == consent.consent_ref and call["reason"] == "参保登记核验"
    assert call["types"] == list(ALL_PERSON_TYPES)
    assert len(cache.lookup(PERSON_ID)) == 3
    [event] = audit.events(kind=AuditKind.LICENCE_ACCESS)
    assert event.holder_hash == cipher.holder_hash(PERSON_ID)
    assert sorted(event.details["licence_ids"]) == sorted(
        lic.licence_id for lic in result.licences)
    assert event.details["offline"] is False
    with store.session() as session:
        raw = " ".join(str(v) for v in session.execute(text("SELECT * FROM audit_events")).all())
    assert PERSON_ID not in raw and "张卫国" not in raw


def test_fetch_subset_and_unrequested_extras_dropped(service: LicenceService,
                                                  consents: ConsentService,
                                                  platform: FakePlatform,
                                                  licences: dict) -> None:
    consent = grant(consents)
    platform.search_licences = lambda **kw: list(licences.values())  # type: ignore[method-assign]
    result = service.fetch(consent, ["id_card"], reason="核验身份", operator="clerk1")
    assert result.licences == (licences["id_card"],)


def test_nothing_without_consent(service: LicenceService, platform: FakePlatform,
                                 audit: AuditLog) -> None:
    with pytest.raises(ConsentRequired, match="授权"):
        service.fetch(None, ["id_card"], reason="核验身份", operator="clerk1")
    assert platform.calls == []
    [event] = audit.events()
    assert event.kind == AuditKind.LICENCE_REFUSED
    assert event.details["refusal"] == "no_consent"


def test_nothing_after_decline(service: LicenceService, consents: ConsentService,
                               platform: FakePlatform, audit: AuditLog,
                               cache: LicenceCache, licences: dict, clock: ManualClock) -> None:
    cache.put(licences["id_card"], None, clock())  # even a cached copy is not served
    req = ConsentRequest(make_applicant(), "参保登记", "MATTER-001", ("id_card",),
                         "unified_intake")
    declined = consents.decline(req, operator="clerk1")
    with pytest.raises(ConsentRequired, match="未同意"):
        service.fetch(declined, reason="核验身份", operator="clerk1")
    platform.down = True
    with pytest.raises(ConsentRequired):
        service.fetch(declined, reason="核验身份", operator="clerk1")
    assert platform.calls == []
    refusals = audit.events(kind=AuditKind.LICENCE_REFUSED)
    assert [e.details["refusal"] for e in refusals] == ["declined", "declined"]


def test_expired_and_revoked_consent(service: LicenceService, consents: ConsentService,
                                     platform: FakePlatform, clock: ManualClock) -> None:
    consent = grant(consents)
    clock.advance(minutes=30)
    with pytest.raises(ConsentRequired, match="10:00 过期"):
        service.fetch(consent, reason="核验身份", operator="clerk1")
    fresh = grant(consents)
    consents.revoke(fresh, operator="clerk1")
    with pytest.raises(ConsentRequired, match="撤回"):
        service.fetch(fresh, reason="核验身份", operator="clerk1")
    assert platform.calls_to("search_licences") == []


def test_type_outside_consent(service: LicenceService, consents: ConsentService,
                              platform: FakePlatform, audit: AuditLog) -> None:
    consent = grant(consents, ("id_card",))
    with pytest.raises(ConsentScopeError, match="结婚证"):
        service.fetch(consent, ["id_card", "marriage_cert"], reason="核验", operator="clerk1")
    assert platform.calls_to("search_licences") == []
    [event] = audit.events(kind=AuditKind.LICENCE_REFUSED)
    assert event.details["outside_consent"] == ["marriage_cert"]


def test_reason_required_and_checked(service: LicenceService, consents: ConsentService) -> None:
    consent = grant(consents)
    with pytest.raises(ValueError):
        service.fetch(consent, reason=" ", operator="clerk1")
    with pytest.raises(ValueError, match="个人信息"):
        service.fetch(consent, reason=f"核验{PERSON_ID}", operator="clerk1")


def test_remote_consent_refusal(service: LicenceService, consents: ConsentService,
                                  platform: FakePlatform, audit: AuditLog) -> None:
    consent = grant(consents)
    platform.refuse = (403, "consent_expired", "授权已过期")
    with pytest.raises(ConsentRequired, match="授权已过期"):
        service.fetch(consent, reason="核验", operator="clerk1")
    [event] = audit.events(kind=AuditKind.LICENCE_REFUSED)
    assert event.details["refusal"] == "platform:consent_expired"


def test_remote_consent_revoked(service: LicenceService, consents: ConsentService,
                                platform: FakePlatform, audit: AuditLog,
                                cache: LicenceCache) -> None:
    """The applicant withdrew the consent on the platform (e.g. in the 鄂汇办 app)."""
    consent = grant(consents)
    platform.refuse = (403, "consent_revoked", "consent has been revoked")
    with pytest.raises(ConsentRequired) as info:
        service.fetch(consent, reason="核验", operator="clerk1")
    assert "撤回授权" in info.value.message
    assert "revoked" not in info.value.message  # Chinese, not the platform's English text
    [event] = audit.events(kind=AuditKind.LICENCE_REFUSED)
    assert event.details["refusal"] == "platform:consent_revoked"
    assert cache.lookup(PERSON_ID) == []


def _with_bad_id(licence, bad_id: str):
    return dataclasses.replace(licence, licence_id=bad_id)


def test_invalid_identifiers_dropped_and_audited(
    service: LicenceService, consents: ConsentService, platform: FakePlatform,
    audit: AuditLog, cache: LicenceCache, licences: dict, store: Store,
) -> None:
    good = licences["id_card"]
    bad_check = good.licence_id[:-1] + ("0" if good.licence_id[-1] != "0" else "1")
    platform.licences = [
        _with_bad_id(good, bad_check),  # wrong check character
        licences["household_register"],
        _with_bad_id(licences["property_cert"], "PC-2025-0001"),  # not GB/T 36904 at all
    ]
    result = service.fetch(grant(consents), reason="核验", operator="clerk1")
    assert result.licences == (licences["household_register"],)
    assert result.missing == ("marriage_cert",)
    assert result.unavailable == ()
    assert {f.code for f in result.failures if f.type_key in ("id_card", "property_cert")} == {
        FailureCode.INVALID_IDENTIFIER}
    assert result.reason_for("id_card") == (
        "电子证照平台返回的居民身份证证照标识不合规，已拒收，请联系发证机关核实")
    assert result.reason_for("marriage_cert") == "电子证照平台未查到申请人的结婚证"
    assert result.reason_for("household_register") is None
    assert set(result.reasons) == {"id_card", "property_cert", "marriage_cert"}
    # Not cached.
    assert [c.licence.licence_id for c in cache.lookup(PERSON_ID)] == [
        licences["household_register"].licence_id]
    refused = audit.events(kind=AuditKind.LICENCE_REFUSED)
    assert [(e.details["refusal"], e.details["types"]) for e in refused] == [
        ("invalid_identifier", ["id_card"]), ("invalid_identifier", ["property_cert"])]
    assert refused[0].details["licence_id"] == bad_check
    [access] = audit.events(kind=AuditKind.LICENCE_ACCESS)
    assert access.details["licence_ids"] == [licences["household_register"].licence_id]
    assert audit.verify().ok


def test_invalid_identifier_holding_personal_data_audited_as_hash(
    service: LicenceService, consents: ConsentService, platform: FakePlatform,
    audit: AuditLog, licences: dict, store: Store,
) -> None:
    platform.licences = [_with_bad_id(licences["id_card"], f"ID-{PERSON_ID}")]
    result = service.fetch(grant(consents, ("id_card",)), reason="核验", operator="clerk1")
    assert result.licences == () and result.missing == ()
    [event] = audit.events(kind=AuditKind.LICENCE_REFUSED)
    assert "licence_id" not in event.details and len(event.details["licence_id_hash"]) == 64
    with store.session() as session:
        raw = " ".join(str(v) for v in session.execute(text("SELECT * FROM audit_events")).all())
    assert PERSON_ID not in raw


def test_invalid_identifier_in_old_cache_not_served(
    service: LicenceService, consents: ConsentService, platform: FakePlatform,
    audit: AuditLog, cache: LicenceCache, licences: dict, clock: ManualClock,
) -> None:
    """A row cached before identifiers were checked is not served offline either."""
    cache.put(_with_bad_id(licences["id_card"], "BAD-0001"), None, clock())
    cache.put(licences["household_register"], None, clock())
    platform.down = True
    result = service.fetch(grant(consents, ("id_card", "household_register", "marriage_cert")),
                           reason="离线核验", operator="clerk1")
    assert result.offline
    assert result.licences == (licences["household_register"],)
    assert result.unavailable == ("id_card", "marriage_cert")
    assert result.failures == (
        FetchFailure.of(FailureCode.INVALID_IDENTIFIER, "id_card"),
        FetchFailure.of(FailureCode.UNAVAILABLE, "marriage_cert"),
    )
    assert result.reason_for("marriage_cert") == (
        "电子证照平台暂时无法连接，本机也没有结婚证的有效缓存")
    [event] = audit.events(kind=AuditKind.LICENCE_REFUSED)
    assert event.details["refusal"] == "invalid_identifier"
    assert event.details["source"] == "cache"


def test_offline_serves_cached_inside_ttl(service: LicenceService, consents: ConsentService,
                                          platform: FakePlatform, audit: AuditLog,
                                          clock: ManualClock, licences: dict) -> None:
    first_fetch = clock()
    service.fetch(grant(consents), reason="首次核验", operator="clerk1")
    clock.advance(hours=2)
    service.fetch(grant(consents, ("id_card",)), reason="再次核验", operator="clerk1")
    clock.advance(hours=23)  # property_cert (1 day) has expired, the others have not
    platform.down = True
    consent = grant(consents)  # recorded locally while offline
    assert consent.consent_ref is None
    result = service.fetch(consent, reason="离线核验", operator="clerk1")
    assert result.offline
    assert {lic.type_key for lic in result.licences} == {"id_card", "household_register"}
    assert result.as_of == first_fetch  # household_register is the oldest served copy
    assert result.unavailable == ("marriage_cert", "property_cert")
    assert result.missing == ()
    assert [(f.type_key, f.code) for f in result.failures] == [
        ("marriage_cert", "unavailable"), ("property_cert", "unavailable")]
    assert all("无法连接" in f.reason for f in result.failures)
    event = audit.events(kind=AuditKind.LICENCE_ACCESS, newest_first=True, limit=1)[0]
    assert event.details["offline"] is True
    assert event.details["unavailable"] == ["marriage_cert", "property_cert"]


def test_offline_with_registered_consent(service: LicenceService, consents: ConsentService,
                                         platform: FakePlatform, clock: ManualClock) -> None:
    consent = grant(consents, ("id_card",))
    service.fetch(consent, reason="核验", operator="clerk1")
    clock.advance(minutes=5)
    platform.down = True
    result = service.fetch(consent, reason="核验", operator="clerk1")
    assert result.offline and result.as_of == clock() - dt.timedelta(minutes=5)


def test_offline_without_cache(service: LicenceService, consents: ConsentService,
                               platform: FakePlatform) -> None:
    platform.down = True
    consent = grant(consents, ("id_card",), holder_id=OTHER_ID)
    with pytest.raises(LicencesUnavailable) as info:
        service.fetch(consent, reason="核验", operator="clerk1")
    assert info.value.message == UNAVAILABLE_MESSAGE
    assert "纸质材料" in str(info.value)


def test_offline_consent_registered_when_link_returns(
    platform: FakePlatform, cache: LicenceCache, audit: AuditLog, clock: ManualClock,
    consents: ConsentService,
) -> None:
    service = LicenceService(platform, cache, audit, "WS-1", clock=clock,
                             register_consent=consents.ensure_registered)
    platform.down = True
    consent = grant(consents, ("id_card",))
    platform.down = False
    result = service.fetch(consent, reason="核验", operator="clerk1")
    assert not result.offline and consent.consent_ref is not None
    assert platform.calls_to("search_licences")[0]["consent_ref"] == consent.consent_ref


def test_thumbnail_cached(service: LicenceService, consents: ConsentService,
                          platform: FakePlatform, licences: dict, audit: AuditLog) -> None:
    consent = grant(consents)
    lic = service.fetch(consent, ["id_card"], reason="核验", operator="clerk1").licences[0]
    png = service.thumbnail(consent, lic, "打印复印件", operator="clerk1")
    assert png.startswith(b"\x89PNG")
    platform.down = True
    assert service.thumbnail(consent, lic, "打印复印件", operator="clerk1") == png
    assert len(platform.calls_to("thumbnail")) == 1
    sources = [e.details["source"] for e in audit.events(kind=AuditKind.LICENCE_ACCESS)
               if e.details["action"] == "thumbnail"]
    assert sources == ["platform", "cache"]
    with pytest.raises(LicencesUnavailable):
        service.thumbnail(consent, licences["household_register"], "打印", operator="clerk1")
    with pytest.raises(ConsentScopeError):
        service.thumbnail(consent, licences["other_id_card"], "打印", operator="clerk1")
    with pytest.raises(ConsentRequired):
        service.thumbnail(None, lic, "打印", operator="clerk1")


# -- plugin scoping --------------------------------------------------------------------------

def test_scope_refusal_audited(service: LicenceService, consents: ConsentService,
                               platform: FakePlatform, audit: AuditLog, licences: dict) -> None:
    scoped = ScopedLicenceService(service, ("id_card",), "social_insurance", audit)
    consent = grant(consents)
    with pytest.raises(ScopeError) as info:
        scoped.fetch(consent, ["id_card", "marriage_cert"], reason="核验", operator="clerk1")
    assert "social_insurance" in info.value.message and "结婚证" in info.value.message
    assert platform.calls_to("search_licences") == []
    [event] = audit.events(kind=AuditKind.SCOPE_REFUSED)
    assert event.scenario == "social_insurance"
    assert event.details["type"] == "marriage_cert"
    assert event.details["plugin"] == "social_insurance"
    with pytest.raises(ScopeError):
        scoped.thumbnail(consent, licences["household_register"], "打印", operator="clerk1")
    assert len(audit.events(kind=AuditKind.SCOPE_REFUSED)) == 2


def test_scope_narrows_default_types(service: LicenceService, consents: ConsentService,
                                     platform: FakePlatform, audit: AuditLog) -> None:
    scoped = ScopedLicenceService(service, ("id_card", "business_licence"), "p1", audit)
    assert scoped.allowed_types == ("id_card", "business_licence")
    result = scoped.fetch(grant(consents), reason="核验", operator="clerk1")
    assert [lic.type_key for lic in result.licences] == ["id_card"]
    assert platform.calls_to("search_licences")[0]["types"] == ["id_card"]
    with pytest.raises(ConsentRequired):  # scope does not replace consent
        scoped.fetch(None, ["id_card"], reason="核验", operator="clerk1")


def test_enterprise_licence(service: LicenceService, consents: ConsentService,
                            platform: FakePlatform) -> None:
    biz = make_licence("business_licence", COMPANY_ID, "赤壁市某某商贸有限公司",
                       fields={"名称": "赤壁市某某商贸有限公司"})
    platform.licences.append(biz)
    consent = grant(consents, ("business_licence",), holder_id=COMPANY_ID)
    assert service.fetch(consent, reason="核验", operator="clerk1").licences == (biz,)
