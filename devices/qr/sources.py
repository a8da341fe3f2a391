"""Where scanned codes come from, besides the keyboard wedge: cameras (OpenCV), serial
scanners (pyserial) and image files. Each source calls ``on_code(bytes)`` on its own thread;
a GUI hands that over to its thread (the Qt bridge) before touching anything.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from devices.errors import DeviceError
from devices.qr.decoders import DecoderChain

log = logging.getLogger(__name__)

CodeCallback = Callable[[bytes], None]
Clock = Callable[[], float]


class FrameScanner:
    """Decodes frames off the caller's thread: at most one decode in flight (frames offered
    meanwhile are dropped), and the same code is ignored for ``repeat_after_s`` after a hit
    (a phone held in front of the camera is read once, not 30 times a second)."""

    def __init__(self, chain: DecoderChain, on_code: CodeCallback, *,
                 repeat_after_s: float = 3.0, clock: Clock = time.monotonic) -> None:
        self.chain = chain
        self.on_code = on_code
        self.repeat_after_s = repeat_after_s
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qr-decode")
        self._busy = threading.Event()
        self._last: tuple[bytes, float] | None = None
        self.decoded = 0
        self.dropped = 0

    def offer(self, frame: np.ndarray) -> bool:
        """Start decoding ``frame`` unless a decode is in flight; False when dropped."""
        if self._busy.is_set():
            self.dropped += 1
            return False
        self._busy.set()
        self._pool.submit(self._decode, frame)
        return True

    def _decode(self, frame: np.ndarray) -> None:
        try:
            found = self.chain.decode(frame)
            self.decoded += 1
            if found is not None:
                self.deliver(found.payload)
        except Exception:  # one bad frame must not stop the camera
            log.exception("QR decode failed")
        finally:
            self._busy.clear()

    def deliver(self, payload: bytes) -> bool:
        """Pass a code on unless it is the one just read; False when ignored."""
        now = self.clock()
        if self._last is not None and self._last[0] == payload and \
                now - self._last[1] < self.repeat_after_s:
            return False
        self._last = (payload, now)
        self.on_code(payload)
        return True

    def idle(self) -> bool:
        return not self._busy.is_set()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class OpenCvCamera:
    """A camera through OpenCV's VideoCapture (V4L2 on Linux)."""

    kind = "摄像头（OpenCV）"

    def __init__(self, index: int = 0, width: int = 1280, height: int = 720) -> None:
        self.index = index
        self.width = width
        self.height = height
        self._cap: Any = None

    @classmethod
    def is_usable(cls) -> bool:
        try:
            import cv2  # noqa: F401
        except ImportError:
            return False
        return True

    def open(self) -> None:
        import cv2

        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            raise DeviceError(f"无法打开摄像头 {self.index}，请检查连接", code="camera")
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self._cap = cap

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            self.open()
        ok, frame = self._cap.read()
        return np.asarray(frame) if ok else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FrameSource:
    """Frames from anything iterable (tests, image folders): the same interface as a camera."""

    kind = "帧序列"

    def __init__(self, frames: Iterable[np.ndarray]) -> None:
        self._frames = iter(frames)

    @classmethod
    def is_usable(cls) -> bool:
        return True

    def read(self) -> np.ndarray | None:
        return next(self._frames, None)

    def close(self) -> None:
        pass


class CameraScanner:
    """Reads a camera on a thread of its own and offers every frame to a FrameScanner."""

    def __init__(self, camera: Any, scanner: FrameScanner) -> None:
        self.camera = camera
        self.scanner = scanner
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: DeviceError | None = None
        self.finished = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.camera.read()
                if frame is None:
                    break
                self.scanner.offer(frame)
        except DeviceError as exc:
            self.error = exc
        finally:
            self.finished.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.camera.close()


class SerialQrScanner:
    """A QR scanner on a serial port: each code ends with ``terminator`` (CR by default)."""

    kind = "扫码器（串口）"

    def __init__(self, port: str, on_code: CodeCallback, *, baudrate: int = 9600,
                 terminator: bytes = b"\r", max_length: int = 4096) -> None:
        self.port = port
        self.on_code = on_code
        self.baudrate = baudrate
        self.terminator = terminator
        self.max_length = max_length
        self._serial: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: DeviceError | None = None

    @classmethod
    def is_usable(cls) -> bool:
        try:
            import serial  # noqa: F401
        except ImportError:
            return False
        return True

    def start(self) -> None:
        import serial

        try:
            self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2)
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"无法打开扫码器串口 {self.port}：{exc}", code="serial") from None
        self._thread = threading.Thread(target=self._run, name="serial-scanner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            try:
                chunk = self._serial.read(256)
            except Exception as exc:  # unplugged
                self.error = DeviceError(f"扫码器串口断开：{exc}", code="serial")
                return
            if not chunk:
                continue
            buf += chunk
            while self.terminator in buf:
                code, buf = buf.split(self.terminator, 1)
                if code.strip(b"\r\n"):
                    self.on_code(code.strip(b"\r\n"))
            if len(buf) > self.max_length:  # junk without a terminator: drop, say so once
                self.on_code(buf)
                buf = b""

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
            self._serial = None
