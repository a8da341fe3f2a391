"""Receipts: the 受理回执 (acceptance receipt) on 80 mm roll paper or on A4, and the 智能柜
存取凭条 (locker slip) on roll paper. Personal data arrives masked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, KeepTogether, Spacer

from printing.authenticity import DocumentStamp
from printing.blocks import GRID, data_table, info_grid, numbered_notes
from printing.layout import (
    A4_PORTRAIT,
    ClosingBlock,
    FauxBoldTitle,
    PageDecoration,
    VerificationBlock,
    build_pdf,
    build_receipt_pdf,
    cn_date,
    cn_datetime,
    get_styles,
    para,
)

__all__ = [
    "AcceptanceReceipt",
    "LockerSlip",
    "render_locker_slip",
    "render_receipt_80",
    "render_receipt_a4",
    "sample_locker_slip",
    "sample_receipt",
]

RECEIPT_TITLE = "受理回执"
LOCKER_TITLE = "智能柜存取凭条"


def _require_masked(value: str, what: str) -> None:
    if value and "*" not in value:
        raise ValueError(f"{what} must be masked on a receipt")


@dataclass(frozen=True)
class AcceptanceReceipt:
    """受理回执: what was accepted, from whom (masked), what happens next."""

    issuing_unit: str
    case_number: str
    matter_name: str
    applicant_label: str  # masked name or enterprise name
    applicant_id_masked: str
    received: Sequence[tuple[str, str]]  # (material, how: 电子证照免提交 / 纸质原件 / 复印件)
    issued_at: dt.datetime
    promised_date: dt.date | None = None  # 承诺办结日期
    pickup: str = ""  # 领取方式
    inquiry: str = ""  # 咨询方式 (the hall's public number)
    workstation_id: str = ""
    operator: str = ""
    notes: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        _require_masked(self.applicant_id_masked, "applicant_id_masked")


def _small_centre(size: float = 8.5) -> ParagraphStyle:
    st = get_styles()
    return ParagraphStyle(f"mz-rc-{size}", parent=st.small, fontSize=size, leading=size * 1.4,
                          alignment=1)


def _receipt_lines(r: AcceptanceReceipt) -> list[tuple[str, str]]:
    lines = [("受理编号", r.case_number), ("办理事项", r.matter_name),
             ("申请人", r.applicant_label), ("证件号码", r.applicant_id_masked),
             ("受理时间", cn_datetime(r.issued_at))]
    if r.promised_date:
        lines.append(("承诺办结", cn_date(r.promised_date)))
    if r.pickup:
        lines.append(("领取方式", r.pickup))
    if r.operator:
        lines.append(("经办人", r.operator))
    if r.workstation_id:
        lines.append(("受理窗口", r.workstation_id))
    return lines


def _receipt_notes(r: AcceptanceReceipt) -> list[str]:
    notes = ["请妥善保管本回执，凭回执查询办理进度、领取办理结果。"]
    if r.inquiry:
        notes.append(f"咨询：{r.inquiry}")
    return [*notes, *r.notes]


def render_receipt_80(r: AcceptanceReceipt, stamp: DocumentStamp | None = None) -> bytes:
    """The receipt on 80 mm roll paper (72 mm printed), as long as its content."""
    st = get_styles()
    label = ParagraphStyle("mz-rc-label", parent=st.cell, fontSize=9, leading=12.5)
    bold_centre = ParagraphStyle("mz-rc-unit", parent=st.body, fontSize=10, leading=14,
                                 alignment=1)

    def story() -> list[Flowable]:
        out: list[Flowable] = [
            FauxBoldTitle(RECEIPT_TITLE, st.fonts.bold, 16, space_after=1.5 * mm, stroke=0.3),
            para(r.issuing_unit, bold_centre),
            Spacer(1, 1.5 * mm),
            HRFlowable(width="100%", thickness=0.6, color=GRID, dash=(2, 2)),
            Spacer(1, 1.5 * mm),
        ]
        out += [para(f"{k}：{v}", label) for k, v in _receipt_lines(r)]
        out += [Spacer(1, 1.5 * mm), HRFlowable(width="100%", thickness=0.6, color=GRID,
                                                 dash=(2, 2)), Spacer(1, 1 * mm),
                para("已收材料：", label)]
        out += [para(f"{n}. {name}（{how}）", label)
                for n, (name, how) in enumerate(r.received, start=1)]
        out += [Spacer(1, 1.5 * mm), HRFlowable(width="100%", thickness=0.6, color=GRID,
                                                 dash=(2, 2)), Spacer(1, 1 * mm)]
        out += [para(n, ParagraphStyle("mz-rc-note", parent=label, fontSize=8, leading=11))
                for n in _receipt_notes(r)]
        if stamp is not None:
            out += [Spacer(1, 2 * mm),
                    VerificationBlock(stamp, st.fonts.regular, qr_size=22 * mm, font_size=7.5)]
        return out

    decoration = PageDecoration(issuing_unit="", stamp=stamp)
    return build_receipt_pdf(story, decoration, title=RECEIPT_TITLE, subject=r.case_number,
                             author=r.issuing_unit)


def render_receipt_a4(r: AcceptanceReceipt, stamp: DocumentStamp | None = None) -> bytes:
    """The same receipt on A4 (for counters without a receipt printer)."""
    st = get_styles()
    width = A4_PORTRAIT.frame_width
    lines = _receipt_lines(r)
    rows: list[list[tuple[str, str]]] = []
    for k, v in lines:
        if k in ("办理事项",):
            rows.append([(k, v)])
        elif rows and len(rows[-1]) == 1 and rows[-1][0][0] not in ("办理事项",):
            rows[-1] = [rows[-1][0], (k, v)]
        else:
            rows.append([(k, v)])
    story: list[Flowable] = [
        FauxBoldTitle(RECEIPT_TITLE, st.fonts.bold, 22, space_after=4 * mm),
        info_grid(rows, st, width),
        Spacer(1, 4 * mm),
        para("已收材料", st.heading),
        data_table(["序号", "材料名称", "提交方式"],
                   [[str(n), name, how] for n, (name, how) in enumerate(r.received, start=1)],
                   [14 * mm, width - 64 * mm, 50 * mm], st, align=["C", "L", "C"]),
        Spacer(1, 3 * mm),
    ]
    closing: list[Flowable] = [
        *numbered_notes(_receipt_notes(r), st),
        Spacer(1, 3 * mm),
        ClosingBlock(r.issuing_unit, cn_date(r.issued_at.date()), st.fonts.regular,
                     seal_label="受理专用章（电子）", stamp=stamp),
    ]
    story.append(KeepTogether(closing))
    decoration = PageDecoration(
        issuing_unit=r.issuing_unit, header_right=f"{RECEIPT_TITLE} · 免证办",
        footer_left=f"受理编号：{r.case_number}",
        footer_right=f"打印：{r.issued_at:%Y-%m-%d %H:%M} {r.workstation_id}".rstrip(),
        stamp=stamp,
    )
    return build_pdf(story, decoration, title=RECEIPT_TITLE, subject=r.case_number,
                     author=r.issuing_unit)


# --------------------------------------------------------------------------- locker slip


@dataclass(frozen=True)
class LockerSlip:
    """智能柜存取凭条: which locker, the pick-up code, until when."""

    issuing_unit: str
    locker_bank: str  # 1号智能柜
    locker_no: str
    pickup_code: str  # 6 digits
    item: str  # 不动产权证书
    deposited_at: dt.datetime
    expires_at: dt.datetime
    location: str  # 政务服务中心一楼东侧
    holder_label: str = ""  # masked name
    case_number: str = ""
    # "pickup" (a result waiting, with its code) or "deposit" (materials handed in at the
    # locker: no code; the case number is the deposit number, the applicant is told by SMS)
    kind: str = "pickup"

    def __post_init__(self) -> None:
        if self.holder_label and "*" not in self.holder_label:
            raise ValueError("holder_label must be masked on a locker slip")
        if self.kind not in ("pickup", "deposit"):
            raise ValueError("kind is pickup or deposit")
        if self.kind == "pickup" and not self.pickup_code.isdigit():
            raise ValueError("the pick-up code is digits only")
        if self.kind == "deposit" and (self.pickup_code or not self.case_number):
            raise ValueError("a deposit slip has a deposit number and no pick-up code")


def render_locker_slip(s: LockerSlip, stamp: DocumentStamp | None = None) -> bytes:
    st = get_styles()
    label = ParagraphStyle("mz-ls-label", parent=st.cell, fontSize=9, leading=12.5)
    big = ParagraphStyle("mz-ls-big", parent=st.body, fontSize=20, leading=26, alignment=1)
    code = ParagraphStyle("mz-ls-code", parent=st.body, fontSize=30, leading=38, alignment=1)

    deposit = s.kind == "deposit"
    number = ParagraphStyle("mz-ls-number", parent=st.body, fontSize=14, leading=19,
                            alignment=1)

    def story() -> list[Flowable]:
        out: list[Flowable] = [
            FauxBoldTitle(LOCKER_TITLE, st.fonts.bold, 15, space_after=1.5 * mm, stroke=0.3),
            para(s.issuing_unit, _small_centre(9)),
            Spacer(1, 2 * mm),
            para(f"{s.locker_bank}\u00a0{s.locker_no} 号格口", big),
        ]
        if deposit:
            out += [para("投递编号", _small_centre(9)), para(s.case_number, number)]
        else:
            out += [para("取件码", _small_centre(9)), para(" ".join(s.pickup_code), code)]
        out += [
            Spacer(1, 1 * mm),
            HRFlowable(width="100%", thickness=0.6, color=GRID, dash=(2, 2)),
            Spacer(1, 1 * mm),
            para(f"{'投递材料' if deposit else '存放物品'}：{s.item}", label),
        ]
        if s.holder_label:
            out.append(para(f"{'投递人' if deposit else '领取人'}：{s.holder_label}", label))
        if s.case_number and not deposit:
            out.append(para(f"受理编号：{s.case_number}", label))
        out.append(para(f"存入时间：{cn_datetime(s.deposited_at)}", label))
        if not deposit:
            out.append(para(f"请于 {cn_datetime(s.expires_at)} 前取件", label))
        out.append(para(f"智能柜位置：{s.location}", label))
        note = ("材料已存入政务柜，工作人员将尽快取件办理；办结后结果证照放入政务柜，"
                "取件码以短信发送到您预留的手机。请妥善保管本凭条。" if deposit else
                "在智能柜屏幕上输入取件码，或刷身份证、出示鄂汇办身份码取件。取件码请勿告知他人。")
        out += [Spacer(1, 1 * mm),
                para(note, ParagraphStyle("mz-ls-note", parent=label, fontSize=8, leading=11))]
        if stamp is not None:
            out += [Spacer(1, 2 * mm),
                    VerificationBlock(stamp, st.fonts.regular, qr_size=20 * mm, font_size=7.5)]
        return out

    return build_receipt_pdf(story, PageDecoration(issuing_unit="", stamp=stamp),
                             title=LOCKER_TITLE, subject=s.case_number, author=s.issuing_unit)


# --------------------------------------------------------------------------- sample data


def sample_receipt() -> AcceptanceReceipt:
    return AcceptanceReceipt(
        issuing_unit="赤壁市政务服务中心",
        case_number="SL4212812024052000017",
        matter_name="存量房转移登记（二手房买卖）",
        applicant_label="张*",
        applicant_id_masked="421281********0018",
        received=[("申请人身份证明", "电子证照免提交"), ("不动产权属证书", "电子证照免提交"),
                  ("婚姻状况证明", "电子证照免提交"), ("存量房买卖合同（网签备案）", "纸质原件"),
                  ("契税、增值税完税凭证", "纸质原件")],
        issued_at=dt.datetime(2024, 5, 20, 14, 36),
        promised_date=dt.date(2024, 5, 27),
        pickup="窗口领取或智能柜自取",
        inquiry="赤壁市政务服务热线 12345",
        workstation_id="CB-W12",
        operator="李娜（工号 0231）",
    )


def sample_locker_slip() -> LockerSlip:
    return LockerSlip(
        issuing_unit="赤壁市政务服务中心",
        locker_bank="1号智能柜",
        locker_no="A-07",
        pickup_code="538271",
        item="不动产权证书（鄂（2024）赤壁市不动产权第0003056号）",
        deposited_at=dt.datetime(2024, 5, 27, 9, 12),
        expires_at=dt.datetime(2024, 6, 3, 17, 30),
        location="政务服务中心一楼东侧自助服务区",
        holder_label="张*",
        case_number="SL4212812024052000017",
    )
