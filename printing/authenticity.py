"""Verification codes, QR codes and digests: how a printed document proves it is genuine.

Every issued document carries a **verification code** (16 characters over an alphabet without
look-alikes, the last one a check character, printed as ``XXXX-XXXX-XXXX-XXXX``) on every page,
and a **QR code** encoding a verification URL ending in that code. The workstation records the
SHA-256 of the exact PDF bytes it issued under the code; whoever receives the paper can look the
code up (where and when it was issued, what kind of document), and whoever receives the PDF file
can also check that it is byte-for-byte the one issued.

Qt-free and database-free: the workstation stores and registers; this module only makes codes,
checks them and draws the QR code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # ReportLab is imported only when a QR code is drawn (start-up stays light)
    from reportlab.pdfgen.canvas import Canvas

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "DocumentStamp",
    "InvalidCode",
    "code_check_char",
    "draw_qr",
    "format_code",
    "is_valid_code",
    "new_verification_code",
    "normalise_code",
    "pdf_digest",
    "qr_matrix",
    "verification_url",
]

# 31 symbols (a prime): digits and capitals without 0/O, 1/I/L, which are misread when a code
# is read aloud or typed by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16  # 15 random symbols (about 74 bits) + 1 check symbol
_RANDOM_LENGTH = CODE_LENGTH - 1
_INDEX = {c: i for i, c in enumerate(CODE_ALPHABET)}


class InvalidCode(ValueError):
    """Not a verification code (wrong length, symbol or check character); message in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def code_check_char(body: str) -> str:
    """Check symbol over ``body``: weighted sum (weights 1, 2, 3, ...) modulo 31, a prime, so
    any single wrong symbol and any swap of two neighbours changes it."""
    m = len(CODE_ALPHABET)
    return CODE_ALPHABET[sum(_INDEX[ch] * (i + 1) for i, ch in enumerate(body)) % m]


def new_verification_code() -> str:
    """A fresh random code (16 symbols, unformatted)."""
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return body + code_check_char(body)


def normalise_code(text: str) -> str:
    """Upper-case, without spaces and dashes; raises :class:`InvalidCode` when it is not one."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH:
        raise InvalidCode(f"验证码应为 {CODE_LENGTH} 位（不计连字符），实际为 {len(code)} 位")
    bad = sorted({c for c in code if c not in _INDEX})
    if bad:
        raise InvalidCode(f"验证码含有无效字符：{''.join(bad)}")
    if code_check_char(code[:-1]) != code[-1]:
        raise InvalidCode("验证码校验位不符，请核对是否输入有误")
    return code


def is_valid_code(text: str) -> bool:
    try:
        normalise_code(text)
    except InvalidCode:
        return False
    return True


def format_code(code: str) -> str:
    """XXXX-XXXX-XXXX-XXXX"""
    c = normalise_code(code)
    return "-".join(c[i:i + 4] for i in range(0, len(c), 4))


def verification_url(base: str, code: str) -> str:
    """The URL the QR code encodes: ``{base}/{CODE}``."""
    return f"{base.rstrip('/')}/{normalise_code(code)}"


def pdf_digest(data: bytes) -> str:
    """SHA-256 (hex) of the exact PDF bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class DocumentStamp:
    """What makes one document verifiable: its code, the URL in its QR code, when and by whom
    it was issued. Rendered on every page (code) and once (QR code)."""

    code: str
    url: str
    issued_at: dt.datetime
    issuer: str = ""  # the issuing unit shown beside the QR code

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", normalise_code(self.code))

    @property
    def display_code(self) -> str:
        return format_code(self.code)

    @classmethod
    def sample(cls) -> DocumentStamp:
        """A fixed, valid stamp for previews and tests."""
        body = "MZ7K4PQ2XH9DRT3"
        code = body + code_check_char(body)
        return cls(code, verification_url("https://zwfw.hubei.gov.cn/mzb/v", code),
                   dt.datetime(2024, 5, 20, 14, 32), "赤壁市政务服务中心")


# --------------------------------------------------------------------------- QR code


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR modules (True = dark) for ``text``, error correction M, no quiet zone."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    # A fixed mask: choosing the "best" of the eight costs ~25 ms in pure Python, and any mask
    # gives a valid, readable code.
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=4)
    qr.add_data(text)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


def draw_qr(c: Canvas, x: float, y: float, size: float, text: str) -> None:
    """Draw a QR code with its lower-left corner at (x, y), ``size`` points wide, including a
    white quiet zone of 2 modules (drawn opaque, so the page is never rasterised).

    Drawn as one path of filled rectangles (runs of dark modules per row): fast, no fonts.
    """
    from reportlab.lib import colors

    matrix = qr_matrix(text)
    n = len(matrix)
    quiet = 2
    module = size / (n + 2 * quiet)
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(colors.black)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - (quiet + r + 1) * module
        col = 0
        while col < n:
            if not row[col]:
                col += 1
                continue
            start = col
            while col < n and row[col]:
                col += 1
            path.rect(x + (quiet + start) * module, top, (col - start) * module, module)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()
