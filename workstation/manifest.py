"""The scenario manifest a plugin declares, and its validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from workstation.services.model import LICENCE_TYPES

KNOWN_DEVICES = frozenset({"card_reader", "id_card_reader", "qr_scanner", "camera",
                           "document_camera", "face_camera", "locker", "printer_a4",
                           "printer_receipt"})
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_PAGE_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class Audience(StrEnum):
    CLERK = "clerk"  # window clerk on a desktop PC
    KIOSK = "kiosk"  # citizen at a self-service touch terminal

    @property
    def label(self) -> str:
        return {"clerk": "窗口业务", "kiosk": "自助服务"}[self.value]


class ManifestError(ValueError):
    """A plugin's manifest is invalid; the message names the field."""


@dataclass(frozen=True)
class ScenarioManifest:
    """What a scenario plugin declares about itself.

    ``page`` is a lazy factory ``"package.module:callable"``; the callable receives a
    ScenarioContext and returns the page widget. It is imported only when the page opens.
    ``licence_types`` and ``devices`` bound what the plugin's scoped services allow.
    """

    id: str
    title: str
    audiences: tuple[Audience, ...]
    page: str
    licence_types: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    description: str = ""
    icon: str = ""  # one or two characters shown in the tile's badge (default: title[0])
    order: int = 100
    api_version: int = 1

    def validate(self) -> ScenarioManifest:
        if not _ID_RE.match(self.id):
            raise ManifestError(f"id {self.id!r}: 应为小写字母、数字和下划线（2-40 个字符）")
        if not self.title.strip():
            raise ManifestError(f"{self.id}.title: 不能为空")
        if not self.audiences:
            raise ManifestError(f"{self.id}.audiences: 至少一个（clerk 或 kiosk）")
        for a in self.audiences:
            if not isinstance(a, Audience):
                raise ManifestError(f"{self.id}.audiences: 未知的使用对象 {a!r}")
        if not _PAGE_RE.match(self.page):
            raise ManifestError(
                f"{self.id}.page: 应为 \"模块:可调用对象\" 形式，得到 {self.page!r}"
            )
        for t in self.licence_types:
            if t not in LICENCE_TYPES:
                raise ManifestError(f"{self.id}.licence_types: 未知的证照类型 {t!r}")
        for dev in self.devices:
            if dev not in KNOWN_DEVICES:
                raise ManifestError(f"{self.id}.devices: 未知的设备 {dev!r}")
        if not isinstance(self.api_version, int) or self.api_version < 1:
            raise ManifestError(f"{self.id}.api_version: 应为正整数，得到 {self.api_version!r}")
        return self
