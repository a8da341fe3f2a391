"""申请材料清单: content, fonts, page numbering, Chinese line breaking, masking."""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import pytest
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import paragraph as rl_paragraph

from printing.layout import (
    CANNOT_END,
    CANNOT_START,
    CJKParagraph,
    break_cjk_lines,
    get_styles,
)
from printing.material_list import (
    MaterialListDocument,
    MaterialListItem,
    render_material_list,
    sample_material_list,
)
from tests.printing.pdf_inspect import page_texts, pdffonts, pdftotext, pypdf_fonts, squash

FULL_ID = "421281199003150018"  # what the sample's masked number stands for (synthetic)


@pytest.fixture(scope="module")
def sample() -> MaterialListDocument:
    return sample_material_list()


@pytest.fixture(scope="module")
def sample_pdf(sample, tmp_path_factory) -> tuple[bytes, Path]:
    data = render_material_list(sample)
    path = tmp_path_factory.mktemp("ml") / "sample.pdf"
    path.write_bytes(data)
    return data, path


def _long_document(base: MaterialListDocument, copies: int = 5) -> MaterialListDocument:
    items = [
        dataclasses.replace(item, name=f"{item.name}（{n + 1}）")
        for n in range(copies) for item in base.items
    ]
    return dataclasses.replace(base, items=items)


# --------------------------------------------------------------------------- fonts


def test_every_font_is_embedded_truetype(sample_pdf):
    data, path = sample_pdf
    fonts = pdffonts(path)
    assert fonts
    for f in fonts:
        assert f.embedded, f
        assert f.type == "TrueType", f
        assert "helvetica" not in f.name.lower() and "stsong" not in f.name.lower()
        assert re.match(r"^[A-Z]{6}\+", f.name), f"not a subset: {f.name}"
    parsed = pypdf_fonts(data)
    assert parsed and all(parsed.values()), parsed


# --------------------------------------------------------------------------- content


def test_text_reads_back(sample, sample_pdf):
    data, path = sample_pdf
    texts = page_texts(data)
    assert len(texts) == 1
    flat = squash(texts[0])
    assert "申请材料清单" in flat
    assert squash(sample.matter_name) in flat
    for item in sample.items:
        assert squash(item.name) in flat, item.name
    for label in ("办理事项", "事项编码", "受理部门", "申请人", "证件号码", "身份核验方式",
                  "受理编号", "受理窗口/工作站", "经办人", "日期"):
        assert label in flat, label
    for col in ("序号", "材料名称", "提交方式", "电子证照", "备注"):
        assert col in flat
    assert "第1页共1页" in flat
    assert re.search(r"第\s*1\s*页\s*共\s*1\s*页", pdftotext(path))


def test_provided_and_paper_materials_are_labelled(sample, sample_pdf):
    flat = squash(page_texts(sample_pdf[0])[0])
    provided = [i for i in sample.items if i.status == "provided"]
    to_submit = [i for i in sample.items if i.status == "to_submit"]
    assert flat.count("电子证照免提交") >= len(provided)
    assert flat.count("需提交纸质材料") >= len(to_submit)
    for item in provided:
        assert item.licence_type_name in flat
        assert squash(item.licence_id or "") in flat
    assert f"免提交{len(provided)}项，需提交{len(to_submit)}项" in flat
    assert "受理专用章（电子）" in flat


def test_masked_id_is_printed_and_full_id_is_never_accepted(sample, sample_pdf):
    flat = squash(page_texts(sample_pdf[0])[0])
    assert sample.applicant_id_masked in flat
    assert FULL_ID not in flat
    # the document type only takes a masked number: a full one is refused
    with pytest.raises(ValueError, match="masked"):
        dataclasses.replace(sample, applicant_id_masked=FULL_ID)
    assert "applicant_id_masked" in {f.name for f in dataclasses.fields(MaterialListDocument)}
    assert not any(f.name in ("holder_id", "id_number", "applicant_id")
                   for f in dataclasses.fields(MaterialListDocument))


def test_offline_note_is_shown_only_when_offline(sample):
    note = "平台离线，证照数据截至 2024年5月20日 09:00"
    offline = squash(page_texts(render_material_list(
        dataclasses.replace(sample, offline_note=note)))[0])
    assert squash(note) in offline
    online = squash(page_texts(render_material_list(sample))[0])
    assert "平台离线" not in online


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status"):
        MaterialListItem("材料", "lost")  # type: ignore[arg-type]


def test_empty_list_still_renders(sample):
    data = render_material_list(dataclasses.replace(sample, items=[]))
    flat = squash(page_texts(data)[0])
    assert "免提交0项，需提交0项" in flat


# --------------------------------------------------------------------------- pages


def test_long_list_spans_pages_with_numbered_footer_and_repeated_header(sample, tmp_path):
    doc = _long_document(sample, copies=5)
    data = render_material_list(doc)
    texts = page_texts(data)
    total = len(texts)
    assert total >= 2
    for n, text in enumerate(texts, start=1):
        flat = squash(text)
        assert f"第{n}页共{total}页" in flat, (n, flat[-80:])
        assert "赤壁市政务服务中心" in flat  # header: issuing unit
    # every page holding table rows repeats the table header
    for text in texts[:-1]:
        assert "序号" in text and "材料名称" in text
    everything = squash("".join(texts))
    for item in doc.items:
        assert squash(item.name) in everything
    path = tmp_path / "long.pdf"
    path.write_bytes(data)
    assert re.search(rf"第\s*{total}\s*页\s*共\s*{total}\s*页", pdftotext(path))
    assert all(f.embedded for f in pdffonts(path))


# --------------------------------------------------------------------------- line breaking


def _width(text: str, size: float = 10) -> float:
    st = get_styles()
    return stringWidth(text, st.fonts.regular, size)


def test_line_break_helper_never_starts_a_line_with_a_comma():
    """GIVEN a width that fits exactly ten characters and a comma as the eleventh
    WHEN broken THEN the tenth character moves down with the comma (no line starts with ，)."""
    font = get_styles().fonts.regular
    text = "一二三四五六七八九十，甲乙丙丁戊己庚辛壬癸。"
    width = _width("一二三四五六七八九十")
    lines = break_cjk_lines(text, font, 10, width)
    assert "".join(lines) == text
    assert lines[0] == "一二三四五六七八九"
    assert lines[1].startswith("十，")
    for line in lines:
        assert line[0] not in CANNOT_START
        assert _width(line) <= width + 0.01


@pytest.mark.parametrize("mark", list("，。、：；？！）」』”’》"))
def test_no_line_starts_with_closing_punctuation(mark):
    font = get_styles().fonts.regular
    text = ("申请材料" * 3 + mark) * 6
    for chars in range(3, 14):
        width = _width("字" * chars)
        lines = break_cjk_lines(text, font, 10, width)
        assert "".join(lines) == text
        for line in lines:
            assert line[0] not in CANNOT_START, (chars, lines)
            assert _width(line) <= width + 0.01


def test_opening_marks_never_end_a_line_and_dashes_stay_whole():
    font = get_styles().fonts.regular
    text = "经办人说：“材料齐全——可以受理。”《不动产登记暂行条例》（2024年修订）" * 3
    for chars in range(4, 16):
        width = _width("字" * chars)
        lines = break_cjk_lines(text, font, 10, width)
        assert "".join(lines) == text
        for a, b in itertools.pairwise(lines):
            assert a[-1] not in CANNOT_END, (chars, a, b)
            assert b[0] not in CANNOT_START, (chars, a, b)
            assert not (a[-1] == "—" and b[0] == "—"), (chars, a, b)


def test_latin_codes_break_after_a_dot_not_inside_a_number():
    font = get_styles().fonts.regular
    code = "1.2.156.3005.2.111000000000131433.11421281MB1520491B.2019004417.001.K"
    lines = break_cjk_lines(code, font, 8, 60 * mm)
    assert "".join(lines) == code
    assert len(lines) >= 2
    for line in lines[:-1]:
        assert line.endswith("."), lines


def test_paragraph_uses_the_same_rules_and_reportlab_list_is_extended():
    st = get_styles()
    text = "一二三四五六七八九十，甲乙丙丁戊己庚辛壬癸。"
    p = CJKParagraph(text, st.cell)
    p.wrap(_width("一二三四五六七八九十") + 0.5, 1000)
    lines = ["".join(w.text for w in line.words) for line in p.blPara.lines]
    assert lines[0] == "一二三四五六七八九"
    assert all(line[0] not in CANNOT_START for line in lines)
    for mark in "，：；”":
        assert mark in rl_paragraph.ALL_CANNOT_START


def test_no_rendered_table_line_starts_with_chinese_punctuation(sample):
    """GIVEN notes with a comma at every position of a cell line
    WHEN the list is rendered THEN no extracted text line starts with a closing mark."""
    items = [
        MaterialListItem(f"材料{'甲' * k}，说明", "to_submit",
                         note=f"{'乙' * k}，{'丙' * 9}。{'丁' * (k % 4)}；戊")
        for k in range(1, 15)
    ]
    data = render_material_list(dataclasses.replace(sample, items=items))
    lines = [ln.strip() for text in page_texts(data) for ln in text.splitlines()]
    offenders = [ln for ln in lines if ln and ln[0] in CANNOT_START]
    assert not offenders
