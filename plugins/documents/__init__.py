"""Built-in printable documents, registered through the same hook (and entry-point group) as
any third-party template: social insurance certificate and rights record, material list,
licence copy, acceptance receipts (80 mm and A4), form printouts and the locker slip.

The renderers live in ``printing`` (Qt-free, data in, PDF bytes out); this plugin only declares
them. Each template carries sample data, so every one can be previewed and tested.
"""

from __future__ import annotations

from printing.templates import PrintTemplate
from workstation.api import hookimpl


@hookimpl
def register_print_templates() -> list[PrintTemplate]:
    from printing import forms, insurance, licence_copy, material_list, receipts

    return [
        PrintTemplate("insurance_certificate", "社会保险参保证明",
                      insurance.render_insurance_certificate,
                      insurance.sample_insurance_certificate,
                      description="参保险种、参保期间及逐月缴费明细"),
        PrintTemplate("rights_record", "社会保险个人权益记录单", insurance.render_rights_record,
                      insurance.sample_rights_record,
                      description="年度缴费汇总及个人账户储存额"),
        PrintTemplate("material_list", "申请材料清单", material_list.render_material_list,
                      material_list.sample_material_list,
                      description="事项所需材料，标明电子证照免提交与需提交纸质材料"),
        PrintTemplate("licence_copy", "电子证照复印件", licence_copy.render_licence_copy,
                      licence_copy.sample_licence_copy,
                      description="证照信息与图像，每页印有“仅供……使用”用途水印"),
        PrintTemplate("receipt_80", "受理回执（80mm）", receipts.render_receipt_80,
                      receipts.sample_receipt, paper="receipt80",
                      description="80mm 热敏小票"),
        PrintTemplate("receipt_a4", "受理回执（A4）", receipts.render_receipt_a4,
                      receipts.sample_receipt, description="A4 纸受理回执"),
        PrintTemplate("form", "申请表", forms.render_form, forms.sample_form,
                      description="根据表单定义生成的申请表打印件"),
        PrintTemplate("locker_slip", "智能柜存取凭条", receipts.render_locker_slip,
                      receipts.sample_locker_slip, paper="receipt80",
                      description="智能柜格口号与取件码"),
    ]
