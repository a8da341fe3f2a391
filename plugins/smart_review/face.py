"""Face login at the kiosk, the local half: find the face in a camera frame and crop it.
Qt-free. The comparison with the ID photo is the platform's (``/api/v1/face/search``).

Detection: OpenCV's Haar cascade ``haarcascade_frontalface_alt2.xml`` as shipped inside
opencv-python (``cv2.data.haarcascades``; OpenCV 5 no longer ships them: setup.cfg pins < 5).
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

CASCADE = "haarcascade_frontalface_alt2.xml"
MARGIN = 0.3  # of the face's width around the crop: the platform finds the face again in it
MIN_FACE_FRACTION = 0.12  # of the frame's shorter side: farther away is "nobody in front"


class FaceState(StrEnum):
    NONE = "none"  # nobody (or nobody close enough) in front of the camera
    ONE = "one"
    SEVERAL = "several"


@dataclass(frozen=True)
class FaceScan:
    """One frame looked at: what was found, the boxes (x, y, w, h), the crop of the face."""

    state: FaceState
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    crop_png: bytes = field(default=b"", repr=False)  # personal data: never log or keep it

    @property
    def message(self) -> str:
        return {
            FaceState.NONE: "请正对摄像头，保持面部在框内",
            FaceState.ONE: "已检测到人脸，请保持不动",
            FaceState.SEVERAL: "检测到多张人脸，请确保摄像头前只有您一人",
        }[self.state]


class FaceDetector:
    """A Haar cascade behind a lock (a CascadeClassifier must not be shared between threads)."""

    def __init__(self) -> None:
        import cv2

        self._lock = threading.Lock()
        path = cv2.data.haarcascades + CASCADE  # type: ignore[attr-defined]
        self._cascade: Any = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"cannot load {CASCADE}")

    def scan(self, frame: np.ndarray) -> FaceScan:
        import cv2

        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        smallest = max(40, int(MIN_FACE_FRACTION * min(grey.shape[:2])))
        with self._lock:
            found = self._cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                                   minSize=(smallest, smallest))
        boxes = tuple(sorted(((int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in found),
                             key=lambda b: b[2] * b[3], reverse=True))
        if not boxes:
            return FaceScan(FaceState.NONE)
        if len(boxes) > 1:
            return FaceScan(FaceState.SEVERAL, boxes)
        return FaceScan(FaceState.ONE, boxes, crop_face(frame, boxes[0]))


def crop_face(frame: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """The face with a margin around it, as PNG."""
    import cv2

    x, y, w, h = box
    m = int(MARGIN * w)
    height, width = frame.shape[:2]
    crop = frame[max(0, y - m) : min(height, y + h + m), max(0, x - m) : min(width, x + w + m)]
    ok, buf = cv2.imencode(".png", crop)
    if not ok:
        raise RuntimeError("cannot encode the face crop")
    return bytes(buf)


@dataclass(frozen=True)
class FaceMatch:
    matched: bool
    holder_id: str = field(default="", repr=False)
    name: str = field(default="", repr=False)
    score: float = 0.0


FACE_SEARCH = "/api/v1/face/search"


def search_face(platform: Any, crop_png: bytes) -> FaceMatch:
    """Ask the platform's face service who this is (1:N against the ID photos)."""
    body = {"image": base64.b64encode(crop_png).decode("ascii"), "purpose": "自助服务区人脸登录"}
    reply = platform.call_json("POST", FACE_SEARCH, "face_search", json=body)
    if not reply.get("matched"):
        return FaceMatch(False, score=float(reply.get("score", 0.0)))
    return FaceMatch(True, str(reply["holder_id"]), str(reply["name"]),
                     float(reply.get("score", 0.0)))


def frame_preview(frame: np.ndarray, boxes: tuple[tuple[int, int, int, int], ...],
                  colour: tuple[int, int, int] = (60, 200, 60)) -> np.ndarray:
    """The frame with the detected faces outlined (what the kiosk shows), RGB."""
    import cv2

    shown = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    for x, y, w, h in boxes:
        cv2.rectangle(shown, (x, y), (x + w, y + h), colour, max(2, w // 40))
    return np.ascontiguousarray(shown[:, :, ::-1])
