"""Records that scenario plugins keep: form history, drafts, locker doors and items, tills.

One table (``scenario_records``) for every plugin, each row named by (scenario, kind, key). A
plugin sees only its own scenario's rows (``ScopedRecords``, given to it as ``ctx.records``).
``data`` is a JSON object sealed by the field cipher (bound to the row's name, so a sealed value
cannot be moved to another row); the holder is kept only as a keyed hash, for lookups.

Every change bumps ``version``. ``update`` and ``claim_first`` are single compare-and-set
statements (``UPDATE ... WHERE version = ... / state IN ...``), atomic on SQLite and on
PostgreSQL alike, so two kiosks sharing a hall database never both win the same record (e.g.
the same locker door). All calls block: pages run them off the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from workstation.services.crypto import FieldCipher
from workstation.services.store import Store
from workstation.services.tables import ScenarioRecordRow

_NAME_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
MAX_KEY = 128
MAX_STATE = 32


class RecordConflict(Exception):
    """The record changed (or left the expected state) since it was read: someone else won."""

    def __init__(self, message: str = "记录已被其他操作更新，请刷新后重试") -> None:
        super().__init__(message)
        self.message = message


class RecordExists(RecordConflict):
    """``create`` of a (kind, key) that already exists."""

    def __init__(self, message: str = "记录已存在") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Record:
    """One record as stored (``data`` decrypted). Holds personal data: never log it."""

    kind: str
    key: str
    state: str
    data: dict[str, Any] = field(repr=False)
    version: int
    holder_hash: str | None = field(repr=False)
    created_at: dt.datetime
    updated_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _states(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class RecordService:
    """All scenarios' records; plugins get a ``ScopedRecords`` from ``scoped(scenario)``."""

    def __init__(self, store: Store, cipher: FieldCipher,
                 clock: Callable[[], dt.datetime] = _now) -> None:
        self.store = store
        self.cipher = cipher
        self.clock = clock

    def scoped(self, scenario: str) -> ScopedRecords:
        return ScopedRecords(self, scenario)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _check(kind: str, key: str | None = None, state: str | None = None) -> None:
        if not _NAME_RE.match(kind):
            raise ValueError(f"record kind {kind!r}: 1-64 letters, digits, _ . : -")
        if key is not None and not (0 < len(key) <= MAX_KEY):
            raise ValueError(f"record key: 1 to {MAX_KEY} characters")
        if state is not None and len(state) > MAX_STATE:
            raise ValueError(f"record state: at most {MAX_STATE} characters")

    @staticmethod
    def _context(scenario: str, kind: str, key: str) -> str:
        return f"record:{scenario}:{kind}:{key}"

    def _seal(self, scenario: str, kind: str, key: str, data: Mapping[str, Any]) -> bytes:
        if not isinstance(data, Mapping):
            raise TypeError("record data must be a JSON object (a mapping)")
        return self.cipher.encrypt_json(dict(data), self._context(scenario, kind, key))

    def _record(self, row: ScenarioRecordRow) -> Record:
        data = self.cipher.decrypt_json(row.data, self._context(row.scenario, row.kind, row.key))
        return Record(kind=row.kind, key=row.key, state=row.state, data=data,
                      version=row.version, holder_hash=row.holder_hash,
                      created_at=row.created_at, updated_at=row.updated_at)

    def _hash(self, holder_id: str | None) -> str | None:
        return self.cipher.holder_hash(holder_id) if holder_id else None

    # -- operations ------------------------------------------------------------------------

    def create(self, scenario: str, kind: str, key: str, data: Mapping[str, Any], *,
               state: str = "", holder_id: str | None = None) -> Record:
        self._check(kind, key, state)
        now = self.clock()
        row = ScenarioRecordRow(scenario=scenario, kind=kind, key=key, state=state,
                                holder_hash=self._hash(holder_id),
                                data=self._seal(scenario, kind, key, data), version=1,
                                created_at=now, updated_at=now)
        try:
            with self.store.session() as session:
                session.add(row)
        except IntegrityError:
            raise RecordExists() from None
        return self._record(row)

    def put(self, scenario: str, kind: str, key: str, data: Mapping[str, Any], *,
            state: str = "", holder_id: str | None = None) -> Record:
        self._check(kind, key, state)
        for _ in range(3):
            current = self.get(scenario, kind, key)
            if current is None:
                try:
                    return self.create(scenario, kind, key, data, state=state,
                                       holder_id=holder_id)
                except RecordExists:
                    continue
            try:
                return self._update(scenario, kind, key, expect_version=current.version,
                                    expect_state=None, state=state, data=data,
                                    holder_hash=self._hash(holder_id), set_holder=True)
            except RecordConflict:
                continue
        raise RecordConflict()

    def get(self, scenario: str, kind: str, key: str) -> Record | None:
        self._check(kind, key)
        with self.store.session(write_lock=False) as session:
            row = session.scalars(select(ScenarioRecordRow).where(
                ScenarioRecordRow.scenario == scenario, ScenarioRecordRow.kind == kind,
                ScenarioRecordRow.key == key)).first()
            return None if row is None else self._record(row)

    def update(self, scenario: str, kind: str, key: str, *, expect_version: int | None = None,
               expect_state: str | Iterable[str] | None = None, state: str | None = None,
               data: Mapping[str, Any] | None = None) -> Record:
        self._check(kind, key, state)
        return self._update(scenario, kind, key, expect_version=expect_version,
                            expect_state=expect_state, state=state, data=data)

    def _update(self, scenario: str, kind: str, key: str, *, expect_version: int | None,
                expect_state: str | Iterable[str] | None, state: str | None,
                data: Mapping[str, Any] | None, holder_hash: str | None = None,
                set_holder: bool = False) -> Record:
        table = ScenarioRecordRow
        where = [table.scenario == scenario, table.kind == kind, table.key == key]
        if expect_version is not None:
            where.append(table.version == expect_version)
        if expect_state is not None:
            where.append(table.state.in_(_states(expect_state)))
        values: dict[str, Any] = {"version": table.version + 1, "updated_at": self.clock()}
        if state is not None:
            values["state"] = state
        if data is not None:
            values["data"] = self._seal(scenario, kind, key, data)
        if set_holder:
            values["holder_hash"] = holder_hash
        with self.store.session() as session:
            result = session.execute(update(table).where(*where).values(**values)
                                     .execution_options(synchronize_session=False))
            if getattr(result, "rowcount", 0) != 1:
                exists = session.scalar(select(table.id).where(*where[:3]))
                if exists is None:
                    raise LookupError(f"no record {kind}/{key}")
                raise RecordConflict()
            row = session.scalars(select(table).where(*where[:3])).one()
            return self._record(row)

    def claim_first(self, scenario: str, kind: str, keys: Sequence[str], *, from_state: str,
                    to_state: str, data: Mapping[str, Any] | None = None) -> Record | None:
        for key in keys:
            try:
                return self.update(scenario, kind, key, expect_state=from_state,
                                   state=to_state, data=data)
            except (RecordConflict, LookupError):
                continue
        return None

    def find(self, scenario: str, kind: str, *, holder_id: str | None = None,
             state: str | Iterable[str] | None = None, limit: int = 200) -> list[Record]:
        self._check(kind)
        table = ScenarioRecordRow
        query = select(table).where(table.scenario == scenario, table.kind == kind)
        if holder_id is not None:
            query = query.where(table.holder_hash == self._hash(holder_id))
        if state is not None:
            query = query.where(table.state.in_(_states(state)))
        query = query.order_by(table.updated_at.desc(), table.id.desc()).limit(max(1, limit))
        with self.store.session(write_lock=False) as session:
            return [self._record(row) for row in session.scalars(query)]

    def delete(self, scenario: str, kind: str, key: str) -> bool:
        self._check(kind, key)
        table = ScenarioRecordRow
        with self.store.session() as session:
            result = session.execute(delete(table).where(
                table.scenario == scenario, table.kind == kind, table.key == key))
            return bool(getattr(result, "rowcount", 0))


class ScopedRecords:
    """``ctx.records``: one scenario's records (see the module docstring and
    docs/plugins/api.md)."""

    def __init__(self, service: RecordService, scenario: str) -> None:
        self._service = service
        self.scenario = scenario

    def create(self, kind: str, key: str, data: Mapping[str, Any], *, state: str = "",
               holder_id: str | None = None) -> Record:
        """A new record; ``RecordExists`` when (kind, key) is taken."""
        return self._service.create(self.scenario, kind, key, data, state=state,
                                    holder_id=holder_id)

    def put(self, kind: str, key: str, data: Mapping[str, Any], *, state: str = "",
            holder_id: str | None = None) -> Record:
        """Insert or replace (data, state and holder)."""
        return self._service.put(self.scenario, kind, key, data, state=state,
                                 holder_id=holder_id)

    def get(self, kind: str, key: str) -> Record | None:
        return self._service.get(self.scenario, kind, key)

    def update(self, kind: str, key: str, *, expect_version: int | None = None,
               expect_state: str | Iterable[str] | None = None, state: str | None = None,
               data: Mapping[str, Any] | None = None) -> Record:
        """Compare-and-set: ``RecordConflict`` when the version or state no longer matches,
        ``LookupError`` when there is no such record. ``data`` replaces the whole object."""
        return self._service.update(self.scenario, kind, key, expect_version=expect_version,
                                    expect_state=expect_state, state=state, data=data)

    def claim_first(self, kind: str, keys: Sequence[str], *, from_state: str, to_state: str,
                    data: Mapping[str, Any] | None = None) -> Record | None:
        """The first of ``keys`` moved from ``from_state`` to ``to_state`` by this call, or
        None; never the same key to two callers, across processes sharing the database."""
        return self._service.claim_first(self.scenario, kind, keys, from_state=from_state,
                                         to_state=to_state, data=data)

    def find(self, kind: str, *, holder_id: str | None = None,
             state: str | Iterable[str] | None = None, limit: int = 200) -> list[Record]:
        """Newest first, optionally one holder's and/or in given states."""
        return self._service.find(self.scenario, kind, holder_id=holder_id, state=state,
                                  limit=limit)

    def delete(self, kind: str, key: str) -> bool:
        return self._service.delete(self.scenario, kind, key)
