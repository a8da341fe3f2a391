"""S2 统一受理 (unified intake): a clerk enters a person or an enterprise, picks a matter, the
applicant consents, and the licence library replaces the materials it can (免提交)."""

from __future__ import annotations

from workstation.api import Audience, Matter, ScenarioManifest, hookimpl

SCENARIO_ID = "unified_intake"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="统一受理",
            audiences=(Audience.CLERK,),
            page="plugins.unified_intake.page:build_page",
            licence_types=("id_card", "household_register", "marriage_cert", "property_cert",
                           "social_security_card", "business_licence"),
            devices=("printer_a4",),
            description="录入办事人信息，经授权调取电子证照，证照类材料免提交，生成材料清单",
            icon="受",
            order=10,
        )
    ]


@hookimpl
def register_matters() -> list[Matter]:
    from plugins.unified_intake.matters import load_matters

    return load_matters()

