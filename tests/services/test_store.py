"""The store: migrations in code, SQLite pragmas, PostgreSQL parity, nothing personal on disk."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from tests.helpers.db_fixtures import (
    PERSON_ID,
    PERSON_NAME,
    FakePlatform,
    ManualClock,
    make_applicant,
    make_licence,
)
from workstation.services.audit import AuditKind, AuditLog
from workstation.services.consent import ConsentRequest, ConsentService
from workstation.services.crypto import FieldCipher
from workstation.services.licences import LicenceCache, LicenceService
from workstation.services.store import (
    KeyMismatchError,
    Store,
    StoreError,
    _normalise_url,
    alembic_config,
    check_key_fingerprint,
    default_database_url,
    migrations_directory,
)
from workstation.services.tables import Base, OperatorRow, WorkstationMetaRow

TABLES = {"operators", "consents", "licence_cache", "audit_events", "audit_chain_head",
          "seen_codes", "outbox", "workstation_meta", "issued_documents", "print_jobs",
          "scenario_records",
          "alembic_version"}
HEAD = "0004"


def test_migrated_to_head(store: Store) -> None:
    assert store.current_revision() == Store.head_revision() == HEAD
    names = set(inspect(store.engine).get_table_names())
    assert names >= TABLES
    indexes = {ix["name"]: ix["column_names"]
               for ix in inspect(store.engine).get_indexes("licence_cache")}
    assert indexes["ix_licence_cache_lookup"] == ["holder_hash", "type_key", "expires_at"]


def test_models_match_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.postgres
def test_fresh_postgres_database_migrates(postgres_url: str) -> None:
    store = Store.open(postgres_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert store.is_postgresql and store.current_revision() == HEAD
        assert set(inspect(store.engine).get_table_names()) >= TABLES
    finally:
        store.close()


def test_open_twice_is_idempotent(store: Store) -> None:
    again = Store.open(store.url)
    try:
        assert again.current_revision() == HEAD
        with again.session() as session:
            rows = session.execute(text("SELECT count(*) FROM audit_chain_head")).scalar_one()
        assert rows == 1
    finally:
        again.close()


def test_migrations_found_from_package_without_ini() -> None:
    directory = migrations_directory()
    assert (directory / "env.py").is_file()
    assert (directory / "versions" / "0001_initial.py").is_file()
    cfg = alembic_config()
    assert cfg.config_file_name is None
    assert cfg.get_main_option("script_location") == str(directory)


def test_sqlite_pragmas_and_private_file(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    path = sqlite_store.sqlite_path
    assert path is not None and path.exists()
    assert path.stat().st_mode & 0o077 == 0


def test_session_commits_and_rolls_back(store: Store, clock: ManualClock) -> None:
    with store.session() as session:
        session.add(OperatorRow(username="a", display_name="A", password_hash="x", active=True,
                                created_at=clock()))
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(OperatorRow(username="b", display_name="B", password_hash="x",
                                active=True, created_at=clock()))
        session.flush()
        raise RuntimeError("boom")
    with store.session() as session:
        names = session.execute(select(OperatorRow.username)).scalars().all()
    assert names == ["a"]


def test_times_are_aware_utc(store: Store) -> None:
    local = dt.datetime(2025, 3, 3, 9, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with store.session() as session:
        session.add(OperatorRow(username="t", display_name="T", password_hash="x", active=True,
                                created_at=local))
    with store.session() as session:
        row = session.execute(select(OperatorRow)).scalar_one()
    assert row.created_at == local
    assert row.created_at.tzinfo == dt.UTC
    assert row.created_at.hour == 1 and row.created_at.microsecond == 123456


def test_naive_datetimes_refused(sqlite_store: Store) -> None:
    with pytest.raises(Exception, match="naive"), sqlite_store.session() as session:
        session.add(OperatorRow(username="n", display_name="N", password_hash="x",
                                active=True, created_at=dt.datetime(2025, 1, 1)))
        session.flush()


def test_url_handling(tmp_path: Path) -> None:
    assert default_database_url(tmp_path) == f"sqlite:///{tmp_path / 'workstation.db'}"
    url = _normalise_url("postgresql://u:p@db.example/hall")
    assert url.drivername == "postgresql+psycopg"
    assert _normalise_url("postgresql+psycopg://u@h/d").drivername == "postgresql+psycopg"
    nested = tmp_path / "a" / "b" / "ws.db"
    store = Store.open(f"sqlite:///{nested}")
    try:
        assert nested.exists()
    finally:
        store.close()


def test_in_memory_sqlite() -> None:
    store = Store.open("sqlite://")
    try:
        assert store.current_revision() == HEAD
        assert store.sqlite_path is None
    finally:
        store.close()


def test_no_plaintext_personal_data_on_disk(
    tmp_path: Path, cipher: FieldCipher, clock: ManualClock
) -> None:
    """Store a licence, a consent and audit events for a named person; grep the raw files."""
    path = tmp_path / "raw.db"
    store = Store.open(f"sqlite:///{path}")
    address = "湖北省赤壁市蒲圻街道金鸡路8号"
    licences = [make_licence("id_card"), make_licence("household_register")]
    platform = FakePlatform(licences)
    audit = AuditLog(store, cipher, "WS-1", clock=clock)
    consents = ConsentService(store, cipher, audit, platform, "WS-1", clock=clock)
    cache = LicenceCache(store, cipher, clock=clock)
    service = LicenceService(platform, cache, audit, "WS-1", clock=clock)
    applicant = make_applicant()
    consent = consents.grant(
        ConsentRequest(applicant, "城乡居民基本医疗保险参保登记", "MATTER-001",
                       ("id_card", "household_register"), "unified_intake"),
        operator="clerk1",
    )
    result = service.fetch(consent, reason="参保登记核验身份", operator="clerk1")
    assert len(result.licences) == 2
    service.thumbnail(consent, licences[0], "打印证照复印件", operator="clerk1")
    audit.record(AuditKind.IDENTIFICATION, operator="clerk1", holder_id=PERSON_ID,
                 scenario="unified_intake", details={"method": "card"})
    audit.record(AuditKind.PRINT, operator="clerk1", holder_id=PERSON_ID,
                 details={"template": "material_list", "pages": 1})

    needles = {
        "ID number": PERSON_ID.encode(),
        "ID number (utf-16)": PERSON_ID.encode("utf-16-le"),
        "name": PERSON_NAME.encode(),
        "name (gbk)": PERSON_NAME.encode("gbk"),
        "name (utf-16)": PERSON_NAME.encode("utf-16-le"),
        "address": address.encode(),
    }
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the data is (also) in the WAL now
    for label, data in {"db": path.read_bytes(), "wal": wal.read_bytes()}.items():
        assert data, label
        for what, needle in needles.items():
            assert needle not in data, f"{what} found in the {label} file"
    # Sanity: the licence is really there, only encrypted, and the hash is findable.
    assert cipher.holder_hash(PERSON_ID).encode() in path.read_bytes() + wal.read_bytes()
    assert cache.lookup(PERSON_ID)[0].licence.holder_name == PERSON_NAME

    store.close()  # checkpoints the WAL into the main file
    data = path.read_bytes()
    for what, needle in needles.items():
        assert needle not in data, f"{what} found in the database after checkpoint"


# -- field-key fingerprint -------------------------------------------------------------------

def test_key_fingerprint_recorded_on_first_open(store: Store, cipher: FieldCipher,
                                                tmp_path: Path) -> None:
    check_key_fingerprint(store, cipher)
    with store.session() as session:
        rows = session.execute(select(WorkstationMetaRow)).scalars().all()
    assert [(r.key, r.value) for r in rows] == [
        ("field_key_fingerprint", cipher.key_fingerprint())]
    keys = json.loads((tmp_path / "keys" / "field-keys.json").read_text())
    for name in ("encryption_key", "hash_key"):
        assert base64.b64decode(keys[name]).hex() not in rows[0].value
    # Same keys, another workstation: fine, and idempotent.
    same = FieldCipher.from_key_file(tmp_path / "keys" / "field-keys.json")
    other_store = Store.open(store.url)
    try:
        check_key_fingerprint(other_store, same)
        check_key_fingerprint(other_store, same)
    finally:
        other_store.close()


def test_other_keys_refused(store: Store, cipher: FieldCipher) -> None:
    """A hall-wide database opened by a workstation with its own key file."""
    check_key_fingerprint(store, cipher)
    with pytest.raises(KeyMismatchError) as info:
        check_key_fingerprint(store, FieldCipher.generate(), key_file="/etc/mianzheng/keys.json")
    assert isinstance(info.value, StoreError)
    message = str(info.value)
    assert "其他字段密钥" in message and "复制" in message
    assert "other field keys" in message and "copy the hall's key file" in message
    assert "/etc/mianzheng/keys.json" in message
    check_key_fingerprint(store, cipher)  # the right keys still work


def test_first_of_two_new_workstations_wins(store: Store) -> None:
    """Two workstations with different keys open a new database at once: one fingerprint."""
    import threading

    ciphers = [FieldCipher.generate() for _ in range(6)]
    stores = [store] + [Store.open(store.url) for _ in range(5)]
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            check_key_fingerprint(stores[i], ciphers[i])
            outcomes.append("ok")
        except KeyMismatchError:
            outcomes.append("mismatch")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for extra in stores[1:]:
            extra.close()
    assert sorted(outcomes) == ["mismatch"] * 5 + ["ok"]


def test_read_then_write_sessions_survive_a_concurrent_writer(sqlite_store: Store, cipher) -> None:
    """GIVEN one thread appending audit events (the workstation's background writer)
    WHEN another signs an operator in (reads the account, checks the password for ~50 ms,
    then writes last_sign_in_at)
    THEN no "database is locked" error: SQLite sessions take the write lock at BEGIN."""
    import threading

    from workstation.services.audit import AuditLog
    from workstation.services.operators import OperatorAccounts

    audit = AuditLog(sqlite_store, cipher, "T-01")
    accounts = OperatorAccounts(sqlite_store, audit)
    accounts.create("wangfang", "王芳", "s3cret-pass")
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                audit.record("session_started", operator="x", details={"n": 1})
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(5):
            accounts.authenticate("wangfang", "s3cret-pass")
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert audit.verify().ok
