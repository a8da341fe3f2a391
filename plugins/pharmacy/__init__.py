"""S1 药店买药 (clerk at a pharmacy till): the customer shows the medical-insurance e-voucher
(医保电子凭证), the clerk builds the basket, the medical-insurance platform splits the bill
between the pooled fund, the personal account and cash, the customer confirms, an 80 mm
receipt prints; a settlement can be refunded with a reason."""

from __future__ import annotations

from workstation.api import Audience, PrintTemplate, ScenarioManifest, hookimpl

SCENARIO_ID = "pharmacy"
RECEIPT_TEMPLATE = "pharmacy.settlement_receipt"
REFUND_TEMPLATE = "pharmacy.refund_receipt"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="药店买药 · 医保结算",
            audiences=(Audience.CLERK,),
            page="plugins.pharmacy.page:build_page",
            devices=("qr_scanner", "printer_receipt"),
            description="扫医保电子凭证识别顾客，免社保卡、免密码完成医保结算，打印结算小票",
            icon="药",
            order=5,
            api_version=2,
            sign_in=("mi_voucher",),
        )
    ]


@hookimpl
def register_print_templates() -> list[PrintTemplate]:
    from plugins.pharmacy import printout  # ReportLab: imported only when templates load

    return [
        PrintTemplate(RECEIPT_TEMPLATE, "医保结算小票", printout.render_settlement_receipt,
                      printout.sample_settlement_receipt, paper="receipt80",
                      description="药店医保结算：药品明细、统筹基金 / 个人账户 / 现金支付"),
        PrintTemplate(REFUND_TEMPLATE, "医保退费凭条", printout.render_refund_receipt,
                      printout.sample_refund_receipt, paper="receipt80",
                      description="医保结算退费：原结算单号、退回基金和个人账户的金额、退费原因"),
    ]
