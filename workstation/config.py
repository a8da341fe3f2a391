"""Workstation configuration: one TOML file, defaults such that the demo needs none.

Every value is checked on load; a bad value raises ConfigError naming its key and the reason,
which the CLI prints instead of a traceback.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
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


# [devices] backends: "kind" or "kind:argument". "simulated" runs the product's own simulator
# (for the card reader: the real PC/SC stack with a private pcscd and the virtual card).
DEVICE_KINDS: dict[str, tuple[str, ...]] = {
    "card_reader": ("simulated", "pcsc", "none"),  # pcsc = first reader; pcsc:NAME = by name
    "id_card_reader": ("simulated", "serial", "none"),  # serial:/dev/ttyUSB0
    "qr_scanner": ("simulated", "wedge", "serial", "camera", "none"),  # camera:0
    "locker": ("simulated", "serial", "none"),
    "document_camera": ("simulated", "folder", "camera", "none"),  # folder:/path
    "face_camera": ("simulated", "image", "camera", "none"),  # image:/path/photo.png
}
_NEEDS_ARGUMENT = {"serial", "folder", "image"}
QR_DECODERS = ("zxing", "zbar")
SERIAL_TERMINATORS = {"CR": "\r", "LF": "\n", "CRLF": "\r\n", "TAB": "\t"}


@dataclass(frozen=True)
class DevicesConfig:
    card_reader: str = "simulated"
    id_card_reader: str = "simulated"
    qr_scanner: str = "simulated"
    qr_decoders: tuple[str, ...] = QR_DECODERS  # tried in this order on each frame
    scanner_terminator: str = "CR"  # serial QR scanner: CR, LF, CRLF or TAB
    serial_baud: int = 9600
    locker: str = "simulated"
    locker_board: int = 1
    locker_doors: int = 16
    locker_open_level: int = 1  # status value that means "open" (wiring-dependent: 0 or 1)
    locker_timeout_s: float = 0.5
    locker_retries: int = 2
    document_camera: str = "simulated"
    face_camera: str = "simulated"  # kiosk face login (S5)

    def kind(self, key: str) -> str:
        """The backend kind of ``key`` ("serial" for "serial:/dev/ttyS0")."""
        return str(getattr(self, key)).split(":", 1)[0]

    def argument(self, key: str) -> str:
        """What follows the colon ("/dev/ttyS0"), or ""."""
        parts = str(getattr(self, key)).split(":", 1)
        return parts[1] if len(parts) == 2 else ""


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
    # [scenarios.<id>] tables: each scenario's own settings (ctx.settings), checked by the
    # plugin that reads them; here only their shape (plain keys, scalar values or lists).
    scenario_settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def settings_for(self, scenario: str) -> MappingProxyType[str, Any]:
        """A scenario's settings, read-only (empty when the file has none)."""
        return MappingProxyType(dict(self.scenario_settings.get(scenario, {})))

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
    scenarios = _section(data, "scenarios")

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

    devices_cfg = _devices_config(devices, d.devices)
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
    scenario_settings = _scenario_settings(scenarios)

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
        scenario_settings=scenario_settings,
    )


_SETTING_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SCALARS = (str, int, float, bool)


def _scenario_settings(scenarios: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``[scenarios.<id>]`` tables: plain keys; strings, numbers, booleans or lists of them."""
    settings: dict[str, dict[str, Any]] = {}
    for scenario, table in scenarios.items():
        prefix = f"scenarios.{scenario}"
        if not _SETTING_KEY_RE.match(scenario):
            raise ConfigError(prefix, "场景编号应为小写字母、数字和下划线 / not a scenario id")
        if not isinstance(table, dict):
            raise ConfigError(prefix, "应为一个表 / must be a table ([scenarios.ID])")
        for key, value in table.items():
            if not _SETTING_KEY_RE.match(key):
                raise ConfigError(f"{prefix}.{key}", "设置名应为小写字母、数字和下划线 / bad key")
            ok = isinstance(value, _SCALARS) or (
                isinstance(value, list) and all(isinstance(v, _SCALARS) for v in value))
            if not ok:
                raise ConfigError(f"{prefix}.{key}", "应为字符串、数字、布尔值或它们的列表 / "
                                                     "must be a scalar or a list of them")
        settings[scenario] = dict(table)
    return settings


def _device_spec(key: str, value: str) -> str:
    kind, _, argument = value.partition(":")
    kinds = DEVICE_KINDS[key]
    if kind not in kinds:
        raise ConfigError(
            f"devices.{key}",
            f"应为 {' / '.join(kinds)} 之一（可加“:参数”） / must be one of {', '.join(kinds)}",
        )
    if kind in _NEEDS_ARGUMENT and not argument:
        raise ConfigError(f"devices.{key}", f"“{kind}”需要参数，例如 {kind}:/dev/ttyUSB0 "
                          f"/ {kind} needs an argument")
    if kind == "camera" and argument and not argument.isdigit():
        raise ConfigError(f"devices.{key}", "摄像头编号应为数字，例如 camera:0 / "
                          "camera index must be a number")
    if kind in ("none", "simulated") and argument:
        raise ConfigError(f"devices.{key}", f"“{kind}”不带参数 / {kind} takes no argument")
    return value


def _devices_config(devices: dict[str, Any], d: DevicesConfig) -> DevicesConfig:
    p = "devices."
    specs = {key: _device_spec(key, _take(devices, key, p, str, getattr(d, key)).strip())
             for key in DEVICE_KINDS}
    cfg = DevicesConfig(
        **specs,
        qr_decoders=_take(devices, "qr_decoders", p, tuple, d.qr_decoders),
        scanner_terminator=_take(devices, "scanner_terminator", p, str, d.scanner_terminator),
        serial_baud=_take(devices, "serial_baud", p, int, d.serial_baud),
        locker_board=_take(devices, "locker_board", p, int, d.locker_board),
        locker_doors=_take(devices, "locker_doors", p, int, d.locker_doors),
        locker_open_level=_take(devices, "locker_open_level", p, int, d.locker_open_level),
        locker_timeout_s=_take(devices, "locker_timeout_s", p, float, d.locker_timeout_s),
        locker_retries=_take(devices, "locker_retries", p, int, d.locker_retries),
    )
    _no_leftovers(devices, p)
    if not cfg.qr_decoders or any(x not in QR_DECODERS for x in cfg.qr_decoders) or len(
            set(cfg.qr_decoders)) != len(cfg.qr_decoders):
        raise ConfigError("devices.qr_decoders", "应为 \"zxing\"、\"zbar\" 组成的不重复列表 / "
                          "must be a non-empty list of distinct \"zxing\", \"zbar\"")
    if cfg.scanner_terminator not in SERIAL_TERMINATORS:
        raise ConfigError("devices.scanner_terminator", "应为 CR、LF、CRLF 或 TAB / "
                          "must be CR, LF, CRLF or TAB")
    if cfg.serial_baud not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
        raise ConfigError("devices.serial_baud", "不是常用的波特率（如 9600、115200）/ "
                          "not a standard baud rate")
    if not 0 <= cfg.locker_board <= 255:
        raise ConfigError("devices.locker_board", "应在 0 到 255 之间 / must be 0..255")
    if not 1 <= cfg.locker_doors <= 255:
        raise ConfigError("devices.locker_doors", "应在 1 到 255 之间 / must be 1..255")
    if cfg.locker_open_level not in (0, 1):
        raise ConfigError("devices.locker_open_level", "应为 0 或 1 / must be 0 or 1")
    if not 0.05 <= cfg.locker_timeout_s <= 10:
        raise ConfigError("devices.locker_timeout_s", "应在 0.05 到 10 秒之间 / "
                          "must be 0.05..10 s")
    if not 0 <= cfg.locker_retries <= 10:
        raise ConfigError("devices.locker_retries", "应在 0 到 10 之间 / must be 0..10")
    return cfg


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
