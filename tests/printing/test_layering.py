"""printing/ is Qt-free and imports neither workstation, devices nor plugins (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import printing


def test_printing_imports_nothing_above_it():
    modules = sorted(f"printing.{p.stem}" for p in Path(printing.__file__).parent.glob("*.py")
                     if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('workstation', 'devices', 'plugins', 'PyQt6'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"printing/ pulled in: {out}"
