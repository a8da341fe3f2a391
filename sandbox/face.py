"""Sandbox face-verification service (人脸比对), the platform S5's kiosk logs in with.

The real service compares a live face with the photo on the citizen's resident ID card held by
the public-security information library. Here:

- each registered citizen has an ID photo: by default the married couple's wife of the world
  (``world.married_couple[1]``) has the real face photograph that scikit-image ships
  (``skimage.data.astronaut()``); tests and demos register others with ``register()``;
- the workstation sends a face crop it detected itself (PNG, base64); the service finds the
  face again in the crop and in every registered photo with OpenCV's Haar cascade
  (``frontalface_alt2``: the default cascade also "found" a second face in the astronaut's
  suit), aligns both
  to a 64×64 grey patch (smoothed, illumination equalised) and compares them with uniform local
  binary pattern (LBP, radius 2) histograms over a 4×4 grid (cosine, turned into a 0..1
  similarity).
  A real, simple, deterministic comparison: enough to tell a person from another photograph,
  not a production face recogniser (no liveness check).

Routes (``/api/v1/face/...``, client credentials, the server's faults apply):

- ``POST /api/v1/face/search``  ``{"image": b64 png, "purpose": "..."}`` → 1:N over the
  registered photos: ``{"matched": bool, "holder_id", "name", "score", "threshold"}``;
- ``POST /api/v1/face/verify``  ``{"holder_id", "image"}`` → 1:1: ``{"match", "score",
  "threshold"}``.

An image without exactly one face is refused (422 ``no_face`` / ``several_faces``).
"""

from __future__ import annotations

import base64
import binascii
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sandbox.server import SandboxServer, _Request, _Response

#: Similarity at or above which two faces are taken for the same person.
MATCH_THRESHOLD = 0.70
MAX_IMAGE_BYTES = 2 * 1024 * 1024
PATCH = 64
GRID = 4


class FaceError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


_cascade_lock = threading.Lock()
_cascade: Any = None


def _detector() -> Any:
    global _cascade
    import cv2

    with _cascade_lock:
        if _cascade is None:
            _cascade = cv2.CascadeClassifier(
                cv2.data.haarcascades + "haarcascade_frontalface_alt2.xml")  # type: ignore[attr-defined]
        return _cascade


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    if image.ndim == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    return image


def find_faces(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h), largest first."""
    grey = _grey(image)
    side = min(grey.shape[:2])
    detector = _detector()
    with _cascade_lock:  # a CascadeClassifier is not safe to share between threads
        boxes = detector.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                          minSize=(max(24, side // 8), max(24, side // 8)))
    found = [(int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in boxes]
    return sorted(found, key=lambda b: b[2] * b[3], reverse=True)


def aligned_patch(image: np.ndarray) -> np.ndarray:
    """The one face of ``image`` as a PATCH×PATCH grey patch, contrast-equalised."""
    import cv2

    faces = find_faces(image)
    if not faces:
        raise FaceError("no_face", "图像中未检测到人脸")
    if len(faces) > 1 and faces[1][2] * faces[1][3] > 0.25 * faces[0][2] * faces[0][3]:
        raise FaceError("several_faces", "图像中有多张人脸")
    x, y, w, h = faces[0]
    grey = _grey(image)
    face = grey[y : y + h, x : x + w]
    patch = cv2.resize(face, (PATCH, PATCH), interpolation=cv2.INTER_AREA)
    patch = cv2.GaussianBlur(patch, (3, 3), 0)  # camera noise would dominate the patterns
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))
    return np.asarray(clahe.apply(patch))


def descriptor(patch: np.ndarray) -> np.ndarray:
    """Concatenated, normalised uniform-LBP histograms of a GRID×GRID split of the patch."""
    from skimage.feature import local_binary_pattern

    points = 8
    codes = local_binary_pattern(patch, points, 2, method="uniform")
    bins = points + 2
    step = PATCH // GRID
    parts = []
    for row in range(GRID):
        for col in range(GRID):
            cell = codes[row * step : (row + 1) * step, col * step : (col + 1) * step]
            hist, _ = np.histogram(cell, bins=bins, range=(0, bins))
            parts.append(hist.astype(np.float64) / max(1, cell.size))
    return np.concatenate(parts)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """0..1 from the cosine of two descriptors (1 = identical).

    Measured on this descriptor: the demo photo against 30 re-photographed copies of itself
    (scaled, moved, lit differently, noisy, blurred) scores >= 0.78; against the faces of
    scikit-image's LFW subset (other people), <= 0.60. Hence MATCH_THRESHOLD 0.70.
    """
    cosine = float(a @ b) / max(1e-12, float(np.linalg.norm(a) * np.linalg.norm(b)))
    return min(1.0, max(0.0, (cosine - 0.9) / 0.1))


def decode_image(text: Any) -> np.ndarray:
    import cv2

    if not isinstance(text, str) or not text:
        raise FaceError("invalid_request", "缺少人脸图像 image")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FaceError("invalid_request", "image 不是有效的 base64") from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise FaceError("invalid_request", "人脸图像过大")
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise FaceError("invalid_request", "无法解码人脸图像")
    return np.asarray(image)


class FacePlatform:
    """Registered ID photos (by ID number) and the search / verify routes."""

    def __init__(self, server: SandboxServer) -> None:
        self._server = server
        self._lock = threading.Lock()
        self._photos: dict[str, np.ndarray] = {}  # holder id -> descriptor of the ID photo
        self.requests = 0  # how many comparisons were asked (tests)
        self._defaults_loaded = False

    # -- platform protocol -------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, Any, bool]]:
        return [
            ("POST", r"/api/v1/face/search", self._search, True),
            ("POST", r"/api/v1/face/verify", self._verify, True),
        ]

    def reset(self) -> None:
        with self._lock:
            self._photos.clear()
            self._defaults_loaded = False
            self.requests = 0

    # -- registry ----------------------------------------------------------------------------

    @property
    def demo_holder_id(self) -> str:
        """The citizen whose ID photo is scikit-image's astronaut photograph."""
        return self._server.world.married_couple[1].id_number

    def _ensure_defaults(self) -> None:
        if self._defaults_loaded:
            return
        from devices.facecam import demo_face

        self._photos.setdefault(self.demo_holder_id, descriptor(aligned_patch(demo_face())))
        self._defaults_loaded = True

    def register(self, holder_id: str, photo: np.ndarray) -> None:
        """Record ``photo`` (BGR, one face) as the ID photo of ``holder_id``."""
        if self._server.world.citizen(holder_id) is None:
            raise LookupError("unknown citizen")
        desc = descriptor(aligned_patch(photo))
        with self._lock:
            self._ensure_defaults()
            self._photos[holder_id] = desc

    def unregister(self, holder_id: str) -> None:
        with self._lock:
            self._ensure_defaults()
            self._photos.pop(holder_id, None)

    def compare(self, probe: np.ndarray) -> list[tuple[str, float]]:
        """(holder id, similarity) of every registered photo, best first."""
        desc = descriptor(aligned_patch(probe))
        with self._lock:
            self._ensure_defaults()
            photos = list(self._photos.items())
            self.requests += 1
        scores = [(holder, similarity(desc, ref)) for holder, ref in photos]
        return sorted(scores, key=lambda s: s[1], reverse=True)

    # -- routes ------------------------------------------------------------------------------

    def _probe(self, req: _Request) -> tuple[dict[str, Any], np.ndarray]:
        from sandbox.server import ApiError

        body = req.json()
        try:
            return body, decode_image(body.get("image"))
        except FaceError as exc:
            raise ApiError(400, exc.code, exc.message) from None

    def _scores(self, probe: np.ndarray) -> list[tuple[str, float]]:
        from sandbox.server import ApiError

        try:
            return self.compare(probe)
        except FaceError as exc:
            raise ApiError(422, exc.code, exc.message) from None

    def _search(self, req: _Request) -> _Response:
        from sandbox.server import _Response

        _, probe = self._probe(req)
        scores = self._scores(probe)
        best = scores[0] if scores else None
        if best is None or best[1] < MATCH_THRESHOLD:
            return _Response.json({"matched": False, "score": round(best[1], 4) if best else 0.0,
                                   "threshold": MATCH_THRESHOLD})
        holder_id, score = best
        citizen = self._server.world.citizen(holder_id)
        assert citizen is not None
        return _Response.json({"matched": True, "holder_id": holder_id, "name": citizen.name,
                               "score": round(score, 4), "threshold": MATCH_THRESHOLD})

    def _verify(self, req: _Request) -> _Response:
        from sandbox.server import ApiError, _Response

        body, probe = self._probe(req)
        holder_id = body.get("holder_id")
        if not isinstance(holder_id, str) or not holder_id:
            raise ApiError(400, "invalid_request", "缺少字段 holder_id")
        scores = dict(self._scores(probe))
        if holder_id not in scores:
            raise ApiError(404, "no_photo", "未查询到该人员的身份证照片")
        score = scores[holder_id]
        return _Response.json({"match": score >= MATCH_THRESHOLD, "score": round(score, 4),
                               "threshold": MATCH_THRESHOLD})
