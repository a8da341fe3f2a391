"""Devices as the workstation configures them (Qt-free).

Builds the backends named in ``[devices]`` and turns what a device reads into domain objects
(an identity on a card -> an :class:`Applicant` identified by card). The device layer itself
(``devices/``) knows nothing of the workstation.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
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


def id_reader_state_file(config: Config) -> Path:
    """Where a running workstation says where its simulated ID-card reader listens."""
    return config.data_dir / "run" / "id-reader.json"


def id_reader_control(config: Config) -> Any:
    """The control client of the running workstation's simulated ID-card reader."""
    from devices.control import ControlClient, ControlError

    try:
        state = json.loads(id_reader_state_file(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ControlError(
            "没有正在运行的模拟身份证阅读器：请先用 `make run` 或 `mianzheng run` 启动工作台"
            "（devices.id_card_reader = \"simulated\"）"
        ) from None
    return ControlClient(state["control"], what="模拟身份证阅读器进程")


def locker_state_file(config: Config) -> Path:
    """Where a running workstation says where its simulated locker board's control listens."""
    return config.data_dir / "run" / "locker.json"


def locker_control(config: Config) -> Any:
    """The control client of the running workstation's simulated locker board."""
    from devices.control import ControlClient, ControlError

    try:
        state = json.loads(locker_state_file(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ControlError(
            "没有正在运行的模拟储物柜：请先用 `make run` 或 `mianzheng run` 启动工作台"
            "并打开政务柜页面（devices.locker = \"simulated\"）"
        ) from None
    return ControlClient(state["control"], what="模拟储物柜")


def build_id_card_reader(cfg: DevicesConfig, *, simulated_port: str = "") -> Any:
    """The configured ID-card reader as a monitored reader (not started), or None."""
    kind = cfg.kind("id_card_reader")
    if kind == "none":
        return None
    from devices.idcard.monitor import IdCardReaderMonitor
    from devices.idcard.reader import SerialIdCardReader

    port = simulated_port if kind == "simulated" else cfg.argument("id_card_reader")
    baud = 115200 if kind == "simulated" else cfg.serial_baud
    return IdCardReaderMonitor(SerialIdCardReader(port, baudrate=baud))


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


def build_locker_board(cfg: DevicesConfig, *, simulated_port: str = "") -> Any:
    """The configured locker board (a SerialLockerBoard, no I/O yet), or None for "none".

    "simulated" is the same serial driver on the pseudo-terminal of a simulated board
    (``simulated_port``)."""
    kind = cfg.kind("locker")
    if kind == "none":
        return None
    from devices.locker.board import SerialLockerBoard

    port = simulated_port if kind == "simulated" else cfg.argument("locker")
    return SerialLockerBoard(port, board=cfg.locker_board, doors=cfg.locker_doors,
                             open_level=cfg.locker_open_level, timeout_s=cfg.locker_timeout_s,
                             retries=cfg.locker_retries, baudrate=cfg.serial_baud)


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


# ---------------------------------------------------------------------------------------------
# Diagnostics: `mianzheng devices`
# ---------------------------------------------------------------------------------------------

DEVICE_TITLES = {
    "card_reader": "社保卡读卡器", "id_card_reader": "身份证阅读器", "qr_scanner": "扫码器",
    "locker": "储物柜", "document_camera": "高拍仪", "face_camera": "人脸摄像头",
}


@dataclass
class DeviceReport:
    """One configured device: its backend, whether it can run here, and a self-test result."""

    key: str
    spec: str
    backend: str = ""
    usable: bool = False
    ok: bool | None = None  # None: not tested (not configured, or listing only)
    detail: str = ""
    ms: float = 0.0

    @property
    def title(self) -> str:
        return DEVICE_TITLES[self.key]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "spec": self.spec,
                "backend": self.backend, "usable": self.usable, "ok": self.ok,
                "detail": self.detail, "ms": round(self.ms, 1)}


def _backend(cfg: DevicesConfig, key: str) -> tuple[str, bool]:
    """(backend description, usable here) for the device ``key``."""
    kind = cfg.kind(key)
    if kind == "none":
        return "未配置", True
    if key == "card_reader":
        from devices.cards.pcsc import PcscCardReader
        from devices.cards.pcscd import PrivatePcscd

        usable = PcscCardReader.is_usable() and (kind != "simulated" or PrivatePcscd.is_usable())
        what = "PC/SC + 虚拟社保卡（私有 pcscd + vpcd）" if kind == "simulated" else \
            f"PC/SC（{cfg.argument(key) or '第一个读卡器'}）"
        return what, usable
    if key == "id_card_reader":
        from devices.idcard.reader import SerialIdCardReader

        return ("串口模拟器（伪终端）" if kind == "simulated" else f"串口 {cfg.argument(key)}",
                SerialIdCardReader.is_usable())
    if key == "qr_scanner":
        from devices.qr.decoders import DECODERS

        decoders = [n for n in cfg.qr_decoders if DECODERS[n].is_usable()]
        where = {"simulated": "键盘口（演示手机）", "wedge": "键盘口", "serial": "串口",
                 "camera": "摄像头"}[kind]
        return f"{where}，解码：{' > '.join(decoders) or '无'}", bool(decoders)
    if key == "locker":
        from devices.locker.board import SerialLockerBoard

        return ("串口模拟器（伪终端）" if kind == "simulated" else f"串口 {cfg.argument(key)}",
                SerialLockerBoard.is_usable())
    if key == "face_camera":
        from devices.facecam import ImageFaceCamera, OpenCvFaceCamera

        if kind == "image":
            return f"图片 {cfg.argument(key)}", ImageFaceCamera.is_usable()
        if kind == "camera":
            return f"摄像头 {cfg.argument(key) or 0}", OpenCvFaceCamera.is_usable()
        return "模拟画面（内置人脸照片）", True
    from devices.doccam import FolderDocumentCamera, OpenCvDocumentCamera

    if kind == "folder":
        return f"图片文件夹 {cfg.argument(key)}", FolderDocumentCamera.is_usable()
    if kind == "camera":
        return f"摄像头 {cfg.argument(key) or 0}", OpenCvDocumentCamera.is_usable()
    return "模拟页面", True


def list_devices(config: Config) -> list[DeviceReport]:
    reports = []
    for key in DEVICE_TITLES:
        backend, usable = _backend(config.devices, key)
        reports.append(DeviceReport(key, getattr(config.devices, key), backend, usable))
    return reports


def self_test(config: Config) -> list[DeviceReport]:
    """Exercise every configured device once (simulators included); never raises.

    The simulated card reader starts a private pcscd and exports its socket: call this in a
    process that has not talked to PC/SC yet (the `mianzheng devices` command).
    """
    tests = {"card_reader": _test_card, "id_card_reader": _test_id_card,
             "qr_scanner": _test_qr, "locker": _test_locker, "document_camera": _test_doccam,
             "face_camera": _test_facecam}
    reports = list_devices(config)
    for report in reports:
        if config.devices.kind(report.key) == "none":
            continue
        if not report.usable:
            report.ok, report.detail = False, "本机无法运行此设备的驱动（缺少软件包）"
            continue
        started = time.perf_counter()
        try:
            report.detail = tests[report.key](config)
            report.ok = True
        except Exception as exc:  # each device reports its own failure
            report.ok = False
            report.detail = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        report.ms = (time.perf_counter() - started) * 1000
    return reports


def _test_card(config: Config) -> str:
    cfg = config.devices
    if cfg.kind("card_reader") != "simulated":
        reader = build_card_reader(cfg)
        assert reader is not None
        from devices.cards.model import NoCard

        try:
            data = reader.read_identity()
        except NoCard:
            return f"读卡器“{reader.reader_name}”正常，未插卡（插入社保卡可测试读卡）"
        return f"读到社保卡（卡号 *{data.card_number[-4:]}）"
    from devices.cards.simulated import SocialSecurityCardProfile
    from sandbox.cards import card_data_for
    from sandbox.world import build_world
    from workstation.embedded import EmbeddedDevices

    person = build_world().sample_person(0)
    profile = SocialSecurityCardProfile.from_json(card_data_for(person.id_number))
    state = config.data_dir / "run" / "self-test-card.json"
    with EmbeddedDevices(state) as embedded:
        embedded.card.control.insert(profile)
        reader = build_card_reader(cfg, simulated_reader=embedded.reader)
        assert reader is not None
        data = reader.wait_for_identity(15)
        embedded.card.control.remove()
    if data.ssn != profile.ssn or data.name != profile.name:
        raise CardDataError("读到的数据与虚拟卡不符")
    return (f"读到虚拟社保卡：{data.name[0]}**（卡号 *{data.card_number[-4:]}，"
            f"{reader.reader_name}）")


SAMPLE_ID_CARD = {
    "name": "自检样例", "sex": "女", "nation": "汉", "address": "湖北省赤壁市蒲圻街道自检路1号",
    "id_number": "11010519491231002X", "authority": "赤壁市公安局",
}


def _test_id_card(config: Config) -> str:
    import datetime as dt

    from devices.idcard.protocol import IdCardData, NoIdCard
    from devices.idcard.reader import SerialIdCardReader

    cfg = config.devices
    if cfg.kind("id_card_reader") == "serial":
        reader = SerialIdCardReader(cfg.argument("id_card_reader"), timeout_s=1.0)
        try:
            data = reader.read_identity()
        except NoIdCard:
            return "阅读器应答正常，感应区无身份证"
        finally:
            reader.close()
        return f"读到身份证（照片 {len(data.photo)} 字节）"
    from devices.idcard.simulator import SimulatedIdCardReader

    card = IdCardData(birth_date=dt.date(1949, 12, 31), valid_from=dt.date(2015, 3, 2),
                      valid_to=None, photo=bytes(1024), **SAMPLE_ID_CARD)
    with SimulatedIdCardReader() as sim:
        sim.place(card)
        reader = SerialIdCardReader(sim.port, timeout_s=1.0)
        try:
            data = reader.read_identity()
        finally:
            reader.close()
    if data != card:
        raise CardDataError("读到的身份证信息与模拟卡不符")
    return f"模拟阅读器 {sim.port}：寻卡、选卡、读卡正常（照片 {len(data.photo)} 字节）"


def _test_qr(config: Config) -> str:
    import numpy as np

    from devices.qr.corpus import render_code
    from devices.qr.decoders import DecoderChain

    payload = "免证办自检：二维码解码 ✓".encode()
    code = render_code(payload, 4)
    frame = np.full((720, 1280), 150, dtype=np.uint8)
    frame[100 : 100 + code.shape[0], 200 : 200 + code.shape[1]] = code
    chain = DecoderChain.from_names(config.devices.qr_decoders)
    found = chain.decode(frame)
    if found is None or found.payload != payload:
        raise CardDataError("测试二维码未能正确解码")
    detail = f"测试二维码解码正确（{found.decoder}，{found.ms:.1f} ms）"
    kind = config.devices.kind("qr_scanner")
    if kind == "camera":
        from devices.qr.sources import OpenCvCamera

        camera = OpenCvCamera(int(config.devices.argument("qr_scanner") or 0))
        camera.open()
        camera.close()
        detail += "；摄像头可以打开"
    return detail


def _test_locker(config: Config) -> str:
    from devices.locker.board import SerialLockerBoard
    from devices.locker.protocol import DoorState

    cfg = config.devices
    kwargs: dict[str, Any] = {"board": cfg.locker_board, "doors": cfg.locker_doors,
              "open_level": cfg.locker_open_level, "timeout_s": cfg.locker_timeout_s,
              "retries": cfg.locker_retries}
    if cfg.kind("locker") == "serial":  # a real board: look, never open a citizen's door
        board = SerialLockerBoard(cfg.argument("locker"), baudrate=cfg.serial_baud, **kwargs)
        try:
            state = board.door(1)
        finally:
            board.stop()
        return f"控制板应答正常，1 号柜门：{state.label}"
    from devices.locker.simulator import SimulatedLockerBoard

    with SimulatedLockerBoard(cfg.locker_board, cfg.locker_doors, cfg.locker_open_level) as sim:
        board = SerialLockerBoard(sim.port, **kwargs)
        try:
            opened = board.open_door(1)
            sim.close_door(1)
            closed = board.door(1)
        finally:
            board.stop()
    if (opened, closed) != (DoorState.OPEN, DoorState.CLOSED):
        raise RuntimeError("模拟柜门开关状态不符")
    return "模拟控制板：1 号柜门已打开并关上"


def _test_doccam(config: Config) -> str:
    from devices.doccam import FolderDocumentCamera, OpenCvDocumentCamera, SimulatedDocumentCamera

    cfg = config.devices
    kind = cfg.kind("document_camera")
    camera: Any
    if kind == "folder":
        camera = FolderDocumentCamera(cfg.argument("document_camera"))
    elif kind == "camera":
        camera = OpenCvDocumentCamera(int(cfg.argument("document_camera") or 0))
    else:
        camera = SimulatedDocumentCamera()
    try:
        page = camera.capture()
    finally:
        camera.close()
    return f"拍摄一页：{page.width}×{page.height}（{page.source}，{page.device}）"


def _test_facecam(config: Config) -> str:
    from devices.facecam import open_face_camera

    camera = open_face_camera(config.devices.face_camera)
    if camera is None:
        return "未配置"
    try:
        frame = camera.frame()
    finally:
        camera.close()
    return f"取得画面：{frame.shape[1]}×{frame.shape[0]}"
