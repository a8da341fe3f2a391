"""Building blocks shared by the document templates: labelled information grids, data tables
with a repeated header row, titles and notes. Data in, flowables out."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Table, TableStyle

from printing.layout import HEADER_FILL, LABEL_FILL, DocStyles, para

__all__ = ["GRID", "data_table", "info_grid", "money", "numbered_notes"]

GRID = colors.HexColor("#333333")

Pair = tuple[str, str]


def money(value: Decimal | float | int) -> str:
    """12,345.60"""
    return f"{Decimal(value):,.2f}"


def info_grid(rows: Sequence[Sequence[Pair]], st: DocStyles, width: float, *,
              label_width: float = 26 * mm) -> Table:
    """A bordered grid of label/value cells: each row holds one pair (spanning the full width)
    or two pairs (label | value | label | value). Labels shaded as on printed forms."""
    value_w = width / 2 - label_width
    data: list[list[object]] = []
    style: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, GRID),
        ("BOX", (0, 0), (-1, -1), 1.0, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for r, row in enumerate(rows):
        if len(row) == 1:
            (label, value), = row
            data.append([para(label, st.cell_label), para(value or "—", st.cell), "", ""])
            style += [("SPAN", (1, r), (3, r)), ("BACKGROUND", (0, r), (0, r), LABEL_FILL)]
        elif len(row) == 2:
            (l1, v1), (l2, v2) = row
            data.append([para(l1, st.cell_label), para(v1 or "—", st.cell),
                         para(l2, st.cell_label), para(v2 or "—", st.cell)])
            style += [("BACKGROUND", (0, r), (0, r), LABEL_FILL),
                      ("BACKGROUND", (2, r), (2, r), LABEL_FILL)]
        else:
            raise ValueError("an info grid row holds one or two label/value pairs")
    t = Table(data, colWidths=[label_width, value_w, label_width, value_w])
    t.setStyle(TableStyle(style))
    return t


def data_table(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
               st: DocStyles, *, align: Sequence[str] | None = None,
               font_size: float = 9.5, empty_text: str = "无记录",
               header_rows: Sequence[Sequence[str]] = (),
               spans: Sequence[tuple[tuple[int, int], tuple[int, int]]] = ()) -> Table:
    """A grid table whose header row(s) repeat on every page it runs over.

    ``align`` per column: "L", "C" or "R" (amounts right-aligned, as in ledgers). A cell whose
    text fits its column is drawn as a plain string (fast: long ledgers have thousands of
    cells); longer text becomes a CJK paragraph that wraps inside the cell. ``header_rows``
    go above ``header`` (grouped headings, joined with ``spans`` in table coordinates).
    """
    cols = len(header)
    align = list(align or ["C"] * cols)
    font = st.fonts.regular
    leading = font_size * 1.3
    pad = 3.0
    para_styles = {
        a: ParagraphStyle(f"mz-dt-{a}", parent=st.cell, fontSize=font_size, leading=leading,
                          alignment={"L": 0, "C": 1, "R": 2}[a])
        for a in "LCR"
    }
    head_style = ParagraphStyle("mz-dt-h", parent=st.cell_header, fontSize=font_size + 0.5,
                                leading=(font_size + 0.5) * 1.3)

    def cell(text: str, col: int) -> object:
        if "\n" not in text and stringWidth(text, font, font_size) <= widths[col] - 2 * pad:
            return text
        return para(text, para_styles[align[col]])

    heads = [*header_rows, header]
    data: list[list[object]] = [
        [para(h, head_style) if h else "" for h in row] for row in heads
    ]
    for row in rows:
        if len(row) != cols:
            raise ValueError(f"table row has {len(row)} cells, header has {cols}")
        data.append([cell(str(v), c) for c, v in enumerate(row)])
    n_head = len(heads)
    style: list[tuple[object, ...]] = [
        ("FONT", (0, n_head), (-1, -1), font, font_size, leading),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BOX", (0, 0), (-1, -1), 1.0, GRID),
        ("BACKGROUND", (0, 0), (-1, n_head - 1), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
    ]
    for c, a in enumerate(align):
        style.append(("ALIGN", (c, n_head), (c, -1),
                      {"L": "LEFT", "C": "CENTER", "R": "RIGHT"}[a]))
    for start, end in spans:
        style.append(("SPAN", start, end))
    if not rows:
        data.append([para(empty_text, para_styles["C"])] + [""] * (cols - 1))
        style.append(("SPAN", (0, n_head), (-1, n_head)))
    t = Table(data, colWidths=list(widths), repeatRows=n_head)
    t.setStyle(TableStyle(style))
    return t


def numbered_notes(notes: Sequence[str], st: DocStyles, heading: str = "说明：") -> list[Flowable]:
    """说明：1. …  with the following items aligned under the first one."""
    indent = stringWidth(heading, st.small.fontName, st.small.fontSize)
    style = ParagraphStyle("mz-note-item", parent=st.small, leftIndent=indent)
    out: list[Flowable] = []
    for n, text in enumerate(notes, start=1):
        if n == 1:
            first = ParagraphStyle("mz-note-first", parent=style, firstLineIndent=-indent)
            out.append(para(f"{heading}{n}. {text}", first))
        else:
            out.append(para(f"{n}. {text}", style))
    return out
