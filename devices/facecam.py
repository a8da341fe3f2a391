"""Face cameras (人脸摄像头) of self-service kiosks: frames of whoever stands in front.

Backends, chosen like the document camera's (``[devices] face_camera``):

- ``OpenCvFaceCamera`` (``camera:0``): a UVC camera through OpenCV;
- ``ImageFaceCamera`` (``image:/path/photo.png``): every frame is that picture (demos, and
  testing a hall set-up without a camera);
- ``SimulatedFaceCamera`` (``simulated``): frames from an array that a demo or a test sets with
  ``show(image)`` and clears with ``leave()`` (nobody in front: an empty hall background). By
  default it shows the real face photograph that scikit-image ships (``astronaut.png``), the
  sandbox's demo citizen.

Frames are BGR ``uint8`` arrays. Nothing here detects faces: that is the scenario's work.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from devices.errors import DeviceError


class FaceCameraError(DeviceError):
    code = "face_camera"
    default_message = "人脸摄像头无法取得画面，请检查连接"


def empty_scene(width: int = 640, height: int = 480) -> np.ndarray:
    """A frame with nobody in it: a softly lit wall (BGR)."""
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    grey = 150 + 40 * (1 - y) + 15 * np.cos(x * 3.0)
    frame = np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
    frame[:, :, 0] = np.clip(frame[:, :, 0].astype(np.int16) + 12, 0, 255).astype(np.uint8)
    return frame


def demo_face() -> np.ndarray:
    """The real face photograph shipped by scikit-image (astronaut Eileen Collins), BGR."""
    from skimage import data

    rgb = np.asarray(data.astronaut())
    return np.ascontiguousarray(rgb[:, :, ::-1])


class FaceCamera(ABC):
    kind: str

    @classmethod
    @abstractmethod
    def is_usable(cls) -> bool: ...

    @abstractmethod
    def frame(self) -> np.ndarray:
        """The current frame (blocking, a few ms); raises FaceCameraError."""

    def close(self) -> None:  # noqa: B027  (optional for backends)
        """Release the device."""


class SimulatedFaceCamera(FaceCamera):
    """Frames from an array: ``show(image)`` puts someone in front, ``leave()`` empties it."""

    kind = "人脸摄像头（模拟）"

    def __init__(self, image: np.ndarray | None = None, *, present: bool = True) -> None:
        self._lock = threading.Lock()
        self._image: np.ndarray | None = None
        self.failing = False  # a test switch: the camera stops delivering frames
        if present:
            self.show(image if image is not None else demo_face())

    @classmethod
    def is_usable(cls) -> bool:
        return True

    def show(self, image: np.ndarray) -> None:
        """Someone (or something) in front of the camera: ``image`` is BGR or grey uint8."""
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim not in (2, 3):
            raise ValueError("a frame is a uint8 grey or BGR image")
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        with self._lock:
            self._image = np.ascontiguousarray(array[:, :, :3]).copy()

    def leave(self) -> None:
        with self._lock:
            self._image = None

    def frame(self) -> np.ndarray:
        if self.failing:
            raise FaceCameraError()
        with self._lock:
            image = self._image
        return empty_scene() if image is None else image.copy()


class ImageFaceCamera(FaceCamera):
    """Every frame is the picture in ``path`` (read once)."""

    kind = "人脸摄像头（图片）"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._image: np.ndarray | None = None

    @classmethod
    def is_usable(cls) -> bool:
        return OpenCvFaceCamera.is_usable()

    def frame(self) -> np.ndarray:
        import cv2

        if self._image is None:
            image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
            if image is None:
                raise FaceCameraError(f"无法读取图片：{self.path.name}")
            self._image = np.asarray(image)
        return self._image.copy()


class OpenCvFaceCamera(FaceCamera):
    kind = "人脸摄像头"

    def __init__(self, index: int = 0, width: int = 640, height: int = 480) -> None:
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

    def frame(self) -> np.ndarray:
        import cv2

        if self._cap is None:
            cap = cv2.VideoCapture(self.index)
            if not cap.isOpened():
                cap.release()
                raise FaceCameraError(f"无法打开人脸摄像头（摄像头 {self.index}），请检查连接")
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            self._cap = cap
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise FaceCameraError("人脸摄像头没有返回画面")
        return np.asarray(frame)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def open_face_camera(spec: str) -> FaceCamera | None:
    """A camera from a configuration value: ``simulated``, ``image:PATH``, ``camera:N``,
    ``none`` (None)."""
    kind, _, argument = spec.partition(":")
    if kind == "none":
        return None
    if kind == "simulated":
        return SimulatedFaceCamera()
    if kind == "image":
        return ImageFaceCamera(argument)
    if kind == "camera":
        return OpenCvFaceCamera(int(argument or 0))
    raise ValueError(f"unknown face camera {spec!r}")
