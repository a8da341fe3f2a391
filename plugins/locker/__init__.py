"""S4 综合收发件政务柜 (kiosk + hall staff): deposit materials in a locker door after signing in
with the ID card or the 鄂汇办 identity code; staff take them out, put the result certificate
back; the applicant collects it with the SMS pickup code. The locker's doors and items are a
persisted state machine in ``ctx.records`` (see ``logic.py``)."""

from __future__ import annotations

from workstation.api import Audience, ScenarioManifest, hookimpl

SCENARIO_ID = "locker"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="综合收发件政务柜",
            audiences=(Audience.KIOSK, Audience.CLERK),
            page="plugins.locker.page:build_page",
            devices=("locker", "printer_receipt", "id_card_reader", "qr_scanner"),
            sign_in=("id_card", "ehb_identity"),
            description="刷身份证或鄂汇办亮码，存放办事材料、领取结果证照；工作人员取件、放入结果",
            icon="柜",
            order=40,
            api_version=2,
        )
    ]
