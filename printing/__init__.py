"""Qt-free printing: embedded CJK fonts, page layout, document templates, the CUPS queue.

Data in, PDF bytes out. This package imports neither ``workstation``, ``devices`` nor
``plugins``, nor PyQt6. Submodules are imported lazily (ReportLab costs ~100 ms to import), so
``import printing`` stays cheap; ``from printing import render_material_list`` works.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "DocumentStamp": "printing.authenticity",
    "new_verification_code": "printing.authenticity",
    "pdf_digest": "printing.authenticity",
    "PrintTemplate": "printing.templates",
    "TemplateRegistry": "printing.templates",
    "CJKFonts": "printing.fonts",
    "FontError": "printing.fonts",
    "register_cjk_fonts": "printing.fonts",
    "PageDecoration": "printing.layout",
    "build_pdf": "printing.layout",
    "get_styles": "printing.layout",
    "MaterialListDocument": "printing.material_list",
    "MaterialListItem": "printing.material_list",
    "render_material_list": "printing.material_list",
    "sample_material_list": "printing.material_list",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'printing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
