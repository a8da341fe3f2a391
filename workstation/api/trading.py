"""The public API for the public-resource trading platform (S9 and plugins like it).

The registration form's rules — its fields, GB/T 4754 industry classes, Hubei's divisions, the
licence-file limits and the validation of every field — are shared with the sandbox's trading
platform, so a plugin and the platform check a form the same way.
"""

from __future__ import annotations

from workstation.services.enterprise import TRADING_REGISTRATIONS, LoginResult, QrPrompt
from workstation.services.trading_form import (
    CERTIFICATE_NAMES,
    COUNTRIES,
    ENTERPRISE_TYPES,
    FIELDS,
    LICENCE_FILE_MAX_BYTES,
    PERMANENT,
    STREET_MAX,
    LicenceFile,
    check_licence_file,
    form_from_licence,
    industry_classes,
    industry_sections,
    regions,
    validate_registration,
)

__all__ = [
    "CERTIFICATE_NAMES",
    "COUNTRIES",
    "ENTERPRISE_TYPES",
    "FIELDS",
    "LICENCE_FILE_MAX_BYTES",
    "PERMANENT",
    "STREET_MAX",
    "TRADING_REGISTRATIONS",
    "LicenceFile",
    "LoginResult",
    "QrPrompt",
    "check_licence_file",
    "form_from_licence",
    "industry_classes",
    "industry_sections",
    "regions",
    "validate_registration",
]
