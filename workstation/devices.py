"""Devices as the workstation configures them (Qt-free).

Builds the backends named in ``[devices]`` and turns what a device reads into domain objects
(an identity on a card -> an :class:`Applicant` identified by card). The device layer itself
(``devices/``) knows nothing of the workstation.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devices.cards.model import CardDataError
from workstation.config import Config, DevicesConfig
from workstation.services.identity import IdentityError, parse_id_number
from workstation.services.model import Applicant, HolderKind, IdentifiedBy

if TYPE_CHECKING:
    from devices.cards.reader import SmartCardReader

log = logging.getLogger(__name__)


def virtual_card_state_file(config: Config) -> Path:
    """Where a running workstation's embedded device stack says where its virtual card is."""
    return config.data_dir / "run" / "virtual-card.json"


def virtual_card_control(config: Config) -> Any:
    """The control client of the running workstation's virtual card; raises DeviceError."""
    from devices.cards.virtual_card import VirtualCardControl, VirtualCardError

    path = virtual_card_state_file(config)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise VirtualCardError(
            "没有正在运行的模拟读卡器：请先用 `make run` 或 `mianzheng run` 启动工作台"
            "（devices.card_reader = \"simulated\"）"
        ) from None
    return VirtualCardControl(state["control"])


def build_card_reader(cfg: DevicesConfig, *, simulated_reader: str = "") -> SmartCardReader | None:
    """The configured social security card reader (not started), or None for "none".

    "simulated" is PC/SC on the embedded private pcscd, reader ``simulated_reader``.
    """
    kind = cfg.kind("card_reader")
    if kind == "none":
        return None
    from devices.cards.pcsc import PcscCardReader

    if kind == "simulated":
        return PcscCardReader(simulated_reader or None)
    return PcscCardReader(cfg.argument("card_reader") or None)


def applicant_from_card(identity: Any) -> Applicant:
    """The applicant a card identifies (social security or ID card: ``ssn``/``id_number`` and
    ``name``); raises CardDataError when the number on the card is not a valid ID number."""
    number = str(getattr(identity, "id_number", None) or getattr(identity, "ssn", ""))
    try:
        info = parse_id_number(number)
    except IdentityError:
        raise CardDataError("卡内的社会保障号码校验不通过，请到人社窗口核查此卡") from None
    name = str(identity.name).strip()
    if not name:
        raise CardDataError()
    return Applicant(kind=HolderKind.PERSON, holder_id=info.number, name=name,
                     identified_by=IdentifiedBy.CARD, extra={"card": type(identity).__name__})
