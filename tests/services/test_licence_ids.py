"""GB/T 36904-style licence identifiers: check character and validation."""

from __future__ import annotations

import pytest

from workstation.services.licence_ids import (
    MOD37_36_ALPHABET,
    is_valid_licence_id,
    licence_id_check,
    make_licence_id,
    parse_licence_id,
)

TYPE_CODE = "111000000000131433"
ISSUER = "91350100M000100Y43"  # the GB 32100 example code


def test_mod37_36_matches_the_published_grid_example():
    # The Global Release Identifier A1-2425G-ABC1234002-M uses ISO/IEC 7064 MOD 37,36.
    assert licence_id_check("A12425GABC1234002") == "M"


def test_made_identifier_is_valid_and_splits_into_its_parts():
    licence_id = make_licence_id(TYPE_CODE, ISSUER, 42)
    assert licence_id.startswith(f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER}.000000000042.001.")
    assert is_valid_licence_id(licence_id)
    parts = parse_licence_id(licence_id)
    assert parts is not None
    assert (parts.type_code, parts.issuer_code, parts.serial, parts.version) == (
        TYPE_CODE, ISSUER, "000000000042", "001")
    assert parts.check == licence_id[-1]


def test_check_ignores_dots():
    body = f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER}.000000000042.001"
    assert licence_id_check(body) == licence_id_check(body.replace(".", ""))


def test_every_single_character_substitution_is_detected():
    licence_id = make_licence_id(TYPE_CODE, ISSUER, 7)
    for i, char in enumerate(licence_id):
        if char == ".":
            continue
        for other in MOD37_36_ALPHABET:
            if other == char:
                continue
            changed = licence_id[:i] + other + licence_id[i + 1:]
            assert not is_valid_licence_id(changed), (i, other)


def test_adjacent_transpositions_are_detected():
    licence_id = make_licence_id(TYPE_CODE, ISSUER, 123456)
    for i in range(len(licence_id) - 1):
        a, b = licence_id[i], licence_id[i + 1]
        if a == b or "." in (a, b):
            continue
        swapped = licence_id[:i] + b + a + licence_id[i + 2:]
        assert not is_valid_licence_id(swapped), i


def test_issuer_must_be_a_valid_credit_code_even_with_a_matching_check():
    bad_issuer = ISSUER[:-1] + "4"  # wrong GB 32100 check character
    body = f"1.2.156.3005.2.{TYPE_CODE}.{bad_issuer}.000000000001.001"
    assert not is_valid_licence_id(f"{body}.{licence_id_check(body)}")
    with pytest.raises(ValueError):
        make_licence_id(TYPE_CODE, bad_issuer, 1)


@pytest.mark.parametrize("value", [
    "",
    "1.2.156.3005.2",
    "1.2.156.3005.3.111000000000131433.91350100M000100Y43.000000000001.001.X",
    "1.2.156.3005.2.111000000000131433.91350100m000100y43.000000000001.001.X",
    "1.2.156.3005.2.111000000000131433.91350100M000100Y43.00001.001.X",  # serial too short
    "1.2.156.3005.2.111000000000131433.91350100M000100Y43.000000000001.01.X",
    "1.2.156.3005.2.111000000000131433.91350100M000100Y43.000000000001.001",
])
def test_malformed_identifiers_are_invalid(value):
    assert not is_valid_licence_id(value)
    assert parse_licence_id(value) is None


def test_check_rejects_characters_outside_the_alphabet():
    with pytest.raises(ValueError):
        licence_id_check("1.2.156.3005.2.abc-")
