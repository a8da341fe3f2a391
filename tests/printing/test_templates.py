"""Every built-in template: renders its sample data with a verification stamp, embeds and
subsets every font, numbers its pages, carries the verification code on every page, uses no
transparency, and reads back the data it was given."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pypdf
import pytest

from plugins.documents import register_print_templates
from printing.authenticity import DocumentStamp, pdf_digest
from printing.forms import FormField, FormSection, sample_form, validate_form
from printing.insurance import sample_insurance_certificate
from printing.licence_copy import purpose_watermark_text, sample_licence_copy
from printing.receipts import sample_locker_slip, sample_receipt
from printing.templates import PrintTemplate, TemplateRegistry
from tests.printing.pdf_inspect import page_texts, pdffonts, pypdf_fonts, squash

STAMP = DocumentStamp.sample()
TEMPLATES = {t.key: t for t in register_print_templates()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[bytes, Path]]:
    out = {}
    folder = tmp_path_factory.mktemp("templates")
    for key, t in TEMPLATES.items():
        data = t.render(t.sample(), stamp=STAMP)
        path = folder / f"{key}.pdf"
        path.write_bytes(data)
        out[key] = (data, path)
    return out


def test_the_built_in_set_is_complete():
    assert set(TEMPLATES) == {"insurance_certificate", "rights_record", "material_list",
                              "licence_copy", "receipt_80", "receipt_a4", "form", "locker_slip"}
    assert TEMPLATES["receipt_80"].paper == "receipt80"
    assert TEMPLATES["locker_slip"].paper == "receipt80"
    assert TEMPLATES["receipt_a4"].paper == "A4"
    registry = TemplateRegistry(TEMPLATES.values())
    with pytest.raises(ValueError, match="twice"):
        registry.add(TEMPLATES["form"])
    with pytest.raises(ValueError, match="paper"):
        PrintTemplate("x", "x", lambda d, stamp=None: b"", lambda: None, paper="A3")


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_fonts_are_embedded_subset_truetype(rendered, key):
    data, path = rendered[key]
    fonts = pdffonts(path)
    assert fonts, key
    for f in fonts:
        assert f.embedded and f.type == "TrueType", (key, f)
        assert re.match(r"^[A-Z]{6}\+", f.name), f"{key}: not a subset: {f.name}"
    parsed = pypdf_fonts(data)
    assert parsed and all(parsed.values()), (key, parsed)


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_pages_are_numbered_and_carry_the_verification_code(rendered, key):
    data, _ = rendered[key]
    texts = [squash(t) for t in page_texts(data)]
    total = len(texts)
    for n, text in enumerate(texts, start=1):
        assert f"第{n}页共{total}页" in text, (key, n)
        assert STAMP.display_code in text, (key, n)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert STAMP.code in str(reader.metadata.get("/Keywords", ""))


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_no_transparency_anywhere(rendered, key):
    """GIVEN a rendered document WHEN its pages' graphics states and images are read THEN
    nothing is transparent (CUPS would rasterise such a page)."""
    reader = pypdf.PdfReader(io.BytesIO(rendered[key][0]))
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        for gs in (resources.get("/ExtGState") or {}).values():
            gs = gs.get_object()
            for k in ("/CA", "/ca"):
                assert float(gs.get(k, 1)) == 1.0, (key, gs)
            assert gs.get("/SMask", "/None") == "/None", key
        for xo in (resources.get("/XObject") or {}).values():
            assert "/SMask" not in xo.get_object(), key


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_renders_without_a_stamp_as_a_preview(key):
    t = TEMPLATES[key]
    data = t.render(t.sample())
    assert data.startswith(b"%PDF")
    assert "验证码：" not in "".join(page_texts(data))


def test_insurance_certificate_ledger_runs_over_pages_with_every_month(rendered):
    cert = sample_insurance_certificate()
    texts = page_texts(rendered["insurance_certificate"][0])
    assert len(texts) >= 2
    flat = squash("".join(texts))
    months = sorted({(c.year, c.month) for c in cert.contributions})
    for y, m in months:
        assert f"{y}年{m:02d}月" in flat
    # the ledger's header repeats on every page it runs over
    assert all("费款所属期" in squash(t) for t in texts[:2])
    for label in ("企业职工基本养老保险", "职工基本医疗保险", "失业保险", cert.person.name,
                  cert.issuing_unit, cert.certificate_no, "欠费"):
        assert squash(label) in flat, label


def test_licence_copy_has_its_purpose_watermark_on_every_page(tmp_path):
    copy = sample_licence_copy(with_image=False)
    long = dataclasses.replace(copy, fields=[*copy.fields] * 12)  # several pages
    data = TEMPLATES["licence_copy"].render(long, stamp=STAMP)
    texts = [squash(t) for t in page_texts(data)]
    assert len(texts) >= 2
    mark = squash(purpose_watermark_text(copy.purpose, copy.used_at.date()))
    assert mark == "仅供办理存量房转移登记使用2024年5月20日"
    for text in texts:
        assert mark in text
    with pytest.raises(ValueError, match="purpose"):
        dataclasses.replace(copy, purpose=" ")


def test_licence_copy_embeds_the_licence_image(rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered["licence_copy"][0]))
    images = [xo for p in reader.pages
              for xo in (p["/Resources"].get_object().get("/XObject") or {}).values()
              if xo.get_object().get("/Subtype") == "/Image"]
    assert len(images) == 1


def test_receipts_are_80mm_wide_and_as_long_as_their_content(rendered):
    for key in ("receipt_80", "locker_slip"):
        page = pypdf.PdfReader(io.BytesIO(rendered[key][0])).pages[0]
        width_mm = float(page.mediabox.width) / 72 * 25.4
        assert round(width_mm) == 80, key
        assert len(pypdf.PdfReader(io.BytesIO(rendered[key][0])).pages) == 1
    short = TEMPLATES["receipt_80"].render(
        dataclasses.replace(sample_receipt(), received=[("申请人身份证明", "电子证照免提交")]))
    long = TEMPLATES["receipt_80"].render(
        dataclasses.replace(sample_receipt(), received=[("申请人身份证明", "电子证照免提交")] * 30))
    h_short = float(pypdf.PdfReader(io.BytesIO(short)).pages[0].mediabox.height)
    reader = pypdf.PdfReader(io.BytesIO(long))
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.height) > h_short + 100


def test_receipts_take_only_masked_identities():
    with pytest.raises(ValueError, match="masked"):
        dataclasses.replace(sample_receipt(), applicant_id_masked="421281199003150018")
    with pytest.raises(ValueError, match="masked"):
        dataclasses.replace(sample_locker_slip(), holder_label="张三")


def test_receipt_text_reads_back(rendered):
    r = sample_receipt()
    for key in ("receipt_80", "receipt_a4"):
        flat = squash("".join(page_texts(rendered[key][0])))
        for text in (r.case_number, r.matter_name, r.applicant_id_masked,
                     *[name for name, _ in r.received]):
            assert squash(text) in flat, (key, text)
    slip = sample_locker_slip()
    flat = squash("".join(page_texts(rendered["locker_slip"][0])))
    assert " ".join(slip.pickup_code).replace(" ", "") in flat
    assert slip.locker_no in flat


def test_form_printout_shows_values_and_choices(rendered):
    p = sample_form()
    flat = squash("".join(page_texts(rendered["form"][0])))
    for f in p.form.fields:
        assert squash(f.label) in flat, f.label
    assert "■转移登记" in flat and "□首次登记" in flat
    assert "■结婚证" in flat and "□居民户口簿" in flat
    assert squash(str(p.values["location"])) in flat


def test_form_validation_reports_fields_in_chinese():
    form = sample_form().form
    errors = validate_form(form, {"kind": "买卖", "use": "住宅", "nonsense": "x",
                                  "licences": ["驾驶证"]})
    assert errors["kind"].startswith("登记类型应为")
    assert errors["cert_no"] == "请填写不动产权证书号"
    assert errors["nonsense"] == "表单中没有此项"
    assert "驾驶证" in errors["licences"]
    assert "use" not in errors
    with pytest.raises(ValueError, match="invalid values"):
        TEMPLATES["form"].render(dataclasses.replace(sample_form(), values={}))
    with pytest.raises(ValueError, match="options"):
        FormField("x", "x", "choice")
    with pytest.raises(ValueError, match="duplicate"):
        dataclasses.replace(form, sections=(FormSection("a", (FormField("k", "甲"),)),
                                            FormSection("b", (FormField("k", "乙"),))))


def test_a_changed_pdf_has_another_digest(rendered):
    data = rendered["material_list"][0]
    assert pdf_digest(data) == pdf_digest(bytes(data))
    changed = data.replace(b"/Producer", b"/Producex", 1)
    assert pdf_digest(changed) != pdf_digest(data)


@pytest.mark.parametrize("key", ["material_list", "receipt_80", "licence_copy"])
def test_printed_qr_code_reads_back_as_the_verification_url(rendered, key, tmp_path):
    """GIVEN a rendered document WHEN its page is rasterised as a printer would THEN a QR
    reader finds the verification URL (code included) on it."""
    import subprocess

    from PIL import Image
    from pyzbar.pyzbar import decode

    data, path = rendered[key]
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", str(pages), "-l", str(pages),
                    str(path), str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    found = {d.data.decode() for d in decode(Image.open(png))}
    assert STAMP.url in found
