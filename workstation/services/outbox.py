"""A durable outbox: submissions are stored first and sent when the platform answers.

Nothing a citizen or an enterprise submitted may be lost, and nothing may arrive twice:

- ``Outbox.enqueue(kind, payload, idempotency_key)`` stores the payload encrypted (AES-GCM via
  ``FieldCipher``, bound to the item's key) in the ``outbox`` table. The idempotency key is
  unique: enqueueing the same key again returns the stored item and stores nothing new.
- ``Outbox.deliver_due()`` sends every due item, oldest first, through the sender registered
  for its kind. The sender receives the payload *and the idempotency key*, which it passes to
  the platform; the platform answers a repeated key with its first answer, so an item whose
  reply was lost (sent, then the link dropped) is not received twice when it is re-sent.
  Order is kept: a run stops at the first item that is not due yet (backing off, or claimed by
  another sender), so a later item (e.g. an archive manifest) never overtakes an earlier one.
- Before sending, an item is *claimed* by moving ``next_attempt_at`` forward by a lease in one
  conditional UPDATE: two senders (two threads, or two workstations on one hall database) never
  send the same item at the same time.
- ``PlatformUnavailable`` (or any unexpected error) keeps the item waiting: ``attempts`` grows,
  ``last_error`` says why and ``next_attempt_at`` backs off (capped). A run stops at the first
  unavailable answer, so later items keep their order behind it.
- ``PlatformError`` (the platform refused, 4xx) holds the item: ``next_attempt_at`` becomes
  NULL and ``last_error`` keeps the refusal; it is never retried automatically and stays in the
  table for a person to look at (``held()``).
- Everything lives in the database, so pending items survive a restart.

Logs and ``last_error`` never hold payload contents (personal data), only kinds, keys and
error classes / platform messages.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from workstation.services.audit import utc_now
from workstation.services.crypto import DecryptionError, FieldCipher
from workstation.services.platform import PlatformError, PlatformUnavailable
from workstation.services.store import Store
from workstation.services.tables import OutboxRow

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
# sender(payload, idempotency_key) -> the platform's reply (kept in memory only)
Sender = Callable[[dict[str, Any], str], Any]

CLAIM_LEASE = dt.timedelta(minutes=2)
FIRST_BACKOFF = dt.timedelta(seconds=5)
MAX_BACKOFF = dt.timedelta(minutes=10)
MAX_KEY_LENGTH = 128


class OutboxError(ValueError):
    """An item cannot be enqueued (bad key or kind); ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    created_at: dt.datetime
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None

    @property
    def sent(self) -> bool:
        return self.sent_at is not None

    @property
    def held(self) -> bool:
        """Refused by the platform: waits for a person, never retried automatically."""
        return self.sent_at is None and self.next_attempt_at is None

    def __repr__(self) -> str:  # the payload holds personal data
        return (f"OutboxItem({self.id}, {self.kind}, key={self.idempotency_key}, "
                f"attempts={self.attempts}, sent={self.sent})")


@dataclass(frozen=True)
class DeliveryReport:
    sent: tuple[str, ...] = ()  # idempotency keys delivered in this run
    failed: tuple[str, ...] = ()  # still waiting (unavailable)
    held: tuple[str, ...] = ()  # refused by the platform
    waiting: int = 0  # items not yet sent after the run (held ones included)
    replies: dict[str, Any] = field(default_factory=dict)  # key -> platform reply


def backoff(attempts: int) -> dt.timedelta:
    """5 s, 10 s, 20 s, ... capped at 10 minutes."""
    delay = FIRST_BACKOFF * (2 ** max(0, min(attempts - 1, 16)))
    return min(delay, MAX_BACKOFF)


def _context(key: str) -> str:
    return f"outbox.payload:{key}"


class Outbox:
    """The outbox on one store. Thread-safe; ``deliver_due`` may run on any thread."""

    def __init__(self, store: Store, cipher: FieldCipher, *, clock: Clock = utc_now) -> None:
        self.store = store
        self.cipher = cipher
        self.clock = clock
        self._senders: dict[str, Sender] = {}
        self._lock = threading.Lock()  # one delivery run at a time in this process
        self.listeners: list[Callable[[int], None]] = []
        self._waiting: int | None = None

    # -- senders ----------------------------------------------------------------------------

    def register_sender(self, kind: str, sender: Sender) -> None:
        """The callable that delivers items of ``kind`` (one per kind; a later one replaces)."""
        self._senders[kind] = sender

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._senders)

    # -- queue ------------------------------------------------------------------------------

    def enqueue(self, kind: str, payload: Mapping[str, Any], idempotency_key: str) -> OutboxItem:
        """Store a submission; the same key again returns the stored item unchanged."""
        key = idempotency_key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise OutboxError(f"幂等键应为 1 到 {MAX_KEY_LENGTH} 个字符")
        if not kind or len(kind) > 64:
            raise OutboxError("提交类型应为 1 到 64 个字符")
        existing = self.get(key)
        if existing is not None:
            return self._same_kind(existing, kind)
        now = self.clock()
        row = OutboxRow(
            kind=kind, idempotency_key=key,
            payload=self.cipher.encrypt_json(dict(payload), _context(key)),
            created_at=now, attempts=0, last_error=None, next_attempt_at=now, sent_at=None,
        )
        try:
            with self.store.session() as session:
                session.add(row)
        except IntegrityError:  # another thread or workstation enqueued the same key first
            existing = self.get(key)
            if existing is None:
                raise
            return self._same_kind(existing, kind)
        log.info("outbox: queued %s", kind)
        self._changed()
        item = self.get(key)
        assert item is not None
        return item

    @staticmethod
    def _same_kind(item: OutboxItem, kind: str) -> OutboxItem:
        if item.kind != kind:
            raise OutboxError("该幂等键已用于另一类提交")
        return item

    def get(self, idempotency_key: str) -> OutboxItem | None:
        with self.store.session() as session:
            row = session.execute(
                select(OutboxRow).where(OutboxRow.idempotency_key == idempotency_key)
            ).scalar_one_or_none()
            return self._item(row) if row is not None else None

    def items(self, *, include_sent: bool = True, limit: int = 1000) -> list[OutboxItem]:
        query = select(OutboxRow).order_by(OutboxRow.id).limit(limit)
        if not include_sent:
            query = query.where(OutboxRow.sent_at.is_(None))
        with self.store.session() as session:
            return [self._item(r) for r in session.execute(query).scalars().all()]

    def held(self) -> list[OutboxItem]:
        return [i for i in self.items(include_sent=False) if i.held]

    def pending_count(self) -> int:
        """Items not yet sent (held ones included): what the status bar shows."""
        with self.store.session() as session:
            count = int(session.execute(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            ).scalar_one())
        self._waiting = count
        return count

    @property
    def waiting(self) -> int:
        """The last known number of unsent items, without a query (for the GUI thread)."""
        return self._waiting if self._waiting is not None else 0

    def release(self, idempotency_key: str) -> bool:
        """Make a held item due again (after a person fixed the cause)."""
        with self.store.session() as session:
            result = session.execute(
                update(OutboxRow).where(OutboxRow.idempotency_key == idempotency_key,
                                        OutboxRow.sent_at.is_(None))
                .values(next_attempt_at=self.clock())
            )
            changed = bool(getattr(result, "rowcount", 0))
        self._changed()
        return changed

    # -- delivery ---------------------------------------------------------------------------

    def deliver_due(self, *, limit: int = 100) -> DeliveryReport:
        """Send every due item (oldest first) whose kind has a sender; see the module doc."""
        sent: list[str] = []
        failed: list[str] = []
        held: list[str] = []
        replies: dict[str, Any] = {}
        with self._lock:
            now = self.clock()
            with self.store.session() as session:
                queued = session.execute(
                    select(OutboxRow.id, OutboxRow.kind, OutboxRow.next_attempt_at).where(
                        OutboxRow.sent_at.is_(None), OutboxRow.next_attempt_at.is_not(None),
                        OutboxRow.kind.in_(sorted(self._senders)),
                    ).order_by(OutboxRow.id).limit(limit)
                ).all()
            for row_id, kind, next_attempt_at in queued:
                if next_attempt_at is not None and next_attempt_at > now:
                    break  # an earlier item waits (backoff) or is being sent: keep the order
                item = self._claim(int(row_id), now)
                if item is None:  # another sender is working through the queue
                    break
                key = item.idempotency_key
                try:
                    reply = self._senders[kind](item.payload, key)
                except PlatformUnavailable as exc:
                    self._failed(item, exc.message, now)
                    failed.append(key)
                    break  # the link is down: keep the order, try again later
                except PlatformError as exc:
                    self._hold(item, f"平台拒收（{exc.code}）：{exc.message}")
                    held.append(key)
                    continue
                except Exception as exc:  # a bug or bad payload: retried with backoff
                    log.warning("outbox: sending %s failed: %s", kind, type(exc).__name__)
                    self._failed(item, f"发送失败：{type(exc).__name__}", now)
                    failed.append(key)
                    continue
                self._sent(item)
                sent.append(key)
                replies[key] = reply
        waiting = self.pending_count()
        if sent or failed or held:
            log.info("outbox: %d sent, %d failed, %d held, %d waiting",
                     len(sent), len(failed), len(held), waiting)
        self._notify(waiting)
        return DeliveryReport(tuple(sent), tuple(failed), tuple(held), waiting, replies)

    def _claim(self, row_id: int, now: dt.datetime) -> OutboxItem | None:
        with self.store.session() as session:
            result = session.execute(
                update(OutboxRow).where(
                    OutboxRow.id == row_id, OutboxRow.sent_at.is_(None),
                    OutboxRow.next_attempt_at.is_not(None), OutboxRow.next_attempt_at <= now,
                ).values(next_attempt_at=now + CLAIM_LEASE)
            )
            if not getattr(result, "rowcount", 0):
                return None
            row = session.get(OutboxRow, row_id)
            assert row is not None
            try:
                return self._item(row)
            except DecryptionError:
                row.next_attempt_at = None
                row.last_error = "内容无法解密（密钥不同或数据损坏）"
                log.warning("outbox: item %d does not decrypt; held", row_id)
                return None

    def _sent(self, item: OutboxItem) -> None:
        with self.store.session() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == item.id).values(
                sent_at=self.clock(), attempts=OutboxRow.attempts + 1, last_error=None,
            ))

    def _failed(self, item: OutboxItem, error: str, now: dt.datetime) -> None:
        attempts = item.attempts + 1
        with self.store.session() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == item.id).values(
                attempts=attempts, last_error=error[:500],
                next_attempt_at=now + backoff(attempts),
            ))

    def _hold(self, item: OutboxItem, error: str) -> None:
        with self.store.session() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == item.id).values(
                attempts=OutboxRow.attempts + 1, last_error=error[:500], next_attempt_at=None,
            ))

    # -- internals --------------------------------------------------------------------------

    def _item(self, row: OutboxRow) -> OutboxItem:
        return OutboxItem(
            id=row.id, kind=row.kind, idempotency_key=row.idempotency_key,
            payload=self.cipher.decrypt_json(row.payload, _context(row.idempotency_key)),
            created_at=row.created_at, attempts=row.attempts, last_error=row.last_error,
            next_attempt_at=row.next_attempt_at, sent_at=row.sent_at,
        )

    def _changed(self) -> None:
        self._notify(self.pending_count())

    def _notify(self, waiting: int) -> None:
        for listener in list(self.listeners):
            try:
                listener(waiting)
            except Exception as exc:  # a listener must not break delivery
                log.warning("outbox listener failed: %s", type(exc).__name__)


# -- the generic platform submission ----------------------------------------------------------

PLATFORM_POST = "platform.post"


def platform_post(path: str, call: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of a ``PLATFORM_POST`` item: POST ``body`` to ``path`` (under /api/v1)."""
    if not path.startswith("/api/v1/"):
        raise OutboxError("只能提交到平台接口 /api/v1/")
    return {"path": path, "call": call, "body": dict(body)}


def platform_post_sender(platform: Any) -> Sender:
    """A sender for ``PLATFORM_POST`` items through ``PlatformClient.call_json``."""

    def send(payload: dict[str, Any], key: str) -> Any:
        path = str(payload["path"])
        if not path.startswith("/api/v1/"):
            raise PlatformError(400, "invalid_request", "只能提交到平台接口")
        return platform.call_json("POST", path, str(payload.get("call") or "outbox"),
                                  json=payload.get("body") or {}, idempotency_key=key)

    return send
