"""S5 print templates: the review report (审批报告), the result certificate (自助出证), and the
sample materials (出生医学证明, 住院费用结算单, 银行开户信息) that tests, demos and benchmarks
photograph. Imports ReportLab through workstation.api.printing: import this module lazily."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from workstation.api import CHINA_TZ
from workstation.api.printing import (
    DocumentStamp,
    PageDecoration,
    SimpleDocument,
    build_pdf,
    get_styles,
    para,
    render_simple_document,
)

REPORT_KEY = "smart_review.report"
CERTIFICATE_KEY = "smart_review.certificate"


@dataclass(frozen=True)
class ReviewReport:
    """What the report prints: masked personal data only."""

    matter_name: str
    department: str
    case_number: str
    applicant: str  # masked name
    applicant_id: str  # masked ID number
    identified_by: str  # 人脸识别 / 扫码 / 刷卡
    outcome: str  # 通过（自助出证） / 转人工审核
    checks: tuple[tuple[str, str, str], ...]  # (label, 通过/未通过, reason and evidence)
    corrections: int = 0
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(CHINA_TZ))
    workstation_id: str = ""


@dataclass(frozen=True)
class ResultCertificate:
    title: str  # e.g. 生育津贴申领审批结果通知书
    matter_name: str
    department: str
    case_number: str
    applicant: str  # masked
    applicant_id: str  # masked
    text: str
    issued_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(CHINA_TZ))
    workstation_id: str = ""


_FRAME_W = 170 * mm  # A4 less the printing layer's 20 mm side margins
_GRID = colors.HexColor("#555555")


def render_report(report: ReviewReport, stamp: DocumentStamp | None = None) -> bytes:
    """The review report: the case, then one row per check (result, reason and evidence)."""
    st = get_styles()
    passed = sum(1 for c in report.checks if c[1] == "通过")
    failed = len(report.checks) - passed
    head = [("办理事项", report.matter_name), ("案卷编号", report.case_number),
            ("申请人", report.applicant), ("证件号码", report.applicant_id),
            ("身份核验", report.identified_by), ("审批结论", report.outcome),
            ("审查结果", f"共 {len(report.checks)} 项，通过 {passed} 项，未通过 {failed} 项")]
    fields = Table([[para(k, st.cell_label), para(v, st.cell)] for k, v in head],
                   colWidths=[32 * mm, _FRAME_W - 32 * mm])
    fields.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, _GRID), ("BOX", (0, 0), (-1, -1), 1.0, _GRID),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F0F0F0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    rows: list[list[object]] = [[para(h, st.cell_header) for h in ("审查项目", "结果",
                                                                    "说明与依据")]]
    styles: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, _GRID), ("BOX", (0, 0), (-1, -1), 1.0, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E4E4E4")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    for i, (label, result, detail) in enumerate(report.checks, start=1):
        rows.append([para(label, st.cell), para(result, st.cell_center),
                     para(detail, st.cell_small)])
        if result != "通过":
            styles.append(("BACKGROUND", (1, i), (1, i), colors.HexColor("#FDE2E2")))
    checks = Table(rows, colWidths=[50 * mm, 16 * mm, _FRAME_W - 66 * mm], repeatRows=1)
    checks.setStyle(TableStyle(styles))
    notes = ["本报告由 24 小时自助服务区智能审批系统依据事项审查规则自动生成；证照数据经申请人"
             "授权后调取，个人信息已作脱敏处理。"]
    if report.corrections:
        notes.insert(0, f"申请人更正了 {report.corrections} 处识别结果，"
                        "已在依据中标注“申请人更正”。")
    story: list[Flowable] = [para("智能审批报告", st.title), fields, Spacer(1, 4 * mm), checks,
                             Spacer(1, 3 * mm), para("说明：", st.small)]
    story += [para(f"{n}. {text}", st.small) for n, text in enumerate(notes, start=1)]
    decoration = PageDecoration(
        issuing_unit=report.department, header_right="智能审批报告 · 免证办",
        footer_left=f"编号：{report.case_number}",
        footer_right=f"打印：{report.generated_at:%Y-%m-%d %H:%M} {report.workstation_id}".rstrip(),
        stamp=stamp)
    return build_pdf(story, decoration, title="智能审批报告", subject=report.case_number,
                     author=report.department)


def render_certificate(cert: ResultCertificate, stamp: DocumentStamp | None = None) -> bytes:
    doc = SimpleDocument(
        title=cert.title,
        issuing_unit=cert.department,
        fields=[("办理事项", cert.matter_name), ("申请人", cert.applicant),
                ("证件号码", cert.applicant_id), ("案卷编号", cert.case_number),
                ("办结方式", "24小时自助服务区 · 智能审批 · 自助出证")],
        notes=[cert.text, "扫描二维码或输入核验码可核验本通知书真伪。"],
        generated_at=cert.issued_at,
        case_number=cert.case_number,
        workstation_id=cert.workstation_id,
        seal_label="审批专用章（电子）",
    )
    return render_simple_document(doc, stamp)


def sample_report() -> ReviewReport:
    return ReviewReport(
        matter_name="生育津贴申领", department="赤壁市医疗保障局",
        case_number="CB-HALL-01-20260301-093000-000", applicant="万*", applicant_id=
        "421281********146X", identified_by="人脸识别", outcome="通过（自助出证）",
        checks=(("母亲姓名与居民身份证一致", "通过",
                 "一致。依据：出生医学证明·母亲姓名“万*”；居民身份证·姓名“万*”"),
                ("医疗费用在分娩方式限额内", "未通过", "3650.00元超过限额3000.00元。依据："
                 "住院费用结算单·医疗费用总额“3650.00”；住院费用结算单·分娩方式“顺产”")),
        corrections=1,
    )


def sample_certificate() -> ResultCertificate:
    return ResultCertificate(
        title="生育津贴申领审批结果通知书", matter_name="生育津贴申领",
        department="赤壁市医疗保障局", case_number="CB-HALL-01-20260301-093000-000",
        applicant="万*", applicant_id="421281********146X",
        text="经智能审批，您提交的生育津贴申领材料齐全、信息一致，符合申领条件，准予受理。")


# ---------------------------------------------------------------------------------------------
# Sample materials: what citizens bring (issued by a hospital or a bank, not by the hall)
# ---------------------------------------------------------------------------------------------

MATERIAL_ISSUERS = {
    "birth_cert": "湖北省卫生健康委员会监制",
    "hospital_bill": "赤壁市人民医院",
    "bank_book": "中国农业银行赤壁支行",
}


def render_material(title: str, lines: list[tuple[str, str]], issuer: str = "") -> bytes:
    """A material as its issuer prints it: a title and ``label：value`` lines in 16 pt."""
    styles = get_styles()
    big = ParagraphStyle("sr-material", parent=styles.body, fontSize=16, leading=30)
    head = ParagraphStyle("sr-material-title", parent=styles.title, fontSize=24, leading=34)
    story = [para(title, head), Spacer(1, 8 * mm)]
    story += [para(f"{label}：{value}", big) for label, value in lines]
    story.append(Spacer(1, 14 * mm))
    if issuer:
        story.append(para(issuer, ParagraphStyle("sr-issuer", parent=big, alignment=2)))
    decoration = PageDecoration(issuing_unit=issuer or title)
    return build_pdf(story, decoration, title=title, invariant=True)
