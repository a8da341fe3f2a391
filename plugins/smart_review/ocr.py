"""Reading a photographed material (document camera) into form fields. Qt-free.

The page is flattened (uneven light divided out), straightened (the angle that makes the text
rows sharpest in a projection profile), binarised, read by Tesseract (``chi_sim``, Debian
``tesseract-ocr-chi-sim``) and parsed line by line into ``label：value`` fields, matching the
labels loosely (OCR drops or confuses characters now and then). Values are normalised per field
type and are then cross-checked against licence data by the rules: OCR is never trusted alone.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plugins.smart_review.rules import MaterialSpec, normalise

LANG = "chi_sim"


class OcrError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class OcrResult:
    material: str  # material key
    fields: dict[str, str]  # field key -> normalised value ("" when not found)
    text: str = field(repr=False, default="")  # what Tesseract read (personal data)
    angle: float = 0.0  # the rotation corrected, degrees

    @property
    def found(self) -> int:
        return sum(1 for v in self.fields.values() if v)


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    if image.ndim == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    return np.asarray(image)


def flatten_light(grey: np.ndarray) -> np.ndarray:
    """Divide out the page's lighting (a heavily blurred copy stands for it)."""
    import cv2

    scale = max(grey.shape) / 1000
    size = int(61 * scale) | 1
    background = cv2.morphologyEx(grey, cv2.MORPH_CLOSE,
                                  cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    background = cv2.GaussianBlur(background, (size, size), 0)
    flat = cv2.divide(grey, background, scale=255)
    return np.asarray(flat)


def skew_angle(grey: np.ndarray, limit: float = 8.0, step: float = 0.25) -> float:
    """The rotation (degrees) that straightens the text rows: the one whose horizontal
    projection profile varies most."""
    import cv2

    small = cv2.resize(grey, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def score(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        turned = cv2.warpAffine(ink, matrix, (w, h), flags=cv2.INTER_NEAREST)
        rows = turned.sum(axis=1, dtype=np.float64)
        return float(np.var(rows))

    coarse = max(np.arange(-limit, limit + 1e-9, 1.0), key=score)
    fine = max(np.arange(coarse - 1, coarse + 1 + 1e-9, step), key=score)
    return float(fine)


def _order(points: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    pts = points.reshape(4, 2).astype(np.float32)
    total, diff = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(total)], pts[np.argmin(diff)], pts[np.argmax(total)],
                     pts[np.argmax(diff)]], dtype=np.float32)


def find_page(grey: np.ndarray) -> np.ndarray | None:
    """The sheet of paper on the darker desk, straightened and cropped (None: not found)."""
    import cv2

    blur = cv2.GaussianBlur(grey, (0, 0), 5)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour)
    if area < 0.25 * grey.shape[0] * grey.shape[1] or area > 0.985 * grey.shape[0] * grey.shape[1]:
        return None  # no sheet (or the sheet fills the frame: nothing to cut)
    corners = _order(cv2.boxPoints(cv2.minAreaRect(contour)))
    width = int(max(np.linalg.norm(corners[1] - corners[0]),
                    np.linalg.norm(corners[2] - corners[3])))
    height = int(max(np.linalg.norm(corners[3] - corners[0]),
                     np.linalg.norm(corners[2] - corners[1])))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                      dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    page = cv2.warpPerspective(grey, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)
    margin = int(0.015 * max(width, height))  # the sheet's edge, shadowed
    return np.asarray(page[margin:-margin, margin:-margin])


def prepare(image: np.ndarray) -> tuple[np.ndarray, float]:
    """A straight, binarised page for Tesseract, and the angle corrected (0 when the sheet
    was found and cut out by its outline)."""
    import cv2

    grey = _grey(image)
    if max(grey.shape) > 2400:  # a 5-megapixel camera: 150 dpi is plenty for 16 pt text
        factor = 2400 / max(grey.shape)
        grey = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    angle = 0.0
    page = find_page(grey)
    if page is None:
        page = grey
        angle = skew_angle(flatten_light(grey))
        if abs(angle) > 0.1:
            h, w = page.shape
            matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            page = cv2.warpAffine(page, matrix, (w, h), flags=cv2.INTER_CUBIC,
                                  borderMode=cv2.BORDER_REPLICATE)
    flat = flatten_light(cv2.medianBlur(page, 3))
    _, binary = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    # speckles left by sensor noise: drop ink blobs of a few pixels
    _count, labels, stats, _ = cv2.connectedComponentsWithStats(255 - binary, connectivity=8)
    small = np.where(stats[:, cv2.CC_STAT_AREA] < 6)[0]
    small = small[small != 0]
    if len(small):
        binary[np.isin(labels, small)] = 255
    return np.asarray(binary), angle


def read_text(image: np.ndarray) -> str:
    import pytesseract

    # Tesseract's OpenMP threads make one page 3x slower on a busy 2-core kiosk PC (measured:
    # 4.1 s -> 1.3 s); the limit is read by the tesseract child process pytesseract starts.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    try:
        return str(pytesseract.image_to_string(image, lang=LANG, config="--psm 6"))
    except pytesseract.TesseractNotFoundError:
        raise OcrError("本机未安装文字识别组件（Tesseract），请联系管理员") from None
    except pytesseract.TesseractError as exc:
        raise OcrError(f"文字识别失败（{exc.status}）") from None


def _label_score(label: str, line: str) -> tuple[float, int]:
    """How well ``line`` starts with ``label`` (0..1) and where the value starts."""
    best, end = 0.0, 0
    for extra in (-1, 0, 1):
        n = len(label) + extra
        if n <= 0 or n > len(line):
            continue
        ratio = difflib.SequenceMatcher(None, label, line[:n]).ratio()
        if ratio > best:
            best, end = ratio, n
    return best, end


def extract_fields(material: MaterialSpec, text: str) -> dict[str, str]:
    """``label：value`` lines of ``text`` mapped onto the material's fields (normalised)."""
    lines = [re.sub(r"\s+", "", line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    found: dict[str, str] = {spec.key: "" for spec in material.fields}
    # longest labels first, so 出生日期 does not take the line of 出生证编号
    for spec in sorted(material.fields, key=lambda s: len(s.label), reverse=True):
        best: tuple[float, int, int] = (0.0, -1, 0)
        for i, line in enumerate(lines):
            colon = re.search(r"[：:]", line)
            head = line[: colon.start()] if colon and colon.start() <= len(spec.label) + 2 else line
            score, end = _label_score(spec.label, head if colon else line)
            if colon and colon.start() <= len(spec.label) + 2:
                end = colon.end()
            if score > best[0]:
                best = (score, i, end)
        score, index, end = best
        if index < 0 or score < 0.66:
            continue
        value = lines[index][end:].lstrip("：:")
        found[spec.key] = normalise(spec, value)
        lines[index] = ""  # one line, one field
    return found


def read_material(material: MaterialSpec, image: np.ndarray) -> OcrResult:
    """One photographed page of ``material`` -> its fields."""
    page, angle = prepare(image)
    text = read_text(page)
    return OcrResult(material.key, extract_fields(material, text), text, angle)


def tesseract_ready() -> tuple[bool, str]:
    """Whether Tesseract and its Chinese data are installed (diagnostics)."""
    import pytesseract

    try:
        langs: Any = pytesseract.get_languages(config="")
    except Exception as exc:  # not installed, or broken
        return False, type(exc).__name__
    return LANG in langs, ",".join(sorted(langs))
