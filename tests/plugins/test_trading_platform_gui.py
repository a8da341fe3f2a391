"""S9 trading platform end to end through the shell, against the sandbox over real HTTP.

The representative's phone is ``sandbox.phone.PhoneClient``: it confirms (or refuses) the login
QR with the licence password and approves the second authorization.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PyQt6.QtCore import Qt

from plugins.trading_platform.page import TradingPage
from sandbox.enterprise import DEMO_LICENCE_PASSWORD
from sandbox.phone import PhoneClient, PhoneError
from tests.plugins.test_policy_match_gui import phone, window  # noqa: F401  (fixtures)
from workstation.services.model import HolderKind, IdentifiedBy
from workstation.services.trading_form import LICENCE_FILE_MAX_BYTES

PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def open_page(qtbot: Any, win: Any) -> TradingPage:
    qtbot.mouseClick(win.launcher.tiles["trading_platform"], Qt.MouseButton.LeftButton)
    page = win.stack.currentWidget()
    assert isinstance(page, TradingPage)
    return page


def show_login_qr(qtbot: Any, page: TradingPage) -> str:
    qtbot.mouseClick(page.login_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.login_qr.isVisible() and bool(page.login_qr.qr_text),
                    timeout=10000)
    assert page.login_qr.qr_text is not None
    return page.login_qr.qr_text


def log_in(qtbot: Any, page: TradingPage, mobile: PhoneClient, company: Any) -> None:
    qr = show_login_qr(qtbot, page)
    mobile.confirm_login(qr, company.credit_code, DEMO_LICENCE_PASSWORD)
    qtbot.waitUntil(lambda: page.home.isVisible(), timeout=10000)


def fetch_licence(qtbot: Any, page: TradingPage, mobile: PhoneClient, company: Any) -> None:
    qtbot.mouseClick(page.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.auth_qr.isVisible() and bool(page.auth_qr.qr_text),
                    timeout=10000)
    assert page.auth_qr.qr_text is not None
    mobile.approve_consent(page.auth_qr.qr_text, company.credit_code)
    qtbot.waitUntil(lambda: page.info is not None and not page.busy.isVisible(),
                    timeout=15000)


def submit(qtbot: Any, page: TradingPage) -> None:
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy.isVisible(), timeout=15000)


def test_login_fill_from_licence_and_register(qtbot, core, window, sandbox, phone):  # noqa: F811
    """GIVEN a previous applicant at the window WHEN an enterprise logs in by its licence QR,
    authorizes again and the clerk picks the industry THEN the form is filled from the licence,
    the licence picture attached, and the registration reaches the trading platform once."""
    company = sandbox.world.sample_enterprise(0)
    win = window(core)
    core.begin_session(_someone_else(sandbox))
    page = open_page(qtbot, win)
    qr = show_login_qr(qtbot, page)
    with pytest.raises(PhoneError) as wrong:
        phone.confirm_login(qr, company.credit_code, "123456")
    assert wrong.value.code == "password_wrong"
    assert not page.home.isVisible()
    phone.confirm_login(qr, company.credit_code, DEMO_LICENCE_PASSWORD)
    qtbot.waitUntil(lambda: page.home.isVisible(), timeout=10000)
    applicant = core.sessions.applicant
    assert applicant is not None and applicant.holder_id == company.credit_code
    assert applicant.kind is HolderKind.ENTERPRISE and applicant.identified_by is IdentifiedBy.CODE
    assert company.name in win.applicant_panel.who.text()
    assert not page.form_scroll.isVisible()
    assert sandbox.access_log == []  # logging in fetches no licence

    fetch_licence(qtbot, page, phone, company)
    values = page.form.values()
    lic = sandbox.world.licence_of(company.credit_code, "business_licence")
    assert values["cert_name"] == "营业执照" and values["cert_no"] == company.credit_code
    assert values["issuer"] == lic.issuer and values["country"] == "中国"
    assert values["founded_on"] == company.founded_on.isoformat()
    assert values["capital_wan"] == str(company.registered_capital_wan)
    assert values["enterprise_type"] == company.enterprise_type
    assert (values["province"], values["city"], values["district"]) == ("湖北省", "咸宁市",
                                                                        "赤壁市")
    assert values["valid_until"] == (company.term_until.isoformat() if company.term_until
                                     else "永久")
    assert page.licence_file is not None and page.licence_file.content.startswith(PNG_HEAD)
    assert "已授权" in win.applicant_panel.consents.text()

    submit(qtbot, page)  # the industry is not on the licence: asked for at its field
    assert page.form.error_of("industry_code") == "请选择国民经济行业分类"
    assert sandbox.enterprise.submissions.registrations == []
    page.form.set_industry(company.industry_code)
    submit(qtbot, page)
    qtbot.waitUntil(lambda: "已提交交易平台" in page.notice.text(), timeout=10000)
    registrations = sandbox.enterprise.submissions.registrations
    assert len(registrations) == 1 and registrations[0]["credit_code"] == company.credit_code
    assert registrations[0]["form"]["industry_code"] == company.industry_code
    assert registrations[0]["registration_no"] in page.notice.text()
    core.drain()
    assert company.credit_code not in str([e.details for e in core.audit.events(limit=200)])


def _someone_else(sandbox: Any) -> Any:
    from workstation.services.model import Applicant

    person = sandbox.world.person_with_all_licences
    return Applicant(kind=HolderKind.PERSON, holder_id=person.id_number, name=person.name,
                     identified_by=IdentifiedBy.CLERK)


def test_refused_login(qtbot, core, window, sandbox, phone):  # noqa: F811
    page = open_page(qtbot, window(core))
    phone.refuse_login(show_login_qr(qtbot, page))
    qtbot.waitUntil(lambda: "拒绝登录" in page.notice.text(), timeout=10000)
    assert not page.home.isVisible() and not page.login_qr.isVisible()
    assert core.sessions.applicant is None


def test_expired_login_code(qtbot, core, window, sandbox, phone):  # noqa: F811
    page = open_page(qtbot, window(core))
    qr = show_login_qr(qtbot, page)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=3)
    sandbox.clock = lambda: later
    qtbot.waitUntil(lambda: "已过期" in page.notice.text(), timeout=10000)
    assert not page.login_qr.isVisible() and core.sessions.applicant is None
    with pytest.raises(PhoneError) as expired:  # the phone is told so too
        phone.confirm_login(qr, sandbox.world.sample_enterprise(0).credit_code,
                            DEMO_LICENCE_PASSWORD)
    assert expired.value.code == "login_expired"
    sandbox.clock = lambda: dt.datetime.now(dt.UTC)
    log_in(qtbot, page, phone, sandbox.world.sample_enterprise(0))  # a fresh code works


def test_invalid_values_are_refused_at_their_fields(
    qtbot, core, window, sandbox, phone, tmp_path  # noqa: F811
):
    company = sandbox.world.sample_enterprise(1)
    page = open_page(qtbot, window(core))
    log_in(qtbot, page, phone, company)
    fetch_licence(qtbot, page, phone, company)
    form = page.form
    form.set_industry(company.industry_code)
    form.edits["issued_on"].setText("2015-02-30")
    form.edits["founded_on"].setText("20150423")
    form.edits["capital_wan"].setText("壹佰")
    form.edits["cert_no"].setText(sandbox.world.sample_enterprise(2).credit_code)
    form.street.setText("号" * 101)
    assert form.street_count.text() == "101/100"
    form.permanent.setChecked(False)
    form.edits["valid_until"].setText("2001-01-01")
    form.enterprise_type.setCurrentIndex(0)
    big = tmp_path / "执照.png"
    big.write_bytes(PNG_HEAD + b"0" * LICENCE_FILE_MAX_BYTES)
    page.choose_file = lambda _parent: str(big)
    qtbot.mouseClick(form.pick_file, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(form.error_of("licence_file")), timeout=5000)
    assert "不能超过 1M" in form.error_of("licence_file")
    submit(qtbot, page)
    assert form.error_of("issued_on") == "日期格式应为 YYYY-MM-DD"
    assert form.error_of("founded_on") == "日期格式应为 YYYY-MM-DD"
    assert form.error_of("capital_wan").startswith("注册资本应为大于 0 的数字")
    assert form.error_of("cert_no") == "证书编号应为登录企业的统一社会信用代码"
    assert form.error_of("street") == "街道门牌信息不能超过 100 个字（现 101 字）"
    assert form.error_of("valid_until") == "证书已过有效期，不能登记"
    assert form.error_of("enterprise_type") == "请选择企业类型"
    assert "有 7 项信息需要修改" in page.notice.text()
    assert sandbox.enterprise.submissions.registrations == []
    # a picked jpg of at most 1 MB replaces the platform's picture
    jpg = tmp_path / "执照.jpg"
    jpg.write_bytes(b"\xff\xd8\xff" + b"0" * (LICENCE_FILE_MAX_BYTES - 3))
    page.choose_file = lambda _parent: str(jpg)
    qtbot.mouseClick(form.pick_file, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.licence_file is not None
                    and page.licence_file.name == "执照.jpg", timeout=5000)
    assert form.error_of("licence_file") == ""


def test_platform_down_at_submission_is_queued_and_sent_once(
    qtbot, core, window, sandbox, phone  # noqa: F811
):
    company = sandbox.world.sample_enterprise(0)
    page = open_page(qtbot, window(core))
    log_in(qtbot, page, phone, company)
    fetch_licence(qtbot, page, phone, company)
    page.form.set_industry(company.industry_code)
    sandbox.faults.update({"down": True})
    submit(qtbot, page)
    qtbot.waitUntil(lambda: "待发送队列" in page.notice.text(), timeout=10000)
    assert sandbox.enterprise.submissions.registrations == []
    assert page.submission_key is not None
    item = core.outbox.get(page.submission_key)
    assert item is not None and not item.sent and item.attempts >= 1
    assert not page.submit_button.isEnabled()  # no second submission meanwhile
    sandbox.faults.update({"down": False})
    core.outbox.release(page.submission_key)  # due now instead of after the 5 s backoff
    qtbot.waitUntil(lambda: "已提交交易平台" in page.notice.text(), timeout=15000)
    registrations = sandbox.enterprise.submissions.registrations
    assert len(registrations) == 1 and registrations[0]["credit_code"] == company.credit_code
    core.outbox.deliver_due()
    assert len(sandbox.enterprise.submissions.registrations) == 1


def test_authorization_by_another_enterprise_fills_nothing(
    qtbot, core, window, sandbox, phone  # noqa: F811
):
    company, other = sandbox.world.sample_enterprise(0), sandbox.world.sample_enterprise(1)
    page = open_page(qtbot, window(core))
    log_in(qtbot, page, phone, company)
    qtbot.mouseClick(page.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.auth_qr.qr_text), timeout=10000)
    assert page.auth_qr.qr_text is not None
    with pytest.raises(PhoneError) as mismatch:
        phone.approve_consent(page.auth_qr.qr_text, other.credit_code)
    assert mismatch.value.code == "holder_mismatch"
    phone.refuse_consent(page.auth_qr.qr_text)
    qtbot.waitUntil(lambda: "未同意授权" in page.notice.text(), timeout=10000)
    assert page.info is None and sandbox.access_log == []
    assert page.form.values()["cert_no"] == ""
