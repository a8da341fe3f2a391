"""Workstation configuration: one TOML file, defaults such that the demo needs none.

Every value is checked on load; a bad value raises ConfigError naming its key and the reason,
which the CLI prints instead of a traceback.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EMBEDDED = "embedded"  # platform.base_url value: start the sandbox as a child process
_DATABASE_URL_RE = re.compile(r"^(sqlite:///.+|postgresql(\+psycopg)?://[^/\s]+/[^\s/]+)$")


class ConfigError(ValueError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


def default_data_dir() -> Path:
    import platformdirs  # deferred: costs ~9 ms at start-up

    return Path(platformdirs.user_data_dir("mianzheng"))


@dataclass(frozen=True)
class PlatformConfig:
    base_url: str = EMBEDDED
    client_id: str = "ws-demo"
    client_secret: str = "sandbox-secret"
    timeout_s: float = 5.0
    health_interval_s: float = 15.0


@dataclass(frozen=True)
class KioskConfig:
    idle_timeout_s: int = 60
    countdown_s: int = 10
    end_session_on_card_removal: bool = True


@dataclass(frozen=True)
class DevicesConfig:
    card_reader: str = "simulated"
    qr_scanner: str = "simulated"


@dataclass(frozen=True)
class PrintersConfig:
    a4: str = ""  # CUPS queue name; empty = save PDFs to the case folder
    receipt: str = ""
    cups_server: str = ""  # host, host:port or socket path; empty = the CUPS client default


DEFAULT_ISSUING_UNIT = "赤壁市政务服务中心"


@dataclass(frozen=True)
class DocumentsConfig:
    issuing_unit: str = DEFAULT_ISSUING_UNIT  # named on every issued document
    verify_url: str = ""  # QR code target prefix; empty = "{platform}/verify"


@dataclass(frozen=True)
class Config:
    workstation_id: str = "CB-HALL-01"
    mode: str = "clerk"  # "clerk" or "kiosk"
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    database_url: str = ""  # empty = SQLite file in data_dir
    # Create operator "demo" / "demo1234" on first run. None = only on the embedded sandbox, so a
    # workstation on the real platforms never has an account with a published password.
    demo_operator: bool | None = None
    blocked_plugins: tuple[str, ...] = ()
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    kiosk: KioskConfig = field(default_factory=KioskConfig)
    devices: DevicesConfig = field(default_factory=DevicesConfig)
    printers: PrintersConfig = field(default_factory=PrintersConfig)
    documents: DocumentsConfig = field(default_factory=DocumentsConfig)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'workstation.db'}"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "field-keys.json"

    @property
    def case_dir(self) -> Path:
        return self.data_dir / "cases"

    @property
    def wants_demo_operator(self) -> bool:
        if self.demo_operator is None:  # never on real platforms or a shared hall database
            return self.platform.base_url == EMBEDDED and not self.database_url
        return self.demo_operator

    @property
    def kiosk_mode(self) -> bool:
        return self.mode == "kiosk"


def _take(table: dict[str, Any], key: str, prefix: str, kind: type, default: Any) -> Any:
    full = f"{prefix}{key}"
    if key not in table:
        return default
    value = table.pop(key)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(full, "应为字符串列表 / must be a list of strings")
        return tuple(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(
            full, f"应为 {kind.__name__} 类型 / must be a {kind.__name__}, got {value!r}"
        )
    return value


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.pop(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, "应为一个表 / must be a table ([section])")
    return dict(value)


def _no_leftovers(table: dict[str, Any], prefix: str) -> None:
    for key in table:
        raise ConfigError(f"{prefix}{key}", "未知的配置项 / unknown key")


def config_from_dict(raw: dict[str, Any], *, base_dir: Path | None = None) -> Config:
    data = dict(raw)
    d = Config()
    plat = _section(data, "platform")
    kiosk = _section(data, "kiosk")
    devices = _section(data, "devices")
    printers = _section(data, "printers")
    documents = _section(data, "documents")
    database = _section(data, "database")
    plugins = _section(data, "plugins")

    platform = PlatformConfig(
        base_url=_take(plat, "base_url", "platform.", str, d.platform.base_url).rstrip("/"),
        client_id=_take(plat, "client_id", "platform.", str, d.platform.client_id),
        client_secret=_take(plat, "client_secret", "platform.", str, d.platform.client_secret),
        timeout_s=_take(plat, "timeout_s", "platform.", float, d.platform.timeout_s),
        health_interval_s=_take(
            plat, "health_interval_s", "platform.", float, d.platform.health_interval_s
        ),
    )
    _no_leftovers(plat, "platform.")
    if platform.base_url != EMBEDDED and not platform.base_url.startswith(("http://", "https://")):
        raise ConfigError(
            "platform.base_url", "应为 http(s):// 地址或 \"embedded\" / must be an http(s) URL"
        )
    if platform.timeout_s <= 0 or platform.timeout_s > 120:
        raise ConfigError(
            "platform.timeout_s", "应在 0 到 120 秒之间 / must be in (0, 120] seconds"
        )
    if platform.health_interval_s <= platform.timeout_s:
        raise ConfigError(
            "platform.health_interval_s",
            "应大于 platform.timeout_s / must be longer than platform.timeout_s",
        )

    kiosk_cfg = KioskConfig(
        idle_timeout_s=_take(kiosk, "idle_timeout_s", "kiosk.", int, d.kiosk.idle_timeout_s),
        countdown_s=_take(kiosk, "countdown_s", "kiosk.", int, d.kiosk.countdown_s),
        end_session_on_card_removal=_take(
            kiosk, "end_session_on_card_removal", "kiosk.", bool,
            d.kiosk.end_session_on_card_removal,
        ),
    )
    _no_leftovers(kiosk, "kiosk.")
    if not 15 <= kiosk_cfg.idle_timeout_s <= 3600:
        raise ConfigError("kiosk.idle_timeout_s", "应在 15 到 3600 秒之间 / must be 15..3600 s")
    if not 3 <= kiosk_cfg.countdown_s < kiosk_cfg.idle_timeout_s:
        raise ConfigError(
            "kiosk.countdown_s", "应至少 3 秒且小于空闲超时 / must be >= 3 and < idle_timeout_s"
        )

    devices_cfg = DevicesConfig(
        card_reader=_take(devices, "card_reader", "devices.", str, d.devices.card_reader),
        qr_scanner=_take(devices, "qr_scanner", "devices.", str, d.devices.qr_scanner),
    )
    _no_leftovers(devices, "devices.")
    printers_cfg = PrintersConfig(
        a4=_take(printers, "a4", "printers.", str, d.printers.a4),
        receipt=_take(printers, "receipt", "printers.", str, d.printers.receipt),
        cups_server=_take(printers, "cups_server", "printers.", str, d.printers.cups_server),
    )
    _no_leftovers(printers, "printers.")
    documents_cfg = DocumentsConfig(
        issuing_unit=_take(documents, "issuing_unit", "documents.", str,
                           d.documents.issuing_unit).strip(),
        verify_url=_take(documents, "verify_url", "documents.", str,
                         d.documents.verify_url).strip().rstrip("/"),
    )
    _no_leftovers(documents, "documents.")
    if not 1 <= len(documents_cfg.issuing_unit) <= 40:
        raise ConfigError("documents.issuing_unit",
                          "应为 1 到 40 个字符 / must be 1..40 characters")
    if documents_cfg.verify_url and not documents_cfg.verify_url.startswith(
            ("http://", "https://")):
        raise ConfigError("documents.verify_url", "应为 http(s):// 地址 / must be an http(s) URL")
    database_url = _take(database, "url", "database.", str, d.database_url)
    _no_leftovers(database, "database.")
    if database_url and not _DATABASE_URL_RE.match(database_url):
        raise ConfigError(
            "database.url",
            "应为 sqlite:///文件路径 或 postgresql://用户@主机/库名 / "
            "must be sqlite:///PATH or postgresql[+psycopg]://USER@HOST/DB",
        )
    blocked = _take(plugins, "blocked", "plugins.", tuple, ())
    _no_leftovers(plugins, "plugins.")

    mode = _take(data, "mode", "", str, d.mode)
    if mode not in ("clerk", "kiosk"):
        raise ConfigError("mode", "应为 \"clerk\" 或 \"kiosk\" / must be clerk or kiosk")
    workstation_id = _take(data, "workstation_id", "", str, d.workstation_id)
    if not workstation_id or len(workstation_id) > 32:
        raise ConfigError("workstation_id", "应为 1 到 32 个字符 / must be 1..32 characters")
    data_dir_raw = _take(data, "data_dir", "", str, "")
    data_dir = d.data_dir
    if data_dir_raw:
        data_dir = Path(data_dir_raw).expanduser()
        if not data_dir.is_absolute() and base_dir is not None:
            data_dir = base_dir / data_dir
    demo_operator = _take(data, "demo_operator", "", bool, d.demo_operator)
    _no_leftovers(data, "")
    return Config(
        workstation_id=workstation_id,
        mode=mode,
        data_dir=data_dir,
        database_url=database_url,
        demo_operator=demo_operator,
        blocked_plugins=blocked,
        platform=platform,
        kiosk=kiosk_cfg,
        devices=devices_cfg,
        printers=printers_cfg,
        documents=documents_cfg,
    )


def load_config(path: Path | None) -> Config:
    """Load the TOML file at ``path`` (None = all defaults)."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), f"无法读取配置文件 / cannot read: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"TOML 语法错误 / syntax error: {exc}") from None
    return config_from_dict(raw, base_dir=path.parent)
