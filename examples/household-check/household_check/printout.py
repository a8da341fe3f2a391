"""The print template of 户籍信息核验: the 证照核验单, rendered from a logic.Sheet."""

from __future__ import annotations

import datetime as dt

from workstation.api import CHINA_TZ
from workstation.api.printing import DocumentStamp, SimpleDocument, render_simple_document

from household_check.logic import Finding, Sheet


def render_sheet(sheet: Sheet, stamp: DocumentStamp | None = None) -> bytes:
    """PDF bytes of the 核验单 (A4, fonts embedded; the verification code when issued)."""
    notes = ["标注“免提交”的材料已经申请人授权调取电子证照核验，无需再提交实体证照或复印件。"]
    if sheet.offline_note:
        notes.append(sheet.offline_note)
    return render_simple_document(SimpleDocument(
        title="证照核验单",
        issuing_unit=sheet.department,
        fields=[("办理事项", sheet.matter_name), ("申请人", sheet.applicant_name),
                ("证件号码", sheet.applicant_id), *sheet.facts],
        table_header=["材料名称", "提交方式", "说明"],
        table_rows=[[f.material, "免提交" if f.provided else "需提交", f.detail]
                    for f in sheet.findings],
        notes=notes,
        generated_at=sheet.generated_at,
        case_number=sheet.case_number,
        workstation_id=sheet.workstation_id,
        seal_label="业务专用章（电子）",
    ), stamp)


def sample_sheet() -> Sheet:
    """Synthetic data for previews and tests (no real person)."""
    return Sheet(
        matter_name="户籍信息核验",
        department="赤壁市政务服务中心",
        applicant_name="张*",
        applicant_id="421281********0018",
        findings=(
            Finding("居民身份证", True, "居民身份证已核验"),
            Finding("申请表（窗口现场填写）", False, "需提交纸质材料"),
        ),
        case_number="TEST-01-20250303-093000-000",
        workstation_id="TEST-01",
        generated_at=dt.datetime(2025, 3, 3, 9, 30, tzinfo=CHINA_TZ),
        facts=(("户别", "家庭户"), ("与户主关系", "户主"), ("婚姻状况", "已婚")),
    )
