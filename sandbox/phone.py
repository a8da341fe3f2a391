"""The demo phone's side of the enterprise flows, over HTTP (tests and the demo use it).

What a representative or citizen does on a real phone after scanning a QR shown by the
workstation: confirm an electronic business licence login with the licence password, or approve
/ refuse a consent request. Plain httpx; no workstation credential (the phone is not a
workstation), like ``codes/issue``.
"""

from __future__ import annotations

from typing import Any

import httpx


class PhoneError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class PhoneClient:
    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(path, json=body)
        data = response.json() if response.content else {}
        if not response.is_success:
            raise PhoneError(response.status_code, str(data.get("error", "")),
                             str(data.get("message", "")))
        return dict(data)

    def confirm_login(self, qr_text: str, credit_code: str, password: str) -> dict[str, Any]:
        """Pick the licence ``credit_code`` and confirm with its password."""
        return self._post("/api/v1/phone/elicence-login",
                          {"qr_text": qr_text, "credit_code": credit_code, "password": password})

    def refuse_login(self, qr_text: str) -> dict[str, Any]:
        return self._post("/api/v1/phone/elicence-login", {"qr_text": qr_text, "refuse": True})

    def approve_consent(self, qr_text: str, holder_id: str) -> dict[str, Any]:
        return self._post("/api/v1/phone/consent",
                          {"qr_text": qr_text, "holder_id": holder_id, "approve": True})

    def refuse_consent(self, qr_text: str) -> dict[str, Any]:
        return self._post("/api/v1/phone/consent", {"qr_text": qr_text, "approve": False})
