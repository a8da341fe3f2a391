"""S4 locker state machine (Qt-free) on a real database, the simulated board on a pty and the
sandbox back office: deposit → staff → pickup, jammed doors, wrong codes, recovery, and two
kiosks racing for doors on one PostgreSQL database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from plugins.locker.logic import (
    CANCELLED,
    COLLECTED,
    DEPOSITED,
    FAULT,
    FREE,
    OCCUPIED,
    OPEN,
    OPENING,
    PROCESSED,
    RESULT_READY,
    TAKEN,
    LockerFlowError,
    LockerService,
    LockerSettings,
    SettingError,
    check_phone,
    door_number,
    door_size,
    holder_of,
)
from workstation.api import Applicant, HolderKind, IdentifiedBy
from workstation.testing import ManualClock

PHONE = "13912345678"
REPO = Path(__file__).resolve().parents[2]


def person(sandbox: Any, i: int = 0) -> Applicant:
    p = sandbox.world.sample_person(i)
    return Applicant(HolderKind.PERSON, p.id_number, p.name, IdentifiedBy.CARD,
                     extra={"card": "IdCardData"})


def service(core: Any, **settings: Any) -> LockerService:
    ctx = core.context_for(core.plugins.scenario("locker"))
    clock = settings.pop("clock", None)
    if clock is not None:
        ctx = dataclasses.replace(ctx, clock=clock)
    svc = LockerService(ctx, ctx.locker(), LockerSettings(**settings))
    svc.ensure_doors()
    return svc


def close(core: Any, door: str) -> None:
    core.locker_simulator.close_door(door_number(door))


def deliver(core: Any) -> None:
    report = core.outbox.deliver_due()
    assert not report.failed and not report.held, report


def test_phone_numbers_are_checked():
    assert check_phone("139 1234 5678") == "13912345678"
    for bad, words in [("", "请输入"), ("1391234567", "11 位"), ("12912345678", "13-19"),
                       ("1391234567a", "数字")]:
        with pytest.raises(LockerFlowError) as exc:
            check_phone(bad)
        assert words in exc.value.message


def test_deposit_staff_and_pickup_end_to_end(core, sandbox):
    svc = service(core)
    who = person(sandbox)
    opened = svc.start_deposit(holder_of(who), PHONE, "不动产登记", "M")
    assert door_size(door_number(opened.door), 16) == "M"
    assert svc.records.get("door", opened.door).state == OPEN
    assert svc.door_state(opened.door).value == "open"
    close(core, opened.door)
    item = svc.complete(opened.door)
    assert item.state == DEPOSITED and item.data["confirmed"] is True
    assert svc.records.get("door", opened.door).state == OCCUPIED
    deliver(core)
    feed = sandbox.locker.notifications
    assert feed[-1]["kind"] == "deposited" and feed[-1]["phone_masked"] == "139****5678"
    staff_sms = sandbox.sms.messages(sandbox.locker.staff_phone)
    assert staff_sms and "不动产登记" in staff_sms[-1]["text"]
    assert who.holder_id not in str(item.data) and who.name not in str(item.data)

    # staff: take out, mark processed, put the result in
    taken = svc.start_takeout(item.key)
    assert taken.door == opened.door
    close(core, opened.door)
    assert svc.complete(opened.door).state == TAKEN
    assert svc.records.get("door", opened.door).state == FREE
    assert svc.mark_processed(item.key).state == PROCESSED
    result = svc.start_result(item.key, "S")
    close(core, result.door)
    ready = svc.complete(result.door)
    assert ready.state == RESULT_READY
    deliver(core)
    sms = sandbox.sms.messages(PHONE)
    assert len(sms) == 1 and ready.data["code"] in sms[0]["text"]
    deliver(core)  # nothing sent twice
    assert len(sandbox.sms.messages(PHONE)) == 1

    # pickup: another person's code does not work; a wrong code counts; the right one opens
    with pytest.raises(LockerFlowError):
        svc.check_code(person(sandbox, 1).holder_id, ready.data["code"])
    wrong = "000000" if ready.data["code"] != "000000" else "111111"
    assert svc.check_code(who.holder_id, wrong) == (None, 4)
    found, _left = svc.check_code(who.holder_id, ready.data["code"])
    assert found is not None and found.key == item.key
    pickup = svc.start_pickup(found)
    assert pickup.door == result.door
    close(core, result.door)
    assert svc.complete(result.door).state == COLLECTED
    assert svc.records.get("door", result.door).state == FREE
    deliver(core)
    assert sandbox.locker.notifications[-1]["kind"] == "collected"


def test_a_jammed_door_is_retried_then_another_is_taken(core, sandbox):
    svc = service(core, open_attempts=3)
    sim = core.locker_simulator
    sim.jammed.add(1)
    opened = svc.start_deposit(holder_of(person(sandbox)), PHONE, "户籍办理", "S")
    assert opened.skipped == ("1-01",) and opened.door == "1-02"
    opens = [f for f in sim.received if f[0] == 0x8A and f[2] == 1]
    assert len(opens) == 3  # the first try and two retries
    assert svc.records.get("door", "1-01").state == FAULT
    svc.clear_fault("1-01")
    assert svc.records.get("door", "1-01").state == FREE


def test_no_free_door_cancels_the_item(core, sandbox):
    svc = service(core)
    for n in range(13, 17):  # the four large doors
        svc.records.update("door", f"1-{n:02d}", state=OCCUPIED, data={"item": "x"})
    with pytest.raises(LockerFlowError) as exc:
        svc.start_deposit(holder_of(person(sandbox)), PHONE, "工程建设审批", "L")
    assert "暂无空闲" in exc.value.message
    items = svc.records.find("item")
    assert [i.state for i in items] == [CANCELLED]


def test_five_wrong_codes_lock_the_item_for_the_configured_time(core, sandbox):
    clock = ManualClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    svc = service(core, lock_minutes=15, clock=clock)
    who = person(sandbox)
    opened = svc.start_deposit(holder_of(who), PHONE, "社保医保", "S")
    close(core, opened.door)
    key = svc.complete(opened.door).key
    svc.start_takeout(key)
    close(core, opened.door)
    svc.complete(opened.door)
    svc.mark_processed(key)
    result = svc.start_result(key)
    close(core, result.door)
    code = svc.complete(result.door).data["code"]
    wrong = "123456" if code != "123456" else "654321"
    lefts = [svc.check_code(who.holder_id, wrong)[1] for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]
    with pytest.raises(LockerFlowError) as exc:
        svc.check_code(who.holder_id, code)  # even the right code, while locked
    assert exc.value.code == "locked"
    until = svc.locked_until(svc.ready_items(who.holder_id))
    assert until is not None and until - clock() == dt.timedelta(minutes=15)
    clock.advance(minutes=16)
    found, _ = svc.check_code(who.holder_id, code)
    assert found is not None
    # staff at the counter lift a lock and text the same code again (a second SMS)
    for _ in range(5):
        svc.check_code(who.holder_id, wrong)
    assert svc.locked_until(svc.ready_items(who.holder_id)) is not None
    svc.resend_code(key)
    assert svc.locked_until(svc.ready_items(who.holder_id)) is None
    deliver(core)
    texts = [m["text"] for m in sandbox.sms.messages(PHONE)]
    assert len(texts) == 2 and all(code in t for t in texts)


def test_recovery_completes_an_open_door_and_rolls_back_one_that_never_opened(core, sandbox):
    svc = service(core)
    who = holder_of(person(sandbox))
    opened = svc.start_deposit(who, PHONE, "婚姻登记", "S")
    # a second deposit interrupted before the open command reached the board
    second = svc.start_deposit(who, PHONE, "婚姻登记", "S")
    close(core, second.door)
    svc.records.update("door", second.door, state=OPENING)
    assert sorted(svc.recover()) == sorted([(second.door, "rolled_back"),
                                            (opened.door, "still_open")])
    close(core, opened.door)
    assert svc.recover() == [(opened.door, "completed")]
    item = svc.records.get("item", opened.item)
    assert item.state == DEPOSITED and item.data["confirmed"] is False
    assert svc.records.get("item", second.item).state == CANCELLED
    assert svc.records.get("door", second.door).state == FREE
    deliver(core)
    assert sandbox.locker.notifications[-1]["unconfirmed"] is True
    assert svc.recover() == []


@pytest.mark.postgres
def test_two_kiosks_on_one_postgres_database_never_share_a_door(make_core, sandbox,
                                                                 postgres_url):
    cores = [make_core(database_url=postgres_url, workstation_id=f"KIOSK-0{i}", mode="kiosk")
             for i in (1, 2)]
    services = [service(c) for c in cores]
    holders = [holder_of(person(sandbox, i)) for i in range(2)]
    got: list[list[str]] = [[], []]
    refused = [0, 0]
    start = threading.Barrier(2)

    def run(i: int) -> None:
        start.wait()
        for _ in range(12):
            try:
                got[i].append(services[i].start_deposit(holders[i], PHONE, "其他事项", "S").door)
            except LockerFlowError:
                refused[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    doors = got[0] + got[1]
    assert len(doors) == len(set(doors)) == 16  # every door once, none twice
    assert refused[0] + refused[1] == 24 - 16
    records = services[0].records.find("door", limit=100)
    assert all(r.state == OPEN for r in records)
    by_kiosk = {r.data["kiosk"] for r in records}
    assert by_kiosk == {"KIOSK-01", "KIOSK-02"}


def _worker(action: str, ws_config: Any, sandbox: Any, port: str, *extra: str
            ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.plugins.locker_worker", action,
         "--data-dir", str(ws_config.data_dir), "--sandbox", sandbox.url, "--port", port,
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def _recover(ws_config: Any, sandbox: Any, port: str) -> list[list[str]]:
    proc = _worker("recover", ws_config, sandbox, port)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_kiosk_killed_while_the_door_is_open_recovers_in_a_new_process(
        make_core, ws_config, sandbox):
    """GIVEN a kiosk process that opened a door for a deposit WHEN it is SIGKILLed before the
    door closes THEN a new process asks the board: still open → it waits; closed → the deposit
    is completed (marked unconfirmed), the staff are notified once, nothing is lost."""
    from devices.locker.simulator import SimulatedLockerBoard

    holder = sandbox.world.sample_person(7).id_number
    with SimulatedLockerBoard() as sim:
        proc = _worker("deposit", ws_config, sandbox, sim.port, "--holder", holder)
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            assert line, proc.stderr.read() if proc.stderr else ""
            opened = json.loads(line)
            n = door_number(opened["door"])
            assert n in sim.open
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
        assert proc.returncode == -signal.SIGKILL
        assert _recover(ws_config, sandbox, sim.port) == [[opened["door"], "still_open"]]
        sim.close_door(n)
        assert _recover(ws_config, sandbox, sim.port) == [[opened["door"], "completed"]]
    core = make_core(mode="kiosk", workstation_id="KIOSK-KILL")
    records = core.records.scoped("locker")
    item = records.get("item", opened["item"])
    assert item.state == DEPOSITED and item.data["confirmed"] is False
    assert records.find("item", holder_id=holder)[0].key == item.key
    door = records.get("door", opened["door"])
    assert door.state == OCCUPIED and door.data["item"] == item.key
    deliver(core)
    deposits = [n for n in sandbox.locker.notifications if n["item"] == item.key]
    assert len(deposits) == 1 and deposits[0]["unconfirmed"] is True


def test_the_demo_closes_and_jams_doors_from_the_command_line(core, ws_config, tmp_path,
                                                             capsys):
    from workstation.cli import main

    config_file = tmp_path / "ws.toml"
    config_file.write_text(f'data_dir = "{ws_config.data_dir}"\n', encoding="utf-8")
    assert main(["--config", str(config_file), "locker", "status"]) == 2  # nothing running
    assert "没有正在运行的模拟储物柜" in capsys.readouterr().err
    board = core.locker_board()
    board.open_door(3)
    assert main(["--config", str(config_file), "locker", "status"]) == 0
    assert "打开：3" in capsys.readouterr().out
    assert main(["--config", str(config_file), "locker", "close", "3"]) == 0
    assert board.door(3).value == "closed"
    assert main(["--config", str(config_file), "locker", "jam", "4"]) == 0
    with pytest.raises(Exception, match="未能打开"):
        board.open_door(4)
    assert main(["--config", str(config_file), "locker", "close", "99"]) == 2
    assert "没有 99 号柜门" in capsys.readouterr().err


def test_deposit_slip_has_a_deposit_number_and_no_pickup_code():
    from workstation.api.printing import LockerSlip

    base = {"issuing_unit": "赤壁市政务服务中心", "locker_bank": "1号智能柜", "locker_no": "A-09",
            "item": "不动产登记", "deposited_at": dt.datetime(2026, 11, 28, 9, 0),
            "expires_at": dt.datetime(2026, 11, 28, 9, 0), "location": "一楼",
            "holder_label": "张*"}
    LockerSlip(pickup_code="", case_number="D20261128-ABC123", kind="deposit", **base)
    with pytest.raises(ValueError):
        LockerSlip(pickup_code="123456", case_number="D1", kind="deposit", **base)
    with pytest.raises(ValueError):
        LockerSlip(pickup_code="", case_number="", kind="deposit", **base)
    with pytest.raises(ValueError):
        LockerSlip(pickup_code="", case_number="D1", kind="pickup", **base)


def test_only_a_manifest_declaring_the_locker_gets_the_board(core):
    from workstation.api import Audience, ScenarioManifest

    other = ScenarioManifest(id="no_locker", title="无柜", audiences=(Audience.KIOSK,),
                             page="m:f")
    assert core.context_for(other).locker() is None
    assert core.locker_simulator is None  # nothing was started for it
    assert core.context_for(core.plugins.scenario("locker")).locker() is not None


def test_the_lock_time_and_attempts_come_from_the_configuration_file(make_core, monkeypatch):
    """[scenarios.locker] in the workstation's TOML file; a bad value names its key."""
    for name in ("LOCK_MINUTES", "CODE_ATTEMPTS", "OPEN_ATTEMPTS", "PICKUP_DAYS", "BANK"):
        monkeypatch.delenv(f"MIANZHENG_LOCKER_{name}", raising=False)
    core = make_core(scenario_settings={"locker": {"lock_minutes": 12, "code_attempts": 3}})
    ctx = core.context_for(core.plugins.scenario("locker"))
    settings = LockerSettings.from_settings(ctx.settings)
    assert (settings.lock_minutes, settings.max_code_attempts, settings.open_attempts) == (12, 3, 3)
    with pytest.raises(SettingError, match=r"scenarios\.locker\.lock_minutes"):
        LockerSettings.from_settings({"lock_minutes": 0})
    with pytest.raises(SettingError, match=r"scenarios\.locker\.code_attempts"):
        LockerSettings.from_settings({"code_attempts": "five"})
    monkeypatch.setenv("MIANZHENG_LOCKER_LOCK_MINUTES", "45")  # a quick demo override
    assert LockerSettings.from_settings(ctx.settings).lock_minutes == 45
