"""The simulated ID-card reader process in the shell and on the command line: an ID card
placed identifies the applicant; taking it back does not end the session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devices.idcard.monitor import IdCardReaderMonitor
from devices.idcard.reader import SerialIdCardReader
from devices.idcard.simulator import SimulatedIdCardReaderProcess
from sandbox.cards import id_card_data_for
from workstation.cli import main
from workstation.config import load_config
from workstation.devices import id_reader_state_file
from workstation.services.model import IdentifiedBy
from workstation.ui.main_window import MainWindow


@pytest.fixture
def id_reader(tmp_path: Path) -> Any:
    with SimulatedIdCardReaderProcess(tmp_path / "id.sock") as process:
        yield process


def test_id_card_identifies_and_removal_keeps_the_kiosk_session(qtbot, make_core, id_reader,
                                                                sandbox):
    person = sandbox.world.sample_person(2)
    win = MainWindow(kiosk=True)
    qtbot.addWidget(win)
    win.show()
    win.attach(make_core(mode="kiosk"))
    win.attach_card_reader(IdCardReaderMonitor(SerialIdCardReader(id_reader.port),
                                               interval_s=0.05))
    try:
        qtbot.waitUntil(lambda: "身份证阅读器：就绪" in win.reader_label.text(), timeout=10000)
        id_reader.control.request(op="place", card=id_card_data_for(person.id_number,
                                                                     sandbox.world))
        qtbot.waitUntil(lambda: win.core.sessions.current is not None, timeout=10000)
        applicant = win.core.sessions.current.applicant
        assert applicant.holder_id == person.id_number
        assert applicant.identified_by is IdentifiedBy.CARD
        assert "身份证阅读器：已读取" in win.reader_label.text()
        id_reader.control.request(op="take")
        qtbot.waitUntil(lambda: "请放身份证" in win.reader_label.text(), timeout=10000)
        assert win.core.sessions.current is not None
    finally:
        win.detach_card_reader()
        win.idle.stop()
        win.tasks.wait_for_done(10000)


def test_idcard_place_and_take_from_the_command_line(tmp_path, id_reader, capsys):
    config_file = tmp_path / "ws.toml"
    config_file.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    state = id_reader_state_file(load_config(config_file))
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"control": str(id_reader.control_path)}))
    from sandbox.world import build_world

    person = build_world().sample_person(4)
    assert main(["--config", str(config_file), "idcard", "place", "--person",
                 person.id_number]) == 0
    reader = SerialIdCardReader(id_reader.port)
    try:
        data = reader.read_identity()
    finally:
        reader.close()
    assert (data.id_number, data.name, data.address) == (person.id_number, person.name,
                                                         person.address)
    assert main(["--config", str(config_file), "idcard", "take"]) == 0
    assert id_reader.control.request(op="status")["card"] is False
    assert person.id_number not in capsys.readouterr().out
