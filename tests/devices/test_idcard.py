"""The serial ID-card reader over its simulator on a pseudo-terminal."""

from __future__ import annotations

import datetime as dt
import queue
from collections.abc import Iterator

import pytest

from devices.cards.model import ReaderState
from devices.cards.reader import CardEventKind
from devices.idcard.monitor import IdCardReaderMonitor
from devices.idcard.protocol import (
    FrameError,
    IdCardData,
    IdCardReaderError,
    IdCardStatusError,
    NoIdCard,
    command,
    parse_reply,
    reply,
)
from devices.idcard.reader import SerialIdCardReader
from devices.idcard.simulator import SimulatedIdCardReader

CARD = IdCardData(
    name="欧阳建国", sex="男", nation="土家", birth_date=dt.date(1949, 12, 31),
    address="湖北省赤壁市蒲圻街道金鸡路8号附3号", id_number="11010519491231002X",
    authority="赤壁市公安局", valid_from=dt.date(2015, 3, 2), valid_to=None,
    photo=bytes(range(256)) * 4,
)


@pytest.fixture
def sim() -> Iterator[SimulatedIdCardReader]:
    with SimulatedIdCardReader() as simulator:
        yield simulator


@pytest.fixture
def reader(sim) -> Iterator[SerialIdCardReader]:
    r = SerialIdCardReader(sim.port, timeout_s=0.3)
    yield r
    r.close()


def test_frames_have_header_length_and_xor_checksum():
    assert command((0x20, 0x01)).hex().upper() == "AAAAAA96690003200122"
    assert parse_reply(reply(0x9F, b"\x00\x00")) == (0x9F, b"\x00\x00")


def test_reads_the_whole_identity_and_keeps_the_photo_bytes(sim, reader):
    assert SerialIdCardReader.is_usable() and SimulatedIdCardReader.is_usable()
    sim.place(CARD)
    data = reader.read_identity()
    assert data == CARD
    assert data.photo == CARD.photo and len(data.photo) == 1024
    assert sim.commands == ["find", "select", "read"]
    assert "欧阳" not in repr(data)


def test_fixed_term_card(sim, reader):
    card = IdCardData(**{**CARD.__dict__, "valid_to": dt.date(2035, 3, 2), "sex": "女",
                         "nation": "汉"})
    sim.place(card)
    assert reader.read_identity() == card


def test_no_card(sim, reader):
    with pytest.raises(NoIdCard) as exc:
        reader.read_identity()
    assert "感应区" in exc.value.message


@pytest.mark.parametrize(("fault", "error", "words"), [
    ("bad_checksum", FrameError, "校验和"),
    ("short", FrameError, "短帧"),
    ("silent", IdCardReaderError, "无应答"),
    ("status:41", IdCardStatusError, "读身份证失败"),
])
def test_broken_replies_are_refused_with_clear_messages(sim, reader, fault, error, words):
    sim.place(CARD)
    sim.faults["read"] = fault
    with pytest.raises(error) as exc:
        reader.read_identity()
    assert words in exc.value.message
    assert reader.read_identity() == CARD  # the next read is whole again


def test_select_failure_and_status_on_find(sim, reader):
    sim.place(CARD)
    sim.faults["select"] = "status:81"
    with pytest.raises(NoIdCard):
        reader.read_identity()
    sim.faults["find"] = "status:60"
    with pytest.raises(IdCardStatusError) as exc:
        reader.read_identity()
    assert "安全模块自检失败" in exc.value.message and exc.value.sw3 == 0x60


def test_a_port_that_does_not_exist():
    with pytest.raises(IdCardReaderError) as exc:
        SerialIdCardReader("/dev/ttyNOPE9").read_identity()
    assert "/dev/ttyNOPE9" in exc.value.message


def test_simulator_refuses_a_command_with_a_bad_checksum(sim):
    import serial

    with serial.Serial(sim.port, timeout=1) as port:
        bad = bytearray(command((0x20, 0x01)))
        bad[-1] ^= 0xFF
        port.write(bytes(bad))
        raw = port.read(11)
    assert parse_reply(raw)[0] == 0x10


# -- the monitor: the same events as a smart-card reader --------------------------------------

@pytest.fixture
def monitor(sim):
    events: queue.Queue = queue.Queue()
    mon = IdCardReaderMonitor(SerialIdCardReader(sim.port, timeout_s=0.3), interval_s=0.02)
    mon.start(events.put)
    yield mon, events
    mon.stop()


def next_event(events, *kinds, timeout_s=10.0):
    while True:
        event = events.get(timeout=timeout_s)
        if event.kind in kinds:
            return event


def test_monitor_reports_a_card_once_and_its_removal(sim, monitor):
    mon, events = monitor
    assert next_event(events, CardEventKind.STATE).state is ReaderState.EMPTY
    sim.place(CARD)
    assert next_event(events, CardEventKind.INSERTED).state is ReaderState.READING
    event = next_event(events, CardEventKind.IDENTITY)
    assert event.identity == CARD and mon.state is ReaderState.CARD
    sim.take()
    assert next_event(events, CardEventKind.REMOVED, CardEventKind.IDENTITY).kind is \
        CardEventKind.REMOVED
    assert not mon.ends_session_on_removal  # the citizen takes an ID card back at once


def test_monitor_reports_a_bad_frame_once_then_reads(sim, monitor):
    _mon, events = monitor
    next_event(events, CardEventKind.STATE)
    sim.faults["read"] = "bad_checksum"
    sim.place(CARD)
    failed = next_event(events, CardEventKind.READ_FAILED, CardEventKind.IDENTITY)
    assert failed.kind is CardEventKind.READ_FAILED and "校验和" in failed.error.message
    assert next_event(events, CardEventKind.IDENTITY).identity == CARD


def test_monitor_reports_a_silent_reader(sim, monitor):
    _mon, events = monitor
    next_event(events, CardEventKind.STATE)
    sim.faults["find"] = "silent"
    event = next_event(events, CardEventKind.STATE)
    assert event.state is ReaderState.NO_READER and "无应答" in event.error.message
    assert next_event(events, CardEventKind.STATE).state is ReaderState.EMPTY  # answers again
