"""devices/ is Qt-free and knows nothing of the workstation (DESIGN.md, direction of imports);
every backend says whether it can run here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DEVICES = Path(__file__).resolve().parents[2] / "devices"
FORBIDDEN = ("workstation", "PyQt6", "plugins", "sandbox", "printing")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(DEVICES.rglob("*.py")), ids=lambda p: p.name)
def test_devices_import_neither_workstation_nor_qt(path):
    bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
    assert not bad, f"{path.relative_to(DEVICES.parent)} imports {bad}"


def test_every_backend_says_whether_it_is_usable():
    from devices.cards.pcsc import PcscCardReader
    from devices.cards.pcscd import PrivatePcscd
    from devices.doccam import FolderDocumentCamera, OpenCvDocumentCamera, SimulatedDocumentCamera
    from devices.idcard.reader import SerialIdCardReader
    from devices.idcard.simulator import SimulatedIdCardReader
    from devices.locker.board import SerialLockerBoard
    from devices.locker.simulator import SimulatedLockerBoard
    from devices.qr.decoders import ZbarDecoder, ZxingDecoder
    from devices.qr.sources import FrameSource, OpenCvCamera, SerialQrScanner

    backends = [PcscCardReader, PrivatePcscd, FolderDocumentCamera, OpenCvDocumentCamera,
                SimulatedDocumentCamera, SerialIdCardReader, SimulatedIdCardReader,
                SerialLockerBoard, SimulatedLockerBoard, ZbarDecoder, ZxingDecoder, FrameSource,
                OpenCvCamera, SerialQrScanner]
    assert all(b.is_usable() is True for b in backends)  # all installed by make test


def test_card_reader_from_configuration():
    from devices.cards.pcsc import PcscCardReader
    from workstation.config import config_from_dict
    from workstation.devices import build_card_reader

    by_name = build_card_reader(config_from_dict(
        {"devices": {"card_reader": "pcsc:ACS ACR39U"}}).devices)
    assert isinstance(by_name, PcscCardReader) and by_name.wanted == "ACS ACR39U"
    first = build_card_reader(config_from_dict({"devices": {"card_reader": "pcsc"}}).devices)
    assert isinstance(first, PcscCardReader) and first.wanted is None
    assert build_card_reader(config_from_dict({"devices": {"card_reader": "none"}}).devices) \
        is None


def test_applicant_from_a_card_checks_the_number():
    import datetime as dt

    from devices.cards.model import CardDataError
    from devices.idcard.protocol import IdCardData
    from workstation.devices import applicant_from_card
    from workstation.services.model import IdentifiedBy

    card = IdCardData("张三", "男", "汉", dt.date(1949, 12, 31), "湖北省赤壁市",
                      "11010519491231002x", "赤壁市公安局", dt.date(2015, 1, 1), None)
    applicant = applicant_from_card(card)
    assert applicant.holder_id == "11010519491231002X"
    assert applicant.identified_by is IdentifiedBy.CARD
    bad = IdCardData(**{**card.__dict__, "id_number": "110105194912310021"})
    with pytest.raises(CardDataError) as exc:
        applicant_from_card(bad)
    assert "校验不通过" in exc.value.message
