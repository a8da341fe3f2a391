"""The Qt-free core shared by S12 燃气报装 (``plugins.gas_connection``) and S13 用水报装
(``plugins.water_connection``): forms and validation (``forms``), drafts, submission and
progress (``service``), the acceptance receipt (``printout``) and one page for both (``page``).

This package is not a plugin itself (no entry point): each utility's plugin declares its own
manifest and print template and uses it. Like a plugin it imports only ``workstation.api*``.
"""

from __future__ import annotations

from plugins.utility_connection.forms import Utility
from workstation.api import Audience, PrintTemplate, ScenarioManifest

#: 鄂汇办身份码, the ID card on the reader, the social security card in the card reader.
SIGN_IN = ("ehb_identity", "id_card", "ss_card")


def manifest(utility: Utility, *, title: str, description: str, icon: str, order: int
             ) -> ScenarioManifest:
    return ScenarioManifest(
        id=utility.scenario,
        title=title,
        audiences=(Audience.KIOSK, Audience.CLERK),
        page=f"plugins.{utility.scenario}:build_page",
        licence_types=("property_cert", "business_licence"),
        devices=("printer_a4", "qr_scanner", "card_reader", "id_card_reader"),
        description=description,
        icon=icon,
        order=order,
        # residential applicants and enterprise agents sign in themselves on a kiosk
        sign_in=SIGN_IN,
        api_version=2,
    )


def receipt_template(utility: Utility) -> PrintTemplate:
    from plugins.utility_connection import printout

    return PrintTemplate(
        f"{utility.scenario}.receipt", f"{utility.business}受理回执",
        printout.render_receipt, lambda: printout.sample_receipt(utility),
        description=f"{utility.company}{utility.business}受理回执，附报装说明")
