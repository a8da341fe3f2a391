"""S12 燃气报装 (赤壁华润燃气): residential and enterprise gas connection applications without
certificates, on the self-service kiosk and at the counter. The core is shared with S13 in
``plugins.utility_connection``."""

from __future__ import annotations

from typing import Any

from plugins.utility_connection import manifest, receipt_template
from plugins.utility_connection.forms import GAS
from workstation.api import PrintTemplate, ScenarioContext, ScenarioManifest, hookimpl

SCENARIO_ID = GAS.scenario


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [manifest(GAS, title="燃气报装", icon="气", order=120,
                     description="赤壁华润燃气：居民、企业燃气报装，电子证照免提交，预约上门，短信提醒，查询进度")]


@hookimpl
def register_print_templates() -> list[PrintTemplate]:
    return [receipt_template(GAS)]


def build_page(ctx: ScenarioContext) -> Any:
    from plugins.utility_connection.page import UtilityPage

    return UtilityPage(ctx, GAS)
