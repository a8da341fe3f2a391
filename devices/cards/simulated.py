"""A simulated third-generation social security card: the APDU side of the card itself.

It answers SELECT (by DF name, by file id), READ RECORD and GET RESPONSE like a real card does
for the records the profile reads, and can misbehave on purpose (``CardFaults``): vanish after
N commands (a card pulled mid-read), answer a command with an error status word, or be some
other card altogether (another ATR, no social security application).

:class:`devices.cards.vpcd.VpcdCardSlot` puts it into a vpcd reader; tests may also call
:meth:`SimulatedSocialSecurityCard.respond` directly.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from devices.cards.model import CODE_BY_NATION, bcd_encode, date_bcd, tlv_encode
from devices.cards.sscard import DF_NAME, EF_CARD, EF_HOLDER

# A plausible ATR of a contact CPU card (T=1, with historical bytes "SSCARD3").
SSC_ATR = bytes.fromhex("3B 6F 00 00 80 31 E0 6B 53 53 43 41 52 44 33 00 00 00 00 00 90")
# A bank card's ATR (PBOC), for "unknown card" tests.
OTHER_ATR = bytes.fromhex("3B 8E 80 01 80 31 80 66 B0 84 0C 01 6E 01 83 00 90 00 1C")


class CardVanished(Exception):
    """Raised by ``respond`` when the card leaves the reader before answering."""


@dataclass(frozen=True)
class SocialSecurityCardProfile:
    """The data written on a card (JSON-friendly: dates as ISO strings in ``to_json``)."""

    card_id: str
    card_number: str
    issued_on: dt.date
    expires_on: dt.date
    ssn: str
    name: str
    sex: str  # 男 / 女
    nation: str = "汉"
    birthplace: str = ""  # region code; default: the ID number's first six digits
    birth_date: dt.date | None = None  # default: from the ID number

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, dt.date):
                out[key] = value.isoformat()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SocialSecurityCardProfile:
        values = dict(data)
        for key in ("issued_on", "expires_on", "birth_date"):
            if values.get(key):
                values[key] = dt.date.fromisoformat(values[key])
        return cls(**values)

    def records(self) -> dict[int, dict[int, bytes]]:
        """EF -> record number -> TLV-encoded record, as stored on the card."""
        birth = self.birth_date or dt.date(
            int(self.ssn[6:10]), int(self.ssn[10:12]), int(self.ssn[12:14])
        )
        name = self.name.encode("gbk")[:30].ljust(30, b"\x00")
        sex = {"男": b"1", "女": b"2"}.get(self.sex, b"9")
        return {
            EF_CARD: {
                0x01: tlv_encode(0x01, self.card_id.encode("ascii")),
                0x05: tlv_encode(0x05, date_bcd(self.issued_on)),
                0x06: tlv_encode(0x06, date_bcd(self.expires_on)),
                0x07: tlv_encode(0x07, self.card_number.encode("ascii")),
            },
            EF_HOLDER: {
                0x08: tlv_encode(0x08, self.ssn.encode("ascii")),
                0x09: tlv_encode(0x09, name),
                0x0A: tlv_encode(0x0A, sex),
                0x0B: tlv_encode(0x0B, bytes((CODE_BY_NATION.get(self.nation, 97),))),
                0x0C: tlv_encode(0x0C, bcd_encode(self.birthplace or self.ssn[:6])),
                0x0D: tlv_encode(0x0D, date_bcd(birth)),
            },
        }


@dataclass(frozen=True)
class CardFaults:
    """Ways the card misbehaves on purpose.

    - ``vanish_after``: the card answers that many commands, then leaves the reader without
      answering the next one (a card pulled mid-read). Counted from insertion.
    - ``errors``: a status word for a step: ``"select:DF"``, ``"select:EF06"``,
      ``"read:EF06:09"`` (hexadecimal, upper case).
    - ``foreign``: another kind of card (a bank card's ATR, no social security application).
    """

    vanish_after: int | None = None
    errors: dict[str, int] = field(default_factory=dict)
    foreign: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"vanish_after": self.vanish_after, "errors": dict(self.errors),
                "foreign": self.foreign}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> CardFaults:
        data = data or {}
        return cls(vanish_after=data.get("vanish_after"),
                   errors={str(k): int(v) for k, v in (data.get("errors") or {}).items()},
                   foreign=bool(data.get("foreign", False)))


class SimulatedSocialSecurityCard:
    """The card's command interpreter. Thread-safe; ``commands`` counts answered APDUs."""

    def __init__(self, profile: SocialSecurityCardProfile,
                 faults: CardFaults | None = None) -> None:
        self.profile = profile
        self.faults = faults or CardFaults()
        self._records = profile.records()
        self._lock = threading.Lock()
        self._df_selected = False
        self._ef: int | None = None
        self._pending = b""  # data waiting for GET RESPONSE
        self.commands = 0

    @property
    def atr(self) -> bytes:
        return OTHER_ATR if self.faults.foreign else SSC_ATR

    def reset(self) -> None:
        """Power on / reset: back to the master file."""
        with self._lock:
            self._df_selected = False
            self._ef = None
            self._pending = b""

    def respond(self, apdu: bytes) -> bytes:
        """The reply (data + SW1 SW2) to one command APDU; raises CardVanished."""
        with self._lock:
            if self.faults.vanish_after is not None and self.commands >= self.faults.vanish_after:
                raise CardVanished()
            self.commands += 1
            data, sw = self._answer(apdu)
            return data + sw.to_bytes(2, "big")

    def _error(self, step: str) -> int | None:
        return self.faults.errors.get(step)

    def _answer(self, apdu: bytes) -> tuple[bytes, int]:
        if len(apdu) < 4:
            return b"", 0x6700
        cla, ins, p1, p2 = apdu[:4]
        if cla != 0x00:
            return b"", 0x6E00
        if ins == 0xA4:
            return self._select(p1, apdu)
        if ins == 0xB2:
            return self._read_record(p1, p2, apdu)
        if ins == 0xC0:
            data, self._pending = self._pending, b""
            return (data, 0x9000) if data else (b"", 0x6985)
        return b"", 0x6D00

    def _select(self, p1: int, apdu: bytes) -> tuple[bytes, int]:
        if len(apdu) < 5 or len(apdu) < 5 + apdu[4]:
            return b"", 0x6700
        body = apdu[5 : 5 + apdu[4]]
        if p1 == 0x04:
            if self.faults.foreign or body != DF_NAME:
                return b"", 0x6A82
            if (sw := self._error("select:DF")) is not None:
                return b"", sw
            self._df_selected, self._ef = True, None
            return b"", 0x9000
        if p1 in (0x00, 0x02) and len(body) == 2:
            fid = int.from_bytes(body, "big")
            if (sw := self._error(f"select:{fid:04X}")) is not None:
                return b"", sw
            if not self._df_selected or fid not in self._records:
                return b"", 0x6A82
            self._ef = fid
            return b"", 0x9000
        return b"", 0x6A86

    def _read_record(self, record: int, p2: int, apdu: bytes) -> tuple[bytes, int]:
        if self._ef is None:
            return b"", 0x6986
        if (sw := self._error(f"read:{self._ef:04X}:{record:02X}")) is not None:
            return b"", sw
        if p2 != 0x04:
            return b"", 0x6A86
        value = self._records[self._ef].get(record)
        if value is None:
            return b"", 0x6A83
        le = apdu[4] if len(apdu) >= 5 else 0
        if le not in (0, len(value)):
            return b"", 0x6C00 | len(value)  # "send again with Le = the real length"
        return value, 0x9000
