"""Document cameras (高拍仪): capture a page as an image with its metadata.

Backends: ``OpenCvDocumentCamera`` (a UVC document camera through OpenCV, when one is
present), ``FolderDocumentCamera`` (the images of a folder in turn: demos, and hall set-ups
where a scanner drops files), ``SimulatedDocumentCamera`` (a generated page).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from devices.errors import DeviceError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


class CaptureError(DeviceError):
    code = "capture"
    default_message = "高拍仪拍摄失败，请检查连接后重试"


@dataclass(frozen=True)
class CapturedImage:
    """One captured page: the pixels (BGR or grey, uint8) and what is known about them."""

    image: np.ndarray = field(repr=False)
    captured_at: dt.datetime
    source: str  # "camera", "folder", "simulated"
    device: str  # camera index, file name, ...
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def png(self) -> bytes:
        import cv2

        ok, buf = cv2.imencode(".png", self.image)
        if not ok:
            raise CaptureError("无法编码图片")
        return bytes(buf)


def _metadata(image: np.ndarray, **extra: Any) -> dict[str, Any]:
    return {"width": int(image.shape[1]), "height": int(image.shape[0]),
            "channels": 1 if image.ndim == 2 else int(image.shape[2]),
            "sha256": hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest(),
            **extra}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DocumentCamera(ABC):
    kind: str

    @classmethod
    @abstractmethod
    def is_usable(cls) -> bool: ...

    @abstractmethod
    def capture(self) -> CapturedImage:
        """Take one page (blocking); raises CaptureError."""

    def close(self) -> None:  # noqa: B027  (optional for backends)
        """Release the device."""


class OpenCvDocumentCamera(DocumentCamera):
    kind = "高拍仪（摄像头）"

    def __init__(self, index: int = 0, width: int = 2592, height: int = 1944) -> None:
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

    def capture(self) -> CapturedImage:
        import cv2

        if self._cap is None:
            cap = cv2.VideoCapture(self.index)
            if not cap.isOpened():
                cap.release()
                raise CaptureError(f"无法打开高拍仪（摄像头 {self.index}），请检查连接")
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            self._cap = cap
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise CaptureError("高拍仪没有返回图像，请重试")
        image = np.asarray(frame)
        return CapturedImage(image, _now(), "camera", str(self.index),
                             _metadata(image, backend=self._cap.getBackendName()))

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FolderDocumentCamera(DocumentCamera):
    """Each capture returns the next image of ``folder`` (sorted by name, then again)."""

    kind = "高拍仪（图片文件夹）"

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._files: Any = None

    @classmethod
    def is_usable(cls) -> bool:
        return OpenCvDocumentCamera.is_usable()

    def capture(self) -> CapturedImage:
        import cv2

        if self._files is None:
            files = sorted(p for p in self.folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise CaptureError(f"图片文件夹中没有图片：{self.folder}")
            self._files = itertools.cycle(files)
        path = next(self._files)
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise CaptureError(f"无法读取图片：{path.name}")
        image = np.asarray(image)
        stat = path.stat()
        return CapturedImage(image, _now(), "folder", path.name, _metadata(
            image, file=str(path), file_size=stat.st_size,
            file_mtime=dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat()))


class SimulatedDocumentCamera(DocumentCamera):
    """A generated A4 page (grey text lines, a stamp-like box) at 150 dpi; or, first, the
    images a demo or a test put under it with ``present(image)`` (one per capture)."""

    kind = "高拍仪（模拟）"

    def __init__(self, seed: int = 1) -> None:
        self._rng = random.Random(seed)
        self.pages = 0
        self._presented: list[np.ndarray] = []

    def present(self, image: np.ndarray) -> None:
        """Put a page (a photographed-looking image) under the camera for the next capture."""
        self._presented.append(np.asarray(image))

    @classmethod
    def is_usable(cls) -> bool:
        return True

    def capture(self) -> CapturedImage:
        if self._presented:
            image = self._presented.pop(0)
            self.pages += 1
            return CapturedImage(image, _now(), "simulated", f"page-{self.pages}",
                                 _metadata(image, presented=True))
        h, w = 1754, 1240
        page = np.full((h, w), 248, dtype=np.uint8)
        y = 160
        while y < h - 200:
            x = 120
            while x < w - 160:
                word = self._rng.randint(20, 90)
                page[y : y + 18, x : x + word] = self._rng.randint(30, 80)
                x += word + 14
            y += 44
        page[h - 180 : h - 60, w - 320 : w - 100] = 200
        self.pages += 1
        return CapturedImage(page, _now(), "simulated", f"page-{self.pages}",
                             _metadata(page, dpi=150, paper="A4"))
