"""Offline replay detection for one-time codes.

A code shown by a citizen carries a ``jti`` that may be accepted once. When the platform can
resolve the code it enforces this itself; offline, the workstation remembers every jti it
accepted (as a SHA-256 hash) until the code has expired, so a screenshot cannot be used twice.
The table is shared by all workstations on one database, and marking is atomic
(insert-or-nothing on the primary key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from workstation.services.store import Store
from workstation.services.tables import SeenCodeRow

Clock = Callable[[], dt.datetime]

# Keep entries a while after the code's expiry, in case the workstation's clock runs late.
DEFAULT_GRACE = dt.timedelta(minutes=10)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def jti_hash(jti: str) -> str:
    return hashlib.sha256(f"mianzheng.jti\x00{jti}".encode()).hexdigest()


class SeenCodes:
    """``mark`` has the ``replay_guard: Callable[[str, datetime], bool]`` shape."""

    def __init__(
        self, store: Store, *, clock: Clock = _utc_now, grace: dt.timedelta = DEFAULT_GRACE
    ) -> None:
        self._store = store
        self._clock = clock
        self._grace = grace

    def mark(self, jti: str, expires_at: dt.datetime) -> bool:
        """Remember ``jti``; False if it was already seen (a replay)."""
        if not jti:
            raise ValueError("empty jti")
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        now = self._clock()
        insert = postgresql.insert if self._store.is_postgresql else sqlite.insert
        statement = insert(SeenCodeRow).values(
            jti_hash=jti_hash(jti), expires_at=expires_at + self._grace
        ).on_conflict_do_nothing(index_elements=[SeenCodeRow.jti_hash]).returning(
            SeenCodeRow.jti_hash
        )
        with self._store.session() as session:
            session.execute(delete(SeenCodeRow).where(SeenCodeRow.expires_at < now))
            # A row comes back only if this call inserted it.
            return session.execute(statement).first() is not None

    __call__ = mark

    def seen(self, jti: str) -> bool:
        """True if ``jti`` is remembered (without marking it).

        Has the ``CodeService(seen_check=...)`` shape. Entries ``mark`` would prune (expired
        plus the grace period) count as not seen, as they do for ``mark``.
        """
        with self._store.session(write_lock=False) as session:
            row = session.get(SeenCodeRow, jti_hash(jti))
            return row is not None and row.expires_at >= self._clock()

    def prune(self) -> int:
        """Forget entries whose codes expired (plus the grace period); returns how many."""
        with self._store.session() as session:
            result = session.execute(
                delete(SeenCodeRow).where(SeenCodeRow.expires_at < self._clock())
            )
            return int(getattr(result, "rowcount", 0) or 0)
