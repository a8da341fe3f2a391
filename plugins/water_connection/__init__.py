"""S13 用水报装 (赤壁水务集团): residential and enterprise water connection applications without
certificates, on the self-service kiosk and at the counter. The core is shared with S12 in
``plugins.utility_connection``."""

from __future__ import annotations

from typing import Any

from plugins.utility_connection import manifest, receipt_template
from plugins.utility_connection.forms import WATER
from workstation.api import PrintTemplate, ScenarioContext, ScenarioManifest, hookimpl

SCENARIO_ID = WATER.scenario


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [manifest(WATER, title="用水报装", icon="水", order=130,
                     description="赤壁水务集团：居民、企业用水报装，电子证照免提交，预约上门，短信提醒，查询进度")]


@hookimpl
def register_print_templates() -> list[PrintTemplate]:
    return [receipt_template(WATER)]


def build_page(ctx: ScenarioContext) -> Any:
    from plugins.utility_connection.page import UtilityPage

    return UtilityPage(ctx, WATER)
