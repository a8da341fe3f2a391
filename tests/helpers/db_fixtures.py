"""Database fixtures: field cipher, SQLite and PostgreSQL stores, a manual clock, a fake platform.

PostgreSQL: ``postgres_server`` (session scope) runs a private PostgreSQL 15 from Debian's
packages (``/usr/lib/postgresql/15/bin``): ``initdb`` into a fresh directory under /tmp, then
``pg_ctl start`` with ``listen_addresses=''`` so it listens only on a Unix socket in that short
directory (no TCP port, no clash with other runs). PostgreSQL refuses to run as root: as uid 0
the directory is chowned to the ``postgres`` user and the binaries run via
``runuser -u postgres --``. Every test using ``store[postgres]`` gets a fresh schema (selected
through ``search_path`` in the URL) in a per-session database, migrated from scratch and dropped
afterwards; ``postgres_url`` gives a whole new empty database instead (slower). Missing
binaries are a test failure, not a skip.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from workstation.services.crypto import FieldCipher
from workstation.services.licence_ids import make_licence_id
from workstation.services.model import LICENCE_TYPES, Applicant, HolderKind, IdentifiedBy, Licence
from workstation.services.store import Store
from workstation.testing import ManualClock  # public for plugin authors; re-exported here

PG_BIN = Path(os.environ.get("MIANZHENG_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_PORT = 5432  # only names the socket file inside our private directory


@dataclasses.dataclass
class PostgresServer:
    base_dir: Path
    data_dir: Path
    socket_dir: Path
    port: int
    user: str
    as_postgres_user: bool

    def url(self, database: str, schema: str | None = None) -> str:
        url = (f"postgresql+psycopg://{self.user}@/{database}"
               f"?host={self.socket_dir}&port={self.port}")
        if schema:
            url += f"&options=-csearch_path%3D{schema}"
        return url

    def admin(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=self.user,
                             dbname=database, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(cmd: Sequence[str], *, as_postgres: bool) -> subprocess.CompletedProcess[str]:
    full = ["runuser", "-u", "postgres", "--", *cmd] if as_postgres else list(cmd)
    return subprocess.run(full, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    missing = [b for b in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / b).exists()]
    if missing:
        pytest.fail(
            f"PostgreSQL 15 server binaries not found in {PG_BIN} ({', '.join(missing)}). "
            "Install the Debian package `postgresql` (apt-get install postgresql) to run the "
            "PostgreSQL tests.",
            pytrace=False,
        )
    as_root = os.geteuid() == 0
    if as_root:
        try:
            pg_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root but there is no `postgres` user; install the Debian "
                        "package `postgresql`", pytrace=False)
        if shutil.which("runuser") is None:
            pytest.fail("running as root needs `runuser` (util-linux) to start PostgreSQL",
                        pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="mzpg-", dir="/tmp"))  # short: socket paths <= 107
    data = base / "data"
    if as_root:
        os.chown(base, pg_user.pw_uid, pg_user.pw_gid)
    server = PostgresServer(base_dir=base, data_dir=data, socket_dir=base, port=PG_PORT,
                            user="postgres", as_postgres_user=as_root)
    started = False
    try:
        init = _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                     "-E", "UTF8", "--no-locale", "--no-sync"], as_postgres=as_root)
        if init.returncode != 0:
            pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}", pytrace=False)
        options = (f"-k {base} -p {PG_PORT} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        start = _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                      "-o", options, "-w", "-t", "60", "start"], as_postgres=as_root)
        if start.returncode != 0:
            log_text = (base / "server.log").read_text(errors="replace") if (
                base / "server.log").exists() else ""
            pytest.fail(f"PostgreSQL did not start:\n{start.stdout}\n{start.stderr}\n{log_text}",
                        pytrace=False)
        started = True
        yield server
    finally:
        if started:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                 as_postgres=as_root)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def postgres_test_database(postgres_server: PostgresServer) -> str:
    """One database for the session; every ``postgres_store`` lives in its own schema."""
    return postgres_server.create_database()


@pytest.fixture
def cipher(tmp_path: Path) -> FieldCipher:
    return FieldCipher.from_key_file(tmp_path / "keys" / "field-keys.json")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'workstation.db'}")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def postgres_store(postgres_server: PostgresServer, postgres_test_database: str
                   ) -> Iterator[Store]:
    """A freshly migrated store in a new, empty schema (dropped afterwards).

    The schema is selected by ``search_path`` in the URL, so ``Store.open(store.url)`` opens
    a second connection pool (another "workstation") on the same data.
    """
    schema = f"s_{uuid.uuid4().hex[:16]}"
    postgres_server.admin(f'CREATE SCHEMA "{schema}"', postgres_test_database)
    store = Store.open(postgres_server.url(postgres_test_database, schema))
    try:
        yield store
    finally:
        store.close()
        postgres_server.admin(f'DROP SCHEMA "{schema}" CASCADE', postgres_test_database)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    """A freshly migrated store, once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_store")


# -- licences and the fake licence platform --------------------------------------------------

ISSUER_CODE = "11421281MB00000018"  # a (synthetic) issuing authority's credit code
PERSON_ID = "421281198001011233"
PERSON_NAME = "张卫国"
OTHER_ID = "421281199206150020"
COMPANY_ID = "91421281MA4F00001D"

_serials = itertools.count(1)


def make_licence(type_key: str = "id_card", holder_id: str = PERSON_ID,
                 holder_name: str = PERSON_NAME, *, serial: int | None = None,
                 fields: dict[str, str] | None = None) -> Licence:
    """A synthetic licence with a valid GB/T 36904 identifier; fields hold personal data."""
    ltype = LICENCE_TYPES[type_key]
    return Licence(
        licence_id=make_licence_id(ltype.type_code, ISSUER_CODE,
                                   serial if serial is not None else next(_serials)),
        type_key=type_key,
        holder_kind=ltype.holder_kind,
        holder_id=holder_id,
        holder_name=holder_name,
        issuer="赤壁市公安局",
        issuer_code=ISSUER_CODE,
        issued_on=dt.date(2020, 5, 6),
        valid_from=dt.date(2020, 5, 6),
        valid_until=None if type_key != "id_card" else dt.date(2040, 5, 6),
        fields=fields if fields is not None else {
            "姓名": holder_name, "公民身份号码": holder_id, "住址": "湖北省赤壁市蒲圻街道金鸡路8号",
        },
    )


def make_applicant(holder_id: str = PERSON_ID, name: str = PERSON_NAME) -> Applicant:
    kind = HolderKind.ENTERPRISE if holder_id == COMPANY_ID else HolderKind.PERSON
    return Applicant(kind=kind, holder_id=holder_id, name=name, identified_by=IdentifiedBy.CARD)



class FakePlatform:
    """Implements the ConsentPlatform and LicencePlatform protocols in memory.

    ``down = True`` makes every call raise the real ``PlatformUnavailable``; ``calls`` records
    (method, kwargs) so tests can assert that nothing was fetched.
    """

    def __init__(self, licences: Sequence[Licence] = (), thumbnails: dict[str, bytes] | None = None
                 ) -> None:
        self.licences = list(licences)
        self.thumbnails = dict(thumbnails or {})
        self.down = False
        self.refuse: tuple[int, str, str] | None = None  # (status, code, message)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.consents: dict[str, dict[str, Any]] = {}

    def _enter(self, name: str, kwargs: dict[str, Any]) -> None:
        from workstation.services.platform import PlatformError, PlatformUnavailable

        self.calls.append((name, kwargs))
        if self.down:
            raise PlatformUnavailable("sandbox down")
        if self.refuse is not None:
            status, code, message = self.refuse
            raise PlatformError(status, code, message)

    def calls_to(self, name: str) -> list[dict[str, Any]]:
        return [kw for n, kw in self.calls if n == name]

    def register_consent(self, *, kind: str, holder_id: str, purpose: str, matter_code: str,
                         licence_types: Sequence[str], expires_at: dt.datetime,
                         workstation_id: str, channel: str) -> tuple[str, dt.datetime]:
        kwargs = dict(kind=kind, holder_id=holder_id, purpose=purpose, matter_code=matter_code,
                      licence_types=list(licence_types), expires_at=expires_at,
                      workstation_id=workstation_id, channel=channel)
        self._enter("register_consent", kwargs)
        ref = f"c-{uuid.uuid4().hex[:12]}"
        self.consents[ref] = kwargs
        return ref, expires_at

    def revoke_consent(self, consent_ref: str) -> None:
        self._enter("revoke_consent", {"consent_ref": consent_ref})
        self.consents.pop(consent_ref, None)

    def search_licences(self, holder_id: str, types: Sequence[str], consent_ref: str,
                        reason: str) -> list[Licence]:
        self._enter("search_licences", dict(holder_id=holder_id, types=list(types),
                                            consent_ref=consent_ref, reason=reason))
        return [lic for lic in self.licences
                if lic.holder_id == holder_id and lic.type_key in types]

    def thumbnail(self, licence_id: str, consent_ref: str, reason: str) -> bytes:
        self._enter("thumbnail", dict(licence_id=licence_id, consent_ref=consent_ref,
                                      reason=reason))
        return self.thumbnails.get(licence_id, b"\x89PNG\r\n\x1a\n" + licence_id.encode())
