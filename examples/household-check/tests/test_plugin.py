"""The package plugs in: found through its entry point, manifest valid, contributions there."""

from __future__ import annotations

from household_check import MATTER_CODE, SCENARIO_ID, SHEET_TEMPLATE


def test_discovered_through_the_entry_point(core):
    assert core.plugins.plugin_of(SCENARIO_ID) == "household_check"
    assert not [e for e in core.plugins.errors if e.plugin == "household_check"]
    manifest = core.plugins.scenario(SCENARIO_ID)
    assert manifest.validate() is manifest


def test_matter_and_template_are_registered(core):
    assert MATTER_CODE in core.matters
    assert core.templates.get(SHEET_TEMPLATE).title == "证照核验单"
