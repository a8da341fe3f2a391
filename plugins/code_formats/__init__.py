"""Built-in code formats: the QR payload kinds citizens show on their phones.

Registered through the same entry-point group as scenario plugins; a province that adds a new
code (another app's identity code) ships a plugin like this one.
"""

from __future__ import annotations

from workstation.api import CodeFormat, hookimpl
from workstation.services.codes import (  # built-in formats: not part of the plugin API
    EhbIdentityCode,
    ElectronicSocialSecurityCard,
    MedicalInsuranceVoucher,
)


@hookimpl
def register_code_formats() -> list[CodeFormat]:
    return [EhbIdentityCode(), MedicalInsuranceVoucher(), ElectronicSocialSecurityCard()]
