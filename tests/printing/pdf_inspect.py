"""Read rendered PDFs back: fonts (pdffonts and pypdf) and text (pypdf and pdftotext)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pypdf
from pypdf.generic import DictionaryObject


@dataclass(frozen=True)
class PdfFont:
    name: str
    type: str
    embedded: bool


def pdffonts(path: Path) -> list[PdfFont]:
    """Parse `pdffonts` output (poppler-utils)."""
    exe = shutil.which("pdffonts")
    assert exe, "poppler-utils (pdffonts) is required"
    out = subprocess.run([exe, str(path)], capture_output=True, text=True, check=True).stdout
    fonts = []
    for line in out.splitlines()[2:]:
        # name type... encoding emb sub uni object ID; name has no spaces for our fonts
        m = re.match(r"^(\S+)\s+(.+?)\s+(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line)
        assert m, f"unexpected pdffonts line: {line!r}"
        fonts.append(PdfFont(m.group(1), m.group(2), m.group(4) == "yes"))
    return fonts


def pypdf_fonts(data: bytes) -> dict[str, bool]:
    """BaseFont -> embedded?, for every font on every page (descending into Type0 fonts)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    found: dict[str, bool] = {}

    def visit(font: DictionaryObject) -> None:
        name = str(font.get("/BaseFont", "?"))
        if font.get("/Subtype") == "/Type0":
            for desc in font["/DescendantFonts"]:
                visit(desc.get_object())
            return
        descriptor = font.get("/FontDescriptor")
        embedded = descriptor is not None and any(
            k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
        )
        found[name] = found.get(name, True) and embedded

    for page in reader.pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        fonts = resources.get_object().get("/Font")
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            visit(ref.get_object())
    return found


def page_texts(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def squash(text: str) -> str:
    """Text without any whitespace: names wrapped inside table cells read contiguously."""
    return re.sub(r"\s+", "", text)


def pdftotext(path: Path) -> str:
    exe = shutil.which("pdftotext")
    assert exe, "poppler-utils (pdftotext) is required"
    return subprocess.run([exe, "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
