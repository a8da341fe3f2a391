"""S9 公共资源电子交易平台 (clerk): the enterprise logs in with its electronic business licence
(QR confirmed on the representative's phone with the licence password); after a second
authorization its business licence fills the registration form, which is checked field by field
and submitted with the licence file through the outbox."""

from __future__ import annotations

from workstation.api import Audience, ScenarioManifest, hookimpl

SCENARIO_ID = "trading_platform"


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id=SCENARIO_ID,
            title="公共资源交易平台 · 主体信息登记",
            audiences=(Audience.CLERK,),
            page="plugins.trading_platform.page:build_page",
            licence_types=("business_licence",),
            description="电子营业执照扫码登录，授权后自动填写主体信息并上传营业执照，免证明登记",
            icon="易",
            order=40,
        )
    ]
