"""The scenario manifest a plugin declares, and its validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from workstation.services.model import LICENCE_TYPES

KNOWN_DEVICES = frozenset({"card_reader", "id_card_reader", "qr_scanner", "camera",
                           "document_camera", "locker", "printer_a4", "printer_receipt"})
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_PAGE_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_METHOD_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

#: Ways a citizen signs in, as named in ``ScenarioManifest.sign_in``: the built-in code kinds,
#: the two card readers and face verification, each with what the sign-in prompt shows (the
#: method's name and what to do). A plugin's own code kind is shown by its format's title.
SIGN_IN_METHODS: dict[str, tuple[str, str]] = {
    "ehb_identity": ("鄂汇办身份码", "打开鄂汇办App，出示“身份码”，对准扫码窗口"),
    "mi_voucher": ("医保电子凭证",
                   "打开医保码（微信、支付宝、国家医保服务平台App等），对准扫码窗口"),
    "essc": ("电子社保卡二维码", "打开微信电子社保卡或湖北12333，出示二维码，对准扫码窗口"),
    "ss_card": ("社会保障卡", "将社保卡芯片朝上插入读卡器"),
    "id_card": ("居民身份证", "将身份证平放在阅读器感应区"),
    "face": ("人脸识别", "请摘下帽子和口罩，正对摄像头"),
}


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
    # How the scenario takes its applicant (kiosk pages, and clerk pages that serve by scan or
    # card): code kinds ("ehb_identity", "mi_voucher", "essc" or a plugin's own), "ss_card",
    # "id_card", "face". Empty: the page does not sign citizens in itself.
    sign_in: tuple[str, ...] = ()

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
        if isinstance(self.sign_in, str):
            raise ManifestError(f"{self.id}.sign_in: 应为元组，例如 (\"essc\", \"ss_card\")")
        for method in self.sign_in:
            if not isinstance(method, str) or not _METHOD_RE.match(method):
                raise ManifestError(f"{self.id}.sign_in: 无效的登录方式 {method!r}")
        if not isinstance(self.api_version, int) or self.api_version < 1:
            raise ManifestError(f"{self.id}.api_version: 应为正整数，得到 {self.api_version!r}")
        return self
