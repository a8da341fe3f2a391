"""The serial locker board over its simulator: frames, polarity, jams, silence, events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.locker.board import LockerEvent, LockerEventKind, SerialLockerBoard
from devices.locker.protocol import (
    BadFrame,
    BoardNotAnswering,
    DoorJammed,
    DoorState,
    LockerError,
    open_frame,
    parse_reply,
    query_frame,
)
from devices.locker.simulator import SimulatedLockerBoard


@pytest.fixture(params=[1, 0], ids=["open-high", "open-low"])
def wired(request) -> Iterator[tuple[SimulatedLockerBoard, SerialLockerBoard]]:
    """A board and its driver agreeing on the wiring (both polarities)."""
    with SimulatedLockerBoard(board=2, doors=8, open_level=request.param) as sim:
        board = SerialLockerBoard(sim.port, board=2, doors=8, open_level=request.param,
                                  timeout_s=0.2, retries=1)
        yield sim, board
        board.stop()


def test_frames():
    assert open_frame(1, 3).hex().upper() == "8A01031199"
    assert query_frame(1, 3).hex().upper() == "80010333B1"
    with pytest.raises(BadFrame):
        parse_reply(bytes.fromhex("8A010311FF"), 0x8A, 1, 3)
    with pytest.raises(BadFrame):
        parse_reply(bytes.fromhex("8A0103"), 0x8A, 1, 3)


def test_open_and_close_with_either_polarity(wired):
    sim, board = wired
    assert board.door(3) is DoorState.CLOSED
    assert board.open_door(3) is DoorState.OPEN
    assert sim.received[-1] == open_frame(2, 3)
    assert board.door(3) is DoorState.OPEN
    sim.close_door(3)
    assert board.door(3) is DoorState.CLOSED


def test_wrong_polarity_is_visible():
    with SimulatedLockerBoard(open_level=0) as sim:
        board = SerialLockerBoard(sim.port, open_level=1, timeout_s=0.2)
        try:
            assert board.door(1) is DoorState.OPEN  # miswired configuration: reads inverted
        finally:
            board.stop()


def test_jammed_door(wired):
    sim, board = wired
    sim.jammed.add(5)
    with pytest.raises(DoorJammed) as exc:
        board.open_door(5)
    assert "5 号柜门未能打开" in exc.value.message


def test_board_not_answering_after_retries(wired):
    sim, board = wired
    sim.silent = True
    with pytest.raises(BoardNotAnswering) as exc:
        board.door(1)
    assert "无应答" in exc.value.message
    assert len(sim.received) == 2  # first try + one retry


def test_a_corrupt_reply_is_retried(wired):
    sim, board = wired
    sim.corrupt_next = 1
    assert board.open_door(1) is DoorState.OPEN
    sim.corrupt_next = 2
    with pytest.raises(BadFrame):
        board.door(1)


def test_no_such_door(wired):
    _sim, board = wired
    with pytest.raises(LockerError) as exc:
        board.open_door(9)
    assert "没有 9 号柜门" in exc.value.message


def test_events_door_opened_closed_stuck_and_board_silent(wired):
    sim, board = wired
    events: list[LockerEvent] = []
    board.poll(events.append)  # first look: no events, states known
    assert events == []
    board.open_door(2)
    board.poll(events.append)
    assert events == [LockerEvent(LockerEventKind.DOOR_OPENED, 2)]
    sim.stuck_open.add(2)
    sim.close_door(2)  # the door stays open
    board.poll(events.append)
    assert len(events) == 1
    sim.stuck_open.clear()
    sim.close_door(2)
    board.poll(events.append)
    assert events[-1] == LockerEvent(LockerEventKind.DOOR_CLOSED, 2)
    sim.silent = True
    board.poll(events.append)
    board.poll(events.append)  # reported once, not on every poll
    assert [e.kind for e in events[-1:]] == [LockerEventKind.BOARD_NOT_ANSWERING]
    assert sum(e.kind is LockerEventKind.BOARD_NOT_ANSWERING for e in events) == 1
    sim.silent = False
    board.poll(events.append)
    assert events[-1].kind is LockerEventKind.BOARD_BACK
