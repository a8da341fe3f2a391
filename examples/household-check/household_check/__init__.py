"""户籍信息核验: a scenario plugin for the 免证办 workstation.

The workstation loads this module through the entry point in pyproject.toml and calls the hooks
below once at start-up. Import only from ``workstation.api`` (the stable plugin API).
"""

from __future__ import annotations

from workstation.api import (
    Audience,
    Matter,
    PrintTemplate,
    ScenarioManifest,
    hookimpl,
    load_matters,
)

SCENARIO_ID = "household_check"
MATTER_CODE = "HOUSEHOLD-CHECK-001"
SHEET_TEMPLATE = "household_check.sheet"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="户籍信息核验",
            audiences=(Audience.CLERK, Audience.KIOSK),
            page="household_check.page:build_page",  # imported only when the page is opened
            # The only licence types this plugin's services may fetch (others are refused).
            licence_types=("id_card", "household_register"),
            devices=("printer_a4",),
            description="经申请人授权调取电子证照，核验申请材料，打印核验单",
            api_version=1,  # the plugin API this plugin was written for
        )
    ]


@hookimpl
def register_matters() -> list[Matter]:
    return load_matters(__name__, "matters.toml")


@hookimpl
def register_print_templates() -> list[PrintTemplate]:
    from household_check.printout import render_sheet, sample_sheet  # ReportLab: only when used

    return [PrintTemplate(key=SHEET_TEMPLATE, title="证照核验单", render=render_sheet,
                          sample=sample_sheet)]
