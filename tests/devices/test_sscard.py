"""The social security card profile against the simulated card, without PC/SC."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.cards.model import (
    CardDataError,
    CardStatusError,
    UnknownCard,
    bcd_date,
    bcd_decode,
    bcd_encode,
    tlv_decode,
)
from devices.cards.simulated import CardFaults, SimulatedSocialSecurityCard
from devices.cards.sscard import SELECT_DF, read_social_security_card
from tests.helpers.pcsc_fixtures import PROFILE


def transmit_to(card: SimulatedSocialSecurityCard):
    def transmit(apdu: bytes) -> tuple[bytes, int]:
        reply = card.respond(apdu)
        return reply[:-2], int.from_bytes(reply[-2:], "big")

    return transmit


def test_select_df_name_is_the_gbk_application_name():
    assert SELECT_DF.hex().upper() == "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
    assert SELECT_DF[5:].decode("gbk") == "sx1.sh.社会保障"


def test_whole_identity_with_gbk_name_and_bcd_dates():
    card = SimulatedSocialSecurityCard(PROFILE)
    data = read_social_security_card(transmit_to(card), card.atr)
    assert (data.name, data.ssn, data.sex, data.nation) == ("欧阳建国", "11010519491231002X",
                                                            "男", "土家")
    assert data.card_number == "A12345678"
    assert data.birth_date == dt.date(1949, 12, 31)
    assert (data.issued_on, data.expires_on) == (dt.date(2021, 6, 1), dt.date(2031, 6, 1))
    assert data.birthplace == "110105"
    assert "欧阳" not in repr(data) and "1231002X" not in repr(data)


def test_encodings_round_trip():
    assert bcd_encode("20310601") == bytes.fromhex("20310601")
    assert bcd_date(bytes.fromhex("19491231")) == dt.date(1949, 12, 31)
    with pytest.raises(ValueError):
        bcd_decode(b"\x1a")
    assert tlv_decode(bytes.fromhex("0702414200")) == {7: b"AB"}
    with pytest.raises(ValueError):
        tlv_decode(bytes.fromhex("0705414243"))


def test_foreign_card_is_unknown_with_its_atr():
    card = SimulatedSocialSecurityCard(PROFILE, CardFaults(foreign=True))
    with pytest.raises(UnknownCard) as exc:
        read_social_security_card(transmit_to(card), card.atr)
    assert "不是社会保障卡" in exc.value.message and "3B 8E" in exc.value.message


@pytest.mark.parametrize(("step", "sw", "words"), [
    ("select:EF06", 0x6982, "PSAM"),
    ("read:EF05:07", 0x6581, "存储器故障"),
    ("select:DF", 0x6283, "挂失"),
])
def test_error_status_words_are_named(step, sw, words):
    card = SimulatedSocialSecurityCard(PROFILE, CardFaults(errors={step: sw}))
    with pytest.raises(CardStatusError) as exc:
        read_social_security_card(transmit_to(card), card.atr)
    assert exc.value.sw == sw
    assert words in exc.value.message and f"{sw:04X}" in exc.value.message


def test_wrong_le_and_get_response_are_followed():
    card = SimulatedSocialSecurityCard(PROFILE)
    transmit = transmit_to(card)
    transmit(SELECT_DF)
    transmit(bytes.fromhex("00A4020002EF06"))
    data, sw = transmit(bytes.fromhex("00B2090405"))  # Le too short: the card names the length
    assert sw == 0x6C20 and data == b""


def test_corrupt_record_is_a_data_error():
    class Corrupt(SimulatedSocialSecurityCard):
        def respond(self, apdu: bytes) -> bytes:
            reply = super().respond(apdu)
            if apdu[:4] == bytes.fromhex("00B20D04"):
                return bytes.fromhex("0D04") + b"\x19\x4a\x12\x31" + reply[-2:]
            return reply

    card = Corrupt(PROFILE)
    with pytest.raises(CardDataError):
        read_social_security_card(transmit_to(card), card.atr)
