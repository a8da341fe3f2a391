"""The locker board's serial frames (the common 5-byte vendor protocol).

Open lock ``L`` on board ``B``: ``8A B L 11 XOR``; query it: ``80 B L 33 XOR``. The board
answers with the same first three bytes, a status byte and the XOR of the first four. The
status byte reports the lock's sensor level (0x00 = low, anything else = high); whether "high"
means open or closed depends on the wiring, hence ``open_level`` in the configuration.
"""

from __future__ import annotations

from enum import StrEnum

from devices.errors import DeviceError

OPEN = 0x8A
QUERY = 0x80
OPEN_ARG = 0x11
QUERY_ARG = 0x33
FRAME_LEN = 5


class LockerError(DeviceError):
    code = "locker"
    default_message = "储物柜控制板故障"


class BoardNotAnswering(LockerError):
    code = "board_not_answering"
    default_message = "储物柜控制板无应答，请检查连接和电源"


class DoorJammed(LockerError):
    code = "door_jammed"
    default_message = "柜门未能打开，可能被卡住，请联系工作人员"


class BadFrame(LockerError):
    code = "locker_frame"
    default_message = "储物柜控制板的应答格式错误"


class DoorState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return "开" if self is DoorState.OPEN else "关"


def checksum(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def make_frame(cmd: int, board: int, lock: int, arg: int) -> bytes:
    body = bytes((cmd, board, lock, arg))
    return body + bytes((checksum(body),))


def open_frame(board: int, lock: int) -> bytes:
    return make_frame(OPEN, board, lock, OPEN_ARG)


def query_frame(board: int, lock: int) -> bytes:
    return make_frame(QUERY, board, lock, QUERY_ARG)


def parse_reply(frame: bytes, cmd: int, board: int, lock: int) -> int:
    """The status byte of a reply to (cmd, board, lock); raises BadFrame."""
    if len(frame) != FRAME_LEN:
        raise BadFrame("储物柜控制板的应答不完整（短帧）")
    if checksum(frame[:4]) != frame[4]:
        raise BadFrame("储物柜控制板的应答校验错误")
    if (frame[0], frame[1], frame[2]) != (cmd, board, lock):
        raise BadFrame("储物柜控制板的应答与命令不符")
    return frame[3]


def door_state(status: int, open_level: int) -> DoorState:
    level = 1 if status else 0
    return DoorState.OPEN if level == open_level else DoorState.CLOSED
