"""Domain types shared by the services, the shell and the plugins (Qt-free, no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from workstation.services.identity import mask_id_number, mask_name

# China Standard Time (no daylight saving): every time shown to a person or printed uses it,
# whatever the machine's own time zone.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


class HolderKind(StrEnum):
    PERSON = "person"
    ENTERPRISE = "enterprise"


class IdentifiedBy(StrEnum):
    CARD = "card"  # social security card / ID card reader
    CODE = "code"  # QR code shown on a phone
    CLERK = "clerk"  # typed in by a clerk
    FACE = "face"  # face verification

    @property
    def label(self) -> str:
        return {"card": "刷卡", "code": "扫码", "clerk": "窗口录入", "face": "人脸识别"}[self.value]


@dataclass(frozen=True)
class LicenceType:
    """A kind of electronic licence (电子证照类型)."""

    key: str  # stable slug used in manifests and APIs
    name: str  # Chinese name
    type_code: str  # code in the GB/T 36904 identifier
    holder_kind: HolderKind
    cache_ttl: dt.timedelta  # how long a fetched copy may be served offline


# The licence types the provincial licence library holds (sandbox and real).
LICENCE_TYPES: dict[str, LicenceType] = {
    t.key: t
    for t in (
        LicenceType("id_card", "居民身份证", "111000000000131433", HolderKind.PERSON,
                    dt.timedelta(days=7)),
        LicenceType("household_register", "居民户口簿", "111000000000131434", HolderKind.PERSON,
                    dt.timedelta(days=3)),
        LicenceType("marriage_cert", "结婚证", "111000000000131435", HolderKind.PERSON,
                    dt.timedelta(days=3)),
        LicenceType("property_cert", "不动产权证书", "111000000000131436", HolderKind.PERSON,
                    dt.timedelta(days=1)),
        LicenceType("social_security_card", "社会保障卡", "111000000000131437",
                    HolderKind.PERSON, dt.timedelta(days=7)),
        LicenceType("business_licence", "营业执照", "111000000000131438", HolderKind.ENTERPRISE,
                    dt.timedelta(days=1)),
    )
}


def licence_type(key: str) -> LicenceType:
    try:
        return LICENCE_TYPES[key]
    except KeyError:
        raise KeyError(f"unknown licence type {key!r}") from None


@dataclass(frozen=True)
class Applicant:
    """The person or enterprise being served. Holds personal data: never log it."""

    kind: HolderKind
    holder_id: str  # ID number or unified social credit code
    name: str
    identified_by: IdentifiedBy
    # For an enterprise: the agent (经办人) acting for it, if known.
    agent_name: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.holder_id) if self.kind is HolderKind.PERSON else (
            self.holder_id[:8] + "******" + self.holder_id[-4:]
        )

    @property
    def masked_name(self) -> str:
        return mask_name(self.name) if self.kind is HolderKind.PERSON else self.name

    def __repr__(self) -> str:  # never print personal data by accident
        return f"Applicant(kind={self.kind.value}, id={self.masked_id}, by={self.identified_by})"


@dataclass(frozen=True)
class Licence:
    """One electronic licence as returned by the licence library."""

    licence_id: str  # GB/T 36904 identifier 1.2.156.3005.2....
    type_key: str
    holder_kind: HolderKind
    holder_id: str
    holder_name: str
    issuer: str
    issuer_code: str
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date | None  # None = 长期
    fields: dict[str, str]
    status: str = "valid"  # valid / revoked / expired

    @property
    def type_name(self) -> str:
        return licence_type(self.type_key).name

    def to_json(self) -> dict[str, Any]:
        """The LicenceJSON form of docs/contracts.md (null ``valid_until`` = 长期)."""
        return {
            "licence_id": self.licence_id,
            "type_key": self.type_key,
            "holder_kind": self.holder_kind.value,
            "holder_id": self.holder_id,
            "holder_name": self.holder_name,
            "issuer": self.issuer,
            "issuer_code": self.issuer_code,
            "issued_on": self.issued_on.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "fields": dict(self.fields),
            "status": self.status,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Licence:
        """Parse LicenceJSON; raises KeyError/ValueError on a malformed object."""
        issued_on = dt.date.fromisoformat(data["issued_on"])
        valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
        return cls(
            licence_id=data["licence_id"],
            type_key=data["type_key"],
            holder_kind=HolderKind(data["holder_kind"]),
            holder_id=data["holder_id"],
            holder_name=data["holder_name"],
            issuer=data["issuer"],
            issuer_code=data["issuer_code"],
            issued_on=issued_on,
            valid_from=dt.date.fromisoformat(valid_from) if valid_from else issued_on,
            valid_until=dt.date.fromisoformat(valid_until) if valid_until else None,
            fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
            status=data.get("status", "valid"),
        )

    def __repr__(self) -> str:
        return f"Licence({self.type_key}, {self.licence_id})"


@dataclass(frozen=True)
class Material:
    """A material (申请材料) a matter requires; replaced by a licence when it is 免提交."""

    name: str
    licence_type: str | None = None  # which licence type replaces it, if any
    required: bool = True
    note: str = ""


@dataclass(frozen=True)
class Matter:
    """A matter (事项) handled at the window, with its materials."""

    code: str
    name: str
    department: str
    holder_kind: HolderKind
    materials: tuple[Material, ...]

    @property
    def licence_types(self) -> tuple[str, ...]:
        seen: list[str] = []
        for m in self.materials:
            if m.licence_type and m.licence_type not in seen:
                seen.append(m.licence_type)
        return tuple(seen)
