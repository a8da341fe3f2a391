"""Consent: preview, grant (online and offline), decline, revoke, coverage."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.helpers.db_fixtures import (
    PERSON_ID,
    PERSON_NAME,
    FakePlatform,
    ManualClock,
    make_applicant,
)
from workstation.services.audit import AuditKind, AuditLog
from workstation.services.consent import (
    Consent,
    ConsentError,
    ConsentRecordUnreadable,
    ConsentRequest,
    ConsentService,
)
from workstation.services.crypto import FieldCipher
from workstation.services.store import Store
from workstation.services.tables import ConsentRow


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def audit(store: Store, cipher: FieldCipher, clock: ManualClock) -> AuditLog:
    return AuditLog(store, cipher, "WS-1", clock=clock)


@pytest.fixture
def service(store: Store, cipher: FieldCipher, audit: AuditLog, platform: FakePlatform,
            clock: ManualClock) -> ConsentService:
    return ConsentService(store, cipher, audit, platform, "WS-1", clock=clock)


def request(types: tuple[str, ...] = ("id_card", "household_register"),
            validity: dt.timedelta = dt.timedelta(minutes=30)) -> ConsentRequest:
    return ConsentRequest(
        applicant=make_applicant(), purpose="城乡居民基本医疗保险参保登记",
        matter_code="MATTER-001", licence_types=types, scenario="unified_intake",
        validity=validity, matter_name="城乡居民医保参保登记",
        requester="赤壁市政务服务中心3号窗口",
    )


def test_preview_lines(clock: ManualClock) -> None:
    lines = request().preview_lines(clock())  # 01:30 UTC = 09:30 in China
    assert lines == [
        "申请人：张**（421281********1233）",
        "办理事项：城乡居民医保参保登记",
        "将调取的证照：居民身份证、居民户口簿",
        "用途：城乡居民基本医疗保险参保登记",
        "有效期至：10:00",
        "调取方：赤壁市政务服务中心3号窗口",
    ]
    assert PERSON_ID not in "".join(lines) and PERSON_NAME not in "".join(lines)


def test_preview_spanning_midnight(clock: ManualClock) -> None:
    clock.now = dt.datetime(2025, 3, 3, 15, 50, tzinfo=dt.UTC)  # 23:50 in China
    assert "有效期至：03月04日 00:20" in request().preview_lines(clock())


@pytest.mark.parametrize("kwargs,message", [
    ({"licence_types": ()}, "至少"),
    ({"licence_types": ("passport",)}, "未知"),
    ({"licence_types": ("id_card", "id_card")}, "重复"),
    ({"purpose": " "}, "用途"),
    ({"validity": dt.timedelta(days=2)}, "有效期"),
    ({"purpose": f"为{PERSON_ID}办理"}, "个人信息"),
])
def test_request_validation(kwargs: dict, message: str) -> None:
    base = dict(applicant=make_applicant(), purpose="参保登记", matter_code="M-1",
                licence_types=("id_card",), scenario="unified_intake")
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ConsentRequest(**base)


def test_grant_online(service: ConsentService, platform: FakePlatform, audit: AuditLog,
                      store: Store, cipher: FieldCipher, clock: ManualClock) -> None:
    consent = service.grant(request(), operator="clerk1")
    assert consent.consent_ref is not None and consent.registered
    assert consent.granted_at == clock()
    assert consent.expires_at == clock() + dt.timedelta(minutes=30)
    call = platform.calls_to("register_consent")[0]
    assert call["holder_id"] == PERSON_ID and call["kind"] == "person"
    assert call["licence_types"] == ["id_card", "household_register"]
    assert call["workstation_id"] == "WS-1" and call["channel"] == "counter"
    assert call["expires_at"] == consent.expires_at

    with store.session() as session:
        row = session.execute(select(ConsentRow)).scalar_one()
    assert row.holder_hash == cipher.holder_hash(PERSON_ID)
    assert PERSON_NAME.encode() not in row.applicant_name
    assert row.decision == "granted" and row.consent_ref == consent.consent_ref

    [event] = audit.events(kind=AuditKind.CONSENT_GRANTED)
    assert event.holder_hash == cipher.holder_hash(PERSON_ID)
    assert event.details["consent_id"] == consent.id
    assert event.details["licence_types"] == ["id_card", "household_register"]
    assert event.details["registered"] is True
    assert audit.verify().ok


def test_grant_uses_shorter_remote_expiry(service: ConsentService, platform: FakePlatform,
                                            clock: ManualClock) -> None:
    short = clock() + dt.timedelta(minutes=10)
    platform.register_consent = lambda **kw: {"consent_ref": "c-1", "expires_at":  # type: ignore
                                              short.isoformat()}
    consent = service.grant(request(), operator="clerk1")
    assert consent.consent_ref == "c-1" and consent.expires_at == short


def test_grant_offline_then_register(service: ConsentService, platform: FakePlatform,
                                     audit: AuditLog, clock: ManualClock) -> None:
    platform.down = True
    consent = service.grant(request(), operator="clerk1")
    assert consent.consent_ref is None and not consent.registered
    assert consent.covers("id_card", clock())
    [event] = audit.events(kind=AuditKind.CONSENT_GRANTED)
    assert event.details["registered"] is False
    assert service.get(consent.id).consent_ref is None

    assert service.ensure_registered(consent) is False  # still down
    platform.down = False
    clock.advance(minutes=5)
    assert service.ensure_registered(consent) is True
    assert consent.consent_ref is not None
    assert service.get(consent.id).consent_ref == consent.consent_ref


def test_expired_offline_consent_is_not_registered(service: ConsentService,
                                                   platform: FakePlatform,
                                                   clock: ManualClock) -> None:
    platform.down = True
    consent = service.grant(request(), operator="clerk1")
    platform.down = False
    clock.advance(minutes=31)
    assert service.ensure_registered(consent) is False
    assert platform.calls_to("register_consent")[-1]["expires_at"] == consent.expires_at
    assert len(platform.calls_to("register_consent")) == 1


def test_remote_refusal_records_nothing(service: ConsentService, platform: FakePlatform,
                                          audit: AuditLog, store: Store) -> None:
    platform.refuse = (404, "holder_unknown", "证照库中没有该持证人")
    with pytest.raises(ConsentError, match="没有该持证人"):
        service.grant(request(), operator="clerk1")
    with store.session() as session:
        assert session.execute(select(ConsentRow)).first() is None
    assert audit.count() == 0


def test_decline(service: ConsentService, platform: FakePlatform, audit: AuditLog,
                 clock: ManualClock) -> None:
    consent = service.decline(request(), operator="clerk1")
    assert consent.declined and consent.consent_ref is None
    assert not consent.covers("id_card", clock())
    assert platform.calls == []
    [event] = audit.events()
    assert event.kind == AuditKind.CONSENT_DECLINED
    assert event.details["consent_id"] == consent.id
    stored = service.get(consent.id)
    assert stored is not None and stored.declined


def test_revoke(service: ConsentService, platform: FakePlatform, audit: AuditLog,
                clock: ManualClock) -> None:
    consent = service.grant(request(), operator="clerk1")
    clock.advance(minutes=2)
    revoked = service.revoke(consent, operator="clerk1")
    assert revoked is consent and consent.revoked_at == clock()
    assert not consent.covers("id_card", clock())
    assert platform.calls_to("revoke_consent") == [{"consent_ref": consent.consent_ref}]
    [event] = audit.events(kind=AuditKind.CONSENT_REVOKED)
    assert event.details["platform_revoked"] is True
    assert service.get(consent.id).revoked_at == clock()
    service.revoke(consent, operator="clerk1")  # idempotent
    assert len(audit.events(kind=AuditKind.CONSENT_REVOKED)) == 1


def test_revoke_while_offline(service: ConsentService, platform: FakePlatform,
                              audit: AuditLog, clock: ManualClock) -> None:
    consent = service.grant(request(), operator="clerk1")
    platform.down = True
    service.revoke(consent, operator="clerk1")
    assert consent.revoked
    assert audit.events(kind=AuditKind.CONSENT_REVOKED)[0].details["platform_revoked"] is False


def test_covers(clock: ManualClock) -> None:
    now = clock()
    consent = Consent(id="x", consent_ref="c", request=request(("id_card",)), granted_at=now,
                      expires_at=now + dt.timedelta(minutes=30))
    assert consent.covers("id_card", now)
    assert not consent.covers("household_register", now)
    assert consent.covers("id_card", now + dt.timedelta(minutes=29, seconds=59))
    assert not consent.covers("id_card", now + dt.timedelta(minutes=30))
    assert not consent.covers("id_card", now - dt.timedelta(seconds=1))


def test_history_and_get(service: ConsentService, clock: ManualClock) -> None:
    first = service.grant(request(), operator="clerk1")
    clock.advance(minutes=40)
    second = service.decline(request(("id_card",)), operator="clerk2")
    history = service.history(PERSON_ID)
    assert [c.id for c in history] == [second.id, first.id]
    assert history[1].applicant.name == PERSON_NAME
    assert history[1].applicant.holder_id == PERSON_ID
    loaded = service.get(first.id)
    assert loaded is not None
    assert loaded.licence_types == ("id_card", "household_register")
    assert loaded.expires_at == first.expires_at and loaded.operator == "clerk1"
    assert service.get("missing") is None
    assert service.history("110105194912310029") == []


@pytest.mark.parametrize("damage", ["other_key", "flipped_byte", "truncated"])
def test_unreadable_row_raises_a_consent_error(service: ConsentService, store: Store,
                                               cipher: FieldCipher, damage: str) -> None:
    """A corrupted row (or one written with other keys) gives the module's own error."""
    consent = service.grant(request(), operator="clerk1")
    with store.session() as session:
        row = session.get(ConsentRow, consent.id)
        assert row is not None
        if damage == "other_key":
            row.applicant_name = FieldCipher.generate().encrypt_text(
                PERSON_NAME, f"consent.applicant_name:{consent.id}")
        elif damage == "flipped_byte":
            blob = bytearray(row.applicant_name)
            blob[-1] ^= 0x01
            row.applicant_name = bytes(blob)
        else:
            row.applicant_name = row.applicant_name[:5]
    with pytest.raises(ConsentRecordUnreadable) as info:
        service.get(consent.id)
    assert isinstance(info.value, ConsentError)
    assert info.value.consent_id == consent.id
    assert "无法读取" in info.value.message
    with pytest.raises(ConsentRecordUnreadable):
        service.history(PERSON_ID)
