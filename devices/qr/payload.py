"""What a scanned code's bytes mean, and which scanned texts are refused before any parsing.

Decoders hand over raw bytes (zbar in raw-bytes mode, zxing-cpp ``.bytes``): they are decoded
here as strict UTF-8, then GB18030; anything else is binary and refused. Every text from any
source (camera, wedge, serial, file) passes :func:`check_scanned_text` before it reaches the
code-format plugins: oversized input, control characters and binary junk get a clear message.
"""

from __future__ import annotations

import unicodedata

from devices.errors import DeviceError

MAX_SCAN_CHARS = 2048  # a version-40 QR in byte mode holds 2,953 bytes; codes we read are < 1 KB


class ScanRejected(DeviceError):
    code = "scan_rejected"
    default_message = "无法识别此二维码，请确认出示的是身份码"


def text_from_bytes(data: bytes) -> str:
    """UTF-8 (strict), else GB18030; raises ScanRejected for binary content."""
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or _mostly_text(text):
            return text
    raise ScanRejected("二维码内容是二进制数据，不是可识别的码，请出示身份码", code="binary")


def _mostly_text(text: str) -> bool:
    return all(unicodedata.category(ch)[0] in "LNPSZ" or ch in "\t\r\n" for ch in text)


def check_scanned_text(text: str) -> str:
    """The text to give to the code formats (whitespace trimmed); raises ScanRejected."""
    if len(text) > MAX_SCAN_CHARS:
        raise ScanRejected(f"扫描内容过长（{len(text)} 个字符），不是可识别的码", code="too_long")
    stripped = text.strip()
    if not stripped:
        raise ScanRejected("没有扫描到内容，请重新扫码", code="empty")
    for ch in stripped:
        category = unicodedata.category(ch)
        if ch == "\ufffd" or category in ("Co", "Cn", "Cs"):
            raise ScanRejected("扫描内容含有无法识别的字符（乱码），请重新扫码", code="binary")
        if category[0] == "C" and ch not in "\t":
            raise ScanRejected("扫描内容含有控制字符，不是可识别的码，请重新扫码",
                               code="control_chars")
    return stripped
