"""Identity codes: the 鄂汇办 format and CodeService against the real sandbox over HTTP.

Codes are issued by the sandbox as a phone would get them; forged ones are built here with a
key of our own. Time moves through injected clocks, never by sleeping.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sandbox.server import derive_signing_key
from workstation.services.codes import (
    REFUSAL_MESSAGES,
    REFUSAL_REASONS,
    CodeRefused,
    CodeService,
    EhbIdentityCode,
    ElectronicSocialSecurityCard,
    MedicalInsuranceVoucher,
    TrustList,
    TrustListStore,
)
from workstation.services.model import HolderKind, IdentifiedBy
from workstation.services.platform import PlatformClient
from workstation.services.replay import SeenCodes


class MemoryReplayGuard:
    """In-memory stand-in for the data layer's seen-codes table (same call shape)."""

    def __init__(self) -> None:
        self.seen: dict[str, dt.datetime] = {}

    def __call__(self, key: str, expires_at: dt.datetime) -> bool:
        if key in self.seen:
            return False
        self.seen[key] = expires_at
        return True

    def check(self, key: str) -> bool:
        """The non-marking check (``CodeService(seen_check=...)``)."""
        return key in self.seen


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(code: str) -> dict:
    part = code.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sign_code(claims: dict, key: Ed25519PrivateKey) -> str:
    """Build an EHBID1 code with any claims and any key (for forgeries)."""
    signed = "EHBID1." + _b64(json.dumps(claims, ensure_ascii=False,
                                         separators=(",", ":")).encode())
    return f"{signed}.{_b64(key.sign(signed.encode('ascii')))}"


def shifted(seconds: float) -> Callable[[], dt.datetime]:
    return lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


@pytest.fixture
def trust_path(tmp_path):
    return tmp_path / "trust-list.json"


@pytest.fixture
def make_service(platform_client, trust_path):
    def make(*, clock: Callable[[], dt.datetime] | None = None, guard=None,
             store: TrustListStore | None = None) -> CodeService:
        guard = guard or MemoryReplayGuard()
        return CodeService([EhbIdentityCode()], store or TrustListStore(trust_path),
                           platform_client, guard, clock or shifted(0),
                           seen_check=getattr(guard, "check", None))
    return make


@pytest.fixture
def primed_store(platform_client, trust_path):
    """A trust-list store already holding the platform's current list."""
    store = TrustListStore(trust_path)
    store.refresh(platform_client)
    return store


@pytest.fixture
def person(sandbox):
    return sandbox.world.sample_person(0)


# -- accepted ---------------------------------------------------------------------------------


def test_valid_code_identifies_the_citizen(make_service, platform_client, person, trust_path):
    code = platform_client.issue_code(person.id_number).code
    applicant = make_service().identify(code + "\r\n")  # keyboard-wedge scanners add a newline
    assert (applicant.kind, applicant.holder_id, applicant.name) == (
        HolderKind.PERSON, person.id_number, person.name)
    assert applicant.identified_by is IdentifiedBy.CODE
    assert applicant.extra == {"code_format": "ehb_identity", "code_title": "鄂汇办身份码",
                               "code_source": "ehb_app", "code_source_label": "鄂汇办App"}
    # The empty cache was refreshed once and saved, public keys only.
    saved = json.loads(trust_path.read_text(encoding="utf-8"))
    assert [i["kid"] for i in saved["issuers"]] == ["ehb-2026", "nhsa-2026", "essc-2026"]
    assert set(saved["issuers"][0]) == {"kid", "issuer", "alg", "public_key", "not_before",
                                        "not_after"}


def test_trust_list_save_and_load_round_trip(primed_store, trust_path, tmp_path):
    loaded = TrustList.load(trust_path)
    assert loaded == primed_store.current
    assert len(loaded.key("ehb-2026").public_key) == 32
    assert TrustList.load(tmp_path / "missing.json") == TrustList()
    assert TrustListStore(trust_path).current == loaded


def test_unreadable_trust_file_starts_empty(trust_path):
    trust_path.write_text("{broken", encoding="utf-8")
    assert TrustListStore(trust_path).current == TrustList()


# -- expired ----------------------------------------------------------------------------------


def test_expired_code_is_refused_offline_without_consuming_it(make_service, platform_client,
                                                             primed_store, person):
    code = platform_client.issue_code(person.id_number).code
    late = make_service(clock=shifted(120), store=primed_store)
    with pytest.raises(CodeRefused) as refused:
        late.identify(code)
    assert refused.value.reason == "expired"
    assert refused.value.message == "身份码已过期，请在手机上刷新身份码后重新出示"
    # Refused before the platform was asked: the code is still unused there.
    assert make_service(store=primed_store).identify(code).holder_id == person.id_number


def test_expired_code_is_refused_online(make_service, platform_client, primed_store, person,
                                        sandbox):
    """GIVEN a workstation clock that lags behind the platform's
    WHEN a code the platform considers expired is scanned
    THEN the platform's code_expired becomes an 'expired' refusal."""
    code = platform_client.issue_code(person.id_number).code
    sandbox.clock = shifted(90)
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(code)
    assert refused.value.reason == "expired"


def test_code_from_the_future_is_refused(make_service, platform_client, primed_store, person):
    code = platform_client.issue_code(person.id_number).code
    with pytest.raises(CodeRefused) as refused:
        make_service(clock=shifted(-600), store=primed_store).identify(code)
    assert refused.value.reason == "expired"
    assert "时间" in refused.value.message


# -- replayed ---------------------------------------------------------------------------------


def test_replay_is_caught_locally(make_service, platform_client, primed_store, person, sandbox):
    guard = MemoryReplayGuard()
    service = make_service(store=primed_store, guard=guard)
    code = platform_client.issue_code(person.id_number).code
    service.identify(code)
    assert list(guard.seen) == [f"ehb_identity:{_claims(code)['jti']}"]
    sandbox.faults.down = True  # the local guard needs no platform
    with pytest.raises(CodeRefused) as refused:
        service.identify(code)
    assert refused.value.reason == "replayed"
    assert "已使用过" in refused.value.message


def test_platform_down_does_not_use_the_code_up(make_service, platform_client, primed_store,
                                                person, sandbox):
    """GIVEN the platform is down when a valid code is scanned
    WHEN the citizen shows the same (still valid) code again after the link returns
    THEN it identifies them; and a replay after that success is refused locally."""
    guard = MemoryReplayGuard()
    service = make_service(store=primed_store, guard=guard)
    code = platform_client.issue_code(person.id_number).code
    sandbox.faults.down = True
    with pytest.raises(CodeRefused) as refused:
        service.identify(code)
    assert refused.value.reason == "platform_unavailable"
    assert guard.seen == {}  # not marked: the resolution failed
    sandbox.faults.down = False
    assert service.identify(code).holder_id == person.id_number
    assert list(guard.seen) == [f"ehb_identity:{_claims(code)['jti']}"]
    sandbox.faults.down = True  # refused by the local check, before the platform is asked
    with pytest.raises(CodeRefused) as again:
        service.identify(code)
    assert again.value.reason == "replayed"


def test_retry_after_platform_down_with_the_seen_codes_table(platform_client, primed_store,
                                                             person, sandbox, sqlite_store):
    """The same with the data layer's SeenCodes, wired as the core wires it."""
    seen = SeenCodes(sqlite_store)
    service = CodeService([EhbIdentityCode()], primed_store, platform_client, seen.mark,
                          seen_check=seen.seen)
    code = platform_client.issue_code(person.id_number).code
    key = f"ehb_identity:{_claims(code)['jti']}"
    sandbox.faults.down = True
    with pytest.raises(CodeRefused) as refused:
        service.identify(code)
    assert refused.value.reason == "platform_unavailable"
    assert not seen.seen(key)
    sandbox.faults.down = False
    assert service.identify(code).holder_id == person.id_number
    assert seen.seen(key)
    sandbox.faults.down = True
    with pytest.raises(CodeRefused) as again:
        service.identify(code)
    assert again.value.reason == "replayed"


def test_concurrent_acceptance_is_refused_as_replay(make_service, platform_client,
                                                   primed_store, person):
    """Another scan marked the code between our local check and our marking: refused."""

    class LosingGuard(MemoryReplayGuard):
        def __call__(self, key: str, expires_at: dt.datetime) -> bool:
            return False  # someone else marked it first

    code = platform_client.issue_code(person.id_number).code
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store, guard=LosingGuard()).identify(code)
    assert refused.value.reason == "replayed"


def test_without_seen_check_a_replay_is_still_refused(platform_client, primed_store, person):
    """Backwards-compatible construction (no seen_check): marking after resolution."""
    guard = MemoryReplayGuard()
    service = CodeService([EhbIdentityCode()], primed_store, platform_client, guard)
    code = platform_client.issue_code(person.id_number).code
    service.identify(code)
    with pytest.raises(CodeRefused) as refused:
        service.identify(code)
    assert refused.value.reason == "replayed"


def test_replay_is_caught_by_the_platform(make_service, platform_client, primed_store, person):
    """Another workstation (its own replay guard) scanning the same code is refused online."""
    code = platform_client.issue_code(person.id_number).code
    make_service(store=primed_store).identify(code)
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(code)
    assert refused.value.reason == "replayed"
    assert refused.value.message == "该身份码已使用过，请在手机上刷新身份码后重新出示"


# -- forged -----------------------------------------------------------------------------------


def test_tampered_payload_is_forged(make_service, platform_client, primed_store, person,
                                    sandbox):
    code = platform_client.issue_code(person.id_number).code
    prefix, _payload, signature = code.split(".")
    claims = _claims(code)
    claims["sub"] = "someone-else"
    tampered = f"{prefix}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}.{signature}"
    sandbox.faults.down = True  # refused offline, platform not needed
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(tampered)
    assert refused.value.reason == "forged"
    assert "签名无效" in refused.value.message


def test_signature_by_a_foreign_key_is_forged(make_service, platform_client, primed_store,
                                              person):
    genuine = _claims(platform_client.issue_code(person.id_number).code)
    forged = sign_code(genuine | {"jti": "00000000deadbeef"}, Ed25519PrivateKey.generate())
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(forged)
    assert refused.value.reason == "forged"


def test_wrong_issuer_name_under_a_trusted_key_is_forged(make_service, platform_client,
                                                         primed_store, person):
    genuine = _claims(platform_client.issue_code(person.id_number).code)
    forged = sign_code(genuine | {"iss": "冒名平台"}, Ed25519PrivateKey.generate())
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(forged)
    assert refused.value.reason == "forged"


def test_truncated_signature_is_forged(make_service, platform_client, primed_store, person):
    code = platform_client.issue_code(person.id_number).code
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(code[:-10])
    assert refused.value.reason == "forged"


# -- malformed and unknown --------------------------------------------------------------------


@pytest.mark.parametrize("payload", [
    "EHBID1.",
    "EHBID1.abc",
    "EHBID1.abc.def.ghi",
    "EHBID1.!!!!.AAAA",
    "EHBID1." + _b64(b"not json") + ".AAAA",
    "EHBID1." + _b64(b"[1, 2]") + ".AAAA",
    "EHBID1." + _b64(json.dumps({"v": 2, "typ": "identity"}).encode()) + ".AAAA",
    "EHBID1." + _b64(json.dumps({"v": 1, "typ": "identity", "kid": "ehb-2026", "iss": "鄂汇办",
                                 "jti": "ab", "sub": "x", "iat": 1, "exp": "soon"}).encode())
    + ".AAAA",
])
def test_malformed_codes(make_service, payload):
    with pytest.raises(CodeRefused) as refused:
        make_service().identify(payload)
    assert refused.value.reason == "malformed"


@pytest.mark.parametrize("payload", ["", "https://example.com/qr", "421281199001011234",
                                     "ehbid1.lower.case"])
def test_unknown_format(make_service, payload):
    with pytest.raises(CodeRefused) as refused:
        make_service().identify(payload)
    assert refused.value.reason == "unknown_format"
    assert "鄂汇办身份码" in refused.value.message


def test_code_the_platform_never_issued_is_malformed(make_service, primed_store, sandbox):
    """Signed with the platform's real key but unknown to it (e.g. from before a restart)."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    code = sign_code({"v": 1, "kid": "ehb-2026", "iss": "鄂汇办", "typ": "identity",
                      "jti": "0123456789abcdef", "iat": now, "exp": now + 60, "sub": "nobody"},
                     derive_signing_key(sandbox.seed, "ehb-2026"))
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(code)
    assert refused.value.reason == "malformed"


# -- unknown issuer and trust-list refresh ----------------------------------------------------


def test_new_issuer_key_is_learnt_by_one_refresh(make_service, platform_client, primed_store,
                                                 person, sandbox, trust_path):
    assert primed_store.current.key("ehb-2027") is None
    sandbox.rotate_signing_key("ehb-2027")
    code = platform_client.issue_code(person.id_number).code
    assert _claims(code)["kid"] == "ehb-2027"
    applicant = make_service(store=primed_store).identify(code)
    assert applicant.holder_id == person.id_number
    assert primed_store.current.key("ehb-2027") is not None
    assert TrustList.load(trust_path).key("ehb-2027") is not None  # saved for offline use


def test_key_unknown_even_after_refresh_is_refused(make_service, platform_client, primed_store,
                                                   person):
    genuine = _claims(platform_client.issue_code(person.id_number).code)
    rogue = sign_code(genuine | {"kid": "rogue-1"}, Ed25519PrivateKey.generate())
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(rogue)
    assert refused.value.reason == "unknown_issuer"


def test_unknown_key_while_platform_is_down(make_service, platform_client, person, sandbox):
    code = platform_client.issue_code(person.id_number).code
    sandbox.faults.down = True
    with pytest.raises(CodeRefused) as refused:
        make_service(store=TrustListStore(None)).identify(code)  # empty cache
    assert refused.value.reason == "platform_unavailable"


def test_expired_trusted_key_is_refused(platform_client, person):
    fmt = EhbIdentityCode()
    parsed = fmt.parse(platform_client.issue_code(person.id_number).code)
    trust = TrustList.fetch(platform_client)
    key = trust.key("ehb-2026")
    with pytest.raises(CodeRefused) as refused:
        fmt.verify_offline(parsed, trust, key.not_after + dt.timedelta(days=1))
    assert refused.value.reason == "unknown_issuer"


# -- platform unavailable ---------------------------------------------------------------------


def test_platform_down_at_resolution(make_service, platform_client, primed_store, person,
                                     sandbox):
    code = platform_client.issue_code(person.id_number).code
    sandbox.faults.down = True
    with pytest.raises(CodeRefused) as refused:
        make_service(store=primed_store).identify(code)
    assert refused.value.reason == "platform_unavailable"
    assert "电子证照平台" in refused.value.message


def test_platform_refusing_the_workstation(sandbox, primed_store, person, platform_client):
    """A workstation with a wrong credential cannot resolve: shown as platform trouble."""
    code = platform_client.issue_code(person.id_number).code
    with PlatformClient(sandbox.url, "ws-demo", "wrong") as bad_client:
        service = CodeService([EhbIdentityCode()], primed_store, bad_client, MemoryReplayGuard())
        with pytest.raises(CodeRefused) as refused:
            service.identify(code)
    assert refused.value.reason == "platform_unavailable"
    assert "未授权" in refused.value.message


# -- refusals ---------------------------------------------------------------------------------


def test_every_reason_has_a_chinese_message():
    assert set(REFUSAL_MESSAGES) == set(REFUSAL_REASONS)
    for reason in REFUSAL_REASONS:
        message = CodeRefused(reason).message
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    with pytest.raises(ValueError):
        CodeRefused("bored")


def test_format_metadata():
    fmt = EhbIdentityCode()
    assert (fmt.kind, fmt.title) == ("ehb_identity", "鄂汇办身份码")
    assert fmt.matches("  EHBID1.x.y")
    assert not fmt.matches("EHBID2.x.y")


@pytest.mark.parametrize(
    ("fmt", "source", "label"),
    [
        (MedicalInsuranceVoucher(), "hubei_mi_official_account", "湖北医疗保障公众号"),
        (MedicalInsuranceVoucher(), "my_mi_voucher", "我的医保凭证小程序"),
        (MedicalInsuranceVoucher(), "alipay", "支付宝医保电子凭证"),
        (MedicalInsuranceVoucher(), "nhsa_app", "国家医保服务平台App"),
        (ElectronicSocialSecurityCard(), "wechat_miniprogram", "微信电子社保卡小程序"),
        (ElectronicSocialSecurityCard(), "hubei_12333", "湖北12333公众号"),
    ],
)
def test_every_code_kind_and_source_identifies_with_the_source_recorded(
    tmp_path, sandbox, platform_client, fmt, source, label
):
    person = sandbox.world.sample_person(0)
    service = CodeService(
        [EhbIdentityCode(), MedicalInsuranceVoucher(), ElectronicSocialSecurityCard()],
        TrustListStore(tmp_path / "trust.json"), platform_client, MemoryReplayGuard(),
    )
    code, _ = sandbox.issue_code(person.id_number, fmt.kind, source)
    assert service.format_for(code).kind == fmt.kind
    applicant = service.identify(code)
    assert applicant.holder_id == person.id_number
    assert applicant.extra["code_format"] == fmt.kind
    assert applicant.extra["code_source"] == source
    assert applicant.extra["code_source_label"] == label


def test_a_code_signed_with_another_issuers_key_is_forged(tmp_path, sandbox, platform_client):
    """GIVEN a medical-insurance voucher re-signed with the 鄂汇办 key (both trusted)
    THEN it is refused: each kind must come from its own issuer."""
    person = sandbox.world.sample_person(0)
    code, _ = sandbox.issue_code(person.id_number, "mi_voucher")
    prefix, payload, _sig = code.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["kid"] = "ehb-2026"
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    signed = f"{prefix}.{body}"
    sig = derive_signing_key(sandbox.seed, "ehb-2026").sign(signed.encode())
    forged = f"{signed}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
    service = CodeService([MedicalInsuranceVoucher()], TrustListStore(tmp_path / "t.json"),
                          platform_client, MemoryReplayGuard())
    with pytest.raises(CodeRefused) as err:
        service.identify(forged)
    assert err.value.reason == "forged"
