"""The printed application form: the plugin's FormSpec and values laid out with the
workstation's form template (``form``: FormDefinition / FormPrintout / render_form)."""

from __future__ import annotations

from typing import Any

from plugins.form_filling.logic import FormSpec, PrintData, parse_date, print_values
from workstation.api.printing import FormDefinition, FormField, FormPrintout, FormSection

TEMPLATE_KEY = "form"  # registered by the built-in documents plugin


def definition(form: FormSpec) -> FormDefinition:
    """Printed kinds: choices as tick boxes, dates as dates, everything else as text."""
    sections = []
    for s in form.sections:
        fields = []
        for f in s.fields:
            kind: Any = {"choice": "choice", "date": "date"}.get(f.type, "text")
            wide = f.full_width or f.type in ("address", "region")
            if f.type == "choice" and len(f.options) > 6:
                kind, wide = "text", False  # long lists (民族, 职业): the chosen one only
            fields.append(FormField(f.key, f.label, kind, f.options if kind == "choice" else (),
                                    required=f.required, full_width=wide, hint=f.hint))
        sections.append(FormSection(s.title, tuple(fields)))
    last = sections[-1]
    signature = FormField("signature", "申请人签字", "signature")
    sections[-1] = FormSection(last.title, (*last.fields, signature))
    return FormDefinition(code=form.code, title=form.title, department=form.department,
                          sections=tuple(sections), notes=form.notes)


def printout(data: PrintData) -> FormPrintout:
    values: dict[str, Any] = {}
    shown = print_values(data.form, data.values)
    for f in data.form.fields:
        v = shown.get(f.key, "")
        if not v:
            continue
        values[f.key] = parse_date(v) if f.type == "date" else v
    return FormPrintout(
        form=definition(data.form), values=values, filled_at=data.filled_at,
        issuing_unit=data.issuing_unit, case_number=data.case_number,
        workstation_id=data.workstation_id,
        extra_notes=("公民身份号码、手机号码在打印件上部分隐藏，完整信息已通过电子填单系统提交；",
                     *data.extra_notes),
    )
