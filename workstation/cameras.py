"""The cameras a scenario may use (document camera, face camera), opened from ``[devices]``.

Qt-free. One instance of each per workstation core, opened on first use and kept (a UVC
camera is slow to open); a scenario reaches them through ``ctx.cameras``, limited to the
devices its manifest declares.
"""

from __future__ import annotations

import threading
from typing import Any

from workstation.config import DevicesConfig


class Cameras:
    """Opens the configured cameras lazily; ``None`` when a camera is configured ``none``."""

    def __init__(self, devices: DevicesConfig) -> None:
        self._devices = devices
        self._lock = threading.Lock()
        self._opened: dict[str, Any] = {}

    def document_camera(self) -> Any:
        """The ``devices.doccam.DocumentCamera`` (``capture()``), or None."""
        with self._lock:
            if "document_camera" not in self._opened:
                self._opened["document_camera"] = self._open_document_camera()
            return self._opened["document_camera"]

    def face_camera(self) -> Any:
        """The ``devices.facecam.FaceCamera`` (``frame()``), or None."""
        with self._lock:
            if "face_camera" not in self._opened:
                from devices.facecam import open_face_camera

                self._opened["face_camera"] = open_face_camera(self._devices.face_camera)
            return self._opened["face_camera"]

    def _open_document_camera(self) -> Any:
        from devices.doccam import (
            FolderDocumentCamera,
            OpenCvDocumentCamera,
            SimulatedDocumentCamera,
        )

        kind = self._devices.kind("document_camera")
        if kind == "none":
            return None
        if kind == "folder":
            return FolderDocumentCamera(self._devices.argument("document_camera"))
        if kind == "camera":
            return OpenCvDocumentCamera(int(self._devices.argument("document_camera") or 0))
        return SimulatedDocumentCamera()

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, {}
        for camera in opened.values():
            if camera is not None:
                camera.close()


class ScopedCameras:
    """``ctx.cameras``: only the cameras the manifest declares (``document_camera``,
    ``face_camera``); asking for another raises ``PermissionError``."""

    def __init__(self, cameras: Cameras, declared: tuple[str, ...], plugin_id: str) -> None:
        self._cameras = cameras
        self._declared = frozenset(declared)
        self._plugin_id = plugin_id

    def _check(self, device: str) -> None:
        if device not in self._declared:
            raise PermissionError(f"scenario {self._plugin_id} did not declare {device}")

    def document_camera(self) -> Any:
        self._check("document_camera")
        return self._cameras.document_camera()

    def face_camera(self) -> Any:
        self._check("face_camera")
        return self._cameras.face_camera()
