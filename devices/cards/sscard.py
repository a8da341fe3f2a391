"""The third-generation social security card profile, over any APDU transport.

:func:`read_social_security_card` takes a ``transmit(apdu) -> (data, sw)`` callable, so the same
code reads a card through PC/SC or straight from :class:`SimulatedSocialSecurityCard` in a test.
Transport failures (card pulled, reader gone) are the transport's exceptions and pass through;
the profile raises :class:`UnknownCard`, :class:`CardStatusError` or :class:`CardDataError`.
"""

from __future__ import annotations

from collections.abc import Callable

from devices.cards.model import (
    NATION_BY_CODE,
    SEX_CODES,
    CardDataError,
    CardStatusError,
    SocialSecurityCardData,
    UnknownCard,
    bcd_date,
    bcd_decode,
    text_field,
    tlv_decode,
)

# "sx1.sh.社会保障" in GBK: the social security application's DF name.
DF_NAME = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
SELECT_DF = bytes.fromhex("00A404000F") + DF_NAME
EF_CARD = 0xEF05
EF_HOLDER = 0xEF06
CARD_RECORDS = (0x01, 0x05, 0x06, 0x07)
HOLDER_RECORDS = (0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D)
SW_OK = 0x9000
# Status words that mean "this card has no social security application".
NOT_THIS_CARD = frozenset({0x6A82, 0x6A81, 0x6A86, 0x6D00, 0x6E00, 0x6999})

Transmit = Callable[[bytes], tuple[bytes, int]]


def select_ef(fid: int) -> bytes:
    return bytes((0x00, 0xA4, 0x02, 0x00, 0x02, fid >> 8, fid & 0xFF))


def read_record(record: int, le: int = 0) -> bytes:
    """READ RECORD ``record`` (P2=04: P1 is the record number); Le 0 = as long as it is."""
    return bytes((0x00, 0xB2, record, 0x04, le))


def exchange(transmit: Transmit, apdu: bytes) -> tuple[bytes, int]:
    """One command, following the T=0 conventions a card may use: 61xx (more data: GET
    RESPONSE) and 6Cxx (wrong Le: send again with the right one)."""
    data, sw = transmit(apdu)
    if sw >> 8 == 0x6C and len(apdu) in (4, 5):
        data, sw = transmit(apdu[:4] + bytes((sw & 0xFF,)))
    chunks = [data]
    while sw >> 8 == 0x61:
        data, sw = transmit(bytes((0x00, 0xC0, 0x00, 0x00, sw & 0xFF)))
        chunks.append(data)
    return b"".join(chunks), sw


def _records(transmit: Transmit, fid: int, records: tuple[int, ...], step: str
             ) -> dict[int, bytes]:
    _, sw = exchange(transmit, select_ef(fid))
    if sw != SW_OK:
        raise CardStatusError(sw, f"选择 {fid:04X} 文件")
    values: dict[int, bytes] = {}
    for record in records:
        data, sw = exchange(transmit, read_record(record))
        if sw != SW_OK:
            raise CardStatusError(sw, f"读取{step}第 {record:02X} 项")
        try:
            items = tlv_decode(data)
        except ValueError:
            raise CardDataError() from None
        if record not in items:
            raise CardDataError()
        values[record] = items[record]
    return values


def read_social_security_card(transmit: Transmit, atr: bytes = b"") -> SocialSecurityCardData:
    """SELECT the application, read EF05 and EF06, decode; a complete identity or an error."""
    _, sw = exchange(transmit, SELECT_DF)
    if sw in NOT_THIS_CARD:
        raise UnknownCard(
            f"无法识别此卡片（ATR {atr.hex(' ').upper() or '无'}，状态字 {sw:04X}）："
            "不是社会保障卡，请插入第三代社会保障卡"
        )
    if sw != SW_OK:
        raise CardStatusError(sw, "选择社会保障应用")
    card = _records(transmit, EF_CARD, CARD_RECORDS, "卡片信息")
    holder = _records(transmit, EF_HOLDER, HOLDER_RECORDS, "持卡人信息")
    try:
        ssn = text_field(holder[0x08]).upper()
        name = text_field(holder[0x09], "gbk")
        sex = SEX_CODES[text_field(holder[0x0A])]
        nation_code = holder[0x0B][0] if len(holder[0x0B]) == 1 else int(text_field(holder[0x0B]))
        data = SocialSecurityCardData(
            card_id=text_field(card[0x01]),
            card_number=text_field(card[0x07]),
            issued_on=bcd_date(card[0x05]),
            expires_on=bcd_date(card[0x06]),
            ssn=ssn,
            name=name,
            sex=sex,
            nation=NATION_BY_CODE[nation_code],
            birthplace=bcd_decode(holder[0x0C]),
            birth_date=bcd_date(holder[0x0D]),
            atr=atr,
        )
    except (ValueError, KeyError, IndexError, UnicodeDecodeError):
        raise CardDataError() from None
    if len(data.ssn) != 18 or not data.name or not data.card_number:
        raise CardDataError()
    return data
