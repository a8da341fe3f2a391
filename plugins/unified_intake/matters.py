"""Loading the unified-intake matters from their data file (matters.toml)."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from workstation.services.model import LICENCE_TYPES, HolderKind, Material, Matter


class MatterDataError(ValueError):
    pass


def parse_matters(data: dict[str, Any]) -> list[Matter]:
    matters: list[Matter] = []
    for i, raw in enumerate(data.get("matter", [])):
        where = f"matter[{i}]"
        try:
            kind = HolderKind(raw["holder_kind"])
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


def load_matters() -> list[Matter]:
    text = resources.files(__package__).joinpath("matters.toml").read_text(encoding="utf-8")
    return parse_matters(tomllib.loads(text))
