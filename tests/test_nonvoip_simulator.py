"""Smoke tests of the NonVoipUsNumber simulator over real HTTP (plain httpx, no NonVoip client)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.simulation.loopback_server import LoopbackServer
from providers.nonvoip.simulator.sim import NonVoipSimulator

EMAIL = "buyer@example.com"
PASSWORD = "s3cret-pass"
AUTH = {"email": EMAIL, "password": PASSWORD}
INSTAGRAM = 10000086  # 10-minutes
WHATSAPP_30D, TELEGRAM_30D = 9044, 8555
TELEGRAM_1D = 9441


@pytest.fixture
async def sim() -> AsyncIterator[NonVoipSimulator]:
    simulator = NonVoipSimulator()
    simulator.add_account(EMAIL, PASSWORD, Decimal("10.00"), user_id=4321)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def http(sim: NonVoipSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5) as client:
        yield client


async def _call(http: httpx.AsyncClient, path: str, **fields: Any) -> httpx.Response:
    return await http.post(f"/api/{path}", json={**AUTH, **fields})


async def _order(http: httpx.AsyncClient, product_id: int | str = INSTAGRAM, **extra: Any) -> dict:
    body = (await _call(http, "order", product_id=product_id, **extra)).json()
    assert body["status"] == "success", body
    return body["message"][0]


async def _wait_for(predicate: Any, timeout: float = 2.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_auth_errors_and_body_formats(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    wrong = await http.post("/api/balance", json={"email": EMAIL, "password": "nope"})
    unknown = await http.post("/api/balance", json={"email": "who@example.com", "password": PASSWORD})
    missing = await http.post("/api/balance", json={})
    for response in (wrong, unknown, missing):
        assert response.status_code == 400
        assert response.json() == {"status": "error", "message": "Wrong Auth"}
    form = await http.post("/api/balance", data=AUTH)  # application/x-www-form-urlencoded
    multipart = await http.post("/api/balance", data=AUTH, files={"unused": ("x.txt", b"x")})
    assert form.json() == multipart.json() == {"status": "success", "balance": "10.00"}
    assert sim.request_count("/api/balance") == 5 and sim.request_count(email=EMAIL) == 3
    assert all(r.json is None or r.json.get("password") in (None, "***") for r in sim.requests)
    assert PASSWORD not in repr(sim.requests)


async def test_balance(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    response = await _call(http, "balance")
    assert response.json() == {"status": "success", "balance": "10.00"}
    assert response.headers["X-RateLimit-Limit"] == "500"
    assert response.headers["X-RateLimit-Remaining"] == "499"
    assert sim.balance_of(EMAIL) == Decimal("10.00")


async def test_grouped_products_and_filters(http: httpx.AsyncClient) -> None:
    grouped = (await _call(http, "products", grouped=True)).json()["message"]
    assert list(grouped) == ["10-minutes", "30-days", "1-day", "3-days"]
    assert len(grouped["10-minutes"]) >= 30 and 2 <= len(grouped["3-days"]) <= 5
    assert grouped["10-minutes"][0] == {"product_id": INSTAGRAM, "name": "Instagram", "price": "0.36",
                                        "available": grouped["10-minutes"][0]["available"]}
    one_day = (await _call(http, "products", type="one_day")).json()["message"]
    assert {p["category"] for p in one_day} == {"1-day"}
    by_id = (await _call(http, "products", id=str(WHATSAPP_30D))).json()["message"]
    assert [p["name"] for p in by_id] == ["WhatsApp"] and by_id[0]["category"] == "30-days"
    assert (await _call(http, "products", product_id=1)).json()["status"] == "error"


async def test_order_then_getsms_waits_then_shows_sms_and_reuse(
    sim: NonVoipSimulator, http: httpx.AsyncClient
) -> None:
    order = await _order(http)
    assert order["status"] == "Reserved" and order["type"] == "short_term" and order["service"] == "Instagram"
    assert order["expiration"] in (899, 900) and len(order["number"]) == 11 and isinstance(order["order_id"], int)
    assert sim.balance_of(EMAIL) == Decimal("9.64")
    waiting = await _call(http, "getsms", order_id=str(order["order_id"]))
    assert waiting.status_code == 200
    assert waiting.json() == {"status": "error", "message": "No SMS received yet"}

    assert sim.receive_sms(order["order_id"], "Your Instagram OTP is 545") == "545"
    got = (await _call(http, "getsms", order_id=order["order_id"])).json()
    assert got == {"status": "success", "number": order["number"], "service": "Instagram",
                   "sms": "Your Instagram OTP is 545", "pin": "545", "type": "short_term"}
    assert sim.order(order["order_id"]).status == "Completed"

    reused = (await _call(http, "reuse", order_id=order["order_id"])).json()["message"][0]
    assert reused["number"] == order["number"] and reused["status"] == "Reserved"
    assert (await _call(http, "getsms", order_id=order["order_id"])).json()["message"] == "No SMS received yet"
    sim.receive_sms(order["order_id"], "Instagram code 777111")
    assert (await _call(http, "getsms", order_id=order["order_id"])).json()["pin"] == "777111"
    assert sim.balance_of(EMAIL) == Decimal("9.28")  # reuse is charged again


async def test_reject_refunds_and_expiry(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    order = await _order(http)
    rejected = (await _call(http, "reject", service="Instagram", number=order["number"])).json()
    assert rejected["status"] == "success" and "refunded" in rejected["message"]
    assert sim.balance_of(EMAIL) == Decimal("10.00") and sim.order(order["order_id"]).refunded
    assert (await _call(http, "getsms", order_id=order["order_id"])).json()["message"] == "Order rejected"

    used = await _order(http)
    sim.receive_sms(used["order_id"], "code 1234")
    assert (await _call(http, "reject", order_id=used["order_id"])).json()["status"] == "error"
    unused = await _order(http)
    sim.expire(unused["order_id"])
    assert (await _call(http, "getsms", order_id=unused["order_id"])).json()["message"] == "Order expired"
    assert sim.balance_of(EMAIL) == Decimal("9.64")  # only the order with an SMS stays charged
    missing = await _call(http, "getsms", order_id="999")
    assert missing.status_code == 404 and missing.json()["message"] == "Order not found"


async def test_price_change_then_accepted_retry(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    sim.require_price_change(INSTAGRAM, Decimal("1.70"))
    info = (await _call(http, "order", product_id=INSTAGRAM)).json()
    assert info == {"status": "info", "message": [{"info": "Price_Change_Required", "quoted_price": 0.36,
                                                   "allowed_price": 0.47, "available_price": 1.7}]}
    too_low = (await _call(http, "order", product_id=INSTAGRAM, accepted_max_price="1.50")).json()
    assert too_low["status"] == "info"
    await _order(http, INSTAGRAM, accepted_max_price=2.0)
    assert sim.balance_of(EMAIL) == Decimal("8.30")  # charged the route price, not the cap
    await _order(http, INSTAGRAM)  # the dear route was used once: back to the listed price
    assert sim.balance_of(EMAIL) == Decimal("7.94") and len(sim.orders_of(EMAIL)) == 2


async def test_premium_then_auction_retry(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    sim.offer_premium(INSTAGRAM, recommended_bid=25)
    info = (await _call(http, "order", product_id=INSTAGRAM)).json()
    assert info == {"status": "info", "message": [{"info": "Premium_Available", "recommended_bid": 25}]}
    assert (await _call(http, "order", product_id=INSTAGRAM, auction=5)).json()["status"] == "error"
    order = await _order(http, INSTAGRAM, auction="25")
    assert order["status"] == "Reserved"
    assert sim.balance_of(EMAIL) == Decimal("9.55")  # 0.36 + 25 % = 0.45


async def test_multi_service_30_days_one_order_per_service(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    form = {**AUTH, "product_ids[]": [str(WHATSAPP_30D), str(TELEGRAM_30D)]}
    whatsapp, telegram = (await http.post("/api/order", data=form)).json()["message"]
    assert [whatsapp["service"], telegram["service"]] == ["WhatsApp", "Telegram"]
    assert whatsapp["order_id"] != telegram["order_id"] and whatsapp["number"] == telegram["number"]
    for order in (whatsapp, telegram):
        assert order["status"] == "Active" and order["type"] == "long_term"
        expires = datetime.strptime(order["expires"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
        assert abs(expires - datetime.now(timezone.utc) - timedelta(days=30)) < timedelta(minutes=1)
    assert sim.balance_of(EMAIL) == Decimal("6.00")
    assert sim.order(whatsapp["order_id"]).product_ids == [str(WHATSAPP_30D)]
    # Each order of the bundle receives its own SMS; service + number finds the right one.
    sim.receive_sms(telegram["order_id"], "Telegram code 41414")
    got = (await _call(http, "getsms", service="Telegram", number=telegram["number"])).json()
    assert (got["service"], got["pin"]) == ("Telegram", "41414")
    waiting = (await _call(http, "getsms", order_id=whatsapp["order_id"])).json()
    assert waiting["message"] == "No SMS received yet"
    six = await _call(http, "order", product_ids=[9044, 8555, 8560, 8571, 8590, 8602])
    short = await _call(http, "order", product_ids=[WHATSAPP_30D, INSTAGRAM])
    assert six.json()["status"] == short.json()["status"] == "error"


async def test_multi_service_as_one_order_names_the_service_of_each_sms(
    sim: NonVoipSimulator, http: httpx.AsyncClient
) -> None:
    sim.bundle_answer = "one_order"
    (order,) = (await _call(http, "order", product_ids=[WHATSAPP_30D, TELEGRAM_30D])).json()["message"]
    assert order["service"] == "WhatsApp, Telegram" and sim.balance_of(EMAIL) == Decimal("6.00")
    assert sim.order(order["order_id"]).product_ids == [str(WHATSAPP_30D), str(TELEGRAM_30D)]
    sim.receive_sms(order["order_id"], "Telegram code 52525", service="Telegram")
    got = (await _call(http, "getsms", order_id=order["order_id"])).json()
    assert (got["service"], got["pin"]) == ("Telegram", "52525")
    with pytest.raises(ValueError):
        sim.receive_sms(order["order_id"], "Discord code 1234", service="Discord")


async def test_country_order_has_sb_id(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    products = (await _call(http, "country/products")).json()["message"]
    assert len(products) >= 10
    assert products[0] == {"product_id": 501, "name": "Telegram", "country": "United States",
                           "price": "0.45", "available": products[0]["available"]}
    order = (await _call(http, "country/order", product_id="501")).json()["message"]
    assert order["order_id"].startswith("sb_") and order["cost"] == "0.45" and order["service"] == "tg"
    assert order["country"] == "US" and order["expires_at"] and order["expiration"] > 0
    waiting = await _call(http, "getsms", order_id=order["order_id"])
    assert waiting.status_code == 404 and waiting.json()["message"] == "No SMS received yet"
    sim.receive_sms(order["order_id"], "Telegram code: 55123")
    got = (await _call(http, "getsms", order_id=order["order_id"])).json()
    assert got["pin"] == "55123" and got["type"] == "country"


async def test_activate_long_term(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    order = await _order(http, TELEGRAM_1D)
    assert order["type"] == "one_day" and order["status"] == "Active" and "expires" in order
    window = (await _call(http, "activate", order_id=str(order["order_id"]))).json()["message"][0]
    assert window["online_status"] == "online" and window["timezone"] == "UTC"
    assert sim.order(order["order_id"]).online_until is not None
    short = await _order(http)
    assert (await _call(http, "activate", order_id=short["order_id"])).json()["status"] == "error"


async def test_renew_extends_and_charges(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    order = await _order(http, WHATSAPP_30D)
    before = sim.order(order["order_id"]).expires_at
    renewed = (await _call(http, "renew", order_id=order["order_id"], duration="30d")).json()
    assert renewed["status"] == "success" and renewed["cost"] == "2.00"
    assert sim.order(order["order_id"]).expires_at - before == timedelta(days=30)
    assert renewed["expiration"] == sim.order(order["order_id"]).expires_at.strftime("%Y-%m-%d %H:%M:%S")
    assert sim.balance_of(EMAIL) == Decimal("6.00")
    assert (await _call(http, "renew", order_id=order["order_id"], duration="soon")).json()["status"] == "error"


async def test_rate_limit_429_headers(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    sim.set_rate_limit(2)
    ok = [await _call(http, "getsms", order_id="1") for _ in range(2)]
    limited = await _call(http, "balance")
    assert ok[1].headers["X-RateLimit-Remaining"] == "0"
    assert limited.status_code == 429
    body = limited.json()
    assert body["status"] == "error" and body["message"] == "Too many requests" and 1 <= body["retryAfter"] <= 60
    assert limited.headers["X-RateLimit-Limit"] == "2" and limited.headers["X-RateLimit-Remaining"] == "0"
    reset = datetime.strptime(limited.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%M:%SZ")
    assert reset.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc)
    other = await http.post("/api/balance", json={"email": "other@example.com", "password": "x"})
    assert other.status_code == 400  # the limit is per account


async def test_callbacks_incoming_message_and_auction(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    received: list[dict] = []

    async def hook(request: Request) -> Response:
        received.append(await request.json())
        return Response(status_code=200)

    receiver = LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    await receiver.start()
    try:
        saved = await http.post("/api/saveurl", json={"url": f"{receiver.url}/hook", "userId": 4321})
        assert saved.json() == {"status": "success", "message": "Callback URL saved successfully"}
        order = await _order(http)
        sim.receive_sms(order["order_id"], "Your Instagram OTP is 545")
        sim.offer_premium(INSTAGRAM, recommended_bid=20)
        premium = await _order(http, INSTAGRAM, auction=20)
        await _wait_for(lambda: len(sim.callbacks) == 2)
    finally:
        await receiver.stop()
    assert received[0] == {"event": "incoming_message", "message": {
        "order_id": order["order_id"], "number": order["number"], "service": "Instagram",
        "sender": received[0]["message"]["sender"], "sms": "Your Instagram OTP is 545", "code": "545",
        "type": "str"}}
    assert received[1]["event"] == "auction_wining"
    assert received[1]["message"][0]["order_id"] == premium["order_id"]
    assert [c["status"] for c in sim.callbacks] == [200, 200]
    assert (await http.post("/api/saveurl", json={"url": "https://x.test/", "userId": 1})).status_code == 404


async def test_fail_and_delay_next(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    sim.fail_next("/api/order", 502, "Bad Gateway")
    assert (await _call(http, "order", product_id=INSTAGRAM)).text == "Bad Gateway"
    sim.delay_next("/manager/api/order", 0.3)
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=httpx.Timeout(5.0, read=0.1)) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await _call(impatient, "order", product_id=INSTAGRAM)
    assert len(sim.orders_of(EMAIL)) == 1  # processed although the client gave up


async def test_lose_answer_next_processes_then_answers_500_or_truncated_json(
    sim: NonVoipSimulator, http: httpx.AsyncClient
) -> None:
    sim.lose_answer_next("/api/order", 500, {"status": "error", "message": "Internal error"})
    lost = await _call(http, "order", product_id=INSTAGRAM)
    assert lost.status_code == 500 and lost.json()["message"] == "Internal error"
    sim.lose_answer_next("/manager/api/order", truncate=True)
    cut = await _call(http, "order", product_id=INSTAGRAM)
    assert cut.status_code == 200 and cut.text.startswith('{"status":"success"')
    with pytest.raises(ValueError):
        cut.json()
    assert len(sim.orders_of(EMAIL)) == 2 and sim.balance_of(EMAIL) == Decimal("9.28")  # both bought
    assert (await _call(http, "balance")).json()["balance"] == "9.28"  # the rules were used up


async def test_faults_hit_any_endpoint_a_share_of_the_time(sim: NonVoipSimulator, http: httpx.AsyncClient) -> None:
    sim.fail_next("*", 503, "Service Unavailable", times=10, chance=0.5)
    statuses = [(await _call(http, path)).status_code for path in ("balance", "products") * 20]
    assert statuses.count(503) == 10 and 200 in statuses[: statuses.index(503) + 12]  # spread, not a burst
    assert {path for status, path in zip(statuses, ("balance", "products") * 20) if status == 503} == {
        "balance", "products"}  # any endpoint
    sim.delay_next("/api/balance", 0.3, email="someone-else@example.com")
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=httpx.Timeout(5.0, read=0.2)) as impatient:
        assert (await _call(impatient, "balance")).status_code == 200  # only that account waits


async def test_sandbox_demo_account_and_auto_sms() -> None:
    simulator = NonVoipSimulator(sandbox=True, auto_sms_after=0.1)
    await simulator.start()
    try:
        async with httpx.AsyncClient(base_url=simulator.base_url) as client:
            demo = {"email": "demo-7@example.com", "password": "anything"}
            assert (await client.post("/api/balance", json=demo)).json()["balance"] == "50.00"
            order = (await client.post("/api/order", json={**demo, "product_id": INSTAGRAM})).json()["message"][0]
            await asyncio.sleep(0.25)
            got = (await client.post("/api/getsms", json={**demo, "order_id": order["order_id"]})).json()
        assert got["status"] == "success" and len(got["pin"]) == 6
    finally:
        await simulator.stop()
