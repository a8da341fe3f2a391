"""What a sandbox citizen's third-generation social security card holds.

The virtual card (``devices.cards.simulated``) can be any citizen of the seeded world: this
gives the card's data in the JSON form of ``SocialSecurityCardProfile`` (plain values, so the
sandbox does not import the device layer). The card number and dates come from the citizen's
social security card licence; the rest from the citizen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.world import World, build_world


class NoSuchCardHolder(LookupError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def card_data_for(holder_id: str, world: World | None = None) -> dict[str, Any]:
    """The card of the citizen ``holder_id``; raises NoSuchCardHolder."""
    world = world or build_world()
    citizen = world.citizen(holder_id)
    if citizen is None:
        raise NoSuchCardHolder(f"沙箱中没有证件号码为 {holder_id[:6]}… 的市民")
    licence = world.licence_of(citizen.id_number, "social_security_card")
    if licence is None:
        raise NoSuchCardHolder("这位市民没有社会保障卡")
    region = licence.issuer_code[2:8] if licence.issuer_code[2:8].isdigit() else "421200"
    number = licence.fields.get("卡号", "")
    until = licence.valid_until or dt.date(licence.valid_from.year + 10, 12, 31)
    return {
        "card_id": f"{region}D156000005{number}",
        "card_number": number,
        "issued_on": licence.valid_from.isoformat(),
        "expires_on": until.isoformat(),
        "ssn": citizen.id_number,
        "name": citizen.name,
        "sex": citizen.sex,
        "nation": citizen.nation,
        "birthplace": citizen.id_number[:6],
        "birth_date": citizen.birth_date.isoformat(),
    }


def id_card_data_for(holder_id: str, world: World | None = None) -> dict[str, Any]:
    """What the citizen's second-generation ID card holds (JSON form of
    ``devices.idcard.protocol.IdCardData``, photo left out); raises NoSuchCardHolder."""
    world = world or build_world()
    citizen = world.citizen(holder_id)
    if citizen is None:
        raise NoSuchCardHolder(f"沙箱中没有证件号码为 {holder_id[:6]}… 的市民")
    licence = world.licence_of(citizen.id_number, "id_card")
    if licence is None:
        raise NoSuchCardHolder("这位市民没有居民身份证")
    return {
        "name": citizen.name,
        "sex": citizen.sex,
        "nation": citizen.nation,
        "birth_date": citizen.birth_date.isoformat(),
        "address": citizen.address,
        "id_number": citizen.id_number,
        "authority": licence.issuer,
        "valid_from": licence.valid_from.isoformat(),
        "valid_to": licence.valid_until.isoformat() if licence.valid_until else None,
    }
