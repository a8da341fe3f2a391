"""The S9/S10/S11 sandbox platforms over real HTTP: login, consent requests, data, submissions."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from sandbox.enterprise import DEMO_LICENCE_PASSWORD, employment_of
from sandbox.phone import PhoneClient, PhoneError
from workstation.services.enterprise import ARCHIVE_FILES, ARCHIVE_MANIFESTS, EnterprisePlatform
from workstation.services.model import HolderKind
from workstation.services.platform import PlatformError, PlatformUnavailable

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
def phone(sandbox):
    client = PhoneClient(sandbox.url)
    yield client
    client.close()


@pytest.fixture
def ent(platform_client):
    return EnterprisePlatform(platform_client)


def _later(minutes: int = 30) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def test_licence_login_confirmed_with_the_password(sandbox, ent, phone):
    company = sandbox.world.sample_enterprise(0)
    prompt = ent.open_licence_login("TEST-01")
    assert prompt.qr_text.startswith("EBLLOGIN1.")
    assert ent.login_status(prompt.ref).status == "pending"
    with pytest.raises(PhoneError) as wrong:
        phone.confirm_login(prompt.qr_text, company.credit_code, "000000")
    assert wrong.value.code == "password_wrong"
    phone.confirm_login(prompt.qr_text, company.credit_code, DEMO_LICENCE_PASSWORD)
    result = ent.login_status(prompt.ref)
    assert result.status == "confirmed" and result.credit_code == company.credit_code
    assert result.login_token and result.name == company.name
    with pytest.raises(PhoneError) as used:
        phone.confirm_login(prompt.qr_text, company.credit_code, DEMO_LICENCE_PASSWORD)
    assert used.value.code == "login_used"


def test_login_code_expires(sandbox, ent, phone):
    prompt = ent.open_licence_login("TEST-01")
    later = prompt.expires_at + dt.timedelta(seconds=1)
    sandbox.clock = lambda: later
    assert ent.login_status(prompt.ref).status == "expired"
    with pytest.raises(PhoneError) as expired:
        phone.confirm_login(prompt.qr_text, sandbox.world.sample_enterprise(0).credit_code,
                            DEMO_LICENCE_PASSWORD)
    assert expired.value.status == 410


def test_consent_request_approved_on_the_phone_gives_a_usable_consent(sandbox, ent, phone,
                                                                       platform_client):
    person = sandbox.world.person_with_all_licences
    prompt = ent.request_consent(
        kind=HolderKind.PERSON, holder_id=person.id_number, purpose="公积金提取",
        matter_code="GJJ-TQ", licence_types=["id_card", "marriage_cert"], expires_at=_later(),
        workstation_id="TEST-01")
    assert ent.consent_status(prompt.ref).status == "pending"
    other = sandbox.world.person_without_marriage_or_property
    with pytest.raises(PhoneError) as mismatch:
        phone.approve_consent(prompt.qr_text, other.id_number)
    assert mismatch.value.code == "holder_mismatch"
    phone.approve_consent(prompt.qr_text, person.id_number)
    answer = ent.consent_status(prompt.ref)
    assert answer.status == "approved" and answer.holder_id == person.id_number
    found = platform_client.search_licences(person.id_number, ["id_card"], answer.consent_ref,
                                            "公积金提取核验")
    assert [lic.type_key for lic in found] == ["id_card"]


def test_refused_consent_request(sandbox, ent, phone):
    person = sandbox.world.person_with_all_licences
    prompt = ent.request_consent(
        kind=HolderKind.PERSON, holder_id=person.id_number, purpose="公积金提取",
        matter_code="GJJ-TQ", licence_types=["id_card"], expires_at=_later(),
        workstation_id="TEST-01")
    phone.refuse_consent(prompt.qr_text)
    assert ent.consent_status(prompt.ref).status == "refused"


def test_employment_data_needs_the_scope_and_is_deterministic(sandbox, ent, phone):
    company = sandbox.world.sample_enterprise(1)
    prompt = ent.request_consent(
        kind=HolderKind.ENTERPRISE, holder_id=None, purpose="惠企政策匹配", matter_code="QXXL",
        licence_types=["business_licence"], data_scopes=["employment"], expires_at=_later(),
        workstation_id="TEST-01")
    phone.approve_consent(prompt.qr_text, company.credit_code)
    answer = ent.consent_status(prompt.ref)
    assert answer.holder_id == company.credit_code
    data = ent.employment(company.credit_code, answer.consent_ref, 2026)
    again = employment_of(sandbox.seed, company.credit_code, 2026, sandbox.world.as_of,
                          company.founded_on)
    assert data["employees"] == again["employees"] and data["enterprise"]["name"] == company.name
    for e in data["employees"]:
        assert e["hired_on"].startswith("2026")
    with pytest.raises(PlatformError) as other:
        ent.employment(sandbox.world.sample_enterprise(2).credit_code, answer.consent_ref, 2026)
    assert other.value.code == "consent_scope"


def test_archive_is_idempotent_and_a_lost_reply_is_not_a_duplicate(sandbox, platform_client):
    body = {"case_no": "C1", "licence_id": "L1", "type_key": "id_card",
            "content_b64": base64.b64encode(PNG).decode(),
            "sha256": hashlib.sha256(PNG).hexdigest()}
    sandbox.enterprise.down_after_files = 1
    with pytest.raises(PlatformUnavailable):
        platform_client.call_json("POST", ARCHIVE_FILES, "t", json=body, idempotency_key="k1")
    sandbox.faults.update({"down": False})
    again = platform_client.call_json("POST", ARCHIVE_FILES, "t", json=body,
                                      idempotency_key="k1")
    assert again["duplicate"] is True
    assert len(sandbox.enterprise.submissions.archive_files) == 1
    manifest = {"case_no": "C1", "business": "withdrawal",
                "files": [{"sha256": body["sha256"], "licence_id": "L1"}]}
    first = platform_client.call_json("POST", ARCHIVE_MANIFESTS, "t", json=manifest,
                                      idempotency_key="m1")
    assert first["status"] == "pending_approval"
    with pytest.raises(PlatformError) as missing:
        platform_client.call_json("POST", ARCHIVE_MANIFESTS, "t", idempotency_key="m2",
                                  json={**manifest, "case_no": "C2"})
    assert missing.value.code == "files_missing"
    with pytest.raises(PlatformError) as no_key:
        platform_client.call_json("POST", ARCHIVE_FILES, "t", json=body)
    assert no_key.value.status == 400


def test_new_routes_need_the_credential_and_obey_faults(sandbox):
    import httpx

    r = httpx.post(f"{sandbox.url}/api/v1/elicence/login-sessions", json={})
    assert r.status_code == 401
    sandbox.faults.update({"down": True})
    r = httpx.post(f"{sandbox.url}/api/v1/phone/consent", json={"qr_text": "x"})
    assert r.status_code == 503



def _registration_form(world, company) -> dict[str, str]:
    from workstation.services.trading_form import form_from_licence

    lic = world.licence_of(company.credit_code, "business_licence")
    return {**form_from_licence(lic.fields, lic.issuer, lic.valid_until),
            "industry_code": company.industry_code}


def test_trading_registration_checks_login_form_and_file(sandbox, ent, phone, platform_client):
    company = sandbox.world.sample_enterprise(0)
    prompt = ent.open_licence_login("TEST-01")
    phone.confirm_login(prompt.qr_text, company.credit_code, DEMO_LICENCE_PASSWORD)
    token = ent.login_status(prompt.ref).login_token
    form = _registration_form(sandbox.world, company)
    body = {"login_token": token, "form": form,
            "licence_file": {"name": "营业执照.png",
                             "content_b64": base64.b64encode(PNG).decode("ascii")}}
    path = "/api/v1/trading/registrations"

    def post(data, key="k1"):
        return platform_client.call_json("POST", path, "t", json=data, idempotency_key=key)

    first = post(body)
    assert first["status"] == "submitted" and first["duplicate"] is False
    assert post(body)["duplicate"] is True  # the same key: stored once
    assert len(sandbox.enterprise.submissions.registrations) == 1
    with pytest.raises(PlatformError) as bad:
        post({**body, "form": {**form, "street": "号" * 101}}, "k2")
    assert bad.value.message.startswith("单位地址（街道门牌）：")
    other = sandbox.world.sample_enterprise(1).credit_code
    with pytest.raises(PlatformError) as mismatch:
        post({**body, "form": {**form, "cert_no": other}}, "k3")
    assert mismatch.value.code == "holder_mismatch"
    with pytest.raises(PlatformError) as pdf:
        post({**body, "licence_file": {"name": "a.pdf", "content_b64": "JVBERg=="}}, "k4")
    assert "jpg/png" in pdf.value.message
    with pytest.raises(PlatformError) as login:
        post({**body, "login_token": "Tnope"}, "k5")
    assert login.value.code == "login_required"
