"""Verification codes: format, check character, normalisation; the QR code decodes."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfgen.canvas import Canvas

from printing.authenticity import (
    CODE_ALPHABET,
    CODE_LENGTH,
    DocumentStamp,
    InvalidCode,
    draw_qr,
    format_code,
    is_valid_code,
    new_verification_code,
    normalise_code,
    qr_matrix,
    verification_url,
)


def test_codes_are_random_valid_and_formatted():
    codes = {new_verification_code() for _ in range(200)}
    assert len(codes) == 200
    for c in codes:
        assert len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET)
        assert is_valid_code(c)
        assert normalise_code(format_code(c).lower()) == c
    assert not set("01OIL") & set(CODE_ALPHABET)


def test_every_single_typo_and_neighbour_swap_is_caught():
    code = new_verification_code()
    for i in range(CODE_LENGTH):
        for ch in CODE_ALPHABET:
            if ch != code[i]:
                assert not is_valid_code(code[:i] + ch + code[i + 1:])
    for i in range(CODE_LENGTH - 1):
        if code[i] != code[i + 1]:
            assert not is_valid_code(code[:i] + code[i + 1] + code[i] + code[i + 2:])


@pytest.mark.parametrize("text, message", [
    ("ABC", "16 位"), ("MZ7K4PQ2XH9DRT3O", "无效字符"), ("MZ7K4PQ2XH9DRT3F", "校验位"),
])
def test_bad_codes_say_why(text, message):
    with pytest.raises(InvalidCode, match=message):
        normalise_code(text)


def test_stamp_and_url():
    stamp = DocumentStamp.sample()
    assert stamp.url.endswith("/" + stamp.code)
    assert verification_url("https://x/v/", stamp.display_code) == f"https://x/v/{stamp.code}"
    with pytest.raises(InvalidCode):
        DocumentStamp("nope", "u", stamp.issued_at)


def test_qr_matrix_is_square_and_draws():
    m = qr_matrix(DocumentStamp.sample().url)
    assert len(m) == len(m[0]) >= 21
    c = Canvas(io.BytesIO())
    draw_qr(c, 10, 10, 60, "hello")
    c.save()
