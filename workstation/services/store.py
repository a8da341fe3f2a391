"""The workstation database: an engine, sessions and the Alembic migrations.

``Store.open(url)`` connects and brings the schema to the newest revision; there is no global
engine, so tests and tools may open as many stores as they like. The default database is an
SQLite file in the user data directory; a hall may point every workstation at one PostgreSQL
database instead (``postgresql+psycopg://user:password@host/dbname``).

SQLite specifics: WAL journal, foreign keys on, a busy timeout, and transactions started by
us (``BEGIN``, or ``BEGIN IMMEDIATE`` for ``session(write_lock=True)``) instead of by the
sqlite3 module, so writers that must be serialised (the audit chain) take the lock up front.

Field keys: every workstation sharing one database must hold the same key file, or holder
hashes, cached licences, consents and the audit chain stop matching across workstations.
``check_key_fingerprint(store, cipher)`` (call it right after opening) records the keys'
fingerprint on first use and raises ``KeyMismatchError`` when other keys open the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import logging
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from workstation.services.crypto import FieldCipher
from workstation.services.tables import META_KEY_FINGERPRINT, WorkstationMetaRow

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30.0
# pg_advisory_lock key serialising concurrent migrations of one database ("mzmigr" in ASCII).
_PG_MIGRATION_LOCK = 0x6D7A6D69677200
_SQLITE_BEGIN_OPTION = "mianzheng_sqlite_begin"


class StoreError(RuntimeError):
    """The database cannot be opened or migrated; the message says why."""


class KeyMismatchError(StoreError):
    """The database was created with other field keys than this workstation's key file."""

    def __init__(self, key_file: str | os.PathLike[str] | None = None) -> None:
        where = f"（{key_file}）" if key_file is not None else ""
        message = (
            "本数据库是用其他字段密钥创建的，与本工作站的密钥文件不一致，已拒绝使用。"
            f"请把本大厅统一的密钥文件复制到本工作站{where}后重试。"
            " / The database was created with other field keys; "
            "copy the hall's key file to this workstation and try again."
        )
        super().__init__(message)
        self.message = message


def check_key_fingerprint(
    store: Store, cipher: FieldCipher, *, key_file: str | os.PathLike[str] | None = None
) -> None:
    """Make sure ``cipher`` holds the field keys this database was created with.

    The first call on a database records ``cipher.key_fingerprint()`` (an HMAC of a fixed
    label, never a key) in ``workstation_meta``; later calls compare against it and raise
    ``KeyMismatchError`` on a difference. When two workstations with different keys open a new
    database at once, exactly one fingerprint is recorded and the other gets the error.
    ``key_file`` (optional) is named in the message.
    """
    fingerprint = cipher.key_fingerprint()
    insert = postgresql.insert if store.is_postgresql else sqlite.insert
    statement = insert(WorkstationMetaRow).values(
        key=META_KEY_FINGERPRINT, value=fingerprint, updated_at=dt.datetime.now(dt.UTC)
    ).on_conflict_do_nothing(index_elements=[WorkstationMetaRow.key])
    try:
        with store.session() as session:
            session.execute(statement)
            recorded = session.execute(
                select(WorkstationMetaRow.value)
                .where(WorkstationMetaRow.key == META_KEY_FINGERPRINT)
            ).scalar_one()
    except SQLAlchemyError as exc:
        raise StoreError(f"无法核对数据库的字段密钥指纹：{type(exc).__name__}") from exc
    if not hmac.compare_digest(recorded, fingerprint):
        log.error("field key fingerprint mismatch: this workstation holds other keys")
        raise KeyMismatchError(key_file)


def default_database_url(data_dir: Path | None = None) -> str:
    """The SQLite file used when no URL is configured."""
    base = data_dir or Path(platformdirs.user_data_dir("mianzheng"))
    return f"sqlite:///{base / 'workstation.db'}"


def migrations_directory() -> Path:
    """The Alembic script directory shipped inside the installed ``workstation`` package."""
    return Path(str(resources.files("workstation") / "migrations"))


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config built in code (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_directory()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _normalise_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is our driver
    return parsed


class Store:
    """An open workstation database. Use ``Store.open(url)``; close with ``close()``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str | URL | None = None,
        *,
        migrate: bool = True,
        echo: bool = False,
        engine_options: dict[str, Any] | None = None,
    ) -> Store:
        """Connect to ``url`` (default: the SQLite file) and run ``alembic upgrade head``."""
        parsed = _normalise_url(url or default_database_url())
        options: dict[str, Any] = {"echo": echo}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
            if not in_memory:
                _create_private_file(Path(database).expanduser())
            options["connect_args"] = {
                "timeout": SQLITE_BUSY_TIMEOUT_S,
                "check_same_thread": False,
            }
            if in_memory:
                options["poolclass"] = StaticPool
        elif parsed.get_backend_name() == "postgresql":
            options["pool_pre_ping"] = True
        else:
            backend = parsed.get_backend_name()
            raise StoreError(f"不支持的数据库：{backend}（仅支持 SQLite 和 PostgreSQL）")
        options.update(engine_options or {})
        engine = create_engine(parsed, **options)
        if parsed.get_backend_name() == "sqlite":
            _install_sqlite_hooks(engine)
        store = cls(engine)
        if migrate:
            try:
                store.migrate()
            except Exception:
                engine.dispose()
                raise
        return store

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)})"

    # -- properties ----------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def url(self) -> URL:
        return self._engine.url

    @property
    def dialect_name(self) -> str:
        return self._engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect_name == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect_name == "postgresql"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for a file-backed SQLite store, else None."""
        if not self.is_sqlite:
            return None
        database = self.url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return None
        return Path(database).expanduser()

    # -- sessions ------------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self, *, write_lock: bool = True) -> Iterator[Session]:
        """A session committed when the block ends normally, rolled back on an exception.

        On SQLite a session takes the write lock when its transaction begins (``BEGIN
        IMMEDIATE``) unless ``write_lock=False`` says it only reads. A deferred transaction that
        reads and then writes fails at once with "database is locked" when another connection
        wrote in between (WAL's snapshot rule; the busy timeout does not apply), and the
        workstation has several writers (GUI tasks, audit worker, outbox sender), so writers are
        serialised at BEGIN instead. On PostgreSQL use row locks (``SELECT ... FOR UPDATE``).
        """
        with Session(self._engine, expire_on_commit=False) as session:
            if write_lock and self.is_sqlite:
                session.connection(execution_options={_SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # -- migrations ----------------------------------------------------------------------

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision``; concurrent workstations wait for each other."""
        cfg = alembic_config()
        with self._engine.connect() as conn:
            if self.is_postgresql:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
            migration_conn = conn
            if self.is_sqlite:
                migration_conn = conn.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            try:
                cfg.attributes["connection"] = migration_conn
                command.upgrade(cfg, revision)
                conn.commit()
            finally:
                if self.is_postgresql:
                    conn.rollback()
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                    conn.commit()

    def current_revision(self) -> str | None:
        with self._engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _create_private_file(path: Path) -> None:
    """Create an empty SQLite file readable by its owner only (WAL files inherit the mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN_OPTION, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())
