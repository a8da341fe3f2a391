"""HTTP client for the provincial licence library and the identity-code platform.

One ``httpx.Client`` per ``PlatformClient`` (connection reuse), synchronous: callers run it off
the GUI thread. The API is the one in ``docs/contracts.md``, served locally by ``sandbox/``.

Failures come in two kinds:

- ``PlatformUnavailable``: the platform could not answer (connection refused, timeout, any
  5xx including 503 while it is down). The workstation may fall back to its offline cache.
- ``PlatformError``: the platform answered and refused (4xx), with its code and Chinese message.

Log lines name the call and the outcome only: never ID numbers, names or licence contents.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from workstation.services.model import HolderKind, Licence

log = logging.getLogger(__name__)

PLATFORM_NAME = "电子证照平台"


class PlatformUnavailable(Exception):
    """The platform could not be reached or failed on its side; ``message`` is Chinese."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class PlatformError(Exception):
    """The platform refused the request (4xx); ``message`` is the platform's Chinese text."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class ResolvedHolder:
    """Who a resolved identity code belongs to. Holds personal data: never log it."""

    kind: HolderKind
    holder_id: str
    name: str
    jti: str
    code_kind: str | None = None  # which kind of code the platform resolved
    source: str | None = None  # the app that displayed it

    def __repr__(self) -> str:
        return f"ResolvedHolder(kind={self.kind.value}, jti={self.jti})"


@dataclass(frozen=True)
class HolderCheck:
    match: bool  # the name belongs to that ID number / credit code
    exists: bool  # the library knows the holder at all


@dataclass(frozen=True)
class ConsentReceipt:
    consent_ref: str
    expires_at: dt.datetime


@contextlib.contextmanager
def _reply_format() -> Iterator[None]:
    """Turn a reply that lacks or garbles a field into PlatformUnavailable."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformUnavailable(f"{PLATFORM_NAME}返回的数据格式不正确") from exc


def licence_from_json(data: dict[str, Any]) -> Licence:
    """Build a ``Licence`` from the contract's LicenceJSON (dates parsed, null = 长期)."""
    with _reply_format():
        return Licence.from_json(data)


class PlatformClient:
    """Synchronous client of the platform API; reusable, thread-safe, ``close()`` when done."""

    def __init__(self, base_url: str, client_id: str, client_secret: str,
                 timeout_s: float = 5.0, *, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            headers={
                "X-Client-Id": client_id,
                "Authorization": f"Bearer {client_secret}",
                "Accept": "application/json",
                "User-Agent": "mianzheng-workstation",
            },
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------------

    def _request(self, method: str, path: str, call: str, *, json: Any = None,
                 params: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> httpx.Response:
        """Send one request; map transport failures and error statuses to our exceptions.

        ``call`` is a fixed name for the log (the path may carry identifiers).
        """
        started = time.monotonic()
        try:
            response = self._http.request(method, path, json=json, params=params,
                                          headers=headers)
        except httpx.TimeoutException as exc:
            log.warning("platform %s: timeout", call)
            raise PlatformUnavailable(f"无法连接{PLATFORM_NAME}（响应超时）") from exc
        except httpx.TransportError as exc:
            log.warning("platform %s: %s", call, type(exc).__name__)
            raise PlatformUnavailable(f"无法连接{PLATFORM_NAME}（网络连接失败）") from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        log.debug("platform %s: HTTP %d in %.0f ms", call, response.status_code, elapsed_ms)
        if response.is_success:
            return response
        code, message = self._error_body(response)
        if response.status_code >= 500:
            log.warning("platform %s: HTTP %d %s", call, response.status_code, code)
            text = f"{PLATFORM_NAME}暂时不可用（HTTP {response.status_code}）"
            raise PlatformUnavailable(f"{text}：{message}" if message else text,
                                      status=response.status_code)
        log.info("platform %s: refused HTTP %d %s", call, response.status_code, code)
        raise PlatformError(response.status_code, code,
                            message or f"{PLATFORM_NAME}拒绝了请求（HTTP {response.status_code}）")

    @staticmethod
    def _error_body(response: httpx.Response) -> tuple[str, str]:
        try:
            data = response.json()
        except ValueError:
            return "http_error", ""
        if not isinstance(data, dict):
            return "http_error", ""
        return str(data.get("error") or "http_error"), str(data.get("message") or "")

    def _json(self, method: str, path: str, call: str, **kwargs: Any) -> dict[str, Any]:
        response = self._request(method, path, call, **kwargs)
        try:
            data = response.json()
        except ValueError as exc:
            raise PlatformUnavailable(f"{PLATFORM_NAME}返回的数据格式不正确") from exc
        if not isinstance(data, dict):
            raise PlatformUnavailable(f"{PLATFORM_NAME}返回的数据格式不正确")
        return data

    def call_json(self, method: str, path: str, call: str, *, json: Any = None,
                  params: dict[str, str] | None = None,
                  idempotency_key: str | None = None) -> dict[str, Any]:
        """One JSON call of an ``/api/v1`` route not wrapped below (enterprise, archive, ...).

        ``call`` is a fixed name for the log; ``idempotency_key`` goes in the
        ``Idempotency-Key`` header, so the platform answers a repeated submission once.
        """
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._json(method, path, call, json=json, params=params, headers=headers)

    # -- calls ------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "time": iso}``; raises PlatformUnavailable when it is not."""
        return self._json("GET", "/api/v1/health", "health")

    def trust_list(self) -> dict[str, Any]:
        """The raw trust list (issuer public keys); ``codes.TrustList`` parses it."""
        return self._json("GET", "/api/v1/trust-list", "trust-list")

    def issue_code(self, holder_id: str, kind: str = "ehb_identity",
                   source: str | None = None) -> IssuedCode:
        """Ask for a fresh code of ``kind`` as the app ``source`` shows it (demo and tests)."""
        body: dict[str, str] = {"holder_id": holder_id, "kind": kind}
        if source:
            body["source"] = source
        data = self._json("POST", "/api/v1/codes/issue", "codes/issue", json=body)
        with _reply_format():
            return IssuedCode(data["code"], dt.datetime.fromisoformat(data["expires_at"]))

    def resolve_code(self, code: str) -> ResolvedHolder:
        """Resolve (and so consume) an identity code."""
        data = self._json("POST", "/api/v1/codes/resolve", "codes/resolve", json={"code": code})
        with _reply_format():
            holder = data["holder"]
            return ResolvedHolder(HolderKind(holder["kind"]), holder["holder_id"],
                                  holder["name"], data["jti"], data.get("code_kind"),
                                  data.get("source"))

    def verify_holder(self, kind: HolderKind | str, holder_id: str, name: str) -> HolderCheck:
        """Whether the name belongs to the ID number / credit code."""
        data = self._json("POST", "/api/v1/holders/verify", "holders/verify",
                          json={"kind": str(kind), "holder_id": holder_id, "name": name})
        return HolderCheck(match=bool(data.get("match")), exists=bool(data.get("exists")))

    def register_consent(self, *, kind: HolderKind | str, holder_id: str, purpose: str,
                         matter_code: str, licence_types: Iterable[str],
                         expires_at: dt.datetime, workstation_id: str,
                         channel: str) -> ConsentReceipt:
        """Register the applicant's consent with the library; returns its reference."""
        data = self._json("POST", "/api/v1/consents", "consents/register", json={
            "kind": str(kind),
            "holder_id": holder_id,
            "purpose": purpose,
            "matter_code": matter_code,
            "licence_types": list(licence_types),
            "expires_at": expires_at.isoformat(),
            "workstation_id": workstation_id,
            "channel": channel,
        })
        with _reply_format():
            return ConsentReceipt(data["consent_ref"],
                                  dt.datetime.fromisoformat(data["expires_at"]))

    def revoke_consent(self, consent_ref: str) -> None:
        self._json("POST", f"/api/v1/consents/{quote(consent_ref, safe='')}/revoke",
                   "consents/revoke")

    def search_licences(self, holder_id: str, types: Iterable[str], consent_ref: str,
                        reason: str) -> list[Licence]:
        """The holder's licences of the given types, under a consent, for a stated reason."""
        data = self._json("POST", "/api/v1/licences/search", "licences/search", json={
            "holder_id": holder_id, "types": list(types), "consent_ref": consent_ref,
            "reason": reason,
        })
        with _reply_format():
            return [licence_from_json(item) for item in data["licences"]]

    def licence_detail(self, licence_id: str, consent_ref: str, reason: str) -> Licence:
        data = self._json("GET", f"/api/v1/licences/{quote(licence_id, safe='')}",
                          "licences/detail",
                          params={"consent_ref": consent_ref, "reason": reason})
        return licence_from_json(data)

    def thumbnail(self, licence_id: str, consent_ref: str, reason: str) -> bytes:
        """The licence thumbnail as PNG bytes."""
        response = self._request("GET", f"/api/v1/licences/{quote(licence_id, safe='')}/thumbnail",
                                 "licences/thumbnail",
                                 params={"consent_ref": consent_ref, "reason": reason})
        return response.content

    # -- issued documents ---------------------------------------------------------------

    def register_document(self, record: dict[str, Any]) -> None:
        """Tell the platform about a document this workstation issued (code, digest, kind,
        where and when; never the holder). Idempotent on the code."""
        self._json("POST", "/api/v1/documents", "documents/register", json=record)

    def verify_document(self, code: str, sha256: str | None = None) -> dict[str, Any]:
        """The platform's answer for a verification code (and, given a digest, whether it
        matches): ``{"issued": bool, ...}``; an unknown code answers ``issued: false``."""
        params = {"sha256": sha256} if sha256 else None
        try:
            return self._json("GET", f"/api/v1/documents/{quote(code, safe='')}",
                              "documents/verify", params=params)
        except PlatformError as exc:
            if exc.status == 404:
                return {"issued": False, "code": code}
            raise
