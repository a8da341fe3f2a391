"""Print templates as data: a key, a title, a renderer and sample data for previews and tests.

Plugins contribute templates through the ``register_print_templates`` hook; the registry keeps
them by key. Rendering is Qt-free: data in, PDF bytes out. A renderer takes the document data
and, as ``stamp``, the :class:`~printing.authenticity.DocumentStamp` (verification code and QR
URL) the workstation issued for this copy; without a stamp it renders an unverifiable preview.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from printing.authenticity import DocumentStamp

Paper = Literal["A4", "receipt80"]
PAPERS: tuple[str, ...] = ("A4", "receipt80")


@dataclass(frozen=True)
class PrintTemplate:
    key: str  # e.g. "material_list"
    title: str  # Chinese, e.g. "申请材料清单"
    render: Callable[..., bytes]  # render(data, stamp=None) -> PDF bytes
    sample: Callable[[], Any]  # sample document data, for previews and tests
    paper: str = "A4"  # "A4" or "receipt80": which printer it goes to
    description: str = ""

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ValueError(f"print template {self.key!r}: unknown paper {self.paper!r}")


class TemplateRegistry:
    def __init__(self, templates: Iterable[PrintTemplate] = ()) -> None:
        self._templates: dict[str, PrintTemplate] = {}
        for t in templates:
            self.add(t)

    def add(self, template: PrintTemplate) -> None:
        if template.key in self._templates:
            raise ValueError(f"print template {template.key!r} is registered twice")
        self._templates[template.key] = template

    def get(self, key: str) -> PrintTemplate:
        try:
            return self._templates[key]
        except KeyError:
            raise KeyError(f"no print template {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._templates

    def keys(self) -> list[str]:
        return sorted(self._templates)

    def render(self, key: str, data: Any, stamp: DocumentStamp | None = None) -> bytes:
        return self.get(key).render(data, stamp=stamp)

    def render_sample(self, key: str, stamp: DocumentStamp | None = None) -> bytes:
        t = self.get(key)
        return t.render(t.sample(), stamp=stamp)
