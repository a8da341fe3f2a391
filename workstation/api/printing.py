"""The public API for print templates (imports ReportLab): data in, PDF bytes out.

A print template (:class:`workstation.api.PrintTemplate`) pairs a
``render(data, stamp=None) -> bytes`` with ``sample() -> data``; the workstation passes a
:class:`DocumentStamp` (verification code and QR URL) when it issues the document. Most plugins
render a :class:`SimpleDocument`; a plugin with its own layout may use ``build_pdf``,
``get_styles``, ``para`` and ``PageDecoration``, which embed the CJK font and break Chinese lines
correctly; a roll-paper (80 mm) document uses ``build_receipt_pdf`` (one page as long as its
content), with ``FauxBoldTitle`` and the stamp's ``VerificationBlock`` (these three since
plugin API 2).
"""

from __future__ import annotations

from printing.authenticity import DocumentStamp
from printing.forms import FormDefinition, FormField, FormPrintout, FormSection, render_form
from printing.insurance import (
    AccountBalance,
    InsuranceCertificate,
    InsurancePeriod,
    InsuredPerson,
    MonthlyContribution,
    RightsRecord,
    YearlySummary,
)
from printing.layout import (
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
from printing.material_list import (
    MaterialListDocument,
    MaterialListItem,
    render_material_list,
    sample_material_list,
)
from printing.receipts import LockerSlip
from printing.simple import SimpleDocument, render_simple_document, sample_simple_document

__all__ = [
    "AccountBalance",
    "DocumentStamp",
    "FauxBoldTitle",
    "FormDefinition",
    "FormField",
    "FormPrintout",
    "FormSection",
    "InsuranceCertificate",
    "InsurancePeriod",
    "InsuredPerson",
    "LockerSlip",
    "MaterialListDocument",
    "MaterialListItem",
    "MonthlyContribution",
    "PageDecoration",
    "RightsRecord",
    "SimpleDocument",
    "VerificationBlock",
    "YearlySummary",
    "build_pdf",
    "build_receipt_pdf",
    "cn_date",
    "cn_datetime",
    "get_styles",
    "para",
    "render_form",
    "render_material_list",
    "render_simple_document",
    "sample_material_list",
    "sample_simple_document",
]
