"""The sandbox server over real HTTP: the contract's shapes, credentials, consent rules,
access log, faults and the command line. Raw httpx here; the workstation client has its own
tests in tests/services/test_platform.py."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image

from sandbox.server import SandboxServer
from workstation.services.licence_ids import is_valid_licence_id

AUTH = {"X-Client-Id": "ws-demo", "Authorization": "Bearer sandbox-secret"}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def http(sandbox):
    with httpx.Client(base_url=sandbox.url, timeout=5.0) as client:
        yield client


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _in(minutes: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def _consent(http, holder_id, types, *, kind="person", minutes=10, headers=AUTH):
    reply = http.post("/api/v1/consents", headers=headers, json={
        "kind": kind, "holder_id": holder_id, "purpose": "办理城乡居民医保参保登记",
        "matter_code": "YB-001", "licence_types": types, "expires_at": _in(minutes),
        "workstation_id": "TEST-01", "channel": "counter",
    })
    assert reply.status_code == 200, reply.text
    return reply.json()["consent_ref"]


def _search(http, holder_id, types, consent_ref, reason="办理城乡居民医保参保登记", headers=AUTH):
    return http.post("/api/v1/licences/search", headers=headers, json={
        "holder_id": holder_id, "types": types, "consent_ref": consent_ref, "reason": reason})


def _error(reply, status, code):
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["error"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])  # a Chinese message


# -- health, credentials, routing -------------------------------------------------------------


def test_health_needs_no_credential(http):
    body = http.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert dt.datetime.fromisoformat(body["time"]).tzinfo is not None


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/trust-list"),
    ("POST", "/api/v1/codes/resolve"),
    ("POST", "/api/v1/holders/verify"),
    ("POST", "/api/v1/consents"),
    ("POST", "/api/v1/consents/CS1/revoke"),
    ("POST", "/api/v1/licences/search"),
    ("GET", "/api/v1/licences/1.2.156.3005.2.x"),
    ("GET", "/api/v1/licences/1.2.156.3005.2.x/thumbnail"),
])
@pytest.mark.parametrize("headers", [
    {},
    {"X-Client-Id": "ws-demo"},
    {"X-Client-Id": "ws-demo", "Authorization": "Bearer wrong"},
    {"X-Client-Id": "someone", "Authorization": "Bearer sandbox-secret"},
    {"Authorization": "Bearer sandbox-secret"},
])
def test_api_calls_without_the_credential_are_unauthorized(http, method, path, headers):
    _error(http.request(method, path, headers=headers, json={}), 401, "unauthorized")


def test_unknown_route_and_wrong_method(http):
    _error(http.get("/api/v1/nothing", headers=AUTH), 404, "not_found")
    _error(http.get("/api/v1/consents", headers=AUTH), 405, "method_not_allowed")


def test_body_must_be_a_json_object(http):
    reply = http.post("/api/v1/holders/verify", headers=AUTH, content=b"{not json")
    _error(reply, 400, "invalid_request")
    _error(http.post("/api/v1/holders/verify", headers=AUTH, json=[1]), 400, "invalid_request")


# -- trust list and identity codes -----------------------------------------------------------


def test_trust_list_shape_and_stability(http, sandbox):
    body = http.get("/api/v1/trust-list", headers=AUTH).json()
    by_kid = {i["kid"]: i for i in body["issuers"]}
    assert {kid: i["issuer"] for kid, i in by_kid.items()} == {
        "ehb-2026": "鄂汇办", "nhsa-2026": "国家医保信息平台", "essc-2026": "全国电子社保卡平台",
    }
    issuer = by_kid["ehb-2026"]
    assert issuer["kid"] == "ehb-2026" and issuer["alg"] == "Ed25519"
    assert issuer["issuer"] == "鄂汇办"
    assert len(base64.b64decode(issuer["public_key"])) == 32
    assert dt.datetime.fromisoformat(issuer["not_before"]) < dt.datetime.now(dt.UTC) < \
        dt.datetime.fromisoformat(issuer["not_after"])
    # The key is derived from the seed: the same after a restart, different for another seed.
    same_seed = SandboxServer(seed=sandbox.seed, world=sandbox.world).trust_list()
    assert same_seed["issuers"][0]["public_key"] == issuer["public_key"]
    other_seed = SandboxServer(seed=sandbox.seed + 1, world=sandbox.world).trust_list()
    assert other_seed["issuers"][0]["public_key"] != issuer["public_key"]


def test_issued_code_follows_the_contract(http, sandbox):
    person = sandbox.world.sample_person(0)
    reply = http.post("/api/v1/codes/issue", json={"holder_id": person.id_number,
                                                   "kind": "ehb_identity"})
    assert reply.status_code == 200
    code = reply.json()["code"]
    prefix, payload_b64, signature_b64 = code.split(".")
    assert prefix == "EHBID1" and "=" not in code
    claims = json.loads(_b64url(payload_b64))
    assert set(claims) == {"v", "kid", "iss", "typ", "jti", "iat", "exp", "sub", "src"}
    assert (claims["v"], claims["kid"], claims["iss"], claims["typ"]) == (
        1, "ehb-2026", "鄂汇办", "identity")
    assert len(claims["jti"]) == 16 and int(claims["jti"], 16) >= 0
    assert claims["exp"] - claims["iat"] == 60
    assert person.id_number not in code and person.id_number not in claims["sub"]
    assert dt.datetime.fromisoformat(reply.json()["expires_at"]).timestamp() == claims["exp"]
    key = http.get("/api/v1/trust-list", headers=AUTH).json()["issuers"][0]["public_key"]
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key)).verify(
        _b64url(signature_b64), f"{prefix}.{payload_b64}".encode("ascii"))


def test_code_issue_refusals(http, sandbox):
    _error(http.post("/api/v1/codes/issue", json={"holder_id": "110105194912310021"}),
           404, "holder_not_found")
    enterprise = sandbox.world.sample_enterprise(0)
    _error(http.post("/api/v1/codes/issue", json={"holder_id": enterprise.credit_code}),
           400, "invalid_request")
    person = sandbox.world.sample_person(0)
    _error(http.post("/api/v1/codes/issue", json={"holder_id": person.id_number, "kind": "x"}),
           400, "invalid_request")


def test_code_resolves_once(http, sandbox):
    person = sandbox.world.sample_person(3)
    code = http.post("/api/v1/codes/issue", json={"holder_id": person.id_number}).json()["code"]
    reply = http.post("/api/v1/codes/resolve", headers=AUTH, json={"code": code})
    assert reply.status_code == 200
    body = reply.json()
    assert body["holder"] == {"kind": "person", "holder_id": person.id_number,
                              "name": person.name}
    assert body["jti"] == json.loads(_b64url(code.split(".")[1]))["jti"]
    _error(http.post("/api/v1/codes/resolve", headers=AUTH, json={"code": code}),
           409, "code_used")


def test_expired_code(http, sandbox):
    person = sandbox.world.sample_person(0)
    code = http.post("/api/v1/codes/issue", json={"holder_id": person.id_number}).json()["code"]
    real = sandbox.clock
    sandbox.clock = lambda: real() + dt.timedelta(seconds=61)
    _error(http.post("/api/v1/codes/resolve", headers=AUTH, json={"code": code}),
           410, "code_expired")


def test_tampered_and_malformed_codes(http, sandbox):
    person = sandbox.world.sample_person(0)
    code = http.post("/api/v1/codes/issue", json={"holder_id": person.id_number}).json()["code"]
    prefix, payload_b64, signature_b64 = code.split(".")
    claims = json.loads(_b64url(payload_b64))
    claims["exp"] += 3600
    forged_payload = base64.urlsafe_b64encode(
        json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    _error(http.post("/api/v1/codes/resolve", headers=AUTH,
                     json={"code": f"{prefix}.{forged_payload}.{signature_b64}"}),
           400, "signature_invalid")
    for bad in ("hello", "EHBID1.abc", "EHBID1.!!!.abc", f"EHBID2.{payload_b64}.{signature_b64}"):
        _error(http.post("/api/v1/codes/resolve", headers=AUTH, json={"code": bad}),
               400, "code_invalid")
    # The untouched code still works: failed attempts do not consume it.
    assert http.post("/api/v1/codes/resolve", headers=AUTH, json={"code": code}).status_code == 200


def test_rotated_key_is_published_and_used(http, sandbox):
    sandbox.rotate_signing_key("ehb-2027")
    kids = [i["kid"] for i in http.get("/api/v1/trust-list", headers=AUTH).json()["issuers"]]
    assert kids == ["ehb-2026", "nhsa-2026", "essc-2026", "ehb-2027"]
    person = sandbox.world.sample_person(0)
    code = http.post("/api/v1/codes/issue", json={"holder_id": person.id_number}).json()["code"]
    assert json.loads(_b64url(code.split(".")[1]))["kid"] == "ehb-2027"
    assert http.post("/api/v1/codes/resolve", headers=AUTH, json={"code": code}).status_code == 200
    sandbox.reset()
    kids = [i["kid"] for i in http.get("/api/v1/trust-list", headers=AUTH).json()["issuers"]]
    assert kids == ["ehb-2026", "nhsa-2026", "essc-2026"]


# -- holders -----------------------------------------------------------------------------------


def test_holder_verification(http, sandbox):
    person = sandbox.world.sample_person(0)
    enterprise = sandbox.world.sample_enterprise(0)

    def verify(kind, holder_id, name):
        reply = http.post("/api/v1/holders/verify", headers=AUTH,
                          json={"kind": kind, "holder_id": holder_id, "name": name})
        assert reply.status_code == 200
        return reply.json()

    assert verify("person", person.id_number, person.name) == {"match": True, "exists": True}
    assert verify("person", person.id_number, "张冒名") == {"match": False, "exists": True}
    assert verify("person", "110105194912310021", "张三") == {"match": False, "exists": False}
    assert verify("enterprise", enterprise.credit_code, enterprise.name) == {
        "match": True, "exists": True}
    assert verify("person", enterprise.credit_code, enterprise.name) == {
        "match": False, "exists": False}
    _error(http.post("/api/v1/holders/verify", headers=AUTH,
                     json={"kind": "alien", "holder_id": "x", "name": "y"}),
           400, "invalid_request")


# -- consents and licences ---------------------------------------------------------------------


def test_licence_search_detail_and_thumbnail(http, sandbox):
    person = sandbox.world.person_with_all_licences
    ref = _consent(http, person.id_number, ["id_card", "marriage_cert"])
    reply = _search(http, person.id_number, ["id_card", "marriage_cert"], ref)
    assert reply.status_code == 200
    licences = reply.json()["licences"]
    assert sorted(lic["type_key"] for lic in licences) == ["id_card", "marriage_cert"]
    for lic in licences:
        assert set(lic) == {"licence_id", "type_key", "holder_kind", "holder_id", "holder_name",
                            "issuer", "issuer_code", "issued_on", "valid_from", "valid_until",
                            "fields", "status"}
        assert is_valid_licence_id(lic["licence_id"])
        assert lic["holder_id"] == person.id_number and lic["holder_name"] == person.name
        assert lic["status"] == "valid"
        dt.date.fromisoformat(lic["issued_on"])
    id_card = next(lic for lic in licences if lic["type_key"] == "id_card")
    assert id_card["fields"]["公民身份号码"] == person.id_number

    params = {"consent_ref": ref, "reason": "核对身份证"}
    detail = http.get(f"/api/v1/licences/{id_card['licence_id']}", headers=AUTH, params=params)
    assert detail.status_code == 200 and detail.json() == id_card

    png = http.get(f"/api/v1/licences/{id_card['licence_id']}/thumbnail", headers=AUTH,
                   params=params)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (480, 300)
    licence = sandbox.world.licence(id_card["licence_id"])
    assert sandbox.thumbnails.get(licence) is sandbox.thumbnails.get(licence)  # memoised

    _error(http.get("/api/v1/licences/1.2.156.3005.2.nothing", headers=AUTH, params=params),
           404, "not_found")


def test_enterprise_licence_search(http, sandbox):
    enterprise = sandbox.world.sample_enterprise(0)
    ref = _consent(http, enterprise.credit_code, ["business_licence"], kind="enterprise")
    (lic,) = _search(http, enterprise.credit_code, ["business_licence"], ref).json()["licences"]
    assert lic["holder_kind"] == "enterprise"
    assert lic["fields"]["统一社会信用代码"] == enterprise.credit_code


def test_statuses_are_served(http, sandbox):
    world = sandbox.world
    person = world.person_with_expired_id_card
    ref = _consent(http, person.id_number, ["id_card"])
    (lic,) = _search(http, person.id_number, ["id_card"], ref).json()["licences"]
    assert lic["status"] == "expired"
    enterprise = world.enterprise_with_revoked_licence
    ref = _consent(http, enterprise.credit_code, ["business_licence"], kind="enterprise")
    (lic,) = _search(http, enterprise.credit_code, ["business_licence"], ref).json()["licences"]
    assert lic["status"] == "revoked"


def test_long_term_licence_has_null_end(http, sandbox):
    person = sandbox.world.person_with_all_licences
    ref = _consent(http, person.id_number, ["marriage_cert"])
    (lic,) = _search(http, person.id_number, ["marriage_cert"], ref).json()["licences"]
    assert lic["valid_until"] is None


def test_search_refused_without_consent(http, sandbox):
    person = sandbox.world.sample_person(0)
    _error(_search(http, person.id_number, ["id_card"], ""), 403, "consent_required")
    _error(_search(http, person.id_number, ["id_card"], "CS-NO-SUCH"), 403, "consent_required")
    assert sandbox.access_log == []


def test_search_refused_outside_the_consent(http, sandbox):
    person = sandbox.world.sample_person(0)
    other = sandbox.world.sample_person(1)
    ref = _consent(http, person.id_number, ["id_card"])
    _error(_search(http, person.id_number, ["property_cert"], ref), 403, "consent_scope")
    _error(_search(http, person.id_number, ["id_card", "property_cert"], ref), 403,
           "consent_scope")
    _error(_search(http, other.id_number, ["id_card"], ref), 403, "consent_scope")
    other_licence = sandbox.world.licence_of(other.id_number, "id_card")
    _error(http.get(f"/api/v1/licences/{other_licence.licence_id}", headers=AUTH,
                    params={"consent_ref": ref, "reason": "x"}), 403, "consent_scope")
    assert sandbox.access_log == []


def test_search_refused_with_expired_consent(http, sandbox):
    person = sandbox.world.sample_person(0)
    ref = _consent(http, person.id_number, ["id_card"], minutes=5)
    real = sandbox.clock
    sandbox.clock = lambda: real() + dt.timedelta(minutes=6)
    _error(_search(http, person.id_number, ["id_card"], ref), 403, "consent_expired")


def test_search_refused_with_revoked_consent(http, sandbox):
    person = sandbox.world.sample_person(0)
    ref = _consent(http, person.id_number, ["id_card"])
    assert _search(http, person.id_number, ["id_card"], ref).status_code == 200
    reply = http.post(f"/api/v1/consents/{ref}/revoke", headers=AUTH)
    assert reply.json() == {"revoked": True}
    _error(_search(http, person.id_number, ["id_card"], ref), 403, "consent_revoked")
    _error(http.post("/api/v1/consents/CS-NO-SUCH/revoke", headers=AUTH), 404, "not_found")


def test_search_refused_without_reason(http, sandbox):
    person = sandbox.world.sample_person(0)
    ref = _consent(http, person.id_number, ["id_card"])
    _error(_search(http, person.id_number, ["id_card"], ref, reason=""), 400, "reason_required")
    _error(_search(http, person.id_number, ["id_card"], ref, reason="   "), 400,
           "reason_required")
    lic = sandbox.world.licence_of(person.id_number, "id_card")
    _error(http.get(f"/api/v1/licences/{lic.licence_id}", headers=AUTH,
                    params={"consent_ref": ref}), 400, "reason_required")
    assert sandbox.access_log == []


def test_consent_of_another_client_is_not_usable(sandbox):
    second = SandboxServer(client_credentials={"ws-a": "a", "ws-b": "b"}, world=sandbox.world)
    with second, httpx.Client(base_url=second.url, timeout=5.0) as http:
        person = second.world.sample_person(0)
        ref = _consent(http, person.id_number, ["id_card"],
                       headers={"X-Client-Id": "ws-a", "Authorization": "Bearer a"})
        _error(_search(http, person.id_number, ["id_card"], ref,
                       headers={"X-Client-Id": "ws-b", "Authorization": "Bearer b"}),
               403, "consent_required")


@pytest.mark.parametrize(("change", "why"), [
    ({"licence_types": []}, "no types"),
    ({"licence_types": ["passport"]}, "unknown type"),
    ({"licence_types": ["business_licence"]}, "type of the other holder kind"),
    ({"holder_id": "110105194912310020"}, "bad check character"),
    ({"kind": "robot"}, "bad kind"),
    ({"purpose": ""}, "no purpose"),
    ({"expires_at": "2000-01-01T00:00:00+08:00"}, "already expired"),
    ({"expires_at": "tomorrow"}, "not a time"),
])
def test_bad_consent_requests(http, sandbox, change, why):
    body = {"kind": "person", "holder_id": sandbox.world.sample_person(0).id_number,
            "purpose": "测试", "matter_code": "M", "licence_types": ["id_card"],
            "expires_at": _in(5), "workstation_id": "W", "channel": "counter"} | change
    _error(http.post("/api/v1/consents", headers=AUTH, json=body), 400, "invalid_request")


def test_access_log_records_who_asked_for_what(http, sandbox):
    person = sandbox.world.person_with_all_licences
    ref = _consent(http, person.id_number, ["id_card", "property_cert"])
    licences = _search(http, person.id_number, ["id_card", "property_cert"], ref,
                       reason="不动产登记").json()["licences"]
    first = licences[0]["licence_id"]
    http.get(f"/api/v1/licences/{first}", headers=AUTH,
             params={"consent_ref": ref, "reason": "核对"})
    http.get(f"/api/v1/licences/{first}/thumbnail", headers=AUTH,
             params={"consent_ref": ref, "reason": "打印"})

    entries = http.get("/sandbox/access-log").json()["entries"]
    assert [(e["action"], e["licence_id"], e["reason"]) for e in entries] == [
        ("search", licences[0]["licence_id"], "不动产登记"),
        ("search", licences[1]["licence_id"], "不动产登记"),
        ("detail", first, "核对"),
        ("thumbnail", first, "打印"),
    ]
    for e in entries:
        assert e["client_id"] == "ws-demo" and e["consent_ref"] == ref
        assert e["holder_id"] == person.id_number
        dt.datetime.fromisoformat(e["time"])
    assert len(sandbox.access_log) == 4


def test_search_with_nothing_found_is_still_logged(http, sandbox):
    person = sandbox.world.person_without_marriage_or_property
    ref = _consent(http, person.id_number, ["marriage_cert"])
    assert _search(http, person.id_number, ["marriage_cert"], ref).json() == {"licences": []}
    (entry,) = sandbox.access_log
    assert entry.licence_id is None and entry.holder_id == person.id_number


# -- faults -----------------------------------------------------------------------------------


def test_down_answers_503_on_every_api_call_but_not_on_sandbox_endpoints(http, sandbox):
    reply = http.post("/sandbox/faults", json={"down": True})
    assert reply.json() == {"down": True, "latency_ms": 0, "error_rate": 0.0}
    assert sandbox.faults.down
    _error(http.get("/api/v1/health"), 503, "unavailable")
    _error(http.get("/api/v1/trust-list", headers=AUTH), 503, "unavailable")
    _error(http.post("/api/v1/codes/issue", json={}), 503, "unavailable")
    assert http.get("/sandbox/people").status_code == 200
    assert http.get("/sandbox/faults").json()["down"] is True
    http.post("/sandbox/faults", json={"down": False})
    assert http.get("/api/v1/health").status_code == 200


def test_error_rate_is_deterministic(http, sandbox):
    def run() -> list[int]:
        http.post("/sandbox/faults", json={"error_rate": 0.5, "seed": 7})
        return [http.get("/api/v1/health").status_code for _ in range(30)]

    first = run()
    assert first == run()
    assert set(first) == {200, 500}
    http.post("/sandbox/faults", json={"error_rate": 1.0})
    _error(http.get("/api/v1/health"), 500, "internal")


def test_latency_is_added(http, sandbox):
    sandbox.faults.latency_ms = 300
    started = time.monotonic()
    assert http.get("/api/v1/health").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert http.get("/sandbox/people").status_code == 200  # sandbox endpoints are not slowed
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("body", [
    {"down": "yes"}, {"latency_ms": -1}, {"latency_ms": 1.5}, {"error_rate": 2},
])
def test_bad_fault_switches(http, body):
    _error(http.post("/sandbox/faults", json=body), 400, "invalid_request")


def test_reset_clears_faults_clock_and_log(sandbox):
    sandbox.faults.update({"down": True, "latency_ms": 5, "error_rate": 0.2})
    sandbox.clock = lambda: dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    sandbox.reset()
    assert sandbox.faults.to_json() == {"down": False, "latency_ms": 0, "error_rate": 0.0}
    assert abs(sandbox.clock() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    assert sandbox.access_log == []


# -- demo endpoints ---------------------------------------------------------------------------


def test_people_lists_sample_holders(http, sandbox):
    people = http.get("/sandbox/people", params={"limit": 3}).json()["holders"]
    assert people[0] == {"kind": "person",
                         "holder_id": sandbox.world.person_with_all_licences.id_number,
                         "name": sandbox.world.person_with_all_licences.name}
    assert len(people) == 3
    firms = http.get("/sandbox/people", params={"kind": "enterprise"}).json()["holders"]
    assert len(firms) == 20 and all(f["kind"] == "enterprise" for f in firms)
    _error(http.get("/sandbox/people", params={"limit": "many"}), 400, "invalid_request")


def test_demo_phone_code_png(http, sandbox):
    person = sandbox.world.sample_person(0)
    reply = http.get("/demo/phone/code.png", params={"holder_id": person.id_number})
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/png"
    expires = dt.datetime.fromisoformat(reply.headers["x-code-expires-at"])
    assert dt.timedelta(seconds=55) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=61)
    image = Image.open(io.BytesIO(reply.content))
    assert image.size[0] == image.size[1] >= 200
    _error(http.get("/demo/phone/code.png"), 400, "invalid_request")
    _error(http.get("/demo/phone/code.png", params={"holder_id": "110105194912310021"}),
           404, "holder_not_found")


# -- command line -----------------------------------------------------------------------------


def test_python_m_sandbox_prints_its_url_and_stops_on_sigterm():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0", "--seed", "7"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/api/v1/health", timeout=5).json()["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
