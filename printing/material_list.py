"""申请材料清单: the list of materials for a matter, saying which ones electronic licences
replace (免提交) and which ones the applicant still hands in on paper.

Plain data in (:class:`MaterialListDocument`, already masked), PDF bytes out
(:func:`render_material_list`). The document never receives a full ID number: the field is
``applicant_id_masked`` and an unmasked value is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from printing.authenticity import DocumentStamp, draw_qr
from printing.layout import (
    A4_PORTRAIT,
    HEADER_FILL,
    LABEL_FILL,
    DocStyles,
    FauxBoldTitle,
    PageDecoration,
    build_pdf,
    cn_date,
    cn_datetime,
    draw_seal,
    fit_cell,
    get_styles,
    para,
)

__all__ = [
    "DOCUMENT_TITLE",
    "MaterialListDocument",
    "MaterialListItem",
    "MaterialStatus",
    "render_material_list",
    "sample_material_list",
]

DOCUMENT_TITLE = "申请材料清单"

MaterialStatus = Literal["provided", "to_submit", "optional_missing"]
_STATUSES: frozenset[str] = frozenset(get_args(MaterialStatus))

# What the 提交方式 column says for each status.
SUBMISSION_TEXT: dict[str, str] = {
    "provided": "电子证照免提交",
    "to_submit": "需提交纸质材料",
    "optional_missing": "非必需，未提供",
}


@dataclass(frozen=True)
class MaterialListItem:
    """One row of the list."""

    name: str  # 材料名称
    status: MaterialStatus
    licence_type_name: str | None = None  # e.g. 居民身份证, when an electronic licence replaces it
    licence_id: str | None = None  # GB/T 36904 identifier of the licence used
    note: str = ""  # 备注

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValueError(f"unknown material status {self.status!r}")


@dataclass(frozen=True)
class MaterialListDocument:
    """Everything printed on a 申请材料清单. Personal data arrives masked."""

    matter_name: str  # 办理事项
    matter_code: str  # 事项编码
    department: str  # 受理部门 (also the unit named on the seal)
    applicant_label: str  # 申请人: masked name ("张*") or an enterprise name
    applicant_id_masked: str  # 证件号码, masked ("421281********0018")
    identified_by_label: str  # 身份核验方式, e.g. "刷卡（社会保障卡）"
    case_number: str  # 受理编号
    workstation_id: str  # 受理窗口/工作站
    operator: str  # 经办人
    items: Sequence[MaterialListItem]
    generated_at: dt.datetime
    offline_note: str | None = None  # e.g. "平台离线，证照数据截至 2024年5月20日 09:00"
    issuing_unit: str | None = None  # page header; defaults to the department
    seal_label: str = "受理专用章（电子）"
    notes: Sequence[str] = field(default_factory=tuple)  # extra 说明 lines

    def __post_init__(self) -> None:
        masked = self.applicant_id_masked
        if masked and "*" not in masked:
            raise ValueError("applicant_id_masked must be a masked ID number, never a full one")

    @property
    def provided_count(self) -> int:
        return sum(1 for i in self.items if i.status == "provided")

    @property
    def to_submit_count(self) -> int:
        return sum(1 for i in self.items if i.status == "to_submit")

    @property
    def optional_missing_count(self) -> int:
        return sum(1 for i in self.items if i.status == "optional_missing")


# --------------------------------------------------------------------------- building blocks

_FRAME_W = A4_PORTRAIT.frame_width
_GRID = colors.HexColor("#333333")


def _header_block(doc: MaterialListDocument, st: DocStyles) -> Table:
    lw, vw = 30 * mm, _FRAME_W / 2 - 30 * mm

    def lab(text: str) -> object:
        return fit_cell(text, st.cell_label, lw, 10)

    def val(text: str) -> object:
        return fit_cell(text or "—", st.cell, vw, 10)

    rows = [
        [lab("办理事项"), val(doc.matter_name), "", ""],
        [lab("事项编码"), val(doc.matter_code), "", ""],
        [lab("受理部门"), val(doc.department), lab("受理编号"), val(doc.case_number)],
        [lab("申请人"), val(doc.applicant_label), lab("证件号码"), val(doc.applicant_id_masked)],
        [lab("身份核验方式"), val(doc.identified_by_label), lab("经办人"), val(doc.operator)],
        [lab("受理窗口/工作站"), val(doc.workstation_id), lab("日期"),
         val(cn_datetime(doc.generated_at))],
    ]
    t = Table(rows, colWidths=[lw, vw, lw, vw])
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), st.fonts.regular, st.cell.fontSize, st.cell.leading),
        ("GRID", (0, 0), (-1, -1), 0.6, _GRID),
        ("BOX", (0, 0), (-1, -1), 1.0, _GRID),
        ("SPAN", (1, 0), (3, 0)),
        ("SPAN", (1, 1), (3, 1)),
        ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
        ("BACKGROUND", (2, 2), (2, -1), LABEL_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
    ]))
    return t


def _offline_box(note: str, st: DocStyles) -> Table:
    t = Table([[para(f"【离线提示】{note}", st.notice)]], colWidths=[_FRAME_W])
    t.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.8, _GRID),
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F7F7F7")),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
    ]))
    return t


def _licence_cell(item: MaterialListItem, st: DocStyles) -> object:
    if item.status != "provided" or not item.licence_type_name:
        return para("—", st.cell_center)
    cell: list[object] = [para(item.licence_type_name, st.cell)]
    if item.licence_id:
        cell.append(para(f"标识：{item.licence_id}", st.cell_small))
    return cell


def _materials_table(items: Sequence[MaterialListItem], st: DocStyles) -> Table:
    widths = [11 * mm, 42 * mm, 28 * mm, 60 * mm]
    widths.append(_FRAME_W - sum(widths))
    header: list[object] = [
        para(h, st.cell_header) for h in ("序号", "材料名称", "提交方式", "电子证照", "备注")
    ]
    rows: list[list[object]] = [header]
    for n, item in enumerate(items, start=1):
        rows.append([
            str(n),
            fit_cell(item.name, st.cell, widths[1]),
            fit_cell(SUBMISSION_TEXT[item.status], st.cell_center, widths[2]),
            _licence_cell(item, st),
            fit_cell(item.note, st.cell, widths[4]) if item.note else "",
        ])
    if not items:
        rows.append([para("本事项无需申请材料", st.cell_center), "", "", "", ""])
    t = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 1), (-1, -1), st.fonts.regular, st.cell.fontSize, st.cell.leading),
        ("ALIGN", (0, 1), (0, -1), "CENTER"),
        ("ALIGN", (2, 1), (2, -1), "CENTER"),
        ("GRID", (0, 0), (-1, -1), 0.6, _GRID),
        ("BOX", (0, 0), (-1, -1), 1.0, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if not items:
        style.append(("SPAN", (0, 1), (-1, 1)))
    t.setStyle(TableStyle(style))
    return t


def _summary_text(doc: MaterialListDocument) -> str:
    text = (f"合计 {len(doc.items)} 项：免提交 {doc.provided_count} 项，"
            f"需提交 {doc.to_submit_count} 项")
    if doc.optional_missing_count:
        text += f"，非必需未提供 {doc.optional_missing_count} 项"
    return text + "。"


_DEFAULT_NOTES = (
    "标注“电子证照免提交”的材料，经申请人授权由受理部门调取电子证照核验，无需再提交实体证照"
    "或复印件。",
    "标注“需提交纸质材料”的，请在受理时一并交窗口工作人员。",
    "本清单一式两份，申请人与受理部门各执一份。",
)


def _notes(notes: Sequence[str], st: DocStyles) -> list[Flowable]:
    """说明：1. …  with the following items aligned under the first one."""
    indent = stringWidth("说明：", st.small.fontName, st.small.fontSize)
    style = ParagraphStyle("mz-note-item", parent=st.small, leftIndent=indent)
    out: list[Flowable] = []
    for n, text in enumerate(notes, start=1):
        if n == 1:
            first = ParagraphStyle("mz-note-first", parent=style, firstLineIndent=-indent)
            out.append(para(f"说明：{n}. {text}", first))
        else:
            out.append(para(f"{n}. {text}", style))
    return out


class SealBlock(Flowable):
    """Bottom of the last page: applicant's signature on the left; on the right the accepting
    unit and the date with the round seal drawn *under* them (opaque, so text goes on top)."""

    def __init__(self, department: str, seal_label: str, date_text: str, font_name: str,
                 operator: str, stamp: DocumentStamp | None = None) -> None:
        super().__init__()
        self.stamp = stamp
        self.department = department
        self.seal_label = seal_label
        self.date_text = date_text
        self.font_name = font_name
        self.operator = operator
        self.height = 38 * mm

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        return availWidth, self.height

    def draw(self) -> None:
        c, f = self.canv, self.font_name
        h = self.height
        # left: applicant confirmation and signature line
        c.setFillColor(colors.black)
        c.setStrokeColor(colors.black)
        c.setLineWidth(0.6)
        c.setFont(f, 10.5)
        c.drawString(0, h - 12 * mm, "申请人（签字）：")
        label_w = stringWidth("申请人（签字）：", f, 10.5)
        c.line(label_w, h - 13 * mm, label_w + 42 * mm, h - 13 * mm)
        c.drawString(0, h - 24 * mm, f"经办人：{self.operator}")
        if self.stamp is not None:  # between the signature and the seal: QR, then the code
            qr = 22 * mm
            qx = self.width * 0.53 - qr / 2
            draw_qr(c, qx, h - qr - 1 * mm, qr, self.stamp.url)
            c.setFillColor(colors.black)
            c.setFont(f, 7)
            c.drawCentredString(qx + qr / 2, h - qr - 5 * mm, "扫码或输入验证码核验真伪")
            c.drawCentredString(qx + qr / 2, h - qr - 8.5 * mm,
                                f"验证码：{self.stamp.display_code}")
        # right: the unit name and the date, the seal stamped over both (骑年盖月); the seal is
        # drawn first because it is opaque
        radius = 18 * mm
        cx = self.width - 34 * mm
        cy = h - 19 * mm
        draw_seal(c, cx, cy, radius, self.department, self.seal_label, f)
        c.setFillColor(colors.black)
        unit_size = 10.5
        while stringWidth(self.department, f, unit_size) > 64 * mm and unit_size > 7:
            unit_size -= 0.5
        c.setFont(f, unit_size)
        c.drawCentredString(cx, cy + 3 * mm, self.department)
        c.setFont(f, 10.5)
        c.drawCentredString(cx, cy - 4.5 * mm, self.date_text)


# --------------------------------------------------------------------------- rendering


def render_material_list(doc: MaterialListDocument, stamp: DocumentStamp | None = None) -> bytes:
    """Render the 申请材料清单 as an A4 PDF (fonts embedded) and return its bytes."""
    st = get_styles()
    story: list[Flowable] = [
        FauxBoldTitle(DOCUMENT_TITLE, st.fonts.bold, 22, space_after=4 * mm),
        _header_block(doc, st),
        Spacer(1, 4 * mm),
    ]
    if doc.offline_note:
        story += [_offline_box(doc.offline_note, st), Spacer(1, 4 * mm)]
    story += [_materials_table(doc.items, st), Spacer(1, 3 * mm)]
    notes = [*_DEFAULT_NOTES, *doc.notes]
    closing: list[Flowable] = [
        para(_summary_text(doc), st.body),
        Spacer(1, 2 * mm),
        *_notes(notes, st),
        Spacer(1, 2 * mm),
        SealBlock(doc.department, doc.seal_label, cn_date(doc.generated_at.date()),
                  st.fonts.regular, doc.operator, stamp),
    ]
    # The summary, notes and seal move to the next page together rather than split.
    story.append(KeepTogether(closing))
    decoration = PageDecoration(
        issuing_unit=doc.issuing_unit or doc.department,
        header_right=f"{DOCUMENT_TITLE} · 免证办",
        footer_left=f"受理编号：{doc.case_number}",
        footer_right=f"打印：{doc.generated_at:%Y-%m-%d %H:%M} {doc.workstation_id}",
        stamp=stamp,
    )
    return build_pdf(
        story, decoration,
        title=f"{DOCUMENT_TITLE} - {doc.matter_name}",
        subject=f"{doc.matter_code} {doc.case_number}",
        author=doc.department,
    )


# --------------------------------------------------------------------------- sample data


def sample_material_list() -> MaterialListDocument:
    """Synthetic data for previews and tests (no real person)."""
    lic = "1.2.156.3005.2.{type}.11421281MB1520491B.{serial}.001.{check}"
    items = [
        MaterialListItem("不动产登记申请书", "to_submit", note="窗口现场填写并签字"),
        MaterialListItem(
            "申请人身份证明", "provided", "居民身份证",
            lic.format(type="111000000000131433", serial="2019004417", check="K"),
        ),
        MaterialListItem(
            "户口簿", "provided", "居民户口簿",
            lic.format(type="111000000000131434", serial="2020118820", check="3"),
            note="核验家庭成员信息",
        ),
        MaterialListItem(
            "婚姻状况证明", "provided", "结婚证",
            lic.format(type="111000000000131435", serial="2016002231", check="7"),
        ),
        MaterialListItem(
            "不动产权属证书", "provided", "不动产权证书",
            lic.format(type="111000000000131436", serial="2021030562", check="X"),
            note="鄂（2021）赤壁市不动产权第0003056号",
        ),
        MaterialListItem("存量房买卖合同（网签备案）", "to_submit", note="原件一份，交易双方签字"),
        MaterialListItem("契税、增值税完税凭证", "to_submit", note="可在税务窗口当场办理"),
        MaterialListItem("授权委托书及受托人身份证明", "optional_missing",
                         note="本人办理，无需提供"),
    ]
    return MaterialListDocument(
        matter_name="存量房转移登记（二手房买卖）",
        matter_code="11421281MB1520491B4000112034000",
        department="赤壁市不动产登记中心",
        applicant_label="张*",
        applicant_id_masked="421281********0018",
        identified_by_label="刷卡（社会保障卡）",
        case_number="SL4212812024052000017",
        workstation_id="12号窗口（CB-W12）",
        operator="李娜（工号 0231）",
        items=items,
        generated_at=dt.datetime(2024, 5, 20, 14, 32),
        offline_note=None,
        issuing_unit="赤壁市政务服务中心",
    )
