"""Client calls of the enterprise and back-office platforms (S9, S10, S11), Qt-free.

Blocking HTTP through ``PlatformClient.call_json``: call off the GUI thread. Routes and
answers are in docs/contracts.md ("Enterprise and back-office platforms"). Submissions are not
sent from here: they go through the outbox (``workstation.services.outbox.platform_post``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from workstation.services.model import HolderKind
from workstation.services.platform import PlatformUnavailable

ARCHIVE_FILES = "/api/v1/housing-fund/archive/files"
ARCHIVE_MANIFESTS = "/api/v1/housing-fund/archive/manifests"
TRADING_REGISTRATIONS = "/api/v1/trading/registrations"
POLICY_APPLICATIONS = "/api/v1/policies/applications"


def _time(value: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise PlatformUnavailable("平台返回的数据格式不正确") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class QrPrompt:
    """A QR the workstation shows (login or consent request) and until when it is valid."""

    ref: str  # login session id / consent request id
    qr_text: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class LoginResult:
    status: str  # pending / confirmed / refused / expired
    credit_code: str | None = None
    name: str | None = None
    login_token: str | None = None

    def __repr__(self) -> str:
        return f"LoginResult({self.status})"


@dataclass(frozen=True)
class ConsentAnswer:
    status: str  # pending / approved / refused / expired
    consent_ref: str | None = None
    consent_expires_at: dt.datetime | None = None
    holder_kind: HolderKind | None = None
    holder_id: str | None = None
    holder_name: str | None = None

    def __repr__(self) -> str:  # holder data stays out of logs
        return f"ConsentAnswer({self.status}, ref={self.consent_ref})"


class EnterprisePlatform:
    """Thin typed wrapper over the platform client for the S9/S10/S11 routes."""

    def __init__(self, platform: Any) -> None:
        self._platform = platform

    def open_licence_login(self, workstation_id: str) -> QrPrompt:
        data = self._platform.call_json("POST", "/api/v1/elicence/login-sessions",
                                        "elicence/login", json={"workstation_id": workstation_id})
        return QrPrompt(str(data["session_id"]), str(data["qr_text"]), _time(data["expires_at"]))

    def login_status(self, session_id: str) -> LoginResult:
        data = self._platform.call_json(
            "GET", f"/api/v1/elicence/login-sessions/{quote(session_id, safe='')}",
            "elicence/login-status")
        ent = data.get("enterprise") or {}
        return LoginResult(str(data["status"]), ent.get("credit_code"), ent.get("name"),
                           data.get("login_token"))

    def request_consent(self, *, kind: HolderKind, holder_id: str | None, purpose: str,
                        matter_code: str, licence_types: Sequence[str],
                        data_scopes: Sequence[str] = (), expires_at: dt.datetime,
                        workstation_id: str, channel: str = "phone") -> QrPrompt:
        body: dict[str, Any] = {
            "kind": kind.value, "purpose": purpose, "matter_code": matter_code,
            "licence_types": list(licence_types), "data_scopes": list(data_scopes),
            "expires_at": expires_at.isoformat(), "workstation_id": workstation_id,
            "channel": channel,
        }
        if holder_id:
            body["holder_id"] = holder_id
        data = self._platform.call_json("POST", "/api/v1/consent-requests", "consent-requests",
                                        json=body)
        return QrPrompt(str(data["request_id"]), str(data["qr_text"]), _time(data["expires_at"]))

    def consent_status(self, request_id: str) -> ConsentAnswer:
        data = self._platform.call_json(
            "GET", f"/api/v1/consent-requests/{quote(request_id, safe='')}",
            "consent-requests/status")
        holder = data.get("holder") or {}
        expires = data.get("consent_expires_at")
        return ConsentAnswer(
            str(data["status"]), data.get("consent_ref"), _time(expires) if expires else None,
            HolderKind(holder["kind"]) if holder.get("kind") else None,
            holder.get("holder_id"), holder.get("name"),
        )

    def employment(self, credit_code: str, consent_ref: str, year: int) -> dict[str, Any]:
        return dict(self._platform.call_json(
            "POST", "/api/v1/enterprise/employment", "enterprise/employment",
            json={"credit_code": credit_code, "consent_ref": consent_ref, "year": year}))
