"""Shared page layout for printed documents: geometry, styles, CJK line breaking, page furniture.

Everything here is Qt-free and data-only; templates build a story of flowables and hand it to
:func:`build_pdf`, which returns PDF bytes with the header ("issuing unit") and the footer
("第 x 页 共 y 页") drawn on every page.

Chinese line breaking (GB/T 15834 标点符号用法 / 避头尾):
- closing and stop punctuation (，。、：；？！）」』”’》 …) never starts a line;
- opening punctuation (（「『“‘《 …) never ends a line;
- ——  and …… are never split across lines;
- runs of Latin letters / digits are kept together when the line leaves room to do so.
ReportLab's own "cannot start a line" list lacks Chinese punctuation and it only *hangs* one
mark into the margin; :class:`CJKParagraph` pushes the preceding character down instead, so
nothing overflows a table cell. The ReportLab list is extended too (:func:`install_cjk_line_rules`)
so plain ``Paragraph`` objects with ``wordWrap="CJK"`` benefit as well.

Fonts: call :func:`get_styles` (it registers the CJK font) *before* creating ReportLab graphics
shapes (``Drawing``, ``String``, QR widgets): a shape captures the default font when it is
constructed, and a shape made earlier would carry a non-embedded Helvetica. :func:`build_pdf`
refuses any non-embedded font with :class:`~printing.fonts.FontError`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from unicodedata import category

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph
from reportlab.platypus import paragraph as rl_paragraph
from reportlab.platypus.paragraph import ParaLines, cjkU, makeCJKParaLine

from printing.authenticity import DocumentStamp, draw_qr
from printing.fonts import CJKFonts, FontError, register_cjk_fonts

__all__ = [
    "A4_PORTRAIT",
    "CANNOT_END",
    "CANNOT_START",
    "HEADER_FILL",
    "LABEL_FILL",
    "RECEIPT_80",
    "SEAL_RED",
    "CJKParagraph",
    "ClosingBlock",
    "DocStyles",
    "FauxBoldTitle",
    "NumberedCanvas",
    "PageDecoration",
    "PageGeometry",
    "VerificationBlock",
    "Watermark",
    "break_cjk_lines",
    "build_pdf",
    "build_receipt_pdf",
    "cjk_frag_split",
    "cn_date",
    "cn_datetime",
    "draw_seal",
    "escape_markup",
    "fit_cell",
    "get_styles",
    "install_cjk_line_rules",
    "page_label",
    "para",
    "split_cjk_units",
]

# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class PageGeometry:
    """Paper size and margins (points). The header and footer sit inside the margins."""

    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    header_offset: float  # baseline of the header text, measured down from the paper top
    footer_offset: float  # baseline of the footer text, measured up from the paper bottom

    @property
    def pagesize(self) -> tuple[float, float]:
        return (self.width, self.height)

    @property
    def frame_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def frame_height(self) -> float:
        return self.height - self.top - self.bottom


A4_PORTRAIT = PageGeometry(
    width=A4[0], height=A4[1],
    left=20 * mm, right=20 * mm, top=24 * mm, bottom=22 * mm,
    header_offset=14 * mm, footer_offset=12 * mm,
)

# 80 mm thermal receipt paper (72 mm printable); the length follows the content
# (build_receipt_pdf sets it), this height is only the shortest slip.
RECEIPT_80 = PageGeometry(
    width=80 * mm, height=120 * mm,
    left=4 * mm, right=4 * mm, top=13 * mm, bottom=16 * mm,
    header_offset=7 * mm, footer_offset=9 * mm,
)

# --------------------------------------------------------------------------- line breaking

# Never at the start of a line: closing brackets/quotes, stops, commas, colons, small marks.
CANNOT_START = (
    "，。、：；？！）」』”’》〉】〕〗｝］〙〛"
    "．｡､﹐﹑﹒﹔﹕﹖﹗︰％‰℃°′″"
    ",.:;?!)]}%"
)
# Never at the end of a line: opening brackets and quotes.
CANNOT_END = "（「『“‘《〈【〔〖｛［〘〚([{"
# Marks that come in pairs and must not be split: —— and …….
_UNSPLITTABLE_PAIRS = "—…"

_CANNOT_START_SET = frozenset(CANNOT_START)
_CANNOT_END_SET = frozenset(CANNOT_END)

_rules_lock = threading.Lock()
_rules_installed = False


def install_cjk_line_rules() -> None:
    """Add Chinese punctuation to ReportLab's 'cannot start a line' list (idempotent).

    ReportLab imports ``ALL_CANNOT_START`` by value into ``reportlab.platypus.paragraph``, so both
    module globals are updated.
    """
    global _rules_installed
    with _rules_lock:
        if _rules_installed:
            return
        from reportlab.lib import textsplit

        extra = "".join(c for c in CANNOT_START if c not in textsplit.ALL_CANNOT_START)
        textsplit.CANNOT_START_LINE[0] = textsplit.CANNOT_START_LINE[0] + extra
        textsplit.ALL_CANNOT_START = textsplit.ALL_CANNOT_START + extra
        rl_paragraph.ALL_CANNOT_START = textsplit.ALL_CANNOT_START
        extra_end = "".join(c for c in CANNOT_END if c not in textsplit.ALL_CANNOT_END)
        textsplit.CANNOT_END_LINE[0] = textsplit.CANNOT_END_LINE[0] + extra_end
        textsplit.ALL_CANNOT_END = textsplit.ALL_CANNOT_END + extra_end
        _rules_installed = True


def _is_space(ch: str) -> bool:
    return bool(ch) and (ch.isspace() or category(ch) == "Zs")


def _is_word_char(ch: str) -> bool:
    """Latin letters and digits: a run of them is a word we avoid splitting."""
    return bool(ch) and ord(ch) < 0x2E80 and ch.isalnum()


# Characters that join Latin words / codes ("CB-W12", "1.2.156", "a/b"); a break after one is
# the next best thing when a code must be split.
_JOINERS = frozenset("-./_:")


def _is_wordish(ch: str) -> bool:
    return _is_word_char(ch) or ch in _JOINERS


def _can_break(chars: Sequence[str], k: int) -> bool:
    """May a line end between chars[k-1] and chars[k]?"""
    a, b = chars[k - 1], chars[k]
    if b in _CANNOT_START_SET or a in _CANNOT_END_SET:
        return False
    if _is_space(b):  # break after the space, not before it
        return False
    return not (a == b and a in _UNSPLITTABLE_PAIRS)


def _choose_break(chars: Sequence[str], start: int, i: int) -> int:
    """Where to end a line that runs from ``start`` when chars[i] no longer fits.

    Returns k (start < k): the line is chars[start:k]. Preference order: break right before
    chars[i] if allowed; otherwise push characters down to the next line, keeping Latin words
    and codes whole (looking back at most half the line); else split a code after a joiner
    (". - /"); else split anywhere the punctuation rules allow; as a last resort let unbreakable
    closing punctuation hang into the margin.
    """
    n = len(chars)
    if _is_space(chars[i]):  # trailing spaces are invisible: let them hang
        k = i + 1
        while k < n and _is_space(chars[k]):
            k += 1
        return k
    half = max(start + 1, (start + i + 1) // 2)
    # 1. respects punctuation and keeps Latin words / codes whole
    for k in range(i, half - 1, -1):
        if _can_break(chars, k) and not (_is_wordish(chars[k - 1]) and _is_wordish(chars[k])):
            return k
    # 2. inside a code, right after a joiner
    for k in range(i, half - 1, -1):
        if _can_break(chars, k) and chars[k - 1] in _JOINERS:
            return k
    # 3. punctuation rules only (splits a long number / identifier anywhere)
    for k in range(i, start, -1):
        if _can_break(chars, k):
            return k
    # 4. nothing fits the rules (e.g. a single character followed by punctuation): hang the
    #    closing marks rather than start a line with them
    k = i
    while k < n and chars[k] in _CANNOT_START_SET:
        k += 1
    return max(k, start + 1)


def split_cjk_units(
    chars: Sequence[str],
    widths: Sequence[float],
    max_widths: Sequence[float],
    forced_breaks: Iterable[int] = (),
) -> list[tuple[int, int, bool]]:
    """Split a run of glyphs into lines. Returns (start, end, forced) per line.

    ``forced_breaks`` are indices of units that end a line (explicit ``<br/>``).
    """
    forced = set(forced_breaks)
    lines: list[tuple[int, int, bool]] = []
    n = len(chars)
    start = i = 0
    used = 0.0
    fuzz = rl_config._FUZZ
    while i < n:
        max_width = max_widths[min(len(lines), len(max_widths) - 1)]
        if i in forced:
            lines.append((start, i + 1, True))
            start = i = i + 1
            used = 0.0
            continue
        w = widths[i]
        if used + w > max_width + fuzz and i > start:
            k = _choose_break(chars, start, i)
            lines.append((start, k, False))
            start = i = k
            used = 0.0
            continue
        used += w
        i += 1
    if start < n:
        lines.append((start, n, False))
    return lines


def break_cjk_lines(text: str, font_name: str, font_size: float, width: float) -> list[str]:
    """Break plain text into lines of at most ``width`` points, with the Chinese rules above.

    The same algorithm :class:`CJKParagraph` uses; handy for tests and for canvas drawing.
    """
    chars = list(text)
    widths = [stringWidth(c, font_name, font_size) for c in chars]
    forced = [i for i, c in enumerate(chars) if c == "\n"]
    out: list[str] = []
    for s, e, _ in split_cjk_units(chars, widths, [width], forced):
        out.append("".join(chars[s:e]).rstrip("\n"))
    return out


def _unit_width(u: cjkU, max_width: float) -> float:
    w: Any = u.width
    if hasattr(w, "normalizedValue"):  # percentage widths of inline images
        w._normalizer = max_width
        w = w.normalizedValue(max_width)
    return float(w)


def cjk_frag_split(
    frags: Sequence[Any], max_widths: Sequence[float], calc_bounds: bool, encoding: str = "utf8",
) -> ParaLines:
    """Drop-in for ReportLab's ``cjkFragSplit`` that follows the Chinese line-breaking rules."""
    units: list[cjkU] = []
    for f in frags:
        text = f.text
        if isinstance(text, bytes):
            text = text.decode(encoding)
        if text:
            units.extend(cjkU(t, f, encoding) for t in text)
        else:
            units.append(cjkU(text, f, encoding))
    chars = [str(u) for u in units]
    widths = [_unit_width(u, max_widths[0]) for u in units]
    forced = [i for i, u in enumerate(units) if hasattr(u.frag, "lineBreak")]
    lines = []
    for n, (s, e, is_forced) in enumerate(split_cjk_units(chars, widths, max_widths, forced)):
        max_width = max_widths[min(n, len(max_widths) - 1)]
        used = sum(widths[s:e])
        lines.append(makeCJKParaLine(
            units[s:e], max_width, used, max_width - used, is_forced, calc_bounds,
        ))
    return ParaLines(kind=1, lines=lines)


class CJKParagraph(Paragraph):
    """A Paragraph whose CJK wrapping pushes characters down instead of hanging punctuation."""

    def breakLinesCJK(self, maxWidths: Any) -> Any:
        if not isinstance(maxWidths, list | tuple):
            maxWidths = [maxWidths]
        style = self.style
        self.height = 0
        rl_paragraph._handleBulletWidth(self.bulletText, style, maxWidths)
        frags = self.frags
        if not frags:
            return ParaLines(
                kind=0, fontSize=style.fontSize, fontName=style.fontName,
                textColor=style.textColor, lines=[], ascent=style.fontSize,
                descent=-0.2 * style.fontSize,
            )
        if hasattr(self, "blPara") and getattr(self, "_splitpara", False):
            return self.blPara
        auto_leading = getattr(self, "autoLeading", getattr(style, "autoLeading", ""))
        return cjk_frag_split(frags, maxWidths, auto_leading not in ("", "off"))


def para(text: str, style: ParagraphStyle) -> CJKParagraph:
    """A paragraph of *plain* text (escaped for ReportLab's mini-markup)."""
    return CJKParagraph(escape_markup(text), style)


def fit_cell(text: str, style: ParagraphStyle, width: float, padding: float = 8) -> object:
    """A table cell: the plain string when it fits one line of ``width`` (minus the cell's
    left+right ``padding``), else a wrapping CJK paragraph. Plain strings are drawn directly
    (a table of paragraphs is wrapped twice: measuring and drawing); the table must then set
    FONT (with the paragraph's leading) and ALIGN for those cells."""
    if "\n" not in text and stringWidth(text, style.fontName, style.fontSize) <= width - padding:
        return text
    return para(text, style)


def escape_markup(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class DocStyles:
    fonts: CJKFonts
    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_center: ParagraphStyle
    cell_small: ParagraphStyle
    cell_label: ParagraphStyle
    cell_header: ParagraphStyle
    notice: ParagraphStyle


TEXT_BLACK = colors.black
RULE_GREY = colors.HexColor("#555555")
LABEL_FILL = colors.HexColor("#F0F0F0")
HEADER_FILL = colors.HexColor("#E4E4E4")
SEAL_RED = colors.Color(0.86, 0.08, 0.08, alpha=1)  # opaque: transparency makes CUPS rasterise

_styles: DocStyles | None = None
_styles_lock = threading.Lock()


def get_styles() -> DocStyles:
    """Paragraph styles in the CJK font (registers it on first use). Sizes follow Chinese
    document practice: 二号 22pt title, 四号 14pt heading, 五号 10.5pt body."""
    global _styles
    with _styles_lock:
        if _styles is not None:
            return _styles
        fonts = register_cjk_fonts()
        install_cjk_line_rules()
        # binary streams: ReportLab's pure-Python ASCII85 encoder cost ~30 ms per photo, and
        # ASCII85 makes every stream a quarter larger
        rl_config.useA85 = 0
        r, b = fonts.regular, fonts.bold

        def s(name: str, **kw: Any) -> ParagraphStyle:
            base: dict[str, Any] = dict(
                fontName=r, fontSize=10.5, leading=16, wordWrap="CJK", textColor=TEXT_BLACK,
                alignment=TA_LEFT, bulletFontName=r,
            )
            base.update(kw)
            return ParagraphStyle(name, **base)

        _styles = DocStyles(
            fonts=fonts,
            title=s("mz-title", fontName=b, fontSize=22, leading=30, alignment=TA_CENTER,
                    spaceAfter=4 * mm),
            heading=s("mz-heading", fontName=b, fontSize=14, leading=20, spaceBefore=3 * mm,
                      spaceAfter=2 * mm),
            # TA_LEFT: ReportLab does not justify CJK lines (no inter-word spaces to stretch)
            body=s("mz-body"),
            small=s("mz-small", fontSize=9, leading=13),
            cell=s("mz-cell", fontSize=10, leading=14),
            cell_center=s("mz-cell-center", fontSize=10, leading=14, alignment=TA_CENTER),
            cell_small=s("mz-cell-small", fontSize=8, leading=11),
            cell_label=s("mz-cell-label", fontSize=10, leading=14),
            cell_header=s("mz-cell-header", fontName=b, fontSize=10.5, leading=14,
                          alignment=TA_CENTER),
            notice=s("mz-notice", fontSize=10, leading=15),
        )
        return _styles


class FauxBoldTitle(Flowable):
    """A centred one-line title. The CJK face has no bold, so the glyphs are filled *and*
    stroked (text render mode 2), which prints as bold and stays extractable text."""

    def __init__(self, text: str, font_name: str, font_size: float = 22,
                 space_after: float = 5 * mm, stroke: float = 0.45) -> None:
        super().__init__()
        self.text = text
        self.font_name = font_name
        self.font_size = font_size
        self.space_after = space_after
        self.stroke = stroke

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.avail_width = availWidth
        return availWidth, self.font_size * 1.3 + self.space_after

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setFillColor(TEXT_BLACK)
        c.setStrokeColor(TEXT_BLACK)
        c.setLineWidth(self.stroke)
        t = c.beginText()
        t.setTextRenderMode(2)
        t.setFont(self.font_name, self.font_size)
        w = stringWidth(self.text, self.font_name, self.font_size)
        t.setTextOrigin((self.avail_width - w) / 2, self.space_after + self.font_size * 0.3)
        t.textOut(self.text)
        c.drawText(t)
        c.restoreState()


# --------------------------------------------------------------------------- dates


def cn_date(d: dt.date) -> str:
    """2024年5月20日"""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_datetime(t: dt.datetime) -> str:
    """2024年5月20日 14:05"""
    return f"{cn_date(t)} {t:%H:%M}"


# --------------------------------------------------------------------------- seal


def draw_seal(
    c: Canvas, cx: float, cy: float, radius: float, ring_text: str, centre_text: str,
    font_name: str, colour: colors.Color = SEAL_RED,
) -> None:
    """Draw a round official-seal outline: ring, unit name along the upper arc, a star and the
    seal's purpose (e.g. "受理专用章（电子）") below it. Opaque colour only: a transparent seal
    makes CUPS/Ghostscript rasterise the whole page."""
    c.saveState()
    c.setStrokeColor(colour)
    c.setFillColor(colour)
    border = max(1.0, radius * 0.055)
    c.setLineWidth(border)
    c.circle(cx, cy, radius - border / 2, stroke=1, fill=0)

    # five-pointed star in the centre
    r_out, r_in = radius * 0.24, radius * 0.24 * 0.382
    path = c.beginPath()
    for k in range(10):
        r = r_out if k % 2 == 0 else r_in
        a = math.pi / 2 + k * math.pi / 5
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        if k == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    path.close()
    c.drawPath(path, stroke=0, fill=1)

    # the unit's name along the upper arc, clockwise, each glyph upright towards the centre;
    # filled and stroked (render mode 2) so the thin sans face reads like a stamp
    c.setLineWidth(radius * 0.006)
    if ring_text:
        n = len(ring_text)
        step = min(math.radians(30), math.radians(225) / max(1, n - 1))
        # long names get smaller glyphs so neighbours do not touch along the arc
        size = min(radius * 0.24, radius * 0.72 * step * 0.95) if n > 1 else radius * 0.24
        text_r = radius - border - size * 0.85
        start = math.pi / 2 + step * (n - 1) / 2
        for k, ch in enumerate(ring_text):
            a = start - k * step
            c.saveState()
            c.translate(cx + text_r * math.cos(a), cy + text_r * math.sin(a))
            c.rotate(math.degrees(a) - 90)
            t = c.beginText()
            t.setTextRenderMode(2)
            t.setFont(font_name, size)
            t.setTextOrigin(-stringWidth(ch, font_name, size) / 2, -size * 0.4)
            t.textOut(ch)
            c.drawText(t)
            c.restoreState()

    # the seal's purpose, horizontal below the star, shrunk to fit the chord
    if centre_text:
        y = cy - radius * 0.56
        chord = 2 * math.sqrt(max(0.0, (radius - border) ** 2 - (cy - y) ** 2)) * 0.8
        size = min(radius * 0.15, chord / max(1.0, stringWidth(centre_text, font_name, 1)))
        c.setFont(font_name, size)
        c.drawCentredString(cx, y - size * 0.35, centre_text)
    c.restoreState()


# --------------------------------------------------------------------------- page furniture


@dataclass(frozen=True)
class PageDecoration:
    """What the header and footer say on every page."""

    issuing_unit: str  # header, left: the unit issuing the document
    header_right: str = ""  # header, right: e.g. the document name
    footer_left: str = ""  # footer, left: e.g. the case number
    footer_right: str = ""  # footer, right: e.g. the print time
    stamp: DocumentStamp | None = None  # verification code on every page (second footer line)


class NumberedCanvas(Canvas):
    """A canvas that keeps each page until the end, so the footer can say 共 y 页."""

    def __init__(self, *args: Any, decoration: PageDecoration, geometry: PageGeometry,
                 font_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decoration = decoration
        self._geometry = geometry
        self._deco_font = font_name
        self._saved_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        _refuse_unembedded_fonts(self)
        total = len(self._saved_pages)
        for state in self._saved_pages:
            self.__dict__.update(state)
            self._draw_furniture(self._pageNumber, total)
            super().showPage()
        super().save()

    def _draw_furniture(self, page: int, total: int) -> None:
        g, d, f = self._geometry, self._decoration, self._deco_font
        self.saveState()
        self.setFillColor(RULE_GREY)
        self.setStrokeColor(RULE_GREY)
        self.setLineWidth(0.6)
        # header: issuing unit | document name, over a rule
        y_head = g.height - g.header_offset
        if d.issuing_unit or d.header_right:  # roll-paper slips have no running header
            self.setFont(f, 9)
            self.drawString(g.left, y_head, d.issuing_unit)
            if d.header_right:
                self.drawRightString(g.width - g.right, y_head, d.header_right)
            self.line(g.left, y_head - 2.2 * mm, g.width - g.right, y_head - 2.2 * mm)
        # footer: rule, then left note | 第 x 页 共 y 页 | right note
        y_foot = g.footer_offset
        self.line(g.left, y_foot + 4 * mm, g.width - g.right, y_foot + 4 * mm)
        self.setFont(f, 8)
        if d.footer_left:
            self.drawString(g.left, y_foot, d.footer_left)
        if d.footer_right:
            self.drawRightString(g.width - g.right, y_foot, d.footer_right)
        self.setFillColor(TEXT_BLACK)
        self.setFont(f, 9)
        self.drawCentredString(g.width / 2, y_foot, page_label(page, total))
        if d.stamp is not None:
            self.setFillColor(RULE_GREY)
            self.setFont(f, 7.5)
            self.drawCentredString(
                g.width / 2, y_foot - 4 * mm, f"验证码：{d.stamp.display_code}",
            )
        self.restoreState()


def _refuse_unembedded_fonts(c: Canvas) -> None:
    """Fail instead of printing a page whose digits may vanish: every font used must be an
    embedded TrueType font (a standard Type 1 font such as Helvetica, or a CID font such as
    STSong-Light, is not embedded)."""
    used = list(getattr(c._doc, "fontMapping", {}))
    bad = [n for n in used if not isinstance(pdfmetrics.getFont(n), TTFont)]
    if bad:
        raise FontError(
            f"document uses non-embedded font(s) {', '.join(sorted(bad))}; set fontName to the "
            "CJK font (graphics shapes capture their default font when created: create them "
            "after printing.layout.get_styles())"
        )


def page_label(page: int, total: int) -> str:
    return f"第 {page} 页 共 {total} 页"


def build_pdf(
    story: list[Flowable],
    decoration: PageDecoration,
    *,
    title: str,
    subject: str = "",
    author: str = "",
    geometry: PageGeometry = A4_PORTRAIT,
    invariant: bool = False,
    on_page: Callable[[Canvas, Any], None] | None = None,
    watermark: Watermark | None = None,
) -> bytes:
    """Lay out ``story`` and return the PDF bytes (fonts embedded as subsets).

    ``watermark`` is drawn at the start of every page, so under everything else on it.
    The verification code (``decoration.stamp``) goes into the PDF's keywords as well.
    """
    styles = get_styles()
    font = styles.fonts.regular
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf, pagesize=geometry.pagesize,
        leftMargin=geometry.left, rightMargin=geometry.right,
        topMargin=geometry.top, bottomMargin=geometry.bottom,
        title=title, subject=subject, author=author or decoration.issuing_unit,
        creator="免证办工作站", producer="免证办工作站 (ReportLab)",
        initialFontName=font, lang="zh-CN", invariant=1 if invariant else 0,
    )
    # No frame padding: the frame is exactly the area inside the margins, so full-width
    # tables (geometry.frame_width) fit it.
    frame = Frame(
        geometry.left, geometry.bottom, geometry.frame_width, geometry.frame_height,
        leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body",
    )
    if decoration.stamp is not None:
        doc.keywords = f"verification-code:{decoration.stamp.code}"
    user_callback = on_page or (lambda c, d: None)

    def callback(c: Canvas, d: Any) -> None:
        if watermark is not None:
            watermark.draw(c, geometry, styles.fonts.regular)
        user_callback(c, d)

    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=callback)])
    maker = partial(NumberedCanvas, decoration=decoration, geometry=geometry, font_name=font)
    doc.build(story, canvasmaker=maker)
    return buf.getvalue()


def measure_story(story: Sequence[Flowable], width: float) -> float:
    """Total height of ``story`` laid out at ``width`` (spaces before and after included)."""
    total = 0.0
    for f in story:
        _, h = f.wrap(width, 1e6)
        total += h + f.getSpaceBefore() + f.getSpaceAfter()
    return total


def build_receipt_pdf(
    make_story: Callable[[], list[Flowable]],
    decoration: PageDecoration,
    *,
    title: str,
    subject: str = "",
    author: str = "",
    geometry: PageGeometry = RECEIPT_80,
) -> bytes:
    """A roll-paper document: one page exactly as long as its content (at least the geometry's
    height). ``make_story`` is called twice (flowables keep layout state): once to measure,
    once to build."""
    get_styles()
    needed = measure_story(make_story(), geometry.frame_width)
    # a little slack: the frame refuses a flowable that fits only to the last fraction
    height = max(geometry.height, needed + geometry.top + geometry.bottom + 3 * mm)
    fitted = PageGeometry(
        width=geometry.width, height=height, left=geometry.left, right=geometry.right,
        top=geometry.top, bottom=geometry.bottom, header_offset=geometry.header_offset,
        footer_offset=geometry.footer_offset,
    )
    return build_pdf(make_story(), decoration, title=title, subject=subject, author=author,
                     geometry=fitted)


# --------------------------------------------------------------------------- watermark


WATERMARK_GREY = colors.HexColor("#E3E3E3")  # opaque and light: printed text stays on top


@dataclass(frozen=True)
class Watermark:
    """A purpose watermark ("仅供办理……使用" and a date) tiled diagonally over every page.

    Drawn first on each page in an opaque light grey, so the content covers it; never with
    transparency (a transparent watermark made CUPS rasterise whole pages)."""

    text: str
    size: float = 20
    angle: float = 30
    colour: colors.Color = WATERMARK_GREY

    def draw(self, c: Canvas, g: PageGeometry, font_name: str) -> None:
        c.saveState()
        c.setFillColor(self.colour)
        c.setFont(font_name, self.size)
        text_w = stringWidth(self.text, font_name, self.size)
        step_x = text_w + 18 * mm
        step_y = self.size * 4.2
        c.translate(g.width / 2, g.height / 2)
        c.rotate(self.angle)
        reach = math.hypot(g.width, g.height) / 2 + step_x
        rows = int(reach // step_y) + 1
        cols = int(reach // step_x) + 1
        for r in range(-rows, rows + 1):
            offset = (step_x / 2) if r % 2 else 0.0
            for k in range(-cols, cols + 1):
                c.drawString(k * step_x + offset - text_w / 2, r * step_y, self.text)
        c.restoreState()


# --------------------------------------------------------------------------- closing blocks


class VerificationBlock(Flowable):
    """The QR code and, beside it, how to verify the document (code, URL)."""

    def __init__(self, stamp: DocumentStamp, font_name: str, *, qr_size: float = 24 * mm,
                 text_width: float | None = None, font_size: float = 8) -> None:
        super().__init__()
        self.stamp = stamp
        self.font_name = font_name
        self.qr_size = qr_size
        self.text_width = text_width
        self.font_size = font_size

    def _lines(self, width: float) -> list[str]:
        lines = ["扫描二维码或登录政务服务网", "输入验证码核验本文书真伪",
                 f"验证码：{self.stamp.display_code}"]
        out: list[str] = []
        for line in lines:
            out += break_cjk_lines(line, self.font_name, self.font_size, width)
        return out

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        text_w = self.text_width or max(20 * mm, availWidth - self.qr_size - 3 * mm)
        self._text_w = text_w
        lines = self._lines(text_w)
        self.height = max(self.qr_size, len(lines) * self.font_size * 1.45)
        return availWidth, self.height

    def draw(self) -> None:
        c = self.canv
        draw_qr(c, 0, self.height - self.qr_size, self.qr_size, self.stamp.url)
        c.saveState()
        c.setFillColor(TEXT_BLACK)
        c.setFont(self.font_name, self.font_size)
        x = self.qr_size + 3 * mm
        y = self.height - self.font_size * 1.2
        for line in self._lines(self._text_w):
            c.drawString(x, y, line)
            y -= self.font_size * 1.45
        c.restoreState()


class ClosingBlock(Flowable):
    """The foot of a certificate: on the left the verification QR code (and optional lines such
    as 经办人); on the right the issuing unit and the date, the round seal stamped over both
    (drawn first: it is opaque, the text goes on top)."""

    def __init__(self, unit: str, date_text: str, font_name: str, *,
                 seal_label: str = "业务专用章（电子）", stamp: DocumentStamp | None = None,
                 left_lines: Sequence[str] = (), height: float = 40 * mm,
                 seal_radius: float = 18 * mm) -> None:
        super().__init__()
        self.unit = unit
        self.date_text = date_text
        self.font_name = font_name
        self.seal_label = seal_label
        self.stamp = stamp
        self.left_lines = tuple(left_lines)
        self.height = height
        self.seal_radius = seal_radius

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        return availWidth, self.height

    def draw(self) -> None:
        c, f, h = self.canv, self.font_name, self.height
        c.saveState()
        left_w = self.width - 2 * self.seal_radius - 34 * mm
        y = h - 4 * mm
        c.setFillColor(TEXT_BLACK)
        c.setFont(f, 10)
        for line in self.left_lines:
            c.drawString(0, y - 6, line)
            y -= 6 * mm
        if self.stamp is not None:
            block = VerificationBlock(self.stamp, f, qr_size=min(24 * mm, y - 1 * mm))
            _, bh = block.wrap(left_w, y)
            block.drawOn(c, 0, y - bh)
        radius = self.seal_radius
        cx = self.width - radius - 16 * mm
        cy = h / 2 + 1 * mm
        draw_seal(c, cx, cy, radius, self.unit, self.seal_label, f)
        c.setFillColor(TEXT_BLACK)
        size = 10.5
        while stringWidth(self.unit, f, size) > 2 * radius + 28 * mm and size > 7:
            size -= 0.5
        c.setFont(f, size)
        c.drawCentredString(cx, cy + 3 * mm, self.unit)
        c.setFont(f, 10.5)
        c.drawCentredString(cx, cy - 4.5 * mm, self.date_text)
        c.restoreState()
