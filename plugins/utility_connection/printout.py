"""The 受理回执 of a gas or water connection application (A4), with the 报装说明.

Personal data arrives masked (``receipt_data`` masks it); the template renders a
``SimpleDocument`` with the verification stamp.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugins.utility_connection.forms import (
    ENTERPRISE,
    PENDING_LABEL,
    RESIDENTIAL,
    Utility,
    summary_rows,
)
from workstation.api import CHINA_TZ, licence_type, mask_id_number, mask_name


@dataclass(frozen=True)
class ReceiptData:
    utility_key: str
    title: str  # 燃气报装受理回执
    company: str
    number: str  # the utility's application number, or the local reference while pending
    matter: str  # 居民燃气申请
    applicant: str  # masked
    applicant_id: str  # masked
    state: str
    visit: str
    submitted_at: dt.datetime
    form_rows: Sequence[tuple[str, str]]  # masked
    waived: Sequence[str]  # licences used instead of paper
    notes: Sequence[str]
    service_line: str
    workstation_id: str


def receipt_data(utility: Utility, submission: Any, *, applicant_name: str,
                 applicant_id: str, licences_used: Sequence[str], workstation_id: str
                 ) -> ReceiptData:
    variant = submission.variant
    state = submission.state if not submission.pending else PENDING_LABEL
    return ReceiptData(
        utility_key=utility.key, title=f"{utility.business}受理回执", company=utility.company,
        number=submission.number, matter=f"{utility.title(variant)}（{utility.business}）",
        applicant=mask_name(applicant_name), applicant_id=mask_id_number(applicant_id),
        state=state, visit=submission.visit_text(), submitted_at=submission.submitted_at,
        form_rows=summary_rows(utility, variant, submission.form, masked=True),
        waived=[licence_type(t).name for t in licences_used],
        notes=utility.notes, service_line=utility.service_line,
        workstation_id=workstation_id,
    )


def _two_per_row(rows: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Two (label, value) pairs per table row, so the receipt stays on one page."""
    flat = [list(r) for r in rows]
    if len(flat) % 2:
        flat.append(["", ""])
    return [flat[i] + flat[i + 1] for i in range(0, len(flat), 2)]


def render_receipt(data: ReceiptData, stamp: Any = None) -> bytes:
    from workstation.api.printing import SimpleDocument, render_simple_document

    waived = "、".join(data.waived) + "（电子证照，免提交）" if data.waived else "无（手工填写）"
    fields = [
        ("受理编号", data.number), ("办理事项", data.matter),
        ("申请人", data.applicant), ("证件号码", data.applicant_id),
        ("办理状态", data.state), ("预约上门", data.visit),
        ("提交时间", f"{data.submitted_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"),
        ("免提交材料", waived),
    ]
    # SimpleDocument numbers the notes under "说明": the 报装说明 are the notes
    notes = [f"【报装说明】{n}" if i == 0 else n for i, n in enumerate(data.notes)] + [
        f"咨询：{data.service_line}。请妥善保管本回执，凭受理编号查询办理进度。"]
    doc = SimpleDocument(
        title=data.title, issuing_unit=data.company, fields=fields,
        table_header=["填报项目", "填报内容", "填报项目", "填报内容"],
        table_rows=_two_per_row(data.form_rows),
        notes=notes, generated_at=data.submitted_at.astimezone(CHINA_TZ).replace(tzinfo=None),
        case_number=data.number, workstation_id=data.workstation_id,
        seal_label="业务受理专用章（电子）",
    )
    return render_simple_document(doc, stamp)


def sample_receipt(utility: Utility) -> ReceiptData:
    from plugins.utility_connection.service import Submission

    variant = RESIDENTIAL
    form: dict[str, Any] = {
        "region": utility.fields(variant)[0].choices[0], "owner_name": "王小明",
        "owner_id": "11010519491231002X",
        "address": "湖北省赤壁市蒲圻街道河北社区蒲圻大道12号3栋2单元1202室",
        "community": "河北社区", "phone": "13812345678", "people": "4", "volume": "25",
        "appliances": ["燃气灶", "热水器"], "reason": "首次报装",
    }
    sub = Submission("W2505201436ABCDEF", utility.key, variant,
                     dt.datetime(2025, 5, 20, 14, 36, tzinfo=CHINA_TZ), form)
    sub.accept({"application_no": f"{'RQ' if utility.key == 'gas' else 'SW'}2025052000001",
                "state": "受理", "visit": {"date": "2025-05-21", "from": "09:00",
                                          "to": "12:00"}})
    return receipt_data(utility, sub, applicant_name="王小明",
                        applicant_id="11010519491231002X", licences_used=["property_cert"],
                        workstation_id="CB-KIOSK-01")


__all__ = ["ENTERPRISE", "ReceiptData", "receipt_data", "render_receipt", "sample_receipt"]
