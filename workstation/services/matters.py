"""Matters (事项) as data: a TOML file of matters and their materials, parsed and checked.

A plugin keeps its matters in a data file next to its code, so the people who know the
materials can edit them without touching Python::

    [[matter]]
    code = "CB-SCJG-001"
    name = "个体工商户设立登记"
    department = "赤壁市市场监督管理局"
    holder_kind = "person"              # or "enterprise"
    materials = [
      { name = "经营者身份证明", licence_type = "id_card" },   # 免提交 with this licence
      { name = "个体工商户登记（备案）申请书" },                  # always on paper
      { name = "原社会保障卡信息", licence_type = "social_security_card", required = false },
    ]
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from workstation.services.model import LICENCE_TYPES, HolderKind, Material, Matter


class MatterDataError(ValueError):
    """A matters file is invalid; the message names the entry and the field."""


def parse_matters(data: dict[str, Any]) -> list[Matter]:
    """Matters from parsed TOML (``{"matter": [...]}``); raises MatterDataError."""
    matters: list[Matter] = []
    for i, raw in enumerate(data.get("matter", [])):
        where = f"matter[{i}]"
        try:
            try:
                kind = HolderKind(raw["holder_kind"])
            except ValueError:
                raise MatterDataError(
                    f"{where}.holder_kind: {raw['holder_kind']!r} (person or enterprise)"
                ) from None
            materials = []
            for j, m in enumerate(raw["materials"]):
                lt = m.get("licence_type")
                if lt is not None and lt not in LICENCE_TYPES:
                    raise MatterDataError(f"{where}.materials[{j}]: unknown licence type {lt!r}")
                if lt is not None and LICENCE_TYPES[lt].holder_kind is not kind:
                    raise MatterDataError(f"{where}.materials[{j}]: {lt} is not held by a {kind}")
                materials.append(Material(
                    name=m["name"], licence_type=lt, required=m.get("required", True),
                    note=m.get("note", ""),
                ))
            matters.append(Matter(
                code=raw["code"], name=raw["name"], department=raw["department"],
                holder_kind=kind, materials=tuple(materials),
            ))
        except KeyError as exc:
            raise MatterDataError(f"{where}: missing {exc.args[0]!r}") from None
    return matters


def load_matters(package: str, resource: str = "matters.toml") -> list[Matter]:
    """Matters from a TOML file shipped inside ``package`` (use ``__package__``)."""
    text = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MatterDataError(f"{package}/{resource}: {exc}") from None
    return parse_matters(data)
