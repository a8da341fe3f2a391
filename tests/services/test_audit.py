"""The hash-chained audit log: appends, personal-data guard, verification, concurrency."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import uuid

import pytest
from sqlalchemy import text

from tests.helpers.db_fixtures import COMPANY_ID, PERSON_ID, ManualClock, make_licence
from workstation.services.audit import (
    AuditKind,
    AuditLog,
    audit_chain_key,
    canonical_json,
    check_no_personal_data,
    compute_row_hash,
    personal_data_problem,
)
from workstation.services.crypto import FieldCipher
from workstation.services.store import Store
from workstation.services.tables import GENESIS_HASH


@pytest.fixture
def audit(store: Store, cipher: FieldCipher, clock: ManualClock) -> AuditLog:
    return AuditLog(store, cipher, "WS-1", clock=clock)


def _fill(audit: AuditLog, clock: ManualClock, n: int) -> None:
    for i in range(n):
        clock.advance(seconds=1)
        audit.record(AuditKind.PRINT, operator="clerk1", holder_id=PERSON_ID,
                     scenario="unified_intake", details={"copy": i, "pages": [1, 2]})


def test_record_chains_rows(audit: AuditLog, clock: ManualClock, cipher: FieldCipher) -> None:
    first = audit.record(AuditKind.SESSION_STARTED, operator="clerk1", details={})
    clock.advance(seconds=5)
    second = audit.record(AuditKind.IDENTIFICATION, operator="clerk1", holder_id=PERSON_ID,
                          scenario="unified_intake", details={"method": "card"})
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.row_hash
    assert second.time == clock() and second.time.tzinfo == dt.UTC
    assert second.holder_hash == cipher.holder_hash(PERSON_ID)
    assert first.holder_hash is None
    assert second.row_hash == compute_row_hash(
        key=audit_chain_key(cipher), seq=2, time=second.time, kind="identification",
        workstation_id="WS-1", operator="clerk1", scenario="unified_intake",
        holder_hash=second.holder_hash, details={"method": "card"}, prev_hash=first.row_hash,
    )
    stored = audit.events()
    assert [e.seq for e in stored] == [1, 2]
    assert stored[1] == second
    assert audit.events(holder_id=PERSON_ID) == [second]
    assert audit.events(kind=AuditKind.SESSION_STARTED) == [first]
    assert audit.events(newest_first=True, limit=1) == [second]


def test_verify_ok(audit: AuditLog, clock: ManualClock) -> None:
    empty = audit.verify()
    assert empty.ok and empty.checked == 0 and empty.first_broken_seq is None
    _fill(audit, clock, 12)
    result = audit.verify(batch_size=5)  # several batches
    assert result.ok, result.reason
    assert result.checked == 12 and result.last_seq == 12
    assert audit.count() == 12


def test_custom_kinds_allowed_and_invalid_refused(audit: AuditLog) -> None:
    event = audit.record("locker.opened", operator="kiosk", details={"locker": 3})
    assert event.kind == "locker.opened"
    with pytest.raises(ValueError):
        audit.record("Bad Kind!", operator="x")
    assert audit.verify().ok


@pytest.mark.parametrize("details", [
    {"id": PERSON_ID},
    {"note": f"申请人身份证{PERSON_ID}已核验"},
    {"note": "421281198001011234"},  # wrong check digit: still looks like an ID number
    {"list": ["ok", {"deep": "11010519491231002x"}]},
    {"company": COMPANY_ID},
    {"tel": "13812345678"},
    {"tel": "+86 138 1234 5678"},
    {"tel": 13812345678},
    {"holder_id": "redacted"},
    {"applicant_name": "x"},
    {PERSON_ID: "as a key"},
    # keys named like personal fields, whatever the value
    {"name": "x"},
    {"holder_name": "x"},
    {"holderName": "x"},
    {"Holder-Name": "x"},
    {"姓名": "x"},
    {"applicant": "x"},
    {"phone": "x"},
    {"mobile": "x"},
    {"address": "x"},
    {"住址": "x"},
    {"nested": [{"联系电话": "x"}]},
    # first-generation (15-digit) ID numbers
    {"old_id": "110105491231002"},
    {"note": "老身份证号421281800101123"},
    {"old_id": 421281800101123},
    # landlines
    {"tel": "0715-5212345"},
    {"tel": "07155212345"},
    {"note": "联系电话：0715 5212345"},
    {"tel": "(027)87654321"},
    {"tel": "010-62345678"},
])
def test_personal_data_refused(audit: AuditLog, details: dict) -> None:
    with pytest.raises(ValueError, match="个人信息"):
        audit.record(AuditKind.PRINT, operator="clerk1", details=details)
    assert audit.count() == 0


def test_licence_identifiers_and_ordinary_values_allowed() -> None:
    licence = make_licence("business_licence", COMPANY_ID, "赤壁市某某商贸有限公司")
    check_no_personal_data({
        "licence_ids": [licence.licence_id],
        "type_code": "111000000000131433",
        "count": 12345678901234,
        "time": "2025-03-03T01:30:00.000000Z",
        "hash": "ab" * 32,
        "consent_id": "0b5f5c0e-2b52-4b87-9d1c-2f0c6a0c1f11",
        "epoch_ms": 1741000000000,
    })


def test_random_identifiers_never_flagged() -> None:
    """Consent ids (UUIDs), jti and digests go into details: no false alarms on them."""
    rng = random.Random(20250303)
    for _ in range(20000):
        value = uuid.UUID(int=rng.getrandbits(128), version=4)
        assert personal_data_problem(str(value)) is None, value
        assert personal_data_problem(value.hex) is None, value
        assert personal_data_problem(str(value).upper()) is None, value
        assert personal_data_problem(f"consent {value} granted") is None, value
        jti = format(rng.getrandbits(64), "016x")
        assert personal_data_problem(jti) is None, jti
        digits_jti = format(rng.getrandbits(53), "016d")
        assert personal_data_problem(digits_jti) is None, digits_jti


def test_case_numbers_times_and_licence_ids_never_flagged() -> None:
    """Case numbers (<workstation id>-YYYYMMDD-HHMMSS-mmm), ISO times and licence identifiers."""
    rng = random.Random(20261127)
    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    for _ in range(20000):
        moment = start + dt.timedelta(seconds=rng.randrange(60 * 365 * 24 * 3600),
                                      microseconds=rng.randrange(1_000_000))
        hall = rng.choice(["CB-HALL", "HALL", "WH-HALL", "CB"])
        number = f"{rng.randrange(1000):0{rng.choice([2, 3, 4])}d}"
        case = f"{hall}-{number}-{moment:%Y%m%d-%H%M%S}-{moment.microsecond // 1000:03d}"
        assert personal_data_problem(case) is None, case
        assert personal_data_problem(f"case={case}") is None, case
        iso = moment.isoformat()
        assert personal_data_problem(iso) is None, iso
        local = moment.astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert personal_data_problem(local.strftime("%Y-%m-%dT%H:%M:%S.%fZ")) is None
        assert personal_data_problem(str(int(moment.timestamp() * 1000))) is None
    assert personal_data_problem("CB-HALL-01-20261127-213000-123") is None
    assert personal_data_problem("CB-HALL-010-20261127-213000-123") is None
    for serial in (1, 12345678, 71552123456, 123456789012345):
        licence = make_licence("id_card", serial=serial)
        assert personal_data_problem(licence.licence_id) is None, licence.licence_id
        assert personal_data_problem(f"已打印 {licence.licence_id} 的复印件") is None


def test_ordinary_keys_not_mistaken_for_personal_fields() -> None:
    check_no_personal_data({
        "template_name": "material_list", "plugin": "unified_intake", "matter_name": "参保登记",
        "username": "clerk1", "scenario": "unified_intake", "file_name": "申请材料清单.pdf",
        "method": "card", "kind": "person", "types": ["id_card"],
    })


def _plain_sha_chain(store: Store) -> None:
    """What an attacker with write access to the database (but no key file) can do: rewrite
    a row, then recompute every hash as plain SHA-256 and move the head along."""
    import hashlib

    with store.session() as session:
        session.execute(text("UPDATE audit_events SET operator = 'intruder' WHERE seq = 2"))
        rows = session.execute(text(
            "SELECT seq, time, kind, workstation_id, operator, scenario, holder_hash, details "
            "FROM audit_events ORDER BY seq"
        )).all()
        prev = GENESIS_HASH
        for row in rows:
            time = row.time if isinstance(row.time, dt.datetime) else dt.datetime.fromisoformat(
                row.time)
            body = canonical_json({
                "seq": row.seq, "time": time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "kind": row.kind, "workstation_id": row.workstation_id,
                "operator": row.operator, "scenario": row.scenario,
                "holder_hash": row.holder_hash, "details": json.loads(row.details),
                "prev_hash": prev,
            })
            digest = hashlib.sha256(body.encode()).hexdigest()
            session.execute(
                text("UPDATE audit_events SET prev_hash = :p, row_hash = :h WHERE seq = :s"),
                {"p": prev, "h": digest, "s": row.seq},
            )
            prev = digest
        session.execute(text("UPDATE audit_chain_head SET last_hash = :h WHERE id = 1"),
                        {"h": prev})


def test_recomputed_plain_sha_chain_detected(audit: AuditLog, clock: ManualClock,
                                             store: Store) -> None:
    _fill(audit, clock, 5)
    assert audit.verify().ok
    _plain_sha_chain(store)
    result = audit.verify()
    assert not result.ok
    assert result.first_broken_seq == 1
    assert "第 1 条" in result.reason


def test_chain_written_with_other_keys_does_not_verify(audit: AuditLog, clock: ManualClock,
                                                       store: Store) -> None:
    """Only the key file the chain was written with verifies it (the key is not stored)."""
    _fill(audit, clock, 3)
    stranger = AuditLog(store, FieldCipher.generate(), "WS-1", clock=clock)
    result = stranger.verify()
    assert not result.ok and result.first_broken_seq == 1
    with store.session() as session:
        stored = " ".join(str(v) for v in session.execute(
            text("SELECT * FROM audit_chain_head")).one())
    assert audit_chain_key(audit.cipher).hex() not in stored


def test_chain_key_is_derived_per_purpose(cipher: FieldCipher) -> None:
    key = audit_chain_key(cipher)
    assert len(key) == 32
    assert key == audit_chain_key(cipher)  # deterministic: verifiable later
    assert key != cipher.derive_key("other-purpose")
    assert key != audit_chain_key(FieldCipher.generate())
    with pytest.raises(ValueError):
        compute_row_hash(key=b"short", seq=1, time=dt.datetime.now(dt.UTC), kind="print",
                         workstation_id="WS-1", operator=None, scenario=None, holder_hash=None,
                         details={}, prev_hash=GENESIS_HASH)


def test_operator_must_not_be_personal(audit: AuditLog) -> None:
    with pytest.raises(ValueError):
        audit.record(AuditKind.PRINT, operator=PERSON_ID)


def test_changed_row_is_first_broken(audit: AuditLog, clock: ManualClock, store: Store) -> None:
    _fill(audit, clock, 6)
    with store.session() as session:
        session.execute(text("UPDATE audit_events SET details = :d WHERE seq = 4"),
                        {"d": json.dumps({"copy": 99, "pages": [1, 2]})})
    result = audit.verify()
    assert not result.ok
    assert result.first_broken_seq == 4
    assert result.checked == 3
    assert "第 4 条" in result.reason


@pytest.mark.parametrize("column,value", [
    ("operator", "'clerk2'"), ("kind", "'refusal'"), ("holder_hash", "NULL"),
    ("workstation_id", "'WS-9'"),
])
def test_any_changed_field_detected(audit: AuditLog, clock: ManualClock, store: Store,
                                    column: str, value: str) -> None:
    _fill(audit, clock, 4)
    with store.session() as session:
        session.execute(text(f"UPDATE audit_events SET {column} = {value} WHERE seq = 2"))
    assert audit.verify().first_broken_seq == 2


def test_changed_time_detected(audit: AuditLog, clock: ManualClock, store: Store) -> None:
    _fill(audit, clock, 3)
    with store.session() as session:
        session.execute(text("UPDATE audit_events SET time = :t WHERE seq = 3"),
                        {"t": dt.datetime(2020, 1, 1)})
    assert audit.verify().first_broken_seq == 3


def test_rehashed_row_breaks_the_next_link(audit: AuditLog, clock: ManualClock,
                                           store: Store) -> None:
    _fill(audit, clock, 5)
    with store.session() as session:
        session.execute(text("UPDATE audit_events SET row_hash = :h WHERE seq = 2"),
                        {"h": "f" * 64})
    result = audit.verify()
    assert result.first_broken_seq == 2


def test_deleted_row_detected(audit: AuditLog, clock: ManualClock, store: Store) -> None:
    _fill(audit, clock, 6)
    with store.session() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    result = audit.verify()
    assert not result.ok and result.first_broken_seq == 3
    assert "缺失" in result.reason


def test_deleted_first_row_detected(audit: AuditLog, clock: ManualClock, store: Store) -> None:
    _fill(audit, clock, 3)
    with store.session() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 1"))
    assert audit.verify().first_broken_seq == 1


def test_deleted_tail_detected(audit: AuditLog, clock: ManualClock, store: Store) -> None:
    _fill(audit, clock, 5)
    with store.session() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq >= 4"))
    result = audit.verify()
    assert not result.ok and result.first_broken_seq == 4 and result.checked == 3


def test_reordered_rows_detected(audit: AuditLog, clock: ManualClock, store: Store) -> None:
    _fill(audit, clock, 5)
    with store.session() as session:  # swap rows 2 and 3
        session.execute(text("UPDATE audit_events SET seq = -2 WHERE seq = 2"))
        session.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 3"))
        session.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = -2"))
    result = audit.verify()
    assert not result.ok and result.first_broken_seq == 2


def test_chain_continues_across_instances(store: Store, cipher: FieldCipher,
                                          clock: ManualClock) -> None:
    AuditLog(store, cipher, "WS-1", clock=clock).record(AuditKind.CONFIG, operator="admin")
    other = Store.open(store.url)
    try:
        AuditLog(other, cipher, "WS-2", clock=clock).record(AuditKind.CONFIG, operator="admin")
    finally:
        other.close()
    log = AuditLog(store, cipher, "WS-1", clock=clock)
    assert [e.workstation_id for e in log.events()] == ["WS-1", "WS-2"]
    assert log.verify().ok


def _concurrent_appends(store: Store, cipher: FieldCipher, threads: int, each: int) -> None:
    stores = [store] + [Store.open(store.url) for _ in range(threads - 1)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(i: int) -> None:
        log = AuditLog(stores[i], cipher, f"WS-{i}")
        try:
            barrier.wait()
            for n in range(each):
                log.record(AuditKind.LICENCE_ACCESS, operator=f"clerk{i}", holder_id=PERSON_ID,
                           details={"n": n})
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    try:
        for t in workers:
            t.start()
        for t in workers:
            t.join()
    finally:
        for extra in stores[1:]:
            extra.close()
    assert not errors, errors
    log = AuditLog(store, cipher, "WS-0")
    result = log.verify()
    assert result.ok, result.reason
    assert result.checked == threads * each
    events = log.events(limit=threads * each)
    assert [e.seq for e in events] == list(range(1, threads * each + 1))
    assert {e.workstation_id for e in events} == {f"WS-{i}" for i in range(threads)}


@pytest.mark.postgres
def test_concurrent_appends_postgres(postgres_store: Store, cipher: FieldCipher) -> None:
    _concurrent_appends(postgres_store, cipher, threads=4, each=30)


def test_concurrent_appends_sqlite(sqlite_store: Store, cipher: FieldCipher) -> None:
    _concurrent_appends(sqlite_store, cipher, threads=3, each=20)
