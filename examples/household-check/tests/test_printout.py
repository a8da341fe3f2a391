"""The print template renders its sample data; the text reads back out of the PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from household_check import SHEET_TEMPLATE


def test_sample_renders_with_masked_data_only(core):
    pdf = core.templates.render_sample(SHEET_TEMPLATE)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "证照核验单" in text
    assert "421281********0018" in text
    assert "与户主关系" in text
