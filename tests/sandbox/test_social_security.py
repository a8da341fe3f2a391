"""The S6 social security platform of the sandbox, over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.server import SandboxServer
from sandbox.social_security import ACTIVE, RETIRED, history_of
from workstation.services.platform import PlatformError, PlatformUnavailable

SUMMARY = "/api/v1/hrss/insured/summary"
CONTRIBUTIONS = "/api/v1/hrss/insured/contributions"
RIGHTS = "/api/v1/hrss/insured/rights-record"


def call(client, path, **body):
    return client.call_json("POST", path, "test", json={"sign_in": "essc",
                                                         "workstation_id": "TEST-01", **body})


@pytest.fixture
def worker(sandbox):
    return sandbox.social_security.find(
        lambda h: h.status_of("pension") == ACTIVE and len(h.years()) >= 6)


def test_summary_lists_every_type_with_months_and_balances(sandbox, platform_client, worker):
    data = call(platform_client, SUMMARY, id_number=worker.holder_id)
    assert data["person"]["name"] == worker.name
    assert [i["insurance"] for i in data["insurances"]] == \
        ["pension", "medical", "unemployment", "injury", "maternity"]
    pension = data["insurances"][0]
    assert pension["status"] == "参保缴费" and pension["end"] is None
    assert pension["months"] == worker.months_of("pension") > 0
    assert data["years"] == worker.years()
    assert {a["account"] for a in data["accounts"]} == {"pension", "medical"}
    assert Decimal(data["accounts"][0]["balance"]) > 0


def test_the_history_is_deterministic_across_restarts(sandbox, worker):
    again = SandboxServer(seed=sandbox.seed, world=sandbox.world)
    other = again.social_security.history(worker.holder_id)
    assert other is not None and other.contributions == worker.contributions
    citizen = sandbox.world.citizen(worker.holder_id)
    assert history_of(sandbox.seed + 1, citizen, sandbox.world.as_of, "x") != worker


def test_contributions_filter_by_type_and_period_and_add_up(sandbox, platform_client, worker):
    year = worker.years()[-2]
    rows = call(platform_client, CONTRIBUTIONS, id_number=worker.holder_id,
                types=["pension", "injury"], **{"from": f"{year}-01", "to": f"{year}-12"})[
        "contributions"]
    assert rows and {r["insurance"] for r in rows} == {"pension", "injury"}
    assert all(r["year"] == year for r in rows)
    injury = [r for r in rows if r["insurance"] == "injury"]
    assert all(r["personal"] == "0.00" for r in injury)  # employers alone pay for work injury
    pension = [r for r in rows if r["insurance"] == "pension"]
    assert all(Decimal(r["personal"]) == (Decimal(r["base"]) * Decimal("0.08"))
               .quantize(Decimal("0.01")) for r in pension)
    record = call(platform_client, RIGHTS, id_number=worker.holder_id, year=year)
    line = next(s for s in record["summaries"] if s["year"] == year
                and s["insurance"] == "pension")
    assert Decimal(line["personal"]) == sum(Decimal(r["personal"]) for r in pension)
    assert line["months"] == len(pension)


def test_rights_record_accounts_roll_over_year_to_year(sandbox, platform_client, worker):
    years = worker.years()
    first = call(platform_client, RIGHTS, id_number=worker.holder_id, year=years[-3])
    second = call(platform_client, RIGHTS, id_number=worker.holder_id, year=years[-2])
    closing = {b["account"]: b["closing"] for b in first["balances"]}
    opening = {b["account"]: b["opening"] for b in second["balances"]}
    assert closing == opening
    for b in second["balances"]:
        assert Decimal(b["closing"]) == (Decimal(b["opening"]) + Decimal(b["credited"])
                                         + Decimal(b["interest"]) - Decimal(b["paid_out"]))
    assert max(s["year"] for s in second["summaries"]) == years[-2]
    assert second["cumulative_months"]["pension"] == worker.months_of("pension", years[-2])


def test_retired_people_and_people_without_a_record(sandbox, platform_client):
    retired = sandbox.social_security.find(lambda h: h.retired_on is not None)
    data = call(platform_client, SUMMARY, id_number=retired.holder_id)
    statuses = {i["insurance"]: i["status"] for i in data["insurances"]}
    assert statuses["pension"] == RETIRED and statuses["unemployment"] == "终止参保"
    unknown = next(c for c in sandbox.world.citizens
                   if sandbox.social_security.history(c.id_number) is None)
    with pytest.raises(PlatformError) as refused:
        call(platform_client, SUMMARY, id_number=unknown.id_number)
    assert refused.value.status == 404 and "未查询到" in refused.value.message


@pytest.mark.parametrize(("body", "words"), [
    ({"id_number": "421281199001011234"}, "公民身份号码"),
    ({"sign_in": "password"}, "sign_in"),
    ({"types": ["pension", "pension"]}, "types"),
    ({"types": ["housing"]}, "types"),
    ({"from": "2025-13"}, "from"),
    ({"from": "2026-01", "to": "2025-01"}, "from"),
])
def test_bad_requests_are_refused_with_the_reason(sandbox, platform_client, worker, body,
                                                  words):
    request = {"id_number": worker.holder_id, "types": ["pension"], "from": "2025-01",
               "to": "2025-12", **body}
    with pytest.raises(PlatformError) as refused:
        call(platform_client, CONTRIBUTIONS, **request)
    assert refused.value.status == 400 and words in refused.value.message


def test_a_year_without_record_and_the_access_log(sandbox, platform_client, worker):
    with pytest.raises(PlatformError) as refused:
        call(platform_client, RIGHTS, id_number=worker.holder_id, year=1990)
    assert refused.value.code == "no_record_for_year"
    call(platform_client, SUMMARY, id_number=worker.holder_id, sign_in="ss_card")
    log = platform_client.call_json("GET", "/sandbox/hrss/access-log", "test")["entries"]
    assert [(e["what"], e["sign_in"]) for e in log] == [("rights_record", "essc"),
                                                        ("summary", "ss_card")]
    assert all(e["workstation_id"] == "TEST-01" for e in log)


def test_credential_required_and_down_means_unavailable(sandbox, worker):
    import httpx

    answer = httpx.post(sandbox.url + SUMMARY, json={"id_number": worker.holder_id,
                                                     "sign_in": "essc"})
    assert answer.status_code == 401
    sandbox.faults.update({"down": True})
    from workstation.services.platform import PlatformClient
    from workstation.testing import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

    with PlatformClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET) as client, \
            pytest.raises(PlatformUnavailable):
        call(client, SUMMARY, id_number=worker.holder_id)
