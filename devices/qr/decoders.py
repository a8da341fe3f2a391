"""QR decoders over grayscale frames, and the chain that tries them in turn.

- ``ZxingDecoder``: zxing-cpp 3.x (pinned: its API changed in 3.0), restricted to
  ``QRCodeModel2`` (plain ``QRCode`` includes Micro QR, which gave false reads on blur).
  ``.bytes`` is exact.
- ``ZbarDecoder``: libzbar through pyzbar's ctypes wrapper, QR only, with zbar's raw-bytes
  option (ZBAR_CFG_BINARY, value 4; pyzbar 0.1.9 calls it CFG_NUM) so zbar does not guess a
  character set (it garbled UTF-8 Chinese as Shift-JIS). Grayscale input only: given a BGR array
  pyzbar reads the blue channel alone.
- ``DecoderChain``: decoders in order, stopping at the first hit; on a miss, cheap
  pre-processing steps (chosen by `make bench`) are tried with the first decoder.
"""

from __future__ import annotations

import ctypes
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Preprocess = Callable[[np.ndarray], np.ndarray]


class QrDecoder(ABC):
    name: str

    @classmethod
    @abstractmethod
    def is_usable(cls) -> bool:
        """Whether the library loads here."""

    @abstractmethod
    def decode(self, gray: np.ndarray) -> list[bytes]:
        """Payloads of the QR codes in a 2-D uint8 frame (raw bytes, in reading order)."""


class ZxingDecoder(QrDecoder):
    name = "zxing"

    def __init__(self) -> None:
        import zxingcpp

        self._zx = zxingcpp
        self._formats: Any = zxingcpp.BarcodeFormat.QRCodeModel2

    @classmethod
    def is_usable(cls) -> bool:
        try:
            import zxingcpp
        except ImportError:
            return False
        return hasattr(zxingcpp.BarcodeFormat, "QRCodeModel2")

    def decode(self, gray: np.ndarray) -> list[bytes]:
        # read_barcode stops at the first code: ~30% faster than read_barcodes on a hit
        result = self._zx.read_barcode(gray, formats=self._formats)
        return [bytes(result.bytes)] if result is not None and result.valid else []


class ZbarDecoder(QrDecoder):
    """One zbar image scanner per decoder (zbar scanners are not thread-safe: a lock)."""

    name = "zbar"
    CFG_BINARY = 4  # ZBAR_CFG_BINARY

    def __init__(self) -> None:
        from pyzbar import wrapper as zw
        from pyzbar.pyzbar import ZBarSymbol

        self._zw = zw
        self._lock = threading.Lock()
        self._scanner = zw.zbar_image_scanner_create()
        for symbol in ZBarSymbol:
            zw.zbar_image_scanner_set_config(self._scanner, symbol, zw.ZBarConfig.CFG_ENABLE,
                                             1 if symbol == ZBarSymbol.QRCODE else 0)
        zw.zbar_image_scanner_set_config(self._scanner, ZBarSymbol.QRCODE, self.CFG_BINARY, 1)
        self._fourcc = (ord("Y") | ord("8") << 8 | ord("0") << 16 | ord("0") << 24)

    @classmethod
    def is_usable(cls) -> bool:
        try:
            from pyzbar import pyzbar  # noqa: F401  loads libzbar0
        except (ImportError, OSError):
            return False
        return True

    def decode(self, gray: np.ndarray) -> list[bytes]:
        zw = self._zw
        pixels = np.ascontiguousarray(gray, dtype=np.uint8)
        height, width = pixels.shape[:2]
        out: list[bytes] = []
        with self._lock:
            image = zw.zbar_image_create()
            try:
                zw.zbar_image_set_format(image, self._fourcc)
                zw.zbar_image_set_size(image, width, height)
                zw.zbar_image_set_data(image, pixels.ctypes.data_as(ctypes.c_void_p),
                                       pixels.size, None)
                if zw.zbar_scan_image(self._scanner, image) > 0:
                    symbol = zw.zbar_image_first_symbol(image)
                    while symbol:
                        out.append(ctypes.string_at(zw.zbar_symbol_get_data(symbol),
                                                    zw.zbar_symbol_get_data_length(symbol)))
                        symbol = zw.zbar_symbol_next(symbol)
            finally:
                zw.zbar_image_destroy(image)
        return out

    def __del__(self) -> None:
        scanner = getattr(self, "_scanner", None)
        if scanner is not None:
            self._zw.zbar_image_scanner_destroy(scanner)


DECODERS: dict[str, type[QrDecoder]] = {"zxing": ZxingDecoder, "zbar": ZbarDecoder}


def to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    import cv2

    code = cv2.COLOR_BGRA2GRAY if frame.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return np.asarray(cv2.cvtColor(frame, code))


def downscale_half(gray: np.ndarray) -> np.ndarray:
    """Area down-scaling averages away moiré and scan-lines."""
    import cv2

    return np.asarray(cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))


def sharpen(gray: np.ndarray) -> np.ndarray:
    """Unsharp mask against mild blur."""
    import cv2

    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return np.asarray(cv2.addWeighted(gray, 1.8, blurred, -0.8, 0))


def equalize(gray: np.ndarray) -> np.ndarray:
    """Local contrast (CLAHE) against glare."""
    import cv2

    return np.asarray(cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray))


PREPROCESSORS: dict[str, Preprocess] = {
    "downscale": downscale_half, "sharpen": sharpen, "equalize": equalize,
}


@dataclass(frozen=True)
class Decoded:
    payload: bytes
    decoder: str  # "zxing", "zbar", or "zxing+downscale"
    ms: float


class DecoderChain:
    """Try ``decoders`` in order, then ``preprocess`` steps with the first decoder."""

    def __init__(self, decoders: Sequence[QrDecoder], preprocess: Sequence[str] = ()) -> None:
        if not decoders:
            raise ValueError("a chain needs at least one decoder")
        self.decoders = list(decoders)
        self.preprocess = [(name, PREPROCESSORS[name]) for name in preprocess]

    @classmethod
    def from_names(cls, names: Sequence[str], preprocess: Sequence[str] | None = None
                   ) -> DecoderChain:
        """The usable decoders among ``names`` (in that order); default pre-processing."""
        decoders = [DECODERS[n]() for n in names if DECODERS[n].is_usable()]
        if not decoders:
            from devices.errors import DeviceError

            raise DeviceError("没有可用的二维码解码库（zxing-cpp 或 pyzbar/libzbar0）",
                              code="no_decoder")
        return cls(decoders, DEFAULT_PREPROCESS if preprocess is None else preprocess)

    @property
    def name(self) -> str:
        steps = [d.name for d in self.decoders] + [f"+{p}" for p, _ in self.preprocess]
        return ">".join(steps)

    def decode(self, frame: np.ndarray) -> Decoded | None:
        started = time.perf_counter()
        gray = to_gray(frame)
        for decoder in self.decoders:
            found = decoder.decode(gray)
            if found:
                return Decoded(found[0], decoder.name, (time.perf_counter() - started) * 1000)
        first = self.decoders[0]
        for pname, step in self.preprocess:
            found = first.decode(step(gray))
            if found:
                return Decoded(found[0], f"{first.name}+{pname}",
                               (time.perf_counter() - started) * 1000)
        return None


# Chosen from `make bench` (benchmarks/qr.py, 1,100 generated frames): zxing-cpp first (best
# single rate, ~1.5 ms on 1280×720), zbar on a miss (it wins on moiré/scan-lines), then zxing on
# a sharpened frame (blur: +14 points there) and on a half-size one (averages out moiré).
# zxing 91.1% -> +zbar 93.1% -> +sharpen 95.6% -> +downscale 95.8%, no false decodes; the
# median frame costs what zxing costs, the extra steps run on misses only.
DEFAULT_DECODERS = ("zxing", "zbar")
DEFAULT_PREPROCESS: tuple[str, ...] = ("sharpen", "downscale")


def decode_image_file(path: Any, chain: DecoderChain | None = None) -> Decoded | None:
    """Decode a QR code in an image file (PNG, JPEG, ...); None when there is none."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        from devices.errors import DeviceError

        raise DeviceError(f"无法读取图片文件：{path}", code="image_unreadable")
    return (chain or DecoderChain.from_names(DEFAULT_DECODERS)).decode(np.asarray(image))
