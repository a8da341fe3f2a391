"""A synthetic corpus of camera frames of phone screens showing QR codes (tests, benchmarks).

Each frame is drawn from ``random.Random(seed)``: a payload (an identity-code-like token, a
UTF-8 Chinese text, or a URL), its QR code on a phone screen held in front of the camera, and
one degradation (or several for "combined"): rotation, perspective, blur, noise, glare,
moiré/scan-lines, small modules, JPEG. Some frames show no code at all.
"""

from __future__ import annotations

import base64
import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

DEGRADATIONS = ("clean", "rotation", "perspective", "blur", "noise", "glare", "moire",
                "small_modules", "jpeg", "combined")
SIZES = ((640, 480), (1280, 720))
CHINESE = "社会保障卡身份码鄂汇办医保电子凭证营业执照湖北省赤壁市蒲圻街道金鸡路号张王李刘陈"


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # grayscale or BGR uint8
    payload: bytes | None  # None: no code in the frame
    degradation: str
    size: tuple[int, int]  # (width, height)


def _payload(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.55:  # like an EHBID1 token: base64url claims + signature
        claims = base64.urlsafe_b64encode(rng.randbytes(rng.randint(90, 160))).rstrip(b"=")
        sig = base64.urlsafe_b64encode(rng.randbytes(64)).rstrip(b"=")
        return b"EHBID1." + claims + b"." + sig
    if kind < 0.9:  # UTF-8 Chinese, short ones are where zbar guessed wrong
        n = rng.randint(2, 40)
        return ("".join(rng.choice(CHINESE) for _ in range(n)) + str(rng.randint(0, 99))
                ).encode("utf-8")
    return f"https://zwfw.hubei.gov.cn/v?c={rng.randbytes(12).hex()}".encode()


def qr_modules(payload: bytes, ec: str = "M", mask: int | None = 0) -> np.ndarray:
    """The module matrix (True = dark) with a 4-module quiet zone.

    Any mask pattern gives a valid code; a fixed one skips qrcode's search for the best of
    eight (most of the corpus's generation time). ``mask=None`` searches like a real encoder.
    """
    import qrcode
    import qrcode.constants as c

    levels = {"L": c.ERROR_CORRECT_L, "M": c.ERROR_CORRECT_M, "Q": c.ERROR_CORRECT_Q}
    qr = qrcode.QRCode(error_correction=levels[ec], border=4, mask_pattern=mask)
    qr.add_data(payload)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def render_code(payload: bytes, module_px: int, mask: int | None = 0) -> np.ndarray:
    modules = qr_modules(payload, mask=mask)
    img = np.where(modules, 20, 245).astype(np.uint8)
    return np.kron(img, np.ones((module_px, module_px), dtype=np.uint8))


@functools.lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w]
    return yy.astype(np.float32), xx.astype(np.float32)


def _background(rng: random.Random, w: int, h: int) -> np.ndarray:
    base = rng.randint(60, 180)
    gx = np.linspace(-1, 1, w)[None, :] * rng.randint(-40, 40)
    gy = np.linspace(-1, 1, h)[:, None] * rng.randint(-40, 40)
    grain = np.random.default_rng(rng.randint(0, 2**31)).integers(-10, 11, (h, w), np.int16)
    return np.clip(base + gx + gy + grain, 0, 255).astype(np.uint8)


def _place(rng: random.Random, bg: np.ndarray, code: np.ndarray) -> np.ndarray:
    h, w = bg.shape
    ch, cw = code.shape
    pad = max(8, cw // 10)  # the phone's bezel and screen around the code
    screen = np.full((ch + 2 * pad, cw + 2 * pad), 250, dtype=np.uint8)
    screen[pad : pad + ch, pad : pad + cw] = code
    sh, sw = screen.shape
    if sh >= h or sw >= w:
        scale = min((h - 4) / sh, (w - 4) / sw)
        import cv2

        screen = cv2.resize(screen, (int(sw * scale), int(sh * scale)),
                            interpolation=cv2.INTER_AREA)
        sh, sw = screen.shape
    y, x = rng.randint(0, h - sh), rng.randint(0, w - sw)
    out = bg.copy()
    out[y : y + sh, x : x + sw] = screen
    return out


def _rotate(rng: random.Random, img: np.ndarray) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(0, 360), rng.uniform(0.7, 0.9))
    return np.asarray(cv2.warpAffine(img, m, (w, h), borderValue=128))


def _perspective(rng: random.Random, img: np.ndarray) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    j = rng.uniform(0.08, 0.22)
    dst = np.array([[rng.uniform(0, j) * w, rng.uniform(0, j) * h],
                      [w - rng.uniform(0, j) * w, rng.uniform(0, j) * h],
                      [w - rng.uniform(0, j) * w, h - rng.uniform(0, j) * h],
                      [rng.uniform(0, j) * w, h - rng.uniform(0, j) * h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    return np.asarray(cv2.warpPerspective(img, m, (w, h), borderValue=128))


def _degrade(rng: random.Random, img: np.ndarray, kind: str, module_px: int) -> np.ndarray:
    import cv2

    nprng = np.random.default_rng(rng.randint(0, 2**31))
    if kind == "rotation":
        return _rotate(rng, img)
    if kind == "perspective":
        return _perspective(rng, img)
    if kind == "blur":
        sigma = module_px * rng.uniform(0.25, 0.6)
        return np.asarray(cv2.GaussianBlur(img, (0, 0), sigma))
    if kind == "noise":
        return np.clip(img + nprng.normal(0, rng.uniform(10, 28), img.shape), 0, 255).astype(
            np.uint8)
    if kind == "glare":
        h, w = img.shape
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        yy, xx = _grid(h, w)
        r = rng.uniform(0.15, 0.35) * max(h, w)
        glare = rng.uniform(110, 210) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        return np.clip(img.astype(np.float32) + glare, 0, 255).astype(np.uint8)
    if kind == "moire":
        h, w = img.shape
        yy, xx = _grid(h, w)
        period = rng.uniform(2.2, 4.5)
        angle = rng.uniform(-0.3, 0.3)
        lines = 0.5 + 0.5 * np.sin(2 * np.pi * (yy * np.cos(angle) + xx * np.sin(angle)) / period)
        depth = rng.uniform(0.3, 0.55)
        return np.clip(img * (1 - depth * lines), 0, 255).astype(np.uint8)
    if kind == "jpeg":
        _ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(15, 45)])
        return np.asarray(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))
    return img


def make_frame(rng: random.Random, size: tuple[int, int], degradation: str,
               with_code: bool = True) -> Frame:
    w, h = size
    bg = _background(rng, w, h)
    if not with_code:  # a scene with text-like blocks and edges, but no code
        for _ in range(rng.randint(5, 25)):
            x, y = rng.randint(0, w - 40), rng.randint(0, h - 20)
            bg[y : y + rng.randint(4, 20), x : x + rng.randint(10, 60)] = rng.randint(0, 255)
        return Frame(_degrade(rng, bg, degradation, 4), None, degradation, size)
    payload = _payload(rng)
    module_px = rng.randint(2, 3) if degradation == "small_modules" else rng.randint(4, 7)
    code = render_code(payload, module_px, mask=rng.randint(0, 7))
    img = _place(rng, bg, code)
    if degradation == "combined":
        kinds = rng.sample(["rotation", "perspective", "blur", "noise", "glare", "moire",
                            "jpeg"], rng.randint(2, 3))
        for kind in sorted(kinds, key=["rotation", "perspective", "glare", "moire", "blur",
                                       "noise", "jpeg"].index):
            img = _degrade(rng, img, kind, module_px)
    else:
        img = _degrade(rng, img, degradation, module_px)
    return Frame(img, payload, degradation, size)


def corpus(n: int = 1100, seed: int = 7, no_code_share: float = 0.09) -> Iterator[Frame]:
    """``n`` frames: both sizes, every degradation in turn, ~9% without a code."""
    rng = random.Random(seed)
    for i in range(n):
        size = SIZES[i % len(SIZES)]
        degradation = DEGRADATIONS[(i // len(SIZES)) % len(DEGRADATIONS)]
        with_code = rng.random() >= no_code_share
        yield make_frame(rng, size, degradation if with_code else "noise", with_code)
