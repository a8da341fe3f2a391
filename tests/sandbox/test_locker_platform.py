"""The S4 locker back office of the sandbox over real HTTP: staff feed, pickup-code SMS sent
once per idempotency key, bad input refused, credential required."""

from __future__ import annotations

import httpx
import pytest

from workstation.services.platform import PlatformError

DEPOSIT = {"item": "D20261128-ABC123", "kiosk": "1号智能柜", "door": "A-09", "size": "M",
           "matter": "不动产登记", "phone_masked": "138****1234"}
NOTICE = {"item": "D20261128-ABC123", "kiosk": "1号智能柜", "door": "A-01", "matter": "户籍办理",
          "phone": "13807151234", "code": "538271", "expires_at": "2026-12-05T09:00:00+08:00"}


def test_deposit_notifies_the_staff_once(sandbox, platform_client):
    first = platform_client.call_json("POST", "/api/v1/locker/deposits", "t", json=DEPOSIT,
                                      idempotency_key="k-1")
    again = platform_client.call_json("POST", "/api/v1/locker/deposits", "t", json=DEPOSIT,
                                      idempotency_key="k-1")
    assert first["duplicate"] is False and again["duplicate"] is True
    assert [n["kind"] for n in sandbox.locker.notifications] == ["deposited"]
    sms = sandbox.sms.messages(sandbox.locker.staff_phone)
    assert len(sms) == 1 and "A-09" in sms[0]["text"]
    feed = httpx.get(f"{sandbox.url}/sandbox/locker/notifications").json()["notifications"]
    assert feed[0]["item"] == DEPOSIT["item"]
    assert httpx.get(f"{sandbox.url}/api/v1/locker/notifications").status_code == 401


def test_pickup_code_goes_to_the_applicant_by_sms(sandbox, platform_client):
    platform_client.call_json("POST", "/api/v1/locker/pickup-notices", "t", json=NOTICE,
                              idempotency_key="p-1")
    platform_client.call_json("POST", "/api/v1/locker/pickup-notices", "t", json=NOTICE,
                              idempotency_key="p-1")
    sms = sandbox.sms.messages("13807151234")
    assert len(sms) == 1 and "538271" in sms[0]["text"] and "12月5日前" in sms[0]["text"]
    shown = sandbox.locker.notifications[-1]
    assert "code" not in shown and shown["phone_masked"] == "138****1234"
    with pytest.raises(PlatformError) as exc:
        platform_client.call_json("POST", "/api/v1/locker/pickup-notices", "t",
                                  json={**NOTICE, "phone": "12807151234"}, idempotency_key="p-2")
    assert "手机号码格式不正确" in exc.value.message
    with pytest.raises(PlatformError) as exc:
        platform_client.call_json("POST", "/api/v1/locker/pickup-notices", "t",
                                  json={**NOTICE, "code": "12ab"}, idempotency_key="p-3")
    assert "6 位数字" in exc.value.message
    with pytest.raises(PlatformError) as exc:  # same key, other content
        platform_client.call_json("POST", "/api/v1/locker/pickup-notices", "t",
                                  json={**NOTICE, "door": "A-02"}, idempotency_key="p-1")
    assert exc.value.status == 409
