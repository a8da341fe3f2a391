"""Licence thumbnails: a small PNG picture of a licence, as the licence library serves them.

Rendered with Pillow on first request and memoised by licence identifier. Every picture carries
a "样例 SAMPLE" mark: these are synthetic licences, never to be mistaken for real ones.
"""

from __future__ import annotations

import functools
import io
import subprocess
import threading
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from workstation.services.model import Licence

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SIZE = (480, 300)

# Per type: header colour and the fields shown (the first that exist, in order).
_STYLE: dict[str, tuple[tuple[int, int, int], tuple[str, ...]]] = {
    "id_card": ((38, 110, 170), ("性别", "民族", "出生", "住址", "公民身份号码", "有效期限")),
    "household_register": ((120, 72, 40), ("户号", "户主姓名", "与户主关系", "住址", "登记日期")),
    "marriage_cert": ((190, 40, 45), ("结婚证字号", "登记日期", "配偶姓名", "登记机关")),
    "property_cert": ((40, 120, 80), ("不动产权证号", "共有情况", "坐落", "面积", "用途")),
    "social_security_card": ((30, 90, 150), ("社会保障号码", "卡号", "发卡日期", "有效期")),
    "business_licence": ((150, 30, 30), ("统一社会信用代码", "类型", "法定代表人", "注册资本",
                                         "成立日期", "住所")),
}


@functools.cache
def find_cjk_font() -> str | None:
    """Path of a TrueType font with Chinese glyphs: WenQuanYi Micro Hei, else fontconfig's pick."""
    if DEFAULT_FONT.exists():
        return str(DEFAULT_FONT)
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    paths = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
    return paths[0] if paths else None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = find_cjk_font()
    if path is None:  # no CJK font installed: Chinese shows as boxes, but nothing breaks
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
         width: int) -> str:
    """Cut ``text`` with an ellipsis so that it fits in ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def render_thumbnail(licence: Licence) -> bytes:
    """Draw the licence as a 480x300 PNG and return its bytes (not memoised)."""
    colour, keys = _STYLE.get(licence.type_key, ((90, 90, 90), tuple(licence.fields)[:5]))
    width, height = SIZE
    image = Image.new("RGB", SIZE, (250, 248, 240))
    draw = ImageDraw.Draw(image)
    title, big, small, tiny = _font(24), _font(20), _font(14), _font(11)

    draw.rectangle((0, 0, width, 46), fill=colour)
    draw.text((16, 9), licence.type_name, font=title, fill="white")
    status = {"valid": "有效", "expired": "已过期", "revoked": "已注销"}.get(licence.status,
                                                                          licence.status)
    draw.text((width - 16, 14), status, font=small, fill="white", anchor="ra")
    draw.text((16, 56), _fit(draw, licence.holder_name, big, width - 32), font=big,
              fill=(20, 20, 20))

    y = 88
    for key in keys:
        value = licence.fields.get(key)
        if not value:
            continue
        draw.text((16, y), key, font=small, fill=(110, 110, 110))
        draw.text((144, y), _fit(draw, value, small, width - 160), font=small, fill=(20, 20, 20))
        y += 24
        if y > height - 60:
            break

    draw.line((16, height - 44, width - 16, height - 44), fill=(200, 195, 180))
    draw.text((16, height - 38), _fit(draw, licence.issuer, small, width - 32), font=small,
              fill=(80, 80, 80))
    draw.text((16, height - 18), _fit(draw, licence.licence_id, tiny, width - 32), font=tiny,
              fill=(140, 140, 140))

    # The sample mark, diagonal and translucent over the whole card.
    mark = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    ImageDraw.Draw(mark).text((width / 2, height / 2), "样例 SAMPLE", font=_font(54),
                              fill=(220, 30, 30, 90), anchor="mm")
    image = Image.alpha_composite(image.convert("RGBA"), mark.rotate(18, center=(width / 2,
                                                                                 height / 2)))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


class ThumbnailCache:
    """Renders each licence's thumbnail once and keeps the bytes (thread-safe)."""

    def __init__(self) -> None:
        self._png: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, licence: Licence) -> bytes:
        with self._lock:
            cached = self._png.get(licence.licence_id)
        if cached is None:
            cached = render_thumbnail(licence)
            with self._lock:
                cached = self._png.setdefault(licence.licence_id, cached)
        return cached

    def __len__(self) -> int:
        return len(self._png)
