"""Smoke tests of the GotSMS simulator over real HTTP (plain httpx, no GotSMS client)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from providers.gotsms.simulator.sim import GotSmsSimulator, LostAnswer

TOKEN = "gotsms-test-token"


@pytest.fixture
async def sim() -> AsyncIterator[GotSmsSimulator]:
    simulator = GotSmsSimulator()
    simulator.add_account(TOKEN, Decimal("100.00"))
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def http(sim: GotSmsSimulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    async with httpx.AsyncClient(base_url=sim.base_url, headers=headers, timeout=5) as client:
        yield client


async def _rent(http: httpx.AsyncClient, plan_id: str, **extra: Any) -> dict[str, Any]:
    response = await http.post("/api/rents", json={"plan_id": plan_id, **extra})
    assert response.status_code == 201, response.text
    assert response.json()["message"] == "Rent created successfully."
    return response.json()["data"]


async def test_auth_and_public_pricelist(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as anon:
        missing = await anon.get("/api/account")
        wrong = await anon.get("/api/rents", headers={"Authorization": "Bearer nope"})
        demo = await anon.get("/api/account", headers={"Authorization": "Bearer demo-1"})  # not sandbox
        pricelist = await anon.get("/api/pricelist")
    assert missing.status_code == wrong.status_code == demo.status_code == 401
    assert missing.json() == {"success": False, "message": "Unauthenticated."}
    groups = pricelist.json()["data"]
    telegram = next(g for g in groups if g["name"] == "Telegram")
    assert {"service_name", "period", "period_type", "period_type_label", "duration_translation", "price",
            "renew_price", "country", "billing_type"} == set(telegram["plans"][0])
    assert sim.request_count("GET", "/api/account") == 2 and sim.request_count(token=TOKEN) == 0


async def test_balance(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/account")).json() == {"success": True, "data": {"balance": 100}}
    sim.add_account(TOKEN, Decimal("12.34"))
    assert (await http.get("/api/account")).json()["data"]["balance"] == 12.34


async def test_services_search_and_paging(http: httpx.AsyncClient) -> None:
    first = (await http.get("/api/services", params={"per_page": 20})).json()
    assert first["meta"] == {"current_page": 1, "last_page": 2, "per_page": 20, "total": first["meta"]["total"]}
    assert first["meta"]["total"] >= 30 and len(first["data"]) == 20
    second = (await http.get("/api/services", params={"per_page": 20, "page": 2})).json()
    assert second["meta"]["current_page"] == 2 and len(second["data"]) == first["meta"]["total"] - 20
    assert not {s["id"] for s in first["data"]} & {s["id"] for s in second["data"]}
    found = (await http.get("/api/services", params={"search": "gram"})).json()["data"]
    assert sorted(s["name"] for s in found) == ["Instagram", "Telegram"]
    too_big = await http.get("/api/services", params={"per_page": 101})
    assert too_big.status_code == 422
    assert too_big.json() == {"success": False, "message": "The per page field must not be greater than 100."}


async def test_plans_filters(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    telegram, usa = sim.service_id("Telegram"), sim.country_id("USA")

    async def plans(**params: Any) -> list[dict[str, Any]]:
        body = (await http.get("/api/rents/plans", params={"per_page": 100, **params})).json()
        return body["data"]

    mine = await plans(service_id=telegram, country_id=usa)
    assert {p["duration_type"] for p in mine} == {"min", "hour", "day", "week", "month", "year"}
    monthly = await plans(service_id=telegram, country_id=usa, duration_type="month")
    assert [p["duration_in_type"] for p in monthly] == [1, 3, 6, 12]
    assert all(p["is_monthly_supported"] for p in monthly)
    assert monthly[0]["duration_in_minutes"] == 43200 and monthly[0]["duration_translation"] == "1 month"
    sms = await plans(billing_type="sms", search="telegram")
    assert sms and all(p["billing_type"] == "sms" and p["service"]["name"] == "Telegram" for p in sms)
    assert not any(p["is_monthly_supported"] for p in await plans(duration_type="day"))
    paged = (await http.get("/api/rents/plans", params={"per_page": 100, "page": 2})).json()
    assert paged["meta"]["total"] == len(sim.plans) and paged["meta"]["last_page"] > 2
    bad = await http.get("/api/rents/plans", params={"duration_type": "decade"})
    assert bad.status_code == 422 and bad.json()["message"] == "The selected duration type is invalid."


async def test_create_rent_charges_and_lists(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    rent = await _rent(http, sim.plan_id("WhatsApp", "week"), area_code="415")
    assert rent["status"] == "active" and rent["price"] == 6 and rent["phone"].startswith("+1 415 ")
    assert rent["plan"]["duration_type"] == "week" and rent["can_wake_up"] is True
    assert sim.balance_of(TOKEN) == Decimal("94.00")
    assert sim.rents_of(TOKEN)[0].id == rent["id"]
    other = await _rent(http, sim.plan_id("Telegram", "day"))

    listed = (await http.get("/api/rents", params={"service": "whats"})).json()
    assert [r["id"] for r in listed["data"]] == [rent["id"]] and listed["meta"]["total"] == 1
    by_phone = (await http.get("/api/rents", params={"phone": other["phone"][-4:]})).json()["data"]
    assert other["id"] in [r["id"] for r in by_phone]
    sim.finish(other["id"])
    finished = (await http.get("/api/rents", params={"status": "finished"})).json()["data"]
    assert [r["id"] for r in finished] == [other["id"]] and finished[0]["can_wake_up"] is False

    sim.add_account(TOKEN, Decimal("0.50"))
    poor = await http.post("/api/rents", json={"plan_id": sim.plan_id("Telegram", "day")})
    assert poor.status_code == 402 and poor.json() == {"success": False, "message": "Insufficient balance."}
    missing = await http.post("/api/rents", json={})
    assert missing.status_code == 422 and missing.json()["message"] == "The plan id field is required."
    assert len(sim.rents_of(TOKEN)) == 2


async def test_unread_and_mark_as_read(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    a = await _rent(http, sim.plan_id("Telegram", "day"))
    b = await _rent(http, sim.plan_id("Google", "day"))
    first = sim.receive_sms(a["id"], "Telegram code: 12345")
    sim.receive_sms(b["id"], "G-778899 is your Google verification code")

    peek = (await http.get("/api/messages/unread", params={"rent_id": a["id"]})).json()
    assert [m["id"] for m in peek["data"]] == [first] and peek["data"][0]["code"] == "12345"
    assert peek["data"][0]["service"]["name"] == "Telegram" and peek["data"][0]["phone"] == a["phone"]
    taken = (await http.get("/api/messages/unread", params={"per_page": 100, "mark_as_read": 1})).json()
    assert [m["body"][:2] for m in taken["data"]] == ["Te", "G-"]  # oldest first
    assert (await http.get("/api/messages/unread")).json()["data"] == []
    assert all(m.read for r in sim.rents_of(TOKEN) for m in r.messages)
    history = (await http.get("/api/messages", params={"service_id": sim.service_id("Google")})).json()
    assert [m["code"] for m in history["data"]] == ["778899"]
    bad = await http.get("/api/messages", params={"service_id": "nope"})
    assert bad.status_code == 422 and bad.json()["message"] == "The service id field must be a valid UUID."


async def test_number_messages_paging_with_before_id(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    rent = await _rent(http, sim.plan_id("Telegram", "week"))
    ids = [sim.receive_sms(rent["id"], f"code {1000 + i}") for i in range(5)]
    path = f"/api/numbers/{rent['id']}/messages"
    page1 = (await http.get(path, params={"limit": 2})).json()
    assert [m["id"] for m in page1["data"]] == [ids[4], ids[3]]
    assert page1["meta"] == {"next_before_id": ids[3], "count": 2}
    assert set(page1["data"][0]) == {"id", "from", "to", "body", "code", "received_at"}
    page2 = (await http.get(path, params={"limit": 2, "before_id": page1["meta"]["next_before_id"]})).json()
    assert [m["id"] for m in page2["data"]] == [ids[2], ids[1]]
    page3 = (await http.get(path, params={"limit": 2, "before_id": page2["meta"]["next_before_id"]})).json()
    assert [m["id"] for m in page3["data"]] == [ids[0]] and page3["meta"]["next_before_id"] is None
    assert (await http.get("/api/numbers/00000000-0000-4000-8000-000000000000/messages")).status_code == 404


async def test_wake_up_and_status_windows(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    rent = await _rent(http, sim.plan_id("Telegram", "day"))
    status_path = f"/api/numbers/{rent['id']}/status"
    asleep = (await http.get(status_path)).json()["data"]
    assert asleep["can_wake_up"] is True and asleep["wake_from"] is None
    assert asleep["wakeup_time_left_seconds"] is None and asleep["online_time_left_seconds"] is None

    woke = await http.post(f"/api/numbers/{rent['id']}/wake-up")
    assert woke.json() == {"success": True, "message": "Wake up request sent."}
    waking = (await http.get(status_path)).json()["data"]
    assert waking["can_wake_up"] is False and waking["status"] == "active"
    assert 299 <= waking["wakeup_time_left_seconds"] <= 300 and waking["online_time_left_seconds"] == 1800
    assert waking["wake_till"] is not None and waking["online_till"] > waking["wake_till"]
    again = await http.post(f"/api/numbers/{rent['id']}/wake-up")
    assert again.status_code == 422 and again.json()["success"] is False

    stored = sim.rent(rent["id"])  # move the windows into the past: awake -> asleep again
    stored.wake_till = stored.online_till = stored.active_from - timedelta(seconds=1)
    slept = (await http.get(status_path)).json()["data"]
    assert slept["can_wake_up"] is True and slept["online_time_left_seconds"] == 0
    sms = await _rent(http, sim.plan_id("Telegram", "min", "sms"))
    assert sms["can_wake_up"] is False
    assert (await http.post(f"/api/numbers/{sms['id']}/wake-up")).status_code == 422


async def test_transition_daily_to_monthly(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    daily = await _rent(http, sim.plan_id("Telegram", "day"))
    target = sim.plan_id("Telegram", "month", duration_in_type=3)
    assert target in [p["id"] for p in daily["transition_options"]]
    moved = await http.post(f"/api/rents/{daily['id']}/transition", json={"plan_id": target})
    assert moved.json() == {"success": True, "message": "Plan transitioned successfully.",
                            "data": {"id": daily["id"], "status": "active"}}
    rent = sim.rent(daily["id"])
    assert rent.plan_id == target and rent.price == Decimal("41.00")
    assert rent.active_till - rent.active_from == timedelta(days=90)
    assert sim.balance_of(TOKEN) == Decimal("59.00")
    again = await http.post(f"/api/rents/{daily['id']}/transition", json={"plan_id": target})
    assert again.status_code == 422
    assert again.json()["message"] == "Current rent plan must be daily for this transition endpoint."
    other = await _rent(http, sim.plan_id("Google", "day"))
    wrong = await http.post(f"/api/rents/{other['id']}/transition", json={"plan_id": target})
    assert wrong.status_code == 422 and sim.rent(other["id"]).plan_id != target


async def test_auto_renewal_monthly_only(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    monthly = await _rent(http, sim.plan_id("Telegram", "month"))
    on = await http.post(f"/api/rents/{monthly['id']}/renewal/toggle")
    assert on.json() == {"success": True, "message": "Auto renewal enabled.",
                         "data": {"id": monthly["id"], "is_included_for_next_renewal": True}}
    assert sim.rent(monthly["id"]).auto_renew is True
    listed = (await http.get("/api/rents", params={"status": "active"})).json()["data"]
    assert listed[0]["is_included_for_next_renewal"] is True
    off = await http.post(f"/api/rents/{monthly['id']}/renewal/toggle")
    assert off.json()["data"]["is_included_for_next_renewal"] is False

    for duration in ("day", "week", "hour"):
        rent = await _rent(http, sim.plan_id("Telegram", duration))
        refused = await http.post(f"/api/rents/{rent['id']}/renewal/toggle")
        assert refused.status_code == 422
        assert refused.json() == {"success": False,
                                  "message": "Auto renewal can be toggled only for monthly 1/3/6/12 plans."}


async def test_refund_rules(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    fresh = await _rent(http, sim.plan_id("Telegram", "week"))
    refunded = await http.post(f"/api/rents/{fresh['id']}/refund")
    assert refunded.json() == {"success": True, "message": "Rent has been refunded successfully.",
                               "data": {"id": fresh["id"], "status": "finished"}}
    assert sim.balance_of(TOKEN) == Decimal("100.00") and sim.rent(fresh["id"]).refunded
    twice = await http.post(f"/api/rents/{fresh['id']}/refund")
    assert twice.status_code == 422 and "already been refunded" in twice.json()["message"]

    used = await _rent(http, sim.plan_id("Telegram", "week"))
    sim.receive_sms(used["id"], "Telegram code 55555")
    refused = await http.post(f"/api/rents/{used['id']}/refund")
    assert refused.status_code == 422 and "received SMS" in refused.json()["message"]

    late = await _rent(http, sim.plan_id("Google", "day"))
    sim.refund_window_seconds = 0
    await asyncio.sleep(0.01)
    too_late = await http.post(f"/api/rents/{late['id']}/refund")
    assert too_late.status_code == 422 and "within" in too_late.json()["message"]
    sim.set_refundable(late["id"], True)
    assert (await http.post(f"/api/rents/{late['id']}/refund")).status_code == 200

    blocked = await _rent(http, sim.plan_id("Google", "day"))
    sim.set_refundable(blocked["id"], False)
    no = await http.post(f"/api/rents/{blocked['id']}/refund")
    assert no.json() == {"success": False, "message": "Refund is not available for this rent."}
    assert sim.balance_of(TOKEN) == Decimal("100.00") - Decimal("5.00") - Decimal("0.90")


async def test_fail_next_and_sandbox_auto_sms() -> None:
    simulator = GotSmsSimulator(sandbox=True, auto_sms_after=0.1)
    await simulator.start()
    try:
        headers = {"Authorization": "Bearer demo-42"}
        async with httpx.AsyncClient(base_url=simulator.base_url, headers=headers, timeout=5) as c:
            simulator.fail_next("GET", "/api/account", 503, "down")
            assert (await c.get("/api/account")).status_code == 503
            assert (await c.get("/api/account")).json()["data"]["balance"] == 50
            rent = await _rent(c, simulator.plan_id("Telegram", "day"))
            await asyncio.sleep(0.25)
            unread = (await c.get("/api/messages/unread", params={"mark_as_read": "true"})).json()["data"]
        assert [m["rent_id"] for m in unread] == [rent["id"]] and len(unread[0]["code"]) == 6
        assert simulator.balance_of("demo-42") == Decimal("49.00")
        assert simulator.rent(rent["id"]).message_times
    finally:
        await simulator.stop()


async def test_feed_and_number_messages_share_ids(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    rent = await _rent(http, sim.plan_id("Telegram", "day"))
    ids = [sim.receive_sms(rent["id"], f"code {2000 + i}") for i in range(3)]
    feed = (await http.get("/api/messages/unread", params={"mark_as_read": 1})).json()["data"]
    own = (await http.get(f"/api/numbers/{rent['id']}/messages")).json()["data"]
    assert [m["id"] for m in feed] == ids == [m["id"] for m in reversed(own)]
    assert [m["code"] for m in feed] == [m["code"] for m in reversed(own)]


async def test_fail_next_answers_instead_of_processing(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    sim.fail_next("POST", "/api/rents", 429, {"success": False, "message": "Too Many Attempts."},
                  headers={"Retry-After": "7"})
    refused = await http.post("/api/rents", json={"plan_id": sim.plan_id("Telegram", "day")})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "7"
    assert sim.rents_of(TOKEN) == [] and sim.balance_of(TOKEN) == Decimal("100.00")


@pytest.mark.parametrize("how", list(LostAnswer))
async def test_lose_answer_next_processes_then_loses(
        sim: GotSmsSimulator, http: httpx.AsyncClient, how: LostAnswer) -> None:
    rent = await _rent(http, sim.plan_id("Telegram", "day"))
    sim.receive_sms(rent["id"], "code 31337")
    sim.lose_answer_next("GET", "/api/messages/unread", how)
    try:
        answer = await http.get("/api/messages/unread", params={"mark_as_read": 1})
    except httpx.RemoteProtocolError:
        assert how is LostAnswer.DROPPED  # headers, half a body, a closed connection
    else:
        if how is LostAnswer.SERVER_ERROR:
            assert answer.status_code == 500 and answer.json()["success"] is False
        else:
            assert how is LostAnswer.TRUNCATED and answer.status_code == 200
            with pytest.raises(ValueError):
                answer.json()
    assert all(m.read for m in sim.rent(rent["id"]).messages)  # processed: marked read
    assert (await http.get("/api/messages/unread")).json()["data"] == []
    after = await http.get("/api/account")  # one loss per rule: the next answer is whole
    assert after.status_code == 200


async def test_delay_next_processes_after_the_client_gave_up(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    plan_id = sim.plan_id("Telegram", "day")
    sim.delay_next("POST", "/api/rents", 0.5)
    with pytest.raises(httpx.ReadTimeout):
        await http.post("/api/rents", json={"plan_id": plan_id}, timeout=httpx.Timeout(5.0, read=0.1))
    while not sim.rents_of(TOKEN):  # bought after all
        await asyncio.sleep(0.02)
    assert sim.balance_of(TOKEN) == Decimal("99.00")
