"""Loading the unified-intake matters from their data file (matters.toml)."""

from __future__ import annotations

from workstation.api import Matter, MatterDataError, parse_matters
from workstation.api import load_matters as _load

__all__ = ["MatterDataError", "load_matters", "parse_matters"]


def load_matters() -> list[Matter]:
    return _load(__package__ or "plugins.unified_intake", "matters.toml")
