"""The 医疗保险参保凭证 (proof of medical-insurance participation) as an A4 PDF.

Built on the house's simple document (title, field table, notes, the unit's electronic seal,
and, when issued, the verification code on every page and the QR code by the seal). Imports
ReportLab: the plugin module imports this only when it registers the template's renderer.
"""

from __future__ import annotations

from plugins.medical_insurance.logic import VOUCHER_TITLE, VoucherDocument
from workstation.api.printing import (
    DocumentStamp,
    SimpleDocument,
    cn_date,
    render_simple_document,
)

NOTES = (
    "本凭证依据湖北省医疗保障信息平台记录出具，记录截至打印时间。",
    "本凭证仅证明参保人的参保状态，不作为享受医疗保障待遇的依据。",
    "本凭证可通过扫描二维码或输入验证码核验真伪，涂改无效。",
)


def simple_document(doc: VoucherDocument) -> SimpleDocument:
    return SimpleDocument(
        title=VOUCHER_TITLE,
        issuing_unit=doc.issuing_unit,
        fields=[
            ("姓名", doc.name_masked),
            ("公民身份号码", doc.id_masked),
            ("医保个人编号", doc.personal_number_masked),
            ("参保险种", doc.insurance_type),
            ("参保状态", doc.status),
            ("参保地", doc.region),
            ("参保日期", cn_date(doc.insured_since) if doc.insured_since else "—"),
            ("参保单位", doc.employer),
            ("身份核验方式", doc.login),
            ("出具时间", f"{doc.generated_at:%Y年%m月%d日 %H:%M}"),
        ],
        notes=NOTES,
        generated_at=doc.generated_at,
        case_number=doc.case_number,
        workstation_id=doc.workstation_id,
        seal_label="医疗保障业务专用章（电子）",
    )


def render_voucher(doc: VoucherDocument, stamp: DocumentStamp | None = None) -> bytes:
    return render_simple_document(simple_document(doc), stamp)
