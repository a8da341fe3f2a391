"""S3 电子填单 (kiosk and clerk): sign in with the 鄂汇办 identity code, the social security
card or the ID card; pick a high-frequency form (社会保险登记, 城乡居民医保参保登记,
灵活就业人员参保登记);
fields pre-fill from the identity, from electronic licences (after consent) and from the
citizen's earlier forms (回填); edit with an on-screen pinyin keyboard, pickers and a keypad;
validate, submit to the forms platform through the outbox, print the form."""

from __future__ import annotations

from workstation.api import Audience, ScenarioManifest, hookimpl

SCENARIO_ID = "form_filling"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="电子填单",
            audiences=(Audience.KIOSK, Audience.CLERK),
            page="plugins.form_filling.page:build_page",
            licence_types=("id_card", "household_register"),
            devices=("printer_a4", "qr_scanner", "card_reader", "id_card_reader"),
            description="亮码或刷卡登录，自动预填社保、医保等高频事项申请表，可回填以前填写的内容",
            icon="填",
            order=30,
            sign_in=("ehb_identity", "ss_card", "id_card"),
            api_version=2,
        )
    ]
