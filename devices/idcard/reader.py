"""The serial backend of a second-generation ID-card reader (pyserial).

``read_identity()`` runs find (20 01), select (20 02) and read (30 01) and returns the whole
identity or raises: no card, a status error, a frame that is short, misframed or fails its
checksum (refused whole, never half decoded), or a reader that does not answer in time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from devices.idcard.protocol import (
    FIND,
    HEADER,
    MAX_FRAME_BODY,
    READ,
    SELECT,
    SW3_FOUND,
    SW3_OK,
    FrameError,
    IdCardData,
    IdCardReaderError,
    IdCardStatusError,
    NoIdCard,
    command,
    parse_read,
    parse_reply,
)


class SerialIdCardReader:
    """An ID-card reader on a serial port (or any pyserial URL, e.g. ``loop://``)."""

    kind = "身份证阅读器（串口）"

    def __init__(self, port: str, *, baudrate: int = 115200, timeout_s: float = 1.0) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self._serial: Any = None
        self._lock = threading.Lock()

    @classmethod
    def is_usable(cls) -> bool:
        try:
            import serial  # noqa: F401
        except ImportError:
            return False
        return True

    def open(self) -> None:
        import serial

        if self._serial is None:
            try:
                self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate,
                                                     timeout=self.timeout_s)
            except (serial.SerialException, OSError) as exc:
                raise IdCardReaderError(
                    f"无法打开身份证阅读器串口 {self.port}：{getattr(exc, 'strerror', None) or exc}"
                ) from None

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def _read_frame(self) -> bytes:
        ser = self._serial
        deadline = time.monotonic() + self.timeout_s
        window = b""
        while not window.endswith(HEADER):  # skip line noise before the header
            byte = ser.read(1)
            if not byte:
                if window:
                    raise FrameError("身份证阅读器的应答不完整（短帧），请重试")
                raise IdCardReaderError("身份证阅读器无应答，请检查连接和电源")
            window = (window + byte)[-len(HEADER) - 64 :]
            if time.monotonic() > deadline and len(window) > len(HEADER) + 32:
                raise FrameError("身份证阅读器的应答帧头错误，请检查串口设置")
        raw_len = ser.read(2)
        if len(raw_len) < 2:
            raise FrameError("身份证阅读器的应答不完整（短帧），请重试")
        length = int.from_bytes(raw_len, "big")
        if not 1 <= length <= MAX_FRAME_BODY:
            raise FrameError("身份证阅读器的应答长度错误，请重试")
        body = ser.read(length)
        if len(body) < length:
            raise FrameError("身份证阅读器的应答不完整（短帧），请重试")
        return HEADER + raw_len + body

    def transact(self, cmd: tuple[int, int], step: str) -> tuple[int, bytes]:
        self.open()
        self._serial.reset_input_buffer()
        self._serial.write(command(cmd))
        self._serial.flush()
        sw3, data = parse_reply(self._read_frame())
        return sw3, data

    def read_identity(self) -> IdCardData:
        with self._lock:
            sw3, _ = self.transact(FIND, "寻卡")
            if sw3 == 0x80:
                raise NoIdCard()
            if sw3 != SW3_FOUND:
                raise IdCardStatusError(sw3, "寻卡")
            sw3, _ = self.transact(SELECT, "选卡")
            if sw3 == 0x81:
                raise NoIdCard("身份证放置不稳，请把身份证平放在感应区不要移动")
            if sw3 != SW3_OK:
                raise IdCardStatusError(sw3, "选卡")
            sw3, data = self.transact(READ, "读卡")
            if sw3 != SW3_OK:
                raise IdCardStatusError(sw3, "读卡")
            return parse_read(data)
