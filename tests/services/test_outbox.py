"""The durable outbox on SQLite and PostgreSQL: enqueue, deliver once, back off, survive restart."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers.db_fixtures import ManualClock
from workstation.services.crypto import FieldCipher
from workstation.services.outbox import Outbox, OutboxError, backoff
from workstation.services.platform import PlatformError, PlatformUnavailable
from workstation.services.store import Store
from workstation.services.tables import OutboxRow


class FakeReceiver:
    """A platform that dedupes by idempotency key, like the sandbox; can be down."""

    def __init__(self) -> None:
        self.down = False
        self.refuse = False
        self.lose_reply_once = False
        self.calls: list[str] = []
        self.received: dict[str, dict[str, Any]] = {}

    def __call__(self, payload: dict[str, Any], key: str) -> dict[str, Any]:
        self.calls.append(key)
        if self.down:
            raise PlatformUnavailable("平台维护中")
        if self.refuse:
            raise PlatformError(400, "invalid_request", "字段不正确")
        duplicate = key in self.received
        self.received.setdefault(key, payload)
        if self.lose_reply_once:  # stored, but the answer never reaches the workstation
            self.lose_reply_once = False
            raise PlatformUnavailable("响应超时")
        return {"receipt": f"R-{key}", "duplicate": duplicate}


@pytest.fixture
def outbox(store: Store, cipher: FieldCipher, clock: ManualClock) -> Outbox:
    return Outbox(store, cipher, clock=clock)


def test_enqueue_stores_the_payload_encrypted_and_is_idempotent(outbox, store):
    item = outbox.enqueue("archive", {"name": "张卫国", "n": 1}, "case-1:file-1")
    again = outbox.enqueue("archive", {"name": "other"}, "case-1:file-1")
    assert again.id == item.id and again.payload == {"name": "张卫国", "n": 1}
    assert outbox.pending_count() == 1
    with store.session() as session:
        raw = session.execute(select(OutboxRow.payload)).scalar_one()
    assert "张卫国".encode() not in raw and b"name" not in raw
    with pytest.raises(OutboxError):
        outbox.enqueue("other_kind", {}, "case-1:file-1")
    with pytest.raises(OutboxError):
        outbox.enqueue("archive", {}, " ")


def test_delivers_in_order_and_never_twice(outbox):
    receiver = FakeReceiver()
    outbox.register_sender("archive", receiver)
    for i in range(3):
        outbox.enqueue("archive", {"i": i}, f"k{i}")
    report = outbox.deliver_due()
    assert report.sent == ("k0", "k1", "k2") and report.waiting == 0
    assert report.replies["k1"]["receipt"] == "R-k1"
    assert outbox.deliver_due().sent == ()
    assert receiver.calls == ["k0", "k1", "k2"]
    assert all(i.sent and i.attempts == 1 for i in outbox.items())


def test_platform_down_keeps_items_and_backs_off(outbox, clock):
    receiver = FakeReceiver()
    receiver.down = True
    outbox.register_sender("archive", receiver)
    outbox.enqueue("archive", {"i": 0}, "k0")
    outbox.enqueue("archive", {"i": 1}, "k1")
    report = outbox.deliver_due()
    assert report.failed == ("k0",) and report.sent == () and report.waiting == 2
    assert receiver.calls == ["k0"]  # the run stops at the first unavailable answer
    item = outbox.get("k0")
    assert item is not None and item.attempts == 1 and item.last_error == "平台维护中"
    assert item.next_attempt_at == clock() + backoff(1)
    assert outbox.deliver_due().failed == ()  # not due yet: nothing is called
    assert receiver.calls == ["k0"]
    receiver.down = False
    clock.advance(seconds=5)
    assert outbox.deliver_due().sent == ("k0", "k1")


def test_a_lost_reply_is_resent_with_the_same_key_and_received_once(outbox, clock):
    receiver = FakeReceiver()
    receiver.lose_reply_once = True
    outbox.register_sender("archive", receiver)
    outbox.enqueue("archive", {"i": 0}, "k0")
    assert outbox.deliver_due().failed == ("k0",)
    clock.advance(minutes=1)
    report = outbox.deliver_due()
    assert report.sent == ("k0",) and report.replies["k0"]["duplicate"] is True
    assert receiver.calls == ["k0", "k0"] and list(receiver.received) == ["k0"]


def test_refused_items_are_held_not_retried(outbox, clock):
    receiver = FakeReceiver()
    receiver.refuse = True
    outbox.register_sender("archive", receiver)
    outbox.enqueue("archive", {}, "k0")
    report = outbox.deliver_due()
    assert report.held == ("k0",) and report.waiting == 1
    held = outbox.held()
    assert [i.idempotency_key for i in held] == ["k0"]
    assert held[0].last_error is not None and "invalid_request" in held[0].last_error
    clock.advance(days=1)
    assert outbox.deliver_due().held == ()
    receiver.refuse = False
    assert outbox.release("k0")
    assert outbox.deliver_due().sent == ("k0",)


def test_pending_items_survive_a_restart(store, cipher, clock):
    first = Outbox(store, cipher, clock=clock)
    first.enqueue("archive", {"x": "y"}, "k0")
    reopened = Store.open(store.url)
    try:
        second = Outbox(reopened, cipher, clock=clock)
        receiver = FakeReceiver()
        second.register_sender("archive", receiver)
        assert second.pending_count() == 1
        assert second.deliver_due().sent == ("k0",)
        assert receiver.received["k0"] == {"x": "y"}
    finally:
        reopened.close()


def test_two_senders_at_once_send_each_item_once(store, cipher, clock):
    a, b = Outbox(store, cipher, clock=clock), Outbox(store, cipher, clock=clock)
    receiver = FakeReceiver()
    lock = threading.Lock()

    def send(payload: dict[str, Any], key: str) -> Any:
        with lock:
            return receiver(payload, key)

    a.register_sender("archive", send)
    b.register_sender("archive", send)
    for i in range(20):
        a.enqueue("archive", {"i": i}, f"k{i}")
    threads = [threading.Thread(target=o.deliver_due) for o in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(receiver.calls) == sorted(f"k{i}" for i in range(20))


def test_kinds_without_a_sender_wait_and_listeners_hear_counts(outbox):
    counts: list[int] = []
    outbox.listeners.append(counts.append)
    outbox.enqueue("unknown", {}, "k0")
    assert outbox.deliver_due().waiting == 1
    assert counts[-1] == 1 and outbox.waiting == 1


def test_backoff_is_capped():
    assert backoff(1) == dt.timedelta(seconds=5)
    assert backoff(3) == dt.timedelta(seconds=20)
    assert backoff(50) == dt.timedelta(minutes=10)


def test_platform_post_payload_goes_only_to_the_api():
    from workstation.services.outbox import platform_post

    assert platform_post("/api/v1/x", "x", {"a": 1})["body"] == {"a": 1}
    with pytest.raises(OutboxError):
        platform_post("http://evil/", "x", {})
