from pathlib import Path

import pytest

from workstation.cli import main
from workstation.config import EMBEDDED, Config, ConfigError, config_from_dict, load_config


def test_defaults_need_no_file():
    cfg = load_config(None)
    assert cfg.platform.base_url == EMBEDDED
    assert cfg.mode == "clerk"
    assert cfg.kiosk.idle_timeout_s == 60 and cfg.kiosk.countdown_s == 10
    assert cfg.effective_database_url.startswith("sqlite:///")


def test_full_file(tmp_path: Path):
    f = tmp_path / "ws.toml"
    f.write_text(
        """
workstation_id = "CB-HALL-07"
mode = "kiosk"
data_dir = "data"
[platform]
base_url = "https://licence.example.gov.cn/"
client_id = "hall-07"
client_secret = "s3cret"
timeout_s = 3
[database]
url = "postgresql+psycopg://ws@db.hall/mianzheng"
[kiosk]
idle_timeout_s = 90
countdown_s = 15
[plugins]
blocked = ["unified_intake"]
[printers]
a4 = "HallA4"
""",
        encoding="utf-8",
    )
    cfg = load_config(f)
    assert cfg.workstation_id == "CB-HALL-07"
    assert cfg.kiosk_mode
    assert cfg.data_dir == tmp_path / "data"
    assert cfg.platform.base_url == "https://licence.example.gov.cn"
    assert cfg.platform.timeout_s == 3.0
    assert cfg.effective_database_url.startswith("postgresql+psycopg://")
    assert cfg.blocked_plugins == ("unified_intake",)
    assert cfg.printers.a4 == "HallA4"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"mode": "desk"}, "mode"),
        ({"platform": {"timeout_s": "fast"}}, "platform.timeout_s"),
        ({"platform": {"timeout_s": -1}}, "platform.timeout_s"),
        ({"platform": {"base_url": "ftp://x"}}, "platform.base_url"),
        ({"kiosk": {"idle_timeout_s": 5}}, "kiosk.idle_timeout_s"),
        ({"kiosk": {"countdown_s": 120}}, "kiosk.countdown_s"),
        ({"kiosk": {"idle_timeout_s": True}}, "kiosk.idle_timeout_s"),
        ({"database": {"url": "mysql://x"}}, "database.url"),
        ({"plugins": {"blocked": "unified_intake"}}, "plugins.blocked"),
        ({"platfrom": {}}, "platfrom"),
        ({"platform": {"base_ur": "x"}}, "platform.base_ur"),
        ({"platform": 3}, "platform"),
        ({"scenarios": {"locker": 5}}, "scenarios.locker"),
        ({"scenarios": {"Locker!": {}}}, "scenarios.Locker!"),
        ({"scenarios": {"locker": {"LockMinutes": 3}}}, "scenarios.locker.LockMinutes"),
        ({"scenarios": {"locker": {"doors": {"a": 1}}}}, "scenarios.locker.doors"),
    ],
)
def test_bad_values_name_their_key(raw, key):
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw)
    assert err.value.key == key
    assert err.value.reason


def test_cli_reports_bad_config_without_traceback(tmp_path: Path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('[kiosk]\nidle_timeout_s = "soon"\n', encoding="utf-8")
    assert main(["--config", str(f), "plugins"]) == 2
    err = capsys.readouterr().err
    assert "kiosk.idle_timeout_s" in err
    assert "Traceback" not in err


def test_cli_reports_toml_syntax_error(tmp_path: Path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text("mode = \n", encoding="utf-8")
    assert main(["--config", str(f), "plugins"]) == 2
    assert "syntax" in capsys.readouterr().err


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        Config().mode = "kiosk"  # type: ignore[misc]


def test_scenario_settings_reach_only_their_scenario():
    cfg = config_from_dict({"scenarios": {"locker": {"lock_minutes": 15, "bank": "B"},
                                          "pharmacy": {"reasons": ["顾客退药", "收费错误"]}}})
    assert dict(cfg.settings_for("locker")) == {"lock_minutes": 15, "bank": "B"}
    assert cfg.settings_for("pharmacy")["reasons"] == ["顾客退药", "收费错误"]
    assert dict(cfg.settings_for("form_filling")) == {}
    with pytest.raises(TypeError):  # read-only for the plugin
        cfg.settings_for("locker")["lock_minutes"] = 1  # type: ignore[index]
