"""Find, check and register the embedded CJK font every printed document uses.

Rules learnt the hard way (see notes/printing.md):

- Only TrueType-outline fonts (``glyf``) are usable: ReportLab refuses CFF / OpenType-PostScript
  fonts, so they are rejected up front with a clear :class:`FontError`.
- The built-in CID font ``STSong-Light`` is never used: it is not embedded, and printed through
  CUPS + Ghostscript every digit and Latin letter vanished from the page.
- ReportLab's defaults (the canvas' initial font, the graphics default, table cells) point at a
  non-embedded Helvetica; after registration they point at the CJK font instead.

Discovery order: an explicit path (from configuration) > the ``MIANZHENG_CJK_FONT`` environment
variable (``path`` or ``path#index``) > fontconfig (``fc-list``), preferring WenQuanYi Micro Hei,
then WenQuanYi Zen Hei > a few well-known paths.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont, TTFontFile

__all__ = [
    "COVERAGE_SAMPLE",
    "FONT_ENV_VAR",
    "CJKFonts",
    "FontCandidate",
    "FontError",
    "check_font_file",
    "discover_cjk_fonts",
    "fonts_info",
    "outline_format",
    "register_cjk_fonts",
]

FONT_ENV_VAR = "MIANZHENG_CJK_FONT"

# ReportLab font names under which the CJK face is registered.
REGULAR_NAME = "MZ-CJK"
BOLD_NAME = "MZ-CJK-Bold"

# Common Chinese characters (frequent characters plus everything our documents print),
# full-width punctuation, digits and Latin letters. A font must cover all of them.
COVERAGE_SAMPLE = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家"
    "学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经"
    "头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者"
    "向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气"
    "信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活"
    "难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清"
    "物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功"
    "指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强"
    "步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持音"
    "申请材料单免证照核验码受理窗口站经页编号签章专用离线截至纸质备注序称婚户籍簿营执医疗险"
    "障卡社湖赤壁欧阳"
    "，。、：；？！（）《》“”‘’「」『』【】—…·"
    "0123456789"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    ".-/:()%#*"
)

# Fonts we prefer, by a lower-cased fragment of the file name or family name.
_PREFERRED = ("wqy-microhei", "wenquanyi micro hei", "wqy-zenhei", "wenquanyi zen hei")

# Well-known locations, used when fontconfig is not available.
_FALLBACK_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
)

_TRUETYPE_TAGS = (b"\x00\x01\x00\x00", b"true")
_CFF_TAG = b"OTTO"
_COLLECTION_TAG = b"ttcf"


class FontError(RuntimeError):
    """No usable embedded CJK font: missing, CFF outlines, poor coverage, or a conflict."""


@dataclass(frozen=True)
class FontCandidate:
    """A font face: a file and, for a collection (.ttc), the face index in it."""

    path: str
    index: int = 0
    family: str = ""


@dataclass(frozen=True)
class CJKFonts:
    """The registered font names. ``bold`` may be the same face as ``regular``."""

    regular: str
    bold: str
    path: str
    index: int
    family: str
    bold_is_distinct: bool


_lock = threading.Lock()
_registered: CJKFonts | None = None


# --------------------------------------------------------------------------- checking


def _sfnt_tag(path: str, index: int) -> bytes:
    """The sfnt version tag of face ``index`` (resolving a TrueType collection)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 4:
                raise FontError(f"{path}: not a font file (too short)")
            if head[:4] != _COLLECTION_TAG:
                if index != 0:
                    raise FontError(f"{path}: not a font collection, face index {index} invalid")
                return head[:4]
            if len(head) < 12:
                raise FontError(f"{path}: truncated font collection header")
            (count,) = struct.unpack(">I", head[8:12])
            if not 0 <= index < count:
                raise FontError(f"{path}: face index {index} out of range (collection has {count})")
            fh.seek(12 + 4 * index)
            (offset,) = struct.unpack(">I", fh.read(4))
            fh.seek(offset)
            return fh.read(4)
    except OSError as exc:
        raise FontError(f"cannot read font file {path}: {exc}") from exc


def outline_format(path: str | os.PathLike[str], index: int = 0) -> str:
    """"truetype" (glyf outlines), "cff" (OpenType/PostScript, 'OTTO') or "unknown"."""
    tag = _sfnt_tag(str(path), index)
    if tag == _CFF_TAG:
        return "cff"
    return "truetype" if tag in _TRUETYPE_TAGS else "unknown"


def _check_outlines(path: str, index: int) -> None:
    tag = _sfnt_tag(path, index)
    if tag == _CFF_TAG:
        raise FontError(
            f"{path}: CFF (OpenType/PostScript) outlines are not supported by ReportLab; "
            "configure a TrueType CJK font such as WenQuanYi Micro Hei (fonts-wqy-microhei)"
        )
    if tag not in _TRUETYPE_TAGS:
        raise FontError(f"{path}: not a TrueType font (sfnt tag {tag!r})")


def _missing_glyphs(char_to_glyph: dict[int, int]) -> str:
    return "".join(sorted({c for c in COVERAGE_SAMPLE if ord(c) not in char_to_glyph}))


def _coverage_error(path: str, missing: str) -> FontError:
    shown = missing if len(missing) <= 20 else missing[:20] + "…"
    return FontError(f"{path}: lacks glyphs for {len(missing)} common characters: {shown}")


def check_font_file(path: str | os.PathLike[str], index: int = 0) -> FontCandidate:
    """Check that a face is TrueType, parseable by ReportLab and covers common Chinese text.

    Raises :class:`FontError` otherwise. Does not register anything.
    """
    p = str(path)
    if not Path(p).is_file():
        raise FontError(f"font file not found: {p}")
    _check_outlines(p, index)
    try:
        face = TTFontFile(p, subfontIndex=index, validate=0)
    except TTFError as exc:
        raise FontError(f"{p}: ReportLab cannot use this font: {exc}") from exc
    missing = _missing_glyphs(face.charToGlyph)
    if missing:
        raise _coverage_error(p, missing)
    return FontCandidate(p, index, _decode_name(face.familyName) or _decode_name(face.name))


def _decode_name(raw: object) -> str:
    if isinstance(raw, bytes):
        return raw.decode("latin-1")
    return str(raw) if raw else ""


# --------------------------------------------------------------------------- discovery


def _rank(c: FontCandidate) -> tuple[int, int, int, str]:
    key = f"{Path(c.path).name} {c.family}".lower()
    pref = next((i for i, frag in enumerate(_PREFERRED) if frag in key), len(_PREFERRED))
    mono = 1 if "mono" in key else 0  # prefer the proportional face of a family
    return (pref, mono, c.index, c.path)


def _fc_list() -> list[FontCandidate]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--format", "%{file}\t%{index}\t%{family}\n",
             ":lang=zh-cn:fontformat=TrueType"],
            capture_output=True, text=True, timeout=15, check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found: list[FontCandidate] = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0]:
            continue
        try:
            index = int(parts[1] or 0)
        except ValueError:
            index = 0
        family = parts[2].split(",")[0] if len(parts) > 2 else ""
        found.append(FontCandidate(parts[0], index, family))
    return found


def discover_cjk_fonts() -> list[FontCandidate]:
    """TrueType Chinese fonts on this system, best first (not yet checked for coverage)."""
    seen: set[tuple[str, int]] = set()
    result: list[FontCandidate] = []
    for c in [*_fc_list(), *(FontCandidate(p, 0) for p in _FALLBACK_PATHS)]:
        if (c.path, c.index) in seen or not Path(c.path).is_file():
            continue
        seen.add((c.path, c.index))
        result.append(c)
    return sorted(result, key=_rank)


def _parse_spec(spec: str) -> tuple[str, int]:
    """``path`` or ``path#index``."""
    path, sep, idx = spec.rpartition("#")
    if sep and idx.isdigit():
        return path, int(idx)
    return spec, 0


# --------------------------------------------------------------------------- registration


def _make_ttfont(name: str, path: str, index: int) -> TTFont:
    _check_outlines(path, index)
    try:
        # subfontIndex picks the face of a .ttc; TTFont embeds a subset by default.
        return TTFont(name, path, subfontIndex=index)
    except TTFError as exc:
        raise FontError(f"{path}: ReportLab cannot use this font: {exc}") from exc


def _point_defaults_at(regular: str, bold: str) -> None:
    """Make every ReportLab default font the embedded CJK font (no stray Helvetica)."""
    pdfmetrics.registerFontFamily(
        regular, normal=regular, bold=bold, italic=regular, boldItalic=bold,
        baseFontFor="canvas graphics",  # sets canvas_basefontname + defaultGraphicsFontName
    )
    rl_config.canvas_basefontname = regular
    rl_config.defaultGraphicsFontName = regular
    # Table cells holding plain strings use CellStyle.fontname, captured at import time.
    from reportlab.platypus import tables

    tables.CellStyle.fontname = regular


def register_cjk_fonts(
    path: str | os.PathLike[str] | None = None,
    index: int = 0,
    *,
    bold_path: str | os.PathLike[str] | None = None,
    bold_index: int = 0,
) -> CJKFonts:
    """Register the CJK font once (idempotent, thread-safe) and return its names.

    ``path``/``index`` come from configuration; without them the environment variable and then
    fontconfig are consulted. A later call with a different explicit font raises FontError
    (ReportLab font names are process-wide).
    """
    global _registered
    explicit: tuple[str, int] | None = None
    if path is not None:
        explicit = (str(path), index)
    elif os.environ.get(FONT_ENV_VAR):
        explicit = _parse_spec(os.environ[FONT_ENV_VAR])

    with _lock:
        if _registered is not None:
            if explicit is not None and (
                os.path.realpath(explicit[0]), explicit[1]
            ) != (os.path.realpath(_registered.path), _registered.index):
                check_font_file(*explicit)  # a bad file gets its own, clearer, error
                raise FontError(
                    f"CJK font already registered from {_registered.path}#{_registered.index}; "
                    f"cannot switch to {explicit[0]}#{explicit[1]} in the same process"
                )
            return _registered

        if explicit is not None:
            candidates = [FontCandidate(*explicit)]
        else:
            candidates = discover_cjk_fonts()
            if not candidates:
                raise FontError(
                    "no TrueType Chinese font found (fc-list ':lang=zh-cn:fontformat=TrueType'); "
                    "install fonts-wqy-microhei or configure a font path"
                )

        errors: list[str] = []
        for cand in candidates:
            try:
                if not Path(cand.path).is_file():
                    raise FontError(f"font file not found: {cand.path}")
                font = _make_ttfont(REGULAR_NAME, cand.path, cand.index)
                missing = _missing_glyphs(font.face.charToGlyph)
                if missing:
                    raise _coverage_error(cand.path, missing)
            except FontError as exc:
                if explicit is not None:
                    raise
                errors.append(str(exc))
                continue
            chosen, family = cand, cand.family
            break
        else:
            raise FontError("no usable TrueType Chinese font: " + "; ".join(errors))

        pdfmetrics.registerFont(font)
        bold_name = REGULAR_NAME
        if bold_path is not None:
            bold_font = _make_ttfont(BOLD_NAME, str(bold_path), bold_index)
            bold_missing = _missing_glyphs(bold_font.face.charToGlyph)
            if bold_missing:
                raise _coverage_error(str(bold_path), bold_missing)
            pdfmetrics.registerFont(bold_font)
            bold_name = BOLD_NAME
        _point_defaults_at(REGULAR_NAME, bold_name)
        if not family:
            family = _decode_name(font.face.familyName)
        _registered = CJKFonts(
            regular=REGULAR_NAME,
            bold=bold_name,
            path=chosen.path,
            index=chosen.index,
            family=family,
            bold_is_distinct=bold_name != REGULAR_NAME,
        )
        return _registered


def fonts_info() -> CJKFonts | None:
    """The registered fonts, or None before :func:`register_cjk_fonts` ran."""
    return _registered
