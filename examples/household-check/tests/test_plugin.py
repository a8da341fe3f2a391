"""The package plugs in: found through its entry point, manifest valid, contributions there."""

from __future__ import annotations

from household_check import MATTER_CODE, SCENARIO_ID, SHEET_TEMPLATE


def test_discovered_through_the_entry_point(core):
    assert core.plugins.plugin_of(SCENARIO_ID) == "household_check"
    assert not [e for e in core.plugins.errors if e.plugin == "household_check"]
    manifest = core.plugins.scenario(SCENARIO_ID)
    assert manifest.validate() is manifest


def test_manifest_declares_every_licence_type_of_its_matter(core):
    """The services fetch only the manifest's licence types: a material whose type is not
    declared would never be 免提交."""
    declared = core.plugins.scenario(SCENARIO_ID).licence_types
    needed = core.matters[MATTER_CODE].licence_types
    missing = sorted(set(needed) - set(declared))
    assert missing == [], f"add {missing} to the manifest's licence_types"


def test_matter_and_template_are_registered(core):
    assert MATTER_CODE in core.matters
    assert core.templates.get(SHEET_TEMPLATE).title == "证照核验单"
