"""The PC/SC backend for real: private pcscd + vpcd + the virtual card process.

Every wait is for an event (a reader event on a queue, pcscd's own status change), never a
fixed delay.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import pytest

from devices.cards.model import (
    CardPulled,
    CardStatusError,
    NoCard,
    NoReader,
    PcscServiceUnavailable,
    ReaderState,
    UnknownCard,
)
from devices.cards.pcsc import PcscCardReader
from devices.cards.reader import CardEvent, CardEventKind
from devices.cards.simulated import CardFaults
from tests.helpers.pcsc_fixtures import PROFILE, READER, wait_reader


class EventLog:
    def __init__(self) -> None:
        self.events: queue.Queue[CardEvent] = queue.Queue()

    def __call__(self, event: CardEvent) -> None:
        self.events.put(event)

    def next(self, *kinds: CardEventKind, timeout_s: float = 10.0) -> CardEvent:
        """The next event of one of ``kinds`` (others are skipped)."""
        while True:
            event = self.events.get(timeout=timeout_s)
            if not kinds or event.kind in kinds:
                return event


@pytest.fixture
def monitored(virtual_card) -> Iterator[tuple[PcscCardReader, EventLog]]:
    reader = PcscCardReader(READER)
    log = EventLog()
    reader.start(log)
    event = log.next(CardEventKind.STATE)
    assert event.state is ReaderState.EMPTY
    yield reader, log
    reader.stop()


def test_backend_is_usable_and_lists_the_virtual_readers(pcsc_stack):
    assert PcscCardReader.is_usable()
    assert READER in PcscCardReader().list_readers()


def test_identity_read_over_pcsc(virtual_card):
    virtual_card.insert(PROFILE)
    data = PcscCardReader(READER).wait_for_identity(10)
    assert (data.name, data.ssn, data.card_number) == (PROFILE.name, PROFILE.ssn,
                                                       PROFILE.card_number)
    assert data.atr.startswith(bytes.fromhex("3B6F"))


def test_reader_chosen_by_start_of_name_or_first(virtual_card):
    virtual_card.insert(PROFILE)
    wait_reader(True)
    assert PcscCardReader("virtual pcd 00 00").read_identity().name == PROFILE.name
    first = PcscCardReader(None)
    assert first.read_identity().name == PROFILE.name
    assert first.reader_name == READER


def test_unknown_reader_name_says_which_are_connected(pcsc_stack):
    with pytest.raises(NoReader) as exc:
        PcscCardReader("HID OMNIKEY 3121").read_identity()
    assert "HID OMNIKEY 3121" in exc.value.message and READER in exc.value.message


def test_no_card(virtual_card):
    with pytest.raises(NoCard) as exc:
        PcscCardReader(READER).read_identity()
    assert exc.value.message == "读卡器中没有卡片，请插入社会保障卡"


def test_insert_and_remove_events(monitored, virtual_card):
    reader, log = monitored
    virtual_card.insert(PROFILE)
    assert log.next(CardEventKind.INSERTED, CardEventKind.IDENTITY).kind is CardEventKind.INSERTED
    event = log.next(CardEventKind.IDENTITY, CardEventKind.READ_FAILED)
    assert event.kind is CardEventKind.IDENTITY
    assert event.identity is not None and event.identity.name == PROFILE.name
    assert reader.state is ReaderState.CARD
    virtual_card.remove()
    assert log.next(CardEventKind.REMOVED).state is ReaderState.EMPTY


def test_card_pulled_mid_read_restarts_after_reinsert(monitored, virtual_card):
    """GIVEN a card that leaves the reader after 4 commands (mid EF05)
    WHEN it is read, and then put back
    THEN the first read fails as pulled with no identity, the second is whole."""
    _reader, log = monitored
    virtual_card.insert(PROFILE, CardFaults(vanish_after=4))
    failed = log.next(CardEventKind.READ_FAILED, CardEventKind.IDENTITY)
    assert failed.kind is CardEventKind.READ_FAILED and failed.identity is None
    assert isinstance(failed.error, CardPulled)
    assert "重新插入" in failed.error.message
    log.next(CardEventKind.REMOVED)
    virtual_card.insert(PROFILE)
    event = log.next(CardEventKind.IDENTITY, CardEventKind.READ_FAILED)
    assert event.kind is CardEventKind.IDENTITY and event.identity.ssn == PROFILE.ssn


def test_blocking_read_restarts_from_select_after_a_pull(virtual_card):
    results: queue.Queue[object] = queue.Queue()

    def read() -> None:
        try:
            results.put(PcscCardReader(READER).wait_for_identity(20))
        except Exception as exc:
            results.put(exc)

    virtual_card.insert(PROFILE, CardFaults(vanish_after=7))  # pulled during EF06
    wait_reader(True)
    thread = threading.Thread(target=read)
    thread.start()
    wait_reader(False)  # the card left by itself
    assert results.empty()
    virtual_card.insert(PROFILE)
    thread.join(20)
    data = results.get_nowait()
    assert getattr(data, "name", data) == PROFILE.name


def test_unknown_card_by_atr_and_status_word(monitored, virtual_card):
    _reader, log = monitored
    virtual_card.insert(PROFILE, CardFaults(foreign=True))
    event = log.next(CardEventKind.READ_FAILED, CardEventKind.IDENTITY)
    assert isinstance(event.error, UnknownCard)
    assert "3B 8E 80 01" in event.error.message and "6A82" in event.error.message
    assert event.state is ReaderState.ERROR


def test_error_status_word_is_refused_with_its_meaning(monitored, virtual_card):
    _reader, log = monitored
    virtual_card.insert(PROFILE, CardFaults(errors={"read:EF06:09": 0x6982}))
    event = log.next(CardEventKind.READ_FAILED, CardEventKind.IDENTITY)
    assert isinstance(event.error, CardStatusError) and event.error.sw == 0x6982
    assert "安全状态不满足" in event.error.message


def test_service_gone_and_back(monitored, pcsc_stack, virtual_card):
    """GIVEN a watched reader WHEN pcscd stops (reader unplugged) and starts again
    THEN the state goes to unavailable with a clear message, then back to empty."""
    _reader, log = monitored
    pcsc_stack.pcscd.stop()
    event = log.next(CardEventKind.STATE, timeout_s=15)
    assert event.state in (ReaderState.UNAVAILABLE, ReaderState.NO_READER)
    assert event.error is not None and "读卡" in event.error.message
    with pytest.raises((PcscServiceUnavailable, NoReader)):
        PcscCardReader(READER).read_identity()
    pcsc_stack.pcscd.start()
    while (event := log.next(CardEventKind.STATE, timeout_s=15)).state is not ReaderState.EMPTY:
        pass
    virtual_card.insert(PROFILE)
    assert log.next(CardEventKind.IDENTITY, CardEventKind.READ_FAILED).identity is not None
