"""The CJK font: found through fontconfig, TrueType, embedded; CFF and poor fonts refused."""

from __future__ import annotations

import glob
import struct
import threading
from pathlib import Path

import pytest
from reportlab import rl_config
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing, String

from printing.fonts import (
    FontError,
    check_font_file,
    discover_cjk_fonts,
    outline_format,
    register_cjk_fonts,
)
from printing.layout import PageDecoration, build_pdf, get_styles
from tests.printing.pdf_inspect import pdffonts, pypdf_fonts


def _cff_fonts_on_system() -> list[str]:
    found = []
    for p in sorted(glob.glob("/usr/share/fonts/**/*.otf", recursive=True)):
        with open(p, "rb") as fh:
            if fh.read(4) == b"OTTO":
                found.append(p)
    return found


def test_font_found_is_truetype_and_covers_chinese():
    fonts = register_cjk_fonts()
    assert outline_format(fonts.path, fonts.index) == "truetype"
    assert check_font_file(fonts.path, fonts.index).path == fonts.path
    assert "stsong" not in fonts.regular.lower()


def test_discovery_prefers_wenquanyi_micro_hei_proportional_face():
    candidates = discover_cjk_fonts()
    assert candidates, "fonts-wqy-microhei should be installed"
    best = candidates[0]
    assert "wqy" in Path(best.path).name.lower()
    assert "mono" not in best.family.lower()


def test_registration_is_idempotent_and_thread_safe():
    results = []

    def worker() -> None:
        results.append(register_cjk_fonts())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in results}) == 1
    assert register_cjk_fonts() is results[0]
    # same explicit file: still the same registration
    assert register_cjk_fonts(results[0].path, results[0].index) is results[0]


def test_reportlab_defaults_point_at_the_cjk_font():
    fonts = register_cjk_fonts()
    assert rl_config.canvas_basefontname == fonts.regular
    assert rl_config.defaultGraphicsFontName == fonts.regular


def test_graphics_without_explicit_font_embed_only_the_cjk_font(tmp_path):
    """GIVEN a QR code and a String with no font set, created after the styles
    WHEN rendered THEN no Helvetica (non-embedded) sneaks into the PDF."""
    get_styles()
    d = Drawing(120, 140)
    d.add(QrCodeWidget("https://example.invalid/verify?c=123"))
    d.add(String(4, 126, "ABC 123 核验码"))
    data = build_pdf([d], PageDecoration("测试单位"), title="qr")
    path = tmp_path / "qr.pdf"
    path.write_bytes(data)
    fonts = pdffonts(path)
    assert fonts and all(f.embedded and f.type == "TrueType" for f in fonts)
    assert not any("helvetica" in f.name.lower() for f in fonts)
    assert all(pypdf_fonts(data).values())


def test_a_non_embedded_font_is_refused_at_render_time():
    get_styles()
    d = Drawing(100, 20)
    d.add(String(0, 5, "123", fontName="Helvetica"))
    with pytest.raises(FontError, match="non-embedded"):
        build_pdf([d], PageDecoration("测试单位"), title="x")


def test_stsong_cid_font_is_refused_at_render_time():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    get_styles()
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    d = Drawing(100, 20)
    d.add(String(0, 5, "中文 123", fontName="STSong-Light"))
    with pytest.raises(FontError, match="STSong-Light"):
        build_pdf([d], PageDecoration("测试单位"), title="x")


def test_synthetic_cff_header_is_refused(tmp_path):
    fake = tmp_path / "fake.otf"
    fake.write_bytes(b"OTTO" + b"\0" * 64)
    assert outline_format(fake) == "cff"
    with pytest.raises(FontError, match="CFF"):
        check_font_file(fake)
    with pytest.raises(FontError, match="CFF"):
        register_cjk_fonts(fake)


def test_cff_face_inside_a_collection_is_refused(tmp_path):
    # ttcf header with one face whose table directory starts with OTTO
    ttc = b"ttcf" + struct.pack(">HHI", 1, 0, 1) + struct.pack(">I", 16) + b"OTTO" + b"\0" * 32
    path = tmp_path / "fake.ttc"
    path.write_bytes(ttc)
    with pytest.raises(FontError, match="CFF"):
        check_font_file(path, 0)
    with pytest.raises(FontError, match="out of range"):
        check_font_file(path, 3)


def test_real_cff_font_on_the_system_is_refused():
    fonts = _cff_fonts_on_system()
    assert fonts, "no CFF .otf font: the Makefile installs fonts-urw-base35 for this test"
    path = fonts[0]
    with pytest.raises(FontError, match="CFF"):
        check_font_file(path)


def test_truetype_font_without_chinese_glyphs_is_refused():
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    assert Path(dejavu).is_file(), "the Makefile installs fonts-dejavu-core for this test"
    with pytest.raises(FontError, match="lacks glyphs"):
        check_font_file(dejavu)


def test_missing_and_garbage_files_are_refused(tmp_path):
    with pytest.raises(FontError, match="not found"):
        check_font_file(tmp_path / "nope.ttf")
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    with pytest.raises(FontError, match="not a TrueType"):
        check_font_file(junk)


def test_switching_font_after_registration_is_refused():
    fonts = register_cjk_fonts()
    # the Makefile's CJK font (fonts-wqy-microhei) is a collection of two faces
    assert fonts.path.endswith(".ttc"), fonts.path
    with pytest.raises(FontError, match="already registered"):
        register_cjk_fonts(fonts.path, 1 - fonts.index)


def test_font_spec_from_environment_is_parsed():
    from printing.fonts import _parse_spec

    assert _parse_spec("/fonts/a.ttc#1") == ("/fonts/a.ttc", 1)
    assert _parse_spec("/fonts/a.ttf") == ("/fonts/a.ttf", 0)


def test_printing_imports_neither_qt_nor_the_rest_of_the_product():
    import subprocess
    import sys

    code = (
        "import sys, printing.material_list, printing.layout, printing.fonts\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PyQt6', 'workstation', 'devices', 'plugins')]\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
