"""Scenario records on SQLite and PostgreSQL: sealed data, scoping, compare-and-set, claims."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.helpers.db_fixtures import PERSON_ID, ManualClock
from workstation.services.crypto import FieldCipher
from workstation.services.records import RecordConflict, RecordExists, RecordService
from workstation.services.store import Store
from workstation.services.tables import ScenarioRecordRow


@pytest.fixture
def records(store: Store, cipher: FieldCipher, clock: ManualClock) -> RecordService:
    return RecordService(store, cipher, clock=clock)


def test_data_is_sealed_and_the_holder_only_hashed(records, store, cipher):
    mine = records.scoped("form_filling")
    rec = mine.create("history", "f-1", {"name": "张三", "id": PERSON_ID}, state="submitted",
                      holder_id=PERSON_ID)
    assert rec.version == 1 and rec.data["name"] == "张三" and rec.state == "submitted"
    with store.session(write_lock=False) as session:
        row = session.scalars(select(ScenarioRecordRow)).one()
    assert "张三".encode() not in row.data and PERSON_ID.encode() not in row.data
    assert row.holder_hash == cipher.holder_hash(PERSON_ID) != PERSON_ID
    assert mine.get("history", "f-1") == rec


def test_a_sealed_value_cannot_be_moved_to_another_row(records, store):
    mine = records.scoped("locker")
    mine.create("item", "a", {"code": "111"})
    mine.create("item", "b", {"code": "222"})
    with store.session() as session:
        rows = {r.key: r for r in session.scalars(select(ScenarioRecordRow))}
        rows["b"].data = rows["a"].data  # an attacker copies ciphertext between rows
    with pytest.raises(Exception):  # noqa: B017 - the cipher's authentication error
        mine.get("item", "b")


def test_scenarios_do_not_see_each_other(records):
    records.scoped("pharmacy").put("settlement", "s1", {"total": 100})
    assert records.scoped("locker").get("settlement", "s1") is None
    assert records.scoped("locker").find("settlement") == []
    assert len(records.scoped("pharmacy").find("settlement")) == 1


def test_create_refuses_an_existing_key_and_put_replaces(records):
    mine = records.scoped("gas_connection")
    mine.create("draft", "k", {"v": 1})
    with pytest.raises(RecordExists):
        mine.create("draft", "k", {"v": 2})
    again = mine.put("draft", "k", {"v": 3}, state="saved")
    assert again.data == {"v": 3} and again.version == 2 and again.state == "saved"


def test_update_is_compare_and_set(records, clock):
    mine = records.scoped("locker")
    rec = mine.create("door", "A01", {}, state="free")
    clock.advance(seconds=5)
    moved = mine.update("door", "A01", expect_version=rec.version, state="reserved",
                        data={"item": "x"})
    assert moved.version == 2 and moved.updated_at > rec.updated_at
    with pytest.raises(RecordConflict) as stale:
        mine.update("door", "A01", expect_version=rec.version, state="open")
    assert "其他操作" in stale.value.message
    with pytest.raises(RecordConflict):
        mine.update("door", "A01", expect_state=("free", "opening"), state="open")
    assert mine.get("door", "A01").state == "reserved"  # nothing changed by the losers
    with pytest.raises(LookupError):
        mine.update("door", "Z99", state="open")


def test_find_filters_by_holder_and_state_newest_first(records, clock):
    mine = records.scoped("form_filling")
    for i, state in enumerate(["draft", "submitted", "submitted"]):
        clock.advance(seconds=1)
        mine.create("history", f"h{i}", {"i": i}, state=state, holder_id=PERSON_ID)
    mine.create("history", "other", {"i": 9}, state="submitted", holder_id="110101199003074514")
    found = mine.find("history", holder_id=PERSON_ID, state="submitted")
    assert [r.key for r in found] == ["h2", "h1"]
    assert {r.key for r in mine.find("history", state=["draft", "submitted"])} == {
        "h0", "h1", "h2", "other"}
    assert mine.delete("history", "h0") and not mine.delete("history", "h0")


def test_concurrent_claims_never_hand_out_the_same_key(records):
    """Threads racing for doors (one connection each): every door goes to exactly one."""
    mine = records.scoped("locker")
    doors = [f"D{i:02d}" for i in range(12)]
    for door in doors:
        mine.create("door", door, {}, state="free")
    won: list[str] = []
    lock = threading.Lock()

    def kiosk(n: int) -> None:
        for _ in range(4):
            rec = mine.claim_first("door", doors, from_state="free", to_state="reserved",
                                   data={"by": n})
            if rec is not None:
                with lock:
                    won.append(rec.key)

    threads = [threading.Thread(target=kiosk, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == doors  # 24 attempts, 12 doors: each claimed once, none twice
    assert mine.claim_first("door", doors, from_state="free", to_state="reserved") is None
