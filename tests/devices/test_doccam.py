"""Document cameras: folder of images, simulated page, OpenCV when a camera is present."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from devices.doccam import (
    CaptureError,
    FolderDocumentCamera,
    OpenCvDocumentCamera,
    SimulatedDocumentCamera,
)


def test_folder_backend_cycles_through_images_with_metadata(tmp_path):
    for i, shade in enumerate((40, 200)):
        cv2.imwrite(str(tmp_path / f"page-{i}.png"), np.full((300, 200, 3), shade, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    camera = FolderDocumentCamera(tmp_path)
    assert camera.is_usable()
    first, second, third = camera.capture(), camera.capture(), camera.capture()
    assert (first.device, second.device, third.device) == ("page-0.png", "page-1.png",
                                                            "page-0.png")
    assert (first.width, first.height) == (200, 300)
    assert first.metadata["channels"] == 3 and first.metadata["file_size"] > 0
    assert first.metadata["sha256"] != second.metadata["sha256"]
    assert first.source == "folder" and first.captured_at.tzinfo is not None
    assert first.png().startswith(b"\x89PNG")


def test_empty_folder(tmp_path):
    with pytest.raises(CaptureError) as exc:
        FolderDocumentCamera(tmp_path).capture()
    assert "没有图片" in exc.value.message


def test_simulated_page():
    page = SimulatedDocumentCamera().capture()
    assert (page.width, page.height) == (1240, 1754)
    assert page.metadata["paper"] == "A4" and page.source == "simulated"


def test_opencv_backend_without_a_camera():
    assert OpenCvDocumentCamera.is_usable()
    with pytest.raises(CaptureError) as exc:
        OpenCvDocumentCamera(98).capture()
    assert "高拍仪" in exc.value.message
