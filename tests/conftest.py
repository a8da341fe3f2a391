"""Test-session set-up shared by the whole suite.

Qt runs offscreen unless the caller chose a platform (Qt aborts the process without one).
Fixtures live in tests/helpers/ and in the public plugin workstation.testing, loaded as
plugins here.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = [
    "workstation.testing",  # also loaded through its pytest11 entry point when installed
    "tests.helpers.sandbox_fixtures",
    "tests.helpers.db_fixtures",
    "tests.helpers.workstation_fixtures",
    "tests.helpers.cups_fixtures",
    "tests.helpers.pcsc_fixtures",  # exports PCSCLITE_CSOCK_NAME before any PC/SC call
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a QApplication as `gui`: `-m 'not gui'` runs the Qt-free part."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "qtbot" in fixtures or "qapp" in fixtures:
            item.add_marker(pytest.mark.gui)
