"""Form printouts generated from a form definition: a small data model for application forms
(申请表) — sections of fields with labels, kinds and options — and a renderer that lays the
filled-in values out as a bordered government form with a signature row.

``FormDefinition`` is data (plugins may load it from TOML/JSON); ``validate_form`` reports
per-field errors in Chinese before anything is printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from printing.authenticity import DocumentStamp
from printing.blocks import GRID, numbered_notes
from printing.layout import (
    A4_PORTRAIT,
    HEADER_FILL,
    LABEL_FILL,
    ClosingBlock,
    FauxBoldTitle,
    PageDecoration,
    build_pdf,
    cn_date,
    get_styles,
    para,
)

__all__ = [
    "FieldKind",
    "FormDefinition",
    "FormField",
    "FormPrintout",
    "FormSection",
    "render_form",
    "sample_form",
    "validate_form",
]

FieldKind = Literal["text", "multiline", "date", "choice", "multichoice", "checkbox", "signature"]
_KINDS = frozenset(get_args(FieldKind))
Value = str | bool | Sequence[str] | dt.date | None

CHECKED, UNCHECKED = "■", "□"  # the CJK font has no ☑/☐ glyphs
NBSP = "\u00a0"  # paragraphs collapse ordinary and ideographic spaces; this one is kept


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    kind: FieldKind = "text"
    options: tuple[str, ...] = ()  # choice / multichoice
    required: bool = False
    full_width: bool = False  # a row of its own (addresses, remarks)
    hint: str = ""  # printed small under an empty value

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")
        if self.kind in ("choice", "multichoice") and not self.options:
            raise ValueError(f"field {self.key!r}: a choice needs options")


@dataclass(frozen=True)
class FormSection:
    title: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class FormDefinition:
    code: str  # form number, e.g. CB-BDC-F01
    title: str  # 不动产登记申请表
    department: str
    sections: tuple[FormSection, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        keys = [f.key for s in self.sections for f in s.fields]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"duplicate form field keys: {sorted(dupes)}")

    @property
    def fields(self) -> list[FormField]:
        return [f for s in self.sections for f in s.fields]


@dataclass(frozen=True)
class FormPrintout:
    form: FormDefinition
    values: Mapping[str, Value]
    filled_at: dt.datetime
    issuing_unit: str
    case_number: str = ""
    workstation_id: str = ""
    extra_notes: Sequence[str] = field(default_factory=tuple)


def validate_form(form: FormDefinition, values: Mapping[str, Value]) -> dict[str, str]:
    """Field key -> Chinese error, for missing required values, unknown options and keys."""
    errors: dict[str, str] = {}
    known = {f.key for f in form.fields}
    for key in values:
        if key not in known:
            errors[key] = "表单中没有此项"
    for f in form.fields:
        v = values.get(f.key)
        empty = v is None or v == "" or v is False or (
            isinstance(v, list | tuple) and not v)
        if f.required and empty and f.kind != "signature":
            errors[f.key] = f"请填写{f.label}"
            continue
        if empty:
            continue
        if f.kind == "choice" and (not isinstance(v, str) or v not in f.options):
            errors[f.key] = f"{f.label}应为：{'、'.join(f.options)}之一"
        elif f.kind == "multichoice":
            chosen = [v] if isinstance(v, str) else list(v) if isinstance(v, list | tuple) else []
            bad = [c for c in chosen if c not in f.options]
            if bad or not chosen:
                errors[f.key] = f"{f.label}的选项无效：{'、'.join(map(str, bad))}"
        elif f.kind == "date" and not isinstance(v, dt.date):
            errors[f.key] = f"{f.label}应为日期"
    return errors


def _value_text(f: FormField, v: Value) -> str:
    if f.kind in ("choice", "multichoice"):
        chosen = {v} if isinstance(v, str) else set(v) if isinstance(v, list | tuple) else set()
        return (NBSP * 3).join(f"{CHECKED if o in chosen else UNCHECKED}{o}" for o in f.options)
    if f.kind == "checkbox":
        gap = NBSP * 3
        return f"{CHECKED}是{gap}{UNCHECKED}否" if v else f"{UNCHECKED}是{gap}{CHECKED}否"
    if f.kind == "date":
        return cn_date(v) if isinstance(v, dt.date) else ""
    if f.kind == "signature":
        return ""
    if v is None:
        return ""
    return str(v)


def _form_table(p: FormPrintout, width: float) -> Table:
    st = get_styles()
    label_w = 28 * mm
    value_w = width / 2 - label_w
    label = st.cell_label
    value = st.cell
    hint = ParagraphStyle("mz-form-hint", parent=st.cell_small, textColor=GRID)
    section_style = ParagraphStyle("mz-form-section", parent=st.cell_header, alignment=0)
    data: list[list[object]] = []
    style: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, GRID),
        ("BOX", (0, 0), (-1, -1), 1.2, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    heights: list[float | None] = []

    def cell_for(f: FormField) -> object:
        text = _value_text(f, p.values.get(f.key))
        if not text and f.hint:
            return para(f.hint, hint)
        return para(text, value) if text else ""

    def flush_single(f: FormField) -> None:
        r = len(data)
        data.append([para(f.label, label), cell_for(f), "", ""])
        style.append(("SPAN", (1, r), (3, r)))
        style.append(("BACKGROUND", (0, r), (0, r), LABEL_FILL))
        tall = f.kind in ("multiline", "signature")
        heights.append(22 * mm if tall else None)
        if f.kind == "signature":
            style.append(("VALIGN", (1, r), (1, r), "BOTTOM"))
            gap = NBSP * 4
            data[r][1] = para(f"（签字）{NBSP * 24}日期：{gap * 2}年{gap}月{gap}日",
                              ParagraphStyle("mz-sign", parent=value, alignment=2))

    for section in p.form.sections:
        r = len(data)
        data.append([para(section.title, section_style), "", "", ""])
        heights.append(None)
        style.extend([("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), HEADER_FILL)])
        pending: FormField | None = None
        for f in section.fields:
            wide = f.full_width or f.kind in ("multiline", "signature", "multichoice") or (
                # a choice whose options do not fit half a row gets a whole one, so no option
                # is broken across lines
                f.kind == "choice" and stringWidth(_value_text(f, None), value.fontName,
                                                   value.fontSize) > value_w - 8)
            if wide:
                if pending is not None:
                    flush_single(pending)
                    pending = None
                flush_single(f)
                continue
            if pending is None:
                pending = f
                continue
            r = len(data)
            data.append([para(pending.label, label), cell_for(pending),
                         para(f.label, label), cell_for(f)])
            heights.append(None)
            style.extend([("BACKGROUND", (0, r), (0, r), LABEL_FILL),
                          ("BACKGROUND", (2, r), (2, r), LABEL_FILL)])
            pending = None
        if pending is not None:
            flush_single(pending)
    t = Table(data, colWidths=[label_w, value_w, label_w, value_w], rowHeights=heights)
    t.setStyle(TableStyle(style))
    return t


def render_form(p: FormPrintout, stamp: DocumentStamp | None = None) -> bytes:
    st = get_styles()
    width = A4_PORTRAIT.frame_width
    errors = validate_form(p.form, p.values)
    if errors:
        first = next(iter(errors.items()))
        raise ValueError(f"form {p.form.code} has invalid values: {first[0]}: {first[1]}")
    centre = ParagraphStyle("mz-form-sub", parent=st.small, alignment=1)
    story: list[Flowable] = [
        FauxBoldTitle(p.form.title, st.fonts.bold, 20, space_after=2 * mm),
        para(f"表单编号：{p.form.code}{NBSP * 4}受理部门：{p.form.department}"
             + (f"{NBSP * 4}受理编号：{p.case_number}" if p.case_number else ""), centre),
        Spacer(1, 3 * mm),
        _form_table(p, width),
        Spacer(1, 3 * mm),
    ]
    notes = [*p.form.notes, *p.extra_notes,
             "本表由免证办工作台根据申请人提供及电子证照库调取的信息生成，请申请人核对后签字确认。"]
    closing: list[Flowable] = [
        *numbered_notes(notes, st, heading="填表说明："),
        Spacer(1, 3 * mm),
        ClosingBlock(p.form.department, cn_date(p.filled_at.date()), st.fonts.regular,
                     seal_label="受理专用章（电子）", stamp=stamp, height=40 * mm),
    ]
    story.append(KeepTogether(closing))
    decoration = PageDecoration(
        issuing_unit=p.issuing_unit, header_right=f"{p.form.title} · {p.form.code}",
        footer_left=f"受理编号：{p.case_number}" if p.case_number else "",
        footer_right=f"填表：{p.filled_at:%Y-%m-%d %H:%M} {p.workstation_id}".rstrip(),
        stamp=stamp,
    )
    return build_pdf(story, decoration, title=p.form.title, subject=p.form.code,
                     author=p.form.department)


# --------------------------------------------------------------------------- sample data

SAMPLE_FORM = FormDefinition(
    code="CB-BDC-F03",
    title="不动产登记申请表",
    department="赤壁市不动产登记中心",
    sections=(
        FormSection("登记事项", (
            FormField("kind", "登记类型", "choice",
                      ("首次登记", "转移登记", "变更登记", "注销登记"),
                      required=True, full_width=True),
            FormField("cert_no", "不动产权证书号", required=True, full_width=True),
            FormField("location", "坐落", required=True, full_width=True),
            FormField("area", "建筑面积（㎡）"),
            FormField("use", "用途", "choice", ("住宅", "商业", "其他")),
        )),
        FormSection("申请人情况", (
            FormField("applicant", "权利人", required=True),
            FormField("id_masked", "证件号码", required=True),
            FormField("phone", "联系电话"),
            FormField("share", "共有方式", "choice", ("单独所有", "共同共有", "按份共有")),
            FormField("agent", "代理人", hint="本人办理无需填写"),
            FormField("agent_id", "代理人证件号码"),
        )),
        FormSection("申请材料与声明", (
            FormField("licences", "电子证照免提交", "multichoice",
                      ("居民身份证", "居民户口簿", "结婚证", "不动产权证书")),
            FormField("consent", "同意调取电子证照", "checkbox", required=True),
            FormField("remarks", "备注", "multiline"),
            FormField("signature", "申请人签字", "signature"),
        )),
    ),
    notes=("带“■”的选项为已选；", "申请人应对所填内容的真实性负责。"),
)


def sample_form() -> FormPrintout:
    return FormPrintout(
        form=SAMPLE_FORM,
        values={
            "kind": "转移登记",
            "cert_no": "鄂（2021）赤壁市不动产权第0003056号",
            "location": "赤壁市蒲圻街道金鸡路8号长江花园3栋2单元501室",
            "area": "108.56",
            "use": "住宅",
            "applicant": "张*",
            "id_masked": "421281********0018",
            "phone": "138****5678",
            "share": "共同共有",
            "licences": ("居民身份证", "结婚证", "不动产权证书"),
            "consent": True,
            "remarks": "买卖双方已完成网签备案，契税已缴纳。",
        },
        filled_at=dt.datetime(2024, 5, 20, 14, 38),
        issuing_unit="赤壁市政务服务中心",
        case_number="SL4212812024052000017",
        workstation_id="CB-W12",
    )
