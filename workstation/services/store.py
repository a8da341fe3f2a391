"""The workstation database: an engine, sessions and the Alembic migrations.

``Store.open(url)`` connects and brings the schema to the newest revision; there is no global
engine, so tests and tools may open as many stores as they like. The default database is an
SQLite file in the user data directory; a hall may point every workstation at one PostgreSQL
database instead (``postgresql+psycopg://user:password@host/dbname``).

SQLite specifics: WAL journal, foreign keys on, a busy timeout, and transactions started by
us (``BEGIN``, or ``BEGIN IMMEDIATE`` for ``session(write_lock=True)``) instead of by the
sqlite3 module, so writers that must be serialised (the audit chain) take the lock up front.
"""

from __future__ import annotations

import contextlib
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
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30.0
# pg_advisory_lock key serialising concurrent migrations of one database ("mzmigr" in ASCII).
_PG_MIGRATION_LOCK = 0x6D7A6D69677200
_SQLITE_BEGIN_OPTION = "mianzheng_sqlite_begin"


class StoreError(RuntimeError):
    """The database cannot be opened or migrated; the message says why."""


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
    def session(self, *, write_lock: bool = False) -> Iterator[Session]:
        """A session committed when the block ends normally, rolled back on an exception.

        ``write_lock=True`` takes SQLite's write lock when the transaction begins
        (``BEGIN IMMEDIATE``), for read-then-write sequences that must not interleave with
        other writers; on PostgreSQL use row locks (``SELECT ... FOR UPDATE``) instead.
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
