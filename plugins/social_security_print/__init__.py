"""S6 社保自助查询打印 (kiosk and clerk): the citizen signs in with the electronic social security
card code or the card itself, sees their insurance record, and prints 参保证明 and 个人权益记录单
with a verification code and a purpose (用途)."""

from __future__ import annotations

from workstation.api import Audience, ScenarioManifest, hookimpl

SCENARIO_ID = "social_security_print"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="社保查询打印",
            audiences=(Audience.KIOSK, Audience.CLERK),
            page="plugins.social_security_print.page:build_page",
            devices=("card_reader", "qr_scanner", "printer_a4"),
            description="电子社保卡扫码或插社保卡登录，查询参保缴费，打印参保证明、个人权益记录单",
            sign_in=("essc", "ss_card"),
            icon="社",
            order=60,
            api_version=2,
        )
    ]
