"""Electronic licence identifiers (电子证照标识), GB/T 36904 style.

Pure functions with no I/O: the sandbox shares this module to mint identifiers and the
workstation uses it to check the ones the licence library returns.

An identifier reads ``1.2.156.3005.2.{type_code}.{issuer_code}.{serial}.{version}.{check}``:

- ``1.2.156.3005.2`` the fixed OID arc of electronic licences in China;
- ``type_code`` the licence type code (18 characters over 0-9 and A-Z);
- ``issuer_code`` the issuing authority's unified social credit code (GB 32100, 18 characters,
  its own check character must be right);
- ``serial`` the issuer's sequence number for that type, zero-padded digits (6 to 24);
- ``version`` three digits, ``001`` for a first issue;
- ``check`` one character by ISO/IEC 7064 MOD 37,36 (hybrid system, alphabet 0-9 A-Z) over all
  preceding characters with the dots removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workstation.services.identity import CREDIT_CHARSET, credit_check_char

LICENCE_OID_PREFIX = "1.2.156.3005.2"
MOD37_36_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_LICENCE_ID_RE = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type_code>[0-9A-Z]{18})\.(?P<issuer_code>[0-9A-Z]{18})"
    r"\.(?P<serial>[0-9]{6,24})\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])$"
)


@dataclass(frozen=True)
class LicenceIdParts:
    type_code: str
    issuer_code: str
    serial: str
    version: str
    check: str


def licence_id_check(body: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character for an identifier body.

    ``body`` is everything before the check character, with or without its dots
    (``1.2.156.3005.2.<type>.<issuer>.<serial>.<version>``). Raises ValueError on a character
    outside 0-9 A-Z.
    """
    modulus = len(MOD37_36_ALPHABET)  # 36
    product = modulus
    for char in body.replace(".", "").upper():
        value = MOD37_36_ALPHABET.find(char)
        if value < 0:
            raise ValueError(f"character {char!r} is not allowed in a licence identifier")
        total = (product + value) % modulus or modulus
        product = (total * 2) % (modulus + 1)
    return MOD37_36_ALPHABET[(modulus + 1 - product) % modulus]


def make_licence_id(type_code: str, issuer_code: str, serial: int | str,
                    version: str = "001", *, serial_width: int = 12) -> str:
    """Build a complete identifier, check character included."""
    serial_text = str(serial).zfill(serial_width) if isinstance(serial, int) else serial
    body = f"{LICENCE_OID_PREFIX}.{type_code}.{issuer_code}.{serial_text}.{version}"
    licence_id = f"{body}.{licence_id_check(body)}"
    if parse_licence_id(licence_id) is None:
        raise ValueError("the parts do not make a valid licence identifier")
    return licence_id


def parse_licence_id(value: str) -> LicenceIdParts | None:
    """Split a valid identifier into its parts; None when it is not valid."""
    match = _LICENCE_ID_RE.match((value or "").strip())
    if match is None:
        return None
    parts = LicenceIdParts(**match.groupdict())
    issuer = parts.issuer_code
    if any(c not in CREDIT_CHARSET for c in issuer) or credit_check_char(issuer[:17]) != issuer[17]:
        return None
    if licence_id_check(value.strip()[: -2]) != parts.check:
        return None
    return parts


def is_valid_licence_id(value: str) -> bool:
    """Whether ``value`` is a well-formed identifier with correct issuer and check characters."""
    return parse_licence_id(value) is not None
