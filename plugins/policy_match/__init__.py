"""S11 企心协力 policy matching: the enterprise authorizes by scanning a QR; its business
licence and employment data are matched against declarative policies (免申即享)."""

from __future__ import annotations

from workstation.api import Audience, ScenarioManifest, hookimpl

SCENARIO_ID = "policy_match"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="企心协力 · 惠企政策匹配",
            audiences=(Audience.CLERK,),
            page="plugins.policy_match.page:build_page",
            licence_types=("business_licence",),
            description="企业扫码授权，调取营业执照和用工数据，自动匹配惠企政策，免申即享",
            icon="企",
            order=60,
        )
    ]
