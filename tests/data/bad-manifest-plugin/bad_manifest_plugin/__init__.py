"""A scenario plugin with an invalid manifest: its licence type does not exist."""

from __future__ import annotations

from workstation.api import Audience, ScenarioManifest, hookimpl


@hookimpl
def register_scenarios() -> list[ScenarioManifest]:
    return [
        ScenarioManifest(
            id="bad_manifest",
            title="坏清单",
            audiences=(Audience.CLERK,),
            page="bad_manifest_plugin:build_page",
            licence_types=("passport",),  # not a licence type of the licence library
        )
    ]
