"""The `mianzheng` command on a real data directory."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from workstation.cli import main
from workstation.services.audit import AuditLog
from workstation.services.crypto import FieldCipher
from workstation.services.licences import LicenceCache
from workstation.services.model import HolderKind, Licence
from workstation.services.store import Store


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    f = tmp_path / "ws.toml"
    f.write_text(
        f'workstation_id = "CLI-01"\ndata_dir = "{tmp_path / "data"}"\n'
        '[platform]\nbase_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    return f


def _open(tmp_path: Path) -> tuple[FieldCipher, Store]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    cipher = FieldCipher.from_key_file(data / "field-keys.json")
    return cipher, Store.open(f"sqlite:///{data / 'workstation.db'}")


def test_audit_verify_ok_then_broken(tmp_path, config_file, capsys):
    cipher, store = _open(tmp_path)
    audit = AuditLog(store, cipher, "CLI-01")
    for i in range(5):
        audit.record("identification", operator="demo", holder_id="11010519491231002X",
                     details={"method": "clerk", "n": i})
    store.close()
    assert main(["--config", str(config_file), "audit", "verify"]) == 0
    assert "OK: 5" in capsys.readouterr().out

    db = sqlite3.connect(tmp_path / "data" / "workstation.db")
    db.execute("UPDATE audit_events SET operator = 'mallory' WHERE seq = 3")
    db.commit()
    db.close()
    assert main(["--config", str(config_file), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "BROKEN" in out and "3" in out


def test_cache_stats_and_purge(tmp_path, config_file, capsys):
    cipher, store = _open(tmp_path)
    now = dt.datetime.now(dt.UTC)
    cache = LicenceCache(store, cipher, clock=lambda: now)
    from workstation.services.identity import credit_check_char
    from workstation.services.licence_ids import make_licence_id

    issuer = "11421281MB1541441" + credit_check_char("11421281MB1541441")
    entries = [("id_card", now), ("property_cert", now - dt.timedelta(days=3))]
    for i, (t, fetched) in enumerate(entries):
        cache.put(Licence(
            licence_id=make_licence_id("111000000000131433", issuer, i + 1), type_key=t,
            holder_kind=HolderKind.PERSON, holder_id="11010519491231002X", holder_name="张三",
            issuer="赤壁市公安局", issuer_code=issuer, issued_on=dt.date(2020, 1, 1),
            valid_from=dt.date(2020, 1, 1), valid_until=None, fields={},
        ), None, fetched)
    store.close()
    assert main(["--config", str(config_file), "cache", "stats"]) == 0
    out = capsys.readouterr().out
    assert "cached licences: 2" in out and "live 1" in out and "expired 1" in out
    assert main(["--config", str(config_file), "cache", "purge"]) == 0
    assert "purged 1" in capsys.readouterr().out
    assert main(["--config", str(config_file), "cache", "purge", "--all"]) == 0
    assert "purged 1" in capsys.readouterr().out
    cipher, store = _open(tmp_path)
    purges = [e for e in AuditLog(store, cipher, "CLI-01").events(limit=10)
              if e.kind == "cache_purged"]
    store.close()
    assert sorted(e.details["scope"] for e in purges) == ["all", "expired"]


def test_sandbox_command_serves_http(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation.cli", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/api/v1/health", timeout=5).json()["status"] == "ok"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_operator_accounts_from_the_command_line(tmp_path, config_file, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert main(["--config", str(config_file), "operators", "add", "wangfang",
                 "--name", "王芳"]) == 0
    assert main(["--config", str(config_file), "operators", "list"]) == 0
    assert "wangfang\t王芳\t启用" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n"))
    assert main(["--config", str(config_file), "operators", "add", "lisi", "--name", "李四"]) == 1
    assert "密码至少" in capsys.readouterr().err
    assert main(["--config", str(config_file), "operators", "disable", "wangfang"]) == 0

    from workstation.services.operators import OperatorAccounts, SignInError

    cipher, store = _open(tmp_path)
    accounts = OperatorAccounts(store, AuditLog(store, cipher, "CLI-01"))
    with pytest.raises(SignInError):
        accounts.authenticate("wangfang", "s3cret-pass")
    store.close()


def test_no_demo_account_against_real_platforms(tmp_path, config_file):
    from workstation.config import load_config

    assert not load_config(config_file).wants_demo_operator
    assert load_config(None).wants_demo_operator


def test_inspecting_commands_never_create_a_data_dir(tmp_path, capsys):
    f = tmp_path / "typo.toml"
    f.write_text(f'data_dir = "{tmp_path / "dta"}"\n[platform]\nbase_url = "http://127.0.0.1:9"\n',
                 encoding="utf-8")
    for cmd in (["audit", "verify"], ["cache", "stats"], ["operators", "list"]):
        assert main(["--config", str(f), *cmd]) == 2
        err = capsys.readouterr().err
        assert "没有找到工作站数据" in err and "Traceback" not in err
    assert not (tmp_path / "dta").exists()


def test_loose_key_file_is_reported_without_traceback(tmp_path, config_file, capsys):
    _cipher, store = _open(tmp_path)
    store.close()
    (tmp_path / "data" / "field-keys.json").chmod(0o644)
    assert main(["--config", str(config_file), "audit", "verify"]) == 2
    err = capsys.readouterr().err
    assert "chmod 600" in err and "Traceback" not in err
