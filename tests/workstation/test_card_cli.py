"""`mianzheng card insert/remove` against the virtual card process, and the embedded device
stack `make run` starts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from devices.cards.model import NoCard
from devices.cards.pcsc import PcscCardReader
from devices.cards.pcscd import SOCKET_ENV
from sandbox.world import build_world
from tests.helpers.pcsc_fixtures import READER, wait_reader
from workstation.cli import main
from workstation.config import load_config
from workstation.devices import virtual_card_state_file


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    f = tmp_path / "ws.toml"
    f.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return f


def test_card_insert_and_remove_from_the_command_line(config_file, pcsc_stack, virtual_card,
                                                      capsys):
    state = virtual_card_state_file(load_config(config_file))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"control": str(pcsc_stack.card_process.control_path)}))
    person = build_world().sample_person(3)
    assert main(["--config", str(config_file), "card", "insert", "--person",
                 person.id_number]) == 0
    assert person.id_number not in capsys.readouterr().out  # no personal data printed
    data = PcscCardReader(READER).wait_for_identity(10)
    assert (data.ssn, data.name, data.sex, data.nation) == (
        person.id_number, person.name, person.sex, person.nation)
    assert data.birth_date == person.birth_date
    assert main(["--config", str(config_file), "card", "remove"]) == 0
    wait_reader(False)
    with pytest.raises(NoCard):
        PcscCardReader(READER).read_identity()


def test_card_commands_explain_what_is_missing(config_file, capsys):
    assert main(["--config", str(config_file), "card", "remove"]) == 2
    assert "没有正在运行的模拟读卡器" in capsys.readouterr().err


def test_unknown_person(config_file, pcsc_stack, virtual_card, capsys):
    state = virtual_card_state_file(load_config(config_file))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"control": str(pcsc_stack.card_process.control_path)}))
    assert main(["--config", str(config_file), "card", "insert", "--person",
                 "11010519491231002X"]) == 1
    assert "沙箱中没有" in capsys.readouterr().err


def test_embedded_device_stack_starts_and_stops(tmp_path, monkeypatch):
    from workstation.embedded import EmbeddedDevices

    monkeypatch.setenv(SOCKET_ENV, os.environ[SOCKET_ENV])  # restored afterwards
    state = tmp_path / "run" / "virtual-card.json"
    with EmbeddedDevices(state) as devices:
        assert devices.pcscd.socket_path.exists()
        assert os.environ[SOCKET_ENV] == str(devices.pcscd.socket_path)
        assert json.loads(state.read_text())["reader"] == devices.reader == READER
        assert devices.card.control.status()["inserted"] is False
        base = devices.pcscd.base_dir
    assert not state.exists() and not base.exists()
