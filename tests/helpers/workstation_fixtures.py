"""Fixtures that build a real Workstation core and shell against the sandbox over HTTP.

``ws_config``, ``make_core`` and ``core`` (and the page-driving fixtures) live in the public
pytest plugin ``workstation.testing``, which plugin authors use too.
"""

from __future__ import annotations

from workstation.testing import DEMO_OPERATOR, PageDriver, scan_code

__all__ = ["DEMO_OPERATOR", "PageDriver", "scan_code"]
