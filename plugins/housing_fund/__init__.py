"""S10 公积金综合业务 (clerk): 外联协查 → 电子证照下载 under the citizen's phone authorization,
thumbnails uploaded with a manifest to the housing-fund archive through the outbox."""

from __future__ import annotations

from workstation.api import Audience, ScenarioManifest, hookimpl

SCENARIO_ID = "housing_fund"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="公积金综合业务 · 电子证照下载",
            audiences=(Audience.CLERK,),
            page="plugins.housing_fund.page:build_page",
            licence_types=("id_card", "household_register", "marriage_cert", "property_cert"),
            description="公积金提取、贷款受理：经申请人授权下载电子证照缩略图，上传档案系统后提交审批",
            icon="金",
            order=50,
        )
    ]
