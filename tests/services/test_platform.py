"""PlatformClient against the real sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import io
import logging
import socket

import pytest
from PIL import Image

from workstation.services.model import HolderKind, Licence
from workstation.services.platform import (
    PlatformClient,
    PlatformError,
    PlatformUnavailable,
)


def _consent(client, holder_id, types, kind="person", minutes=10):
    return client.register_consent(
        kind=kind, holder_id=holder_id, purpose="办理社会保险登记", matter_code="SB-001",
        licence_types=types, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes),
        workstation_id="TEST-01", channel="counter",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- happy paths ------------------------------------------------------------------------------


def test_health_and_trust_list(platform_client):
    assert platform_client.health()["status"] == "ok"
    issuers = platform_client.trust_list()["issuers"]
    assert [i["kid"] for i in issuers] == ["ehb-2026", "nhsa-2026", "essc-2026"]


def test_issue_and_resolve_code(platform_client, sandbox):
    person = sandbox.world.sample_person(0)
    issued = platform_client.issue_code(person.id_number)
    assert issued.code.startswith("EHBID1.")
    assert issued.expires_at.tzinfo is not None
    assert issued.expires_at > dt.datetime.now(dt.UTC)
    holder = platform_client.resolve_code(issued.code)
    assert (holder.kind, holder.holder_id, holder.name) == (
        HolderKind.PERSON, person.id_number, person.name)
    assert person.id_number not in repr(holder) and person.name not in repr(holder)
    with pytest.raises(PlatformError) as refused:
        platform_client.resolve_code(issued.code)
    assert (refused.value.status, refused.value.code) == (409, "code_used")
    assert "已使用" in refused.value.message


def test_verify_holder(platform_client, sandbox):
    person = sandbox.world.sample_person(0)
    enterprise = sandbox.world.sample_enterprise(0)
    check = platform_client.verify_holder(HolderKind.PERSON, person.id_number, person.name)
    assert check.match and check.exists
    check = platform_client.verify_holder("person", person.id_number, "王冒名")
    assert not check.match and check.exists
    check = platform_client.verify_holder("enterprise", enterprise.credit_code, enterprise.name)
    assert check.match and check.exists


def test_consent_search_detail_thumbnail(platform_client, sandbox):
    person = sandbox.world.person_with_all_licences
    types = ["id_card", "household_register", "marriage_cert", "property_cert",
             "social_security_card"]
    receipt = _consent(platform_client, person.id_number, types)
    assert receipt.consent_ref and receipt.expires_at > dt.datetime.now(dt.UTC)

    licences = platform_client.search_licences(person.id_number, types, receipt.consent_ref,
                                               "办理社会保险登记")
    assert sorted(lic.type_key for lic in licences) == sorted(types)
    for lic in licences:
        assert isinstance(lic, Licence)
        assert lic == sandbox.world.licence(lic.licence_id)  # every field survives the trip
        assert isinstance(lic.issued_on, dt.date) and lic.holder_kind is HolderKind.PERSON
    marriage = next(lic for lic in licences if lic.type_key == "marriage_cert")
    assert marriage.valid_until is None  # 长期

    detail = platform_client.licence_detail(marriage.licence_id, receipt.consent_ref, "核对")
    assert detail == marriage
    png = platform_client.thumbnail(marriage.licence_id, receipt.consent_ref, "打印")
    assert Image.open(io.BytesIO(png)).format == "PNG"

    platform_client.revoke_consent(receipt.consent_ref)
    with pytest.raises(PlatformError) as refused:
        platform_client.search_licences(person.id_number, ["id_card"], receipt.consent_ref, "x")
    assert refused.value.code == "consent_revoked"


def test_enterprise_search(platform_client, sandbox):
    enterprise = sandbox.world.sample_enterprise(0)
    receipt = _consent(platform_client, enterprise.credit_code, ["business_licence"],
                       kind=HolderKind.ENTERPRISE)
    (lic,) = platform_client.search_licences(enterprise.credit_code, ["business_licence"],
                                             receipt.consent_ref, "办理变更登记")
    assert lic.holder_kind is HolderKind.ENTERPRISE and lic.type_name == "营业执照"


def test_one_client_serves_many_calls_and_closes(sandbox):
    with PlatformClient(sandbox.url, "ws-demo", "sandbox-secret") as client:
        for _ in range(20):
            assert client.health()["status"] == "ok"
    with pytest.raises(RuntimeError):
        client.health()  # closed


# -- refusals (4xx) ---------------------------------------------------------------------------


def test_wrong_credential_is_a_platform_error(sandbox):
    with PlatformClient(sandbox.url, "ws-demo", "wrong") as client, \
            pytest.raises(PlatformError) as refused:
        client.trust_list()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert "未授权" in refused.value.message


@pytest.mark.parametrize(("consent_types", "search_types", "code"), [
    (None, ["id_card"], "consent_required"),
    (["id_card"], ["property_cert"], "consent_scope"),
])
def test_consent_refusals(platform_client, sandbox, consent_types, search_types, code):
    person = sandbox.world.sample_person(0)
    ref = _consent(platform_client, person.id_number, consent_types).consent_ref \
        if consent_types else "CS-NONE"
    with pytest.raises(PlatformError) as refused:
        platform_client.search_licences(person.id_number, search_types, ref, "办事")
    assert (refused.value.status, refused.value.code) == (403, code)


def test_missing_reason(platform_client, sandbox):
    person = sandbox.world.sample_person(0)
    ref = _consent(platform_client, person.id_number, ["id_card"]).consent_ref
    with pytest.raises(PlatformError) as refused:
        platform_client.search_licences(person.id_number, ["id_card"], ref, "")
    assert (refused.value.status, refused.value.code) == (400, "reason_required")


def test_bad_consent_request(platform_client, sandbox):
    with pytest.raises(PlatformError) as refused:
        _consent(platform_client, sandbox.world.sample_person(0).id_number, ["business_licence"])
    assert refused.value.code == "invalid_request"


# -- unavailability ---------------------------------------------------------------------------


def test_down_platform_is_unavailable(platform_client, sandbox):
    sandbox.faults.down = True
    with pytest.raises(PlatformUnavailable) as down:
        platform_client.health()
    assert down.value.status == 503
    assert "电子证照平台" in down.value.message and "503" in down.value.message


def test_internal_errors_are_unavailable(platform_client, sandbox):
    sandbox.faults.update({"error_rate": 1.0})
    with pytest.raises(PlatformUnavailable) as failed:
        platform_client.trust_list()
    assert failed.value.status == 500


def test_slow_platform_times_out(sandbox):
    sandbox.faults.latency_ms = 1500
    with PlatformClient(sandbox.url, "ws-demo", "sandbox-secret", timeout_s=0.2) as client, \
            pytest.raises(PlatformUnavailable) as slow:
        client.health()
    assert slow.value.message == "无法连接电子证照平台（响应超时）"


def test_latency_within_timeout_succeeds(platform_client, sandbox):
    sandbox.faults.latency_ms = 100
    assert platform_client.health()["status"] == "ok"


def test_nothing_listening_is_unavailable():
    url = f"http://127.0.0.1:{_free_port()}"
    with PlatformClient(url, "ws-demo", "sandbox-secret", timeout_s=2) as client, \
            pytest.raises(PlatformUnavailable) as refused:
        client.health()
    assert refused.value.message == "无法连接电子证照平台（网络连接失败）"


def test_flaky_platform_recovers(platform_client, sandbox):
    sandbox.faults.update({"error_rate": 0.5, "seed": 3})
    outcomes = []
    for _ in range(20):
        try:
            platform_client.health()
            outcomes.append(True)
        except PlatformUnavailable:
            outcomes.append(False)
    assert True in outcomes and False in outcomes


# -- privacy ----------------------------------------------------------------------------------


def test_logs_hold_no_personal_data(platform_client, sandbox, caplog):
    caplog.set_level(logging.DEBUG, logger="workstation.services.platform")
    person = sandbox.world.person_with_all_licences
    code = platform_client.issue_code(person.id_number).code
    platform_client.resolve_code(code)
    platform_client.verify_holder("person", person.id_number, person.name)
    ref = _consent(platform_client, person.id_number, ["id_card"]).consent_ref
    (lic,) = platform_client.search_licences(person.id_number, ["id_card"], ref, "办事")
    platform_client.licence_detail(lic.licence_id, ref, "办事")
    with pytest.raises(PlatformError):
        platform_client.search_licences(person.id_number, ["marriage_cert"], ref, "办事")
    sandbox.faults.down = True
    with pytest.raises(PlatformUnavailable):
        platform_client.search_licences(person.id_number, ["id_card"], ref, "办事")
    text = caplog.text
    assert "licences/search" in text  # the calls are logged...
    for secret in (person.id_number, person.name, lic.licence_id, code, "sandbox-secret"):
        assert secret not in text  # ...but nothing about the person
