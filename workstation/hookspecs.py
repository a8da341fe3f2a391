"""The plugin contract: every hook a scenario plugin may implement.

Plugins are found through the entry-point group ``mianzheng.plugins`` (built-in scenarios are
registered there too) and implement hooks with ``@hookimpl`` from ``workstation.api`` (the public
plugin API; this module is its source)::

    from workstation.api import Audience, ScenarioManifest, hookimpl

    @hookimpl
    def register_scenarios():
        return [ScenarioManifest(id="my_scenario", title="我的场景",
                                 audiences=(Audience.CLERK,), page="my_pkg.page:build")]

Registration hooks are called once when the workstation starts; each returns a list and the
lists of all plugins are concatenated. Session hooks are notifications: their results are
ignored, and an exception in one plugin is logged and audited without stopping the others.

Every hook has a reference entry with a runnable example in docs/plugins/hooks.md and a test
``test_hook_<name>`` in tests/workstation/test_hooks.py; the suite fails when either is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from printing.templates import PrintTemplate
    from workstation.manifest import ScenarioManifest
    from workstation.services.codes import CodeFormat
    from workstation.services.model import Matter
    from workstation.services.session import ApplicantSession

PROJECT = "mianzheng"
ENTRY_POINT_GROUP = "mianzheng.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------------------------------------
# Registration: called once at start-up
# ---------------------------------------------------------------------------------------------


@hookspec
def register_scenarios() -> list[ScenarioManifest]:
    """Declare the scenarios (tiles and pages) this plugin provides.

    Returns a list of :class:`workstation.manifest.ScenarioManifest`. The page factory named in
    each manifest is imported only when the clerk or citizen opens the scenario. Results of all
    plugins are concatenated; two scenarios with the same id are a load error of the second.
    """


@hookspec
def register_code_formats() -> list[CodeFormat]:
    """Declare QR payload kinds this plugin can read (e.g. the 鄂汇办 identity code).

    Returns a list of :class:`workstation.services.codes.CodeFormat`. When a code is scanned the
    formats are tried in order and the first whose ``matches()`` is true parses, verifies and
    resolves it. Results of all plugins are concatenated.
    """


@hookspec
def register_print_templates() -> list[PrintTemplate]:
    """Declare printable documents: :class:`printing.templates.PrintTemplate` with sample data.

    A template's ``render(data, stamp=None)`` returns PDF bytes (Qt-free); ``stamp`` is the
    :class:`printing.authenticity.DocumentStamp` (verification code and QR URL) the workstation
    issues for each copy. ``paper`` ("A4" or "receipt80") picks the printer. Keys must be
    unique across plugins (a duplicate is a load error of the second). Results of all plugins
    are concatenated. Example::

        @hookimpl
        def register_print_templates():
            from my_pkg.slip import render_slip, sample_slip
            return [PrintTemplate("my_slip", "取号单", render_slip, sample_slip,
                                  paper="receipt80")]

    A scenario prints through ``context.printing``: ``prepare(key, data, purpose=...,
    case_number=..., holder_id=...)`` then ``print(prepared)`` (after the preview).
    """


@hookspec
def register_matters() -> list[Matter]:
    """Declare matters (事项): their materials and which licence types replace them (免提交).

    Returns a list of :class:`workstation.services.model.Matter`; codes are unique across
    plugins. Results of all plugins are concatenated.
    """


# ---------------------------------------------------------------------------------------------
# Applicant session: notifications
# ---------------------------------------------------------------------------------------------


@hookspec
def session_started(session: ApplicantSession) -> None:
    """An applicant was identified and a session began.

    ``session.applicant`` holds personal data: keep it only as long as the session lives and
    never log it. Return value ignored.
    """


@hookspec
def session_ended(session: ApplicantSession, reason: str) -> None:
    """The session ended (``reason``: "finished", "idle", "card_removed", "signed_out", ...).

    Drop every reference to the applicant's data here. Called before the session's own data is
    wiped. Return value ignored.
    """
