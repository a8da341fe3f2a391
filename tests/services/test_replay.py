"""Offline replay detection of one-time codes."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from tests.helpers.db_fixtures import ManualClock
from workstation.services.replay import SeenCodes, jti_hash
from workstation.services.store import Store
from workstation.services.tables import SeenCodeRow


def test_mark_once(store: Store, clock: ManualClock) -> None:
    seen = SeenCodes(store, clock=clock)
    exp = clock() + dt.timedelta(seconds=60)
    assert seen.mark("a1b2c3d4e5f60718", exp) is True
    assert seen.mark("a1b2c3d4e5f60718", exp) is False
    assert seen.mark("ffffeeeeddddcccc", exp) is True
    assert seen.seen("a1b2c3d4e5f60718")
    assert not seen.seen("0000000000000000")


def test_stores_only_a_hash(store: Store, clock: ManualClock) -> None:
    SeenCodes(store, clock=clock).mark("a1b2c3d4e5f60718", clock() + dt.timedelta(seconds=60))
    with store.session() as session:
        keys = session.execute(select(SeenCodeRow.jti_hash)).scalars().all()
    assert keys == [jti_hash("a1b2c3d4e5f60718")]
    assert "a1b2c3d4e5f60718" not in keys[0]


def test_prunes_expired(store: Store, clock: ManualClock) -> None:
    seen = SeenCodes(store, clock=clock, grace=dt.timedelta(minutes=5))
    seen.mark("old", clock() + dt.timedelta(seconds=60))
    clock.advance(minutes=3)
    assert seen.prune() == 0  # still inside expiry + grace
    assert seen.mark("old", clock() + dt.timedelta(seconds=60)) is False
    clock.advance(minutes=10)
    seen.mark("new", clock() + dt.timedelta(seconds=60))  # marking prunes too
    assert not seen.seen("old")
    with store.session() as session:
        assert len(session.execute(select(SeenCodeRow)).all()) == 1


def test_matches_replay_guard_shape(store: Store, clock: ManualClock) -> None:
    guard = SeenCodes(store, clock=clock).mark
    assert guard("abc", clock() + dt.timedelta(seconds=60)) is True
    assert guard("abc", clock() + dt.timedelta(seconds=60)) is False


def test_one_winner_across_workstations(store: Store, clock: ManualClock) -> None:
    other = Store.open(store.url)
    try:
        guards = [SeenCodes(store, clock=clock), SeenCodes(other, clock=clock)]
        results: list[bool] = []
        barrier = threading.Barrier(8)
        exp = clock() + dt.timedelta(seconds=60)

        def worker(i: int) -> None:
            barrier.wait()
            results.append(guards[i % 2].mark("shared-jti", exp))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False] * 7 + [True]
    finally:
        other.close()
