"""The public API for scenario pages (imports PyQt6): what a page module may use.

Keep pages thin: gather input, call the plugin's Qt-free logic and the context's services
through :meth:`ScenarioPage.run_busy` (off the GUI thread), show the result. Any other module of
``workstation.ui`` is private.
"""

from __future__ import annotations

from workstation.ui import print_preview  # print_preview.confirm_print(...); tests replace it
from workstation.ui.qr_wait import Poller, QrPanel
from workstation.ui.scenario_page import ScenarioPage, error_message
from workstation.ui.tasks import Task, TaskRunner, gui_callback
from workstation.ui.widgets import (
    BusyOverlay,
    ConsentPanel,
    FieldRow,
    LicenceCard,
    Notice,
    SignInPrompt,
    primary_button,
    show_licence_dialog,
)

__all__ = [
    "BusyOverlay",
    "ConsentPanel",
    "FieldRow",
    "LicenceCard",
    "Notice",
    "Poller",
    "QrPanel",
    "ScenarioPage",
    "SignInPrompt",
    "Task",
    "TaskRunner",
    "error_message",
    "gui_callback",
    "primary_button",
    "print_preview",
    "show_licence_dialog",
]
