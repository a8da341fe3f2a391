"""A simple one-document template for plugins: title, labelled fields, an optional table, notes
and the unit's seal. Most scenario printouts (核验单, 回执, 证明) fit it, so a plugin's print
template is a few lines of data instead of a ReportLab layout.

Plain data in (:class:`SimpleDocument`), PDF bytes out (:func:`render_simple_document`), with the
embedded CJK font, Chinese line breaking and 第 x 页 共 y 页 footers of the other documents.
Personal data arrives already masked: this module prints what it is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from printing.authenticity import DocumentStamp, draw_qr
from printing.layout import (
    A4_PORTRAIT,
    HEADER_FILL,
    LABEL_FILL,
    FauxBoldTitle,
    PageDecoration,
    build_pdf,
    cn_date,
    draw_seal,
    get_styles,
    para,
)

__all__ = ["SimpleDocument", "render_simple_document", "sample_simple_document"]

_GRID = colors.HexColor("#333333")
_FRAME_W = A4_PORTRAIT.frame_width


@dataclass(frozen=True)
class SimpleDocument:
    """Everything printed on a simple document."""

    title: str  # e.g. 证照核验单
    issuing_unit: str  # page header and the seal, e.g. 赤壁市政务服务中心
    fields: Sequence[tuple[str, str]] = ()  # (label, value) rows at the top
    table_header: Sequence[str] = ()  # optional table below the fields
    table_rows: Sequence[Sequence[str]] = ()
    notes: Sequence[str] = ()  # 说明 lines at the end
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime(2025, 1, 1))
    case_number: str = ""  # footer, left
    workstation_id: str = ""  # footer, right
    seal_label: str = ""  # e.g. 业务专用章（电子）; empty: no seal

    def __post_init__(self) -> None:
        width = len(self.table_header)
        for row in self.table_rows:
            if width and len(row) != width:
                raise ValueError(f"table row has {len(row)} cells, header has {width}")


class _Seal(Flowable):
    """The seal over the unit's name and date (right) and the verification QR code (left)."""

    def __init__(self, unit: str, label: str, date_text: str, font_name: str,
                 stamp: DocumentStamp | None = None) -> None:
        super().__init__()
        self.unit, self.label, self.date_text, self.font_name = unit, label, date_text, font_name
        self.stamp = stamp
        self.height = 40 * mm

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        return availWidth, self.height

    def draw(self) -> None:
        c, f = self.canv, self.font_name
        cx, cy = self.width - 34 * mm, self.height - 20 * mm
        if self.label:
            draw_seal(c, cx, cy, 18 * mm, self.unit, self.label, f)
        c.setFillColor(colors.black)
        c.setFont(f, 10.5)
        c.drawCentredString(cx, cy + 3 * mm, self.unit)
        c.drawCentredString(cx, cy - 4.5 * mm, self.date_text)
        if self.stamp is not None:
            qr = 24 * mm
            draw_qr(c, 0, self.height - qr - 2 * mm, qr, self.stamp.url)
            c.setFillColor(colors.black)
            c.setFont(f, 8)
            c.drawString(qr + 2 * mm, self.height - 10 * mm, "扫码核验")
            c.drawString(qr + 2 * mm, self.height - 15 * mm, f"验证码：{self.stamp.display_code}")


def _fields_table(rows: Sequence[tuple[str, str]]) -> Table:
    st = get_styles()
    data = [[para(label, st.cell_label), para(value or "—", st.cell)] for label, value in rows]
    t = Table(data, colWidths=[36 * mm, _FRAME_W - 36 * mm])
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, _GRID),
        ("BOX", (0, 0), (-1, -1), 1.0, _GRID),
        ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    ]))
    return t


def _rows_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    st = get_styles()
    data: list[list[object]] = [[para(h, st.cell_header) for h in header]]
    data += [[para(cell, st.cell) for cell in row] for row in rows]
    t = Table(data, colWidths=[_FRAME_W / len(header)] * len(header), repeatRows=1)
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, _GRID),
        ("BOX", (0, 0), (-1, -1), 1.0, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return t


def render_simple_document(doc: SimpleDocument, stamp: DocumentStamp | None = None) -> bytes:
    """Render ``doc`` as an A4 PDF (fonts embedded) and return its bytes; with ``stamp`` it
    carries its verification code on every page and a QR code by the seal."""
    st = get_styles()
    story: list[Flowable] = [FauxBoldTitle(doc.title, st.fonts.bold, 22, space_after=4 * mm)]
    if doc.fields:
        story += [_fields_table(doc.fields), Spacer(1, 4 * mm)]
    if doc.table_header:
        story += [_rows_table(doc.table_header, doc.table_rows), Spacer(1, 4 * mm)]
    closing: list[Flowable] = [
        para(f"{n}. {text}" if len(doc.notes) > 1 else text, st.small)
        for n, text in enumerate(doc.notes, start=1)
    ]
    if doc.notes:
        closing.insert(0, para("说明：", st.small))
    if doc.seal_label or stamp is not None:
        closing += [Spacer(1, 3 * mm), _Seal(doc.issuing_unit, doc.seal_label,
                                             cn_date(doc.generated_at.date()), st.fonts.regular,
                                             stamp)]
    if closing:
        story.append(KeepTogether(closing))
    decoration = PageDecoration(
        issuing_unit=doc.issuing_unit,
        header_right=f"{doc.title} · 免证办",
        footer_left=f"编号：{doc.case_number}" if doc.case_number else "",
        footer_right=f"打印：{doc.generated_at:%Y-%m-%d %H:%M} {doc.workstation_id}".rstrip(),
        stamp=stamp,
    )
    return build_pdf(story, decoration, title=doc.title, subject=doc.case_number,
                     author=doc.issuing_unit)


def sample_simple_document() -> SimpleDocument:
    """Synthetic data for previews and tests (no real person)."""
    return SimpleDocument(
        title="证照核验单",
        issuing_unit="赤壁市政务服务中心",
        fields=[("申请人", "张*"), ("证件号码", "421281********0018"), ("办理事项", "示例事项")],
        table_header=["证照名称", "核验结果"],
        table_rows=[["居民身份证", "有效"], ["居民户口簿", "有效"]],
        notes=["本核验单由免证办工作台生成。"],
        generated_at=dt.datetime(2025, 3, 3, 9, 30),
        case_number="CB-W12-20250303-093000-000",
        workstation_id="CB-W12",
        seal_label="业务专用章（电子）",
    )
