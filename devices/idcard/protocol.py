"""The serial frame protocol of second-generation ID-card readers.

Command: ``AA AA AA 96 69`` + 2-byte big-endian length + command + parameter (+ data) +
checksum; the length counts the bytes after it (command, parameter, data, checksum) and the
checksum is the XOR of the length bytes and everything up to it.

Reply: the same header + length + SW1 SW2 SW3 + data + checksum. SW3 is the status (90 done,
9F card found, 80 no card, ...). Read (30 01) returns text length (2 bytes), photo length
(2 bytes), 256 bytes of UCS-2 text and 1024 bytes of photo (WLT, kept as bytes, not decoded).

Text layout (UCS-2 little-endian, space padded): name 30, sex 2, nation 4, birth date 16,
address 70, ID number 36, issuing authority 30, valid from 16, valid to 16, reserved 36.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from devices.cards.model import NATION_BY_CODE, SEX_CODES
from devices.errors import DeviceError

HEADER = bytes.fromhex("AAAAAA9669")
FIND = (0x20, 0x01)
SELECT = (0x20, 0x02)
READ = (0x30, 0x01)
TEXT_LEN = 256
PHOTO_LEN = 1024
MAX_FRAME_BODY = 4096
TEXT_FIELDS = (  # (name, bytes)
    ("name", 30), ("sex", 2), ("nation", 4), ("birth", 16), ("address", 70),
    ("id_number", 36), ("authority", 30), ("valid_from", 16), ("valid_to", 16),
    ("reserved", 36),
)

SW3_OK = 0x90
SW3_FOUND = 0x9F
SW3_MESSAGES = {
    0x10: "读卡器收到的数据校验和错误",
    0x11: "读卡器收到的数据长度错误",
    0x21: "读卡器不接受此命令",
    0x23: "越权操作",
    0x24: "读卡器无法识别的错误",
    0x31: "身份证认证读卡器失败",
    0x32: "读卡器认证身份证失败",
    0x33: "身份证信息验证错误",
    0x40: "无法识别的卡类型",
    0x41: "读身份证失败",
    0x47: "取随机数失败",
    0x60: "安全模块自检失败",
    0x66: "安全模块未经授权",
    0x80: "未找到身份证",
    0x81: "选取身份证失败",
    0x91: "无此内容",
}


class IdCardReaderError(DeviceError):
    code = "id_reader"
    default_message = "身份证阅读器故障，请检查连接后重试"


class FrameError(IdCardReaderError):
    """A reply that is not a valid frame (header, length, checksum): it is refused whole."""

    code = "id_frame"


class IdCardStatusError(IdCardReaderError):
    code = "id_status"

    def __init__(self, sw3: int, step: str) -> None:
        self.sw3 = sw3
        meaning = SW3_MESSAGES.get(sw3, "未知状态")
        super().__init__(f"身份证阅读器报告错误（{step}：{meaning}，状态 {sw3:02X}）")


class NoIdCard(IdCardReaderError):
    code = "no_id_card"
    default_message = "阅读器上没有身份证，请把身份证放在感应区"


def xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def frame(body: bytes) -> bytes:
    """Header + length + ``body`` + checksum (length counts body and checksum)."""
    length = (len(body) + 1).to_bytes(2, "big")
    return HEADER + length + body + bytes((xor(length + body),))


def command(cmd: tuple[int, int], data: bytes = b"") -> bytes:
    return frame(bytes(cmd) + data)


def reply(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return frame(bytes((sw1, sw2, sw3)) + data)


def split_frame(raw: bytes) -> bytes:
    """The body of a complete frame (without length and checksum); raises FrameError."""
    if len(raw) < len(HEADER) + 3:
        raise FrameError("身份证阅读器的应答不完整（短帧），请重试")
    if not raw.startswith(HEADER):
        raise FrameError("身份证阅读器的应答帧头错误，请检查串口设置")
    length = int.from_bytes(raw[5:7], "big")
    if len(raw) != 7 + length or length < 1:
        raise FrameError("身份证阅读器的应答长度不符（短帧），请重试")
    body, checksum = raw[7:-1], raw[-1]
    if xor(raw[5:-1]) != checksum:
        raise FrameError("身份证阅读器的应答校验和错误，数据已丢弃，请重试")
    return body


def parse_reply(raw: bytes) -> tuple[int, bytes]:
    """(SW3, data) of a reply frame; raises FrameError."""
    body = split_frame(raw)
    if len(body) < 3:
        raise FrameError("身份证阅读器的应答缺少状态字（短帧），请重试")
    return body[2], body[3:]


@dataclass(frozen=True)
class IdCardData:
    """What a second-generation ID card holds. Personal data: never log it."""

    name: str
    sex: str
    nation: str
    birth_date: dt.date
    address: str
    id_number: str
    authority: str
    valid_from: dt.date
    valid_to: dt.date | None  # None = 长期
    photo: bytes = field(default=b"", repr=False)  # WLT-compressed, not decoded here

    def __repr__(self) -> str:
        return f"IdCardData(id={self.id_number[:6]}…, photo={len(self.photo)} bytes)"

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "sex": self.sex, "nation": self.nation,
                "birth_date": self.birth_date.isoformat(), "address": self.address,
                "id_number": self.id_number, "authority": self.authority,
                "valid_from": self.valid_from.isoformat(),
                "valid_to": self.valid_to.isoformat() if self.valid_to else None,
                "photo": self.photo.hex()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IdCardData:
        return cls(
            name=data["name"], sex=data["sex"], nation=data["nation"],
            birth_date=dt.date.fromisoformat(data["birth_date"]), address=data["address"],
            id_number=data["id_number"], authority=data["authority"],
            valid_from=dt.date.fromisoformat(data["valid_from"]),
            valid_to=dt.date.fromisoformat(data["valid_to"]) if data.get("valid_to") else None,
            photo=bytes.fromhex(data.get("photo") or "") or bytes(1024),
        )


def _date(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _text_fields(text: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    offset = 0
    for name, size in TEXT_FIELDS:
        fields[name] = text[offset : offset + size].decode("utf-16-le").rstrip(" \x00")
        offset += size
    return fields


def parse_read(data: bytes) -> IdCardData:
    """Decode the data of a read (30 01) reply; raises FrameError when it does not add up."""
    if len(data) < 4:
        raise FrameError("身份证信息不完整（短帧），请重新放置身份证")
    text_len = int.from_bytes(data[:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if text_len != TEXT_LEN or len(data) != 4 + text_len + photo_len:
        raise FrameError("身份证信息长度不符，请重新放置身份证")
    text, photo = data[4 : 4 + text_len], data[4 + text_len :]
    try:
        f = _text_fields(text)
        valid_to = None if f["valid_to"] in ("长期", "") else _date(f["valid_to"])
        return IdCardData(
            name=f["name"], sex=SEX_CODES[f["sex"]], nation=NATION_BY_CODE[int(f["nation"])],
            birth_date=_date(f["birth"]), address=f["address"], id_number=f["id_number"].upper(),
            authority=f["authority"], valid_from=_date(f["valid_from"]), valid_to=valid_to,
            photo=photo,
        )
    except (UnicodeDecodeError, ValueError, KeyError):
        raise FrameError("身份证信息格式不正确，请重新放置身份证") from None


def encode_text(card: IdCardData) -> bytes:
    """The 256-byte text block of ``card`` (for the simulator)."""
    from devices.cards.model import CODE_BY_NATION

    values = {
        "name": card.name, "sex": {"男": "1", "女": "2"}.get(card.sex, "9"),
        "nation": f"{CODE_BY_NATION.get(card.nation, 97):02d}",
        "birth": f"{card.birth_date:%Y%m%d}", "address": card.address,
        "id_number": card.id_number, "authority": card.authority,
        "valid_from": f"{card.valid_from:%Y%m%d}",
        "valid_to": "长期" if card.valid_to is None else f"{card.valid_to:%Y%m%d}",
        "reserved": "",
    }
    out = b""
    for name, size in TEXT_FIELDS:
        encoded = values[name].encode("utf-16-le")[:size]
        out += encoded + " ".encode("utf-16-le") * ((size - len(encoded)) // 2)
    return out
