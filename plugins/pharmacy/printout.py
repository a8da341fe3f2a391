"""The pharmacy's 80 mm receipts: 医保结算小票 and 医保退费凭条 (data in, PDF bytes out).

Laid out like the hall's acceptance receipt (printing/receipts.py): a bold title, the issuer,
dashed rules between blocks, label：value lines in 9 pt, amounts right-aligned, the
verification QR code at the foot. Personal data arrives masked (the data classes refuse an
unmasked name or ID number).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Spacer, Table, TableStyle

from plugins.pharmacy.logic import (
    CATEGORY_LABELS,
    ReceiptLine,
    RefundReceipt,
    SettlementReceipt,
    yuan,
)
from workstation.api.printing import (
    DocumentStamp,
    FauxBoldTitle,
    PageDecoration,
    VerificationBlock,
    build_receipt_pdf,
    cn_datetime,
    get_styles,
    para,
)

RULE = colors.HexColor("#333333")
WIDTH = 72 * mm  # printable width of 80 mm roll paper
INQUIRY = "医保咨询：12393"


def _styles() -> dict[str, ParagraphStyle]:
    st = get_styles()
    label = ParagraphStyle("mz-ph-label", parent=st.cell, fontSize=9, leading=12.5)
    return {
        "label": label,
        "unit": ParagraphStyle("mz-ph-unit", parent=st.body, fontSize=10, leading=14,
                               alignment=1),
        "centre": ParagraphStyle("mz-ph-centre", parent=label, fontSize=8, leading=11,
                                 alignment=1),
        "note": ParagraphStyle("mz-ph-note", parent=label, fontSize=8, leading=11),
        "right": ParagraphStyle("mz-ph-right", parent=label, alignment=2),
        "big": ParagraphStyle("mz-ph-big", parent=label, fontSize=11, leading=15),
        "big_right": ParagraphStyle("mz-ph-big-right", parent=label, fontSize=11, leading=15,
                                    alignment=2),
    }


def _rule() -> list[Flowable]:
    return [Spacer(1, 1.2 * mm), HRFlowable(width="100%", thickness=0.6, color=RULE,
                                            dash=(2, 2)), Spacer(1, 1.2 * mm)]


def _amounts(rows: list[tuple[str, str]], s: dict[str, ParagraphStyle], *,
             big_first: bool = False) -> Table:
    """Label on the left, amount right-aligned."""
    data = []
    for n, (label, value) in enumerate(rows):
        left, right = (s["big"], s["big_right"]) if big_first and n == 0 else (s["label"],
                                                                              s["right"])
        data.append([para(label, left), para(value, right)])
    table = Table(data, colWidths=[WIDTH * 0.58, WIDTH * 0.42])
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, -1), 0.4),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 0.4),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _line_rows(lines: list[ReceiptLine], s: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = []
    for n, ln in enumerate(lines, start=1):
        category = CATEGORY_LABELS.get(ln.category, ln.category)
        out.append(para(f"{n}. {ln.name} {ln.spec}", s["label"]))
        out.append(_amounts([(f"{category}  {yuan(ln.price_fen)}×{ln.qty}{ln.unit}",
                              yuan(ln.amount_fen))], s))
        if ln.rx_no:
            out.append(para(f"处方编号：{ln.rx_no}", s["note"]))
    return out


def _verification(stamp: DocumentStamp | None) -> list[Flowable]:
    if stamp is None:
        return []
    return [Spacer(1, 2 * mm),
            VerificationBlock(stamp, get_styles().fonts.regular, qr_size=20 * mm,
                              font_size=7.5)]


def render_settlement_receipt(r: SettlementReceipt, stamp: DocumentStamp | None = None) -> bytes:
    st = get_styles()
    s = _styles()

    def story() -> list[Flowable]:
        title = "医保结算小票" + ("（补打）" if r.reprint else "")
        out: list[Flowable] = [
            FauxBoldTitle(title, st.fonts.bold, 15, space_after=1.5 * mm, stroke=0.3),
            para(r.pharmacy, s["unit"]),
            para(f"医保定点编号 {r.pharmacy_code}", s["centre"]),
            *_rule(),
            para(f"结算单号：{r.settlement_id}", s["label"]),
            para(f"结算时间：{cn_datetime(r.settled_at)}", s["label"]),
            para(f"顾　　客：{r.customer_label}", s["label"]),
            para(f"证件号码：{r.customer_id_masked}", s["label"]),
            para(f"参保险种：{r.insurance_type}", s["label"]),
        ]
        if r.voucher_source:
            out.append(para(f"凭证来源：{r.voucher_source}", s["label"]))
        out += _rule()
        out += _line_rows(list(r.lines), s)
        out += _rule()
        rows = [("合计", f"¥{yuan(r.total_fen)}"), ("统筹基金支付", yuan(r.fund_fen)),
                ("个人账户支付", yuan(r.account_fen)), ("现金支付", yuan(r.cash_fen))]
        if r.balance_after_fen is not None:
            rows.append(("个人账户余额", yuan(r.balance_after_fen)))
        out.append(_amounts(rows, s, big_first=True))
        if r.account_short_fen:
            out.append(para(f"个人账户余额不足，{yuan(r.account_short_fen)} 元转为现金支付。",
                            s["note"]))
        out += _rule()
        who = "　".join(x for x in (f"收银员：{r.cashier}" if r.cashier else "",
                                   f"终端：{r.workstation_id}" if r.workstation_id else "") if x)
        if who:
            out.append(para(who, s["note"]))
        out += [para("请妥善保管本小票，退药退费须凭本小票在七日内办理。", s["note"]),
                para(f"{r.pharmacy_address}　电话 {r.pharmacy_phone}".strip("　 "), s["note"]),
                para(INQUIRY, s["note"]), *_verification(stamp)]
        return out

    return build_receipt_pdf(story, PageDecoration(issuing_unit="", stamp=stamp),
                             title="医保结算小票", subject=r.settlement_id, author=r.pharmacy)


def render_refund_receipt(r: RefundReceipt, stamp: DocumentStamp | None = None) -> bytes:
    st = get_styles()
    s = _styles()

    def story() -> list[Flowable]:
        out: list[Flowable] = [
            FauxBoldTitle("医保退费凭条", st.fonts.bold, 15, space_after=1.5 * mm, stroke=0.3),
            para(r.pharmacy, s["unit"]),
            para(f"医保定点编号 {r.pharmacy_code}", s["centre"]),
            *_rule(),
            para(f"退费单号：{r.refund_id}", s["label"]),
            para(f"原结算单号：{r.settlement_id}", s["label"]),
            para(f"原结算时间：{cn_datetime(r.settled_at)}", s["label"]),
            para(f"退费时间：{cn_datetime(r.refunded_at)}", s["label"]),
            para(f"顾　　客：{r.customer_label}", s["label"]),
            para(f"证件号码：{r.customer_id_masked}", s["label"]),
            para(f"参保险种：{r.insurance_type}", s["label"]),
            *_rule(),
        ]
        rows = [("退费合计", f"¥{yuan(r.total_fen)}"), ("退回统筹基金", yuan(r.fund_fen)),
                ("退回个人账户", yuan(r.account_fen)), ("退还现金", yuan(r.cash_fen))]
        if r.balance_after_fen is not None:
            rows.append(("个人账户余额", yuan(r.balance_after_fen)))
        out.append(_amounts(rows, s, big_first=True))
        out += _rule()
        out.append(para(f"退费原因：{r.reason}", s["label"]))
        if r.note:
            out.append(para(f"退费说明：{r.note}", s["label"]))
        who = "　".join(x for x in (f"收银员：{r.cashier}" if r.cashier else "",
                                   f"终端：{r.workstation_id}" if r.workstation_id else "") if x)
        if who:
            out.append(para(who, s["note"]))
        out += [para("原结算已作废，退回个人账户的金额即时到账；现金部分请当面点清。", s["note"]),
                para(INQUIRY, s["note"]), *_verification(stamp)]
        return out

    return build_receipt_pdf(story, PageDecoration(issuing_unit="", stamp=stamp),
                             title="医保退费凭条", subject=r.refund_id, author=r.pharmacy)


# --------------------------------------------------------------------------- sample data


def sample_settlement_receipt() -> SettlementReceipt:
    lines = [
        ReceiptLine("阿莫西林胶囊", "0.25g×24粒", "甲", "CF20241128-0031", 2, "盒", 1280, 2560),
        ReceiptLine("苯磺酸氨氯地平片", "5mg×28片", "甲", "CF20241128-0031", 1, "盒", 2600,
                    2600),
        ReceiptLine("氯雷他定片", "10mg×6片", "乙", None, 1, "盒", 1950, 1950),
        ReceiptLine("维生素C片", "0.1g×100片", "丙", None, 1, "瓶", 350, 350),
    ]
    return SettlementReceipt(
        pharmacy="赤壁市民康大药房（金鸡路店）", pharmacy_code="P42128100017",
        pharmacy_address="湖北省赤壁市蒲圻街道金鸡路128号", pharmacy_phone="0715-5321866",
        settlement_id="YB202411280930150001A3F2", settled_at=dt.datetime(2024, 11, 28, 9, 30),
        customer_label="张*", customer_id_masked="421281********0018",
        insurance_type="职工基本医疗保险", voucher_source="支付宝医保电子凭证", lines=lines,
        total_fen=7460, fund_fen=3096, account_fen=4014, cash_fen=350,
        balance_after_fen=182_566, cashier="demo", workstation_id="CB-YD-01")


def sample_refund_receipt() -> RefundReceipt:
    return RefundReceipt(
        pharmacy="赤壁市民康大药房（金鸡路店）", pharmacy_code="P42128100017",
        refund_id="TF202411280930150001A3F2", settlement_id="YB202411280930150001A3F2",
        settled_at=dt.datetime(2024, 11, 28, 9, 30), refunded_at=dt.datetime(2024, 11, 28, 10, 5),
        customer_label="张*", customer_id_masked="421281********0018",
        insurance_type="职工基本医疗保险", total_fen=7460, fund_fen=3096, account_fen=4014,
        cash_fen=350, balance_after_fen=186_580, reason="顾客退药（药品未拆封）",
        note="药品未拆封，包装完好", cashier="demo", workstation_id="CB-YD-01")


def render_sample(kind: str = "settlement") -> bytes:  # tools and quick looks
    data: Any = sample_settlement_receipt() if kind == "settlement" else sample_refund_receipt()
    render = render_settlement_receipt if kind == "settlement" else render_refund_receipt
    return render(data, DocumentStamp.sample())
