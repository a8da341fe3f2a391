"""S7 医保自助服务 and S8 湖北省国家医疗保障信息平台 (kiosk and clerk): sign in with the
medical-insurance e-voucher QR (any of its four apps), see the insured status, personal account
and recent settlements, print a 参保凭证, change the contact phone and file 异地就医备案; the
two transactions go through the outbox, so a platform outage never loses them."""

from __future__ import annotations

from typing import Any

from workstation.api import Audience, PrintTemplate, ScenarioManifest, hookimpl

SCENARIO_ID = "medical_insurance"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="医保自助服务",
            audiences=(Audience.KIOSK, Audience.CLERK),
            page="plugins.medical_insurance.page:build_page",
            devices=("qr_scanner", "printer_a4"),
            description="扫医保电子凭证登录：查询参保与个人账户、打印参保凭证、变更联系电话、异地就医备案",
            icon="医",
            order=70,
            sign_in=("mi_voucher",),
            api_version=2,
        )
    ]


def _render_voucher(data: Any, stamp: Any = None) -> bytes:
    from plugins.medical_insurance.printout import render_voucher  # ReportLab: only when used

    return render_voucher(data, stamp)


def _sample_voucher() -> Any:
    from plugins.medical_insurance.logic import sample_voucher

    return sample_voucher()


@hookimpl
def register_print_templates() -> list[PrintTemplate]:
    from plugins.medical_insurance.logic import TEMPLATE_KEY, VOUCHER_TITLE

    return [PrintTemplate(TEMPLATE_KEY, VOUCHER_TITLE, _render_voucher, _sample_voucher,
                          description="参保险种、参保状态、参保地及参保日期，带验证码和二维码")]
