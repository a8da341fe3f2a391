"""证照复印件: a paper copy of an electronic licence, for one stated purpose.

Every page carries the purpose watermark "仅供……使用" with the date, tiled diagonally in an
opaque light grey drawn *under* the content (never transparency: CUPS would rasterise the
page). The licence image, when given, is placed above the licence data.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, KeepTogether, Spacer, Table, TableStyle

from printing.authenticity import DocumentStamp
from printing.blocks import GRID, info_grid, numbered_notes
from printing.layout import (
    A4_PORTRAIT,
    ClosingBlock,
    FauxBoldTitle,
    PageDecoration,
    Watermark,
    build_pdf,
    cn_date,
    get_styles,
    para,
)

__all__ = [
    "LicenceCopy",
    "purpose_watermark_text",
    "render_licence_copy",
    "sample_licence_copy",
    "watermark_image",
]

TITLE = "电子证照复印件"


@dataclass(frozen=True)
class LicenceCopy:
    licence_type_name: str  # 居民身份证
    licence_id: str  # GB/T 36904 identifier
    holder_name: str
    issuer: str  # 发证机关
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date | None  # None = 长期
    fields: Sequence[tuple[str, str]]  # the licence's own data, in its order
    purpose: str  # e.g. "办理存量房转移登记": printed as 仅供办理存量房转移登记使用
    used_at: dt.datetime  # the date in the watermark
    issuing_unit: str  # who made the copy (the hall)
    case_number: str = ""
    workstation_id: str = ""
    operator: str = ""
    image_png: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.purpose.strip():
            raise ValueError("a licence copy needs the purpose it may be used for")


def purpose_watermark_text(purpose: str, when: dt.date) -> str:
    """仅供办理……使用 2024年5月20日"""
    return f"仅供{purpose.strip()}使用 {cn_date(when)}"


def watermark_image(png: bytes, text: str) -> bytes:
    """Burn the purpose watermark into the licence picture's pixels (returns JPEG bytes).

    The picture covers the page watermark, and a copy's picture is what most needs
    protecting. Raster blending inside the image, so the PDF itself has no transparency."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    from printing.fonts import register_cjk_fonts

    fonts = register_cjk_fonts()
    base = PILImage.open(io.BytesIO(png)).convert("RGB")
    w, h = base.size
    size = max(14, h // 9)
    font = ImageFont.truetype(fonts.path, size, index=fonts.index)
    # one rotated tile of the text, pasted in a staggered grid (rotating the whole picture
    # costs several times more)
    text_w = int(font.getlength(text)) + size
    tile = PILImage.new("L", (text_w, int(size * 1.5)), 0)
    ImageDraw.Draw(tile).text((size // 2, size // 6), text, fill=115, font=font)
    tile = tile.rotate(25, resample=PILImage.Resampling.BILINEAR, expand=True)
    grey = PILImage.new("RGB", tile.size, (150, 150, 150))
    step_x, step_y = int(text_w * 0.95), int(size * 3.2)
    for row, y in enumerate(range(-tile.height, h + step_y, step_y)):
        for x in range(-tile.width + (row % 2) * step_x // 2, w + step_x, step_x):
            base.paste(grey, (x, y), tile)
    out = io.BytesIO()
    # JPEG: embedded as it is (DCT), where a PNG would be re-compressed by ReportLab
    base.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _image(png: bytes, max_w: float, max_h: float) -> Flowable:
    reader = ImageReader(io.BytesIO(png))
    iw, ih = reader.getSize()
    scale = min(max_w / iw, max_h / ih)
    img = Image(io.BytesIO(png), width=iw * scale, height=ih * scale)
    frame = Table([[img]], colWidths=[iw * scale + 6], rowHeights=[ih * scale + 6])
    frame.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.6, GRID),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return frame


def render_licence_copy(copy: LicenceCopy, stamp: DocumentStamp | None = None) -> bytes:
    st = get_styles()
    width = A4_PORTRAIT.frame_width
    used_on = copy.used_at.date()
    valid = (f"{cn_date(copy.valid_from)}至"
             f"{cn_date(copy.valid_until) if copy.valid_until else '长期'}")
    story: list[Flowable] = [
        FauxBoldTitle(TITLE, st.fonts.bold, 22, space_after=2 * mm),
        para(f"（{copy.licence_type_name}）", _centre(st.body)),
        Spacer(1, 4 * mm),
    ]
    if copy.image_png:
        marked = watermark_image(copy.image_png, purpose_watermark_text(copy.purpose, used_on))
        story += [_image(marked, 120 * mm, 80 * mm), Spacer(1, 4 * mm)]
    pairs = [(k, v) for k, v in copy.fields]
    rows: list[list[tuple[str, str]]] = [
        [("证照名称", copy.licence_type_name), ("持证主体", copy.holder_name)],
        [("证照标识", copy.licence_id)],
        [("发证机关", copy.issuer), ("发证日期", cn_date(copy.issued_on))],
        [("有效期限", valid)],
    ]
    for k, v in pairs:  # long values get a full row, short ones share
        rows.append([(k, v)])
    story += [
        para("一、证照信息", st.heading),
        info_grid(_pack(rows), st, width, label_width=28 * mm),
        Spacer(1, 4 * mm),
    ]
    statement = (f"本复印件由{copy.issuing_unit}依申请人授权，从电子证照库调取的电子证照生成，"
                 f"与电子证照内容一致，仅供{copy.purpose.strip()}使用，他用无效。")
    closing: list[Flowable] = [
        para(statement, st.body),
        Spacer(1, 2 * mm),
        *numbered_notes([
            f"用途：{copy.purpose.strip()}；复印日期：{cn_date(used_on)}。",
            "本复印件每页均印有用途水印，水印被遮挡、涂改的无效。",
        ], st),
        Spacer(1, 3 * mm),
        ClosingBlock(copy.issuing_unit, cn_date(used_on), st.fonts.regular,
                     seal_label="证照核验专用章（电子）", stamp=stamp,
                     left_lines=[f"经办人：{copy.operator}"] if copy.operator else ()),
    ]
    story.append(KeepTogether(closing))
    decoration = PageDecoration(
        issuing_unit=copy.issuing_unit,
        header_right=f"{TITLE} · {copy.licence_type_name}",
        footer_left=f"受理编号：{copy.case_number}" if copy.case_number else "",
        footer_right=f"复印：{copy.used_at:%Y-%m-%d %H:%M} {copy.workstation_id}".rstrip(),
        stamp=stamp,
    )
    return build_pdf(
        story, decoration, title=f"{TITLE} - {copy.licence_type_name}",
        subject=copy.purpose, author=copy.issuing_unit,
        watermark=Watermark(purpose_watermark_text(copy.purpose, used_on)),
    )


def _pack(rows: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Put two consecutive short single pairs on one row."""
    out: list[list[tuple[str, str]]] = []
    pending: tuple[str, str] | None = None
    for row in rows:
        if len(row) == 1 and len(row[0][1]) <= 14 and row[0][0] not in ("证照标识",):
            if pending is None:
                pending = row[0]
                continue
            out.append([pending, row[0]])
            pending = None
            continue
        if pending is not None:
            out.append([pending])
            pending = None
        out.append(row)
    if pending is not None:
        out.append([pending])
    return out


def _centre(style: object) -> object:
    from reportlab.lib.styles import ParagraphStyle

    return ParagraphStyle("mz-centre", parent=style, alignment=1)


# --------------------------------------------------------------------------- sample data


def sample_licence_image(width: int = 856, height: int = 540) -> bytes:
    """A synthetic licence picture (no real person): a card with a few lines of text."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    from printing.fonts import register_cjk_fonts

    fonts = register_cjk_fonts()
    img = PILImage.new("RGB", (width, height), (232, 240, 250))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((8, 8, width - 8, height - 8), 24, outline=(90, 120, 170), width=4)
    big = ImageFont.truetype(fonts.path, 40, index=fonts.index)
    small = ImageFont.truetype(fonts.path, 30, index=fonts.index)
    d.rectangle((width - 250, 90, width - 60, 330), fill=(200, 210, 225))
    d.text((width - 200, 190), "照片", fill=(120, 130, 150), font=small)
    for n, (k, v) in enumerate([("姓名", "欧阳建华"), ("性别", "男  民族 汉"),
                                ("出生", "1985年7月12日"), ("住址", "湖北省赤壁市蒲圻街道"),
                                ("", "金鸡路 8 号")]):
        y = 70 + n * 62
        if k:
            d.text((50, y), k, fill=(90, 110, 150), font=small)
        d.text((140, y), v, fill=(20, 20, 20), font=big if n == 0 else small)
    d.text((50, height - 90), "公民身份号码  421281198507120031", fill=(20, 20, 20), font=small)
    out = io.BytesIO()
    img.quantize(64).save(out, format="PNG", optimize=True)
    return out.getvalue()


def sample_licence_copy(with_image: bool = True) -> LicenceCopy:
    return LicenceCopy(
        licence_type_name="居民身份证",
        licence_id="1.2.156.3005.2.111000000000131433.11421281MB1520491B.2019004417.001.K",
        holder_name="欧阳建华",
        issuer="赤壁市公安局",
        issued_on=dt.date(2019, 3, 8),
        valid_from=dt.date(2019, 3, 8),
        valid_until=dt.date(2039, 3, 8),
        fields=[("姓名", "欧阳建华"), ("性别", "男"), ("民族", "汉"),
                ("出生日期", "1985年7月12日"), ("公民身份号码", "421281198507120031"),
                ("住址", "湖北省赤壁市蒲圻街道金鸡路8号长江花园3栋2单元501室")],
        purpose="办理存量房转移登记",
        used_at=dt.datetime(2024, 5, 20, 14, 35),
        issuing_unit="赤壁市政务服务中心",
        case_number="SL4212812024052000017",
        workstation_id="CB-W12",
        operator="李娜（工号 0231）",
        image_png=sample_licence_image() if with_image else None,
    )
