"""S6 logic without Qt: the platform client, the citizen's choices, the printed documents."""

from __future__ import annotations

import datetime as dt

import pytest

from plugins.social_security_print.logic import (
    ChoiceError,
    HrssError,
    certificate_document,
    check_certificate,
    check_rights,
    load_summary,
    period_for,
    rights_document,
    sign_in_method,
    sign_in_text,
)
from sandbox.social_security import ACTIVE
from tests.printing.pdf_inspect import page_texts, squash
from workstation.api import Applicant, HolderKind, IdentifiedBy


def applicant_for(holder_id: str, name: str, *, card: bool = False,
                  source: str = "wechat_miniprogram") -> Applicant:
    if card:
        return Applicant(kind=HolderKind.PERSON, holder_id=holder_id, name=name,
                         identified_by=IdentifiedBy.CARD,
                         extra={"card": "SocialSecurityCardData"})
    labels = {"wechat_miniprogram": "微信电子社保卡小程序", "hubei_12333": "湖北12333公众号"}
    return Applicant(kind=HolderKind.PERSON, holder_id=holder_id, name=name,
                     identified_by=IdentifiedBy.CODE,
                     extra={"code_format": "essc", "code_source": source,
                            "code_source_label": labels[source]})


@pytest.fixture
def worker(sandbox):
    history = sandbox.social_security.find(
        lambda h: h.status_of("pension") == ACTIVE and len(h.years()) >= 6)
    return applicant_for(history.holder_id, history.name)


@pytest.fixture
def ctx(scenario_context):
    return scenario_context("social_security_print")


def test_sign_in_names_the_method_and_the_app(worker):
    assert sign_in_method(worker) == "essc"
    assert sign_in_text(worker) == "电子社保卡（微信电子社保卡小程序）"
    card = applicant_for(worker.holder_id, worker.name, card=True)
    assert (sign_in_method(card), sign_in_text(card)) == ("ss_card", "社会保障卡")
    typed = Applicant(kind=HolderKind.PERSON, holder_id=worker.holder_id, name=worker.name,
                      identified_by=IdentifiedBy.CLERK)
    with pytest.raises(ChoiceError):
        sign_in_method(typed)


def test_summary_and_choices(ctx, worker):
    summary = load_summary(ctx, worker)
    assert summary.person.name == worker.name and summary.line("pension").end is None
    start, end = period_for(summary, 12)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == 11
    assert end == summary.last_month
    choice = check_certificate(summary, ["medical", "pension"], 12, "办理子女入学")
    assert choice.types == ("pension", "medical")  # the documents' order
    with pytest.raises(ChoiceError, match="至少"):
        check_certificate(summary, [], 12, "办理子女入学")
    with pytest.raises(ChoiceError, match="最多"):
        check_certificate(summary, ["pension", "medical", "unemployment", "injury",
                                    "maternity"], 12, "办理子女入学")
    with pytest.raises(ChoiceError, match="期间"):
        check_certificate(summary, ["pension"], 7, "办理子女入学")
    with pytest.raises(ChoiceError, match="用途"):
        check_certificate(summary, ["pension"], 12, "随便写的")
    with pytest.raises(ChoiceError, match="年度"):
        check_rights(summary, 1990, "个人留存")
    assert check_rights(summary, summary.years[-1], "个人留存").year == summary.years[-1]


def test_the_period_starts_no_earlier_than_the_first_insured_month(ctx, sandbox):
    history = sandbox.social_security.find(
        lambda h: h.status_of("pension") == ACTIVE and len(h.years()) <= 3)
    summary = load_summary(ctx, applicant_for(history.holder_id, history.name))
    start, _ = period_for(summary, 60)
    assert start == dt.date(history.first_insured_on.year, history.first_insured_on.month, 1)


def test_documents_render_with_masked_id_and_the_purpose(ctx, worker):
    summary = load_summary(ctx, worker)
    choice = check_certificate(summary, ["pension", "injury"], 6, "求职应聘")
    cert = certificate_document(ctx, worker, summary, choice)
    assert len({(c.year, c.month) for c in cert.contributions}) == 6
    text = squash("".join(page_texts(ctx.templates.render("insurance_certificate", cert))))
    assert "求职应聘" in text and "工伤保险" in text
    assert worker.holder_id not in text and worker.holder_id[-4:] in text
    year = summary.years[-2]
    record = rights_document(ctx, worker, summary, check_rights(summary, year, "个人留存"))
    assert record.year == year and len(record.balances) == 2
    text = squash("".join(page_texts(ctx.templates.render("rights_record", record))))
    assert f"{year}年度社会保险个人权益记录单" in text and worker.holder_id not in text


def test_platform_down_is_a_clear_unavailable_error(ctx, worker, sandbox):
    sandbox.faults.update({"down": True})
    with pytest.raises(HrssError) as failed:
        load_summary(ctx, worker)
    assert failed.value.unavailable and "暂时无法连接社保信息系统" in failed.value.message
