"""Smoke tests of the kiwiSMS simulator over real HTTP (plain httpx, no kiwi client)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.kiwi.simulator.sim import KiwiSimulator
from providers.simulation.loopback_server import LoopbackServer

KEY = "lsms_test_secret"
HEADERS = {"X-API-Key": KEY}


@pytest.fixture
async def sim() -> AsyncIterator[KiwiSimulator]:
    simulator = KiwiSimulator()
    simulator.add_account(KEY, Decimal("10.00"))
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def http(sim: KiwiSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, headers=HEADERS, timeout=5) as client:
        yield client


async def _rent(http: httpx.AsyncClient, service: str = "go", **extra: object) -> dict:
    response = await http.post("/api/v1/rentals", json={"service": service, **extra})
    assert response.status_code == 201, response.text
    return response.json()["rental"]


async def test_auth_401_403_and_bearer(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as anon:
        missing = await anon.get("/api/v1/balance")
        unknown = await anon.get("/api/v1/balance", headers={"X-API-Key": "nope"})
        bearer = await anon.get("/api/v1/balance", headers={"Authorization": f"Bearer {KEY}"})
        sim.add_account("frozen", suspended=True)
        suspended = await anon.get("/api/v1/balance", headers={"X-API-Key": "frozen"})
    assert missing.status_code == unknown.status_code == 401
    assert unknown.json() == {"error": "Invalid API key", "code": "UNAUTHORIZED"}
    assert suspended.status_code == 403
    assert suspended.json()["code"] == "ACCOUNT_SUSPENDED"
    assert bearer.json() == {"balance": 10.0, "currency": "USD"}
    assert sim.request_count("GET", "/api/v1/balance") == 4
    assert sim.request_count(api_key=KEY) == 1


async def test_services_per_country_and_invalid_country(http: httpx.AsyncClient) -> None:
    usa = (await http.get("/api/v1/services")).json()
    assert usa["countryCode"] == "187" and usa["count"] == 40 == len(usa["services"])
    google = next(s for s in usa["services"] if s["service"] == "go")
    assert google == {"service": "go", "name": "Google / Gmail / YouTube", "price": "0.50",
                      "count": google["count"], "multiSms": True}
    assert any(s["count"] == 0 for s in usa["services"])
    for country in ("16", "36", "43", "78", "48"):
        body = (await http.get("/api/v1/services", params={"country_code": country})).json()
        assert 12 <= body["count"] <= 20 and body["countryCode"] == country
    bad = await http.get("/api/v1/services", params={"country": "999"})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_COUNTRY"


async def test_rent_charges_and_takes_stock(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    stock_before = sim._catalog["187"]["wa"].count
    rental = await _rent(http, "wa", max_price="1.00")
    assert rental["status"] == "WAITING" and rental["asleep"] is False
    assert rental["phone"].startswith("+1") and len(rental["phone"]) == 12
    assert rental["expiresAt"].endswith("Z") and rental["price"] == 0.75
    assert sim.balance_of(KEY) == Decimal("9.25")
    assert sim._catalog["187"]["wa"].count == stock_before - 1

    sim.set_stock("187", "tg", 0)
    assert (await http.post("/api/v1/rentals", json={"service": "tg"})).json()["code"] == "SERVICE_UNAVAILABLE"
    too_cheap = await http.post("/api/v1/rentals", json={"service": "wa", "max_price": 0.1})
    assert too_cheap.status_code == 404
    sim.set_price("187", "go", Decimal("100"))
    assert (await http.post("/api/v1/rentals", json={"service": "go"})).status_code == 402
    bad_json = await http.post("/api/v1/rentals", content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "INVALID_REQUEST"
    assert (await http.post("/api/v1/rentals", json={"service": "go", "carrier": "xx"})).status_code == 400
    assert len(sim.rentals_of(KEY)) == 1


async def test_idempotent_replay_conflict_and_reuse(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    idem = {"Idempotency-Key": "k-1"}
    first = await http.post("/api/v1/rentals", json={"service": "go"}, headers=idem)
    again = await http.post("/api/v1/rentals", json={"service": "go"}, headers=idem)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other = await http.post("/api/v1/rentals", json={"service": "wa"}, headers=idem)
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(sim.rentals_of(KEY)) == 1 and sim.balance_of(KEY) == Decimal("9.50")

    sim.stall_next("POST", "/api/v1/rentals", 0.3)
    slow = asyncio.create_task(http.post("/api/v1/rentals", json={"service": "tg"}, headers={"Idempotency-Key": "k-2"}))
    await asyncio.sleep(0.1)
    racing = await http.post("/api/v1/rentals", json={"service": "tg"}, headers={"Idempotency-Key": "k-2"})
    assert racing.status_code == 409 and racing.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert (await slow).status_code == 201


async def test_delay_next_still_creates_the_rental(sim: KiwiSimulator) -> None:
    sim.delay_next("POST", "/api/v1/rentals", 1.0)
    idem = {**HEADERS, "Idempotency-Key": "slow-1"}
    async with httpx.AsyncClient(base_url=sim.base_url, headers=idem, timeout=httpx.Timeout(5.0, read=0.2)) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post("/api/v1/rentals", json={"service": "go"})
    assert len(sim.rentals_of(KEY)) == 1  # created although the client gave up
    async with httpx.AsyncClient(base_url=sim.base_url, headers=idem, timeout=2) as retry:
        replay = await retry.post("/api/v1/rentals", json={"service": "go"})
    assert replay.status_code == 201 and replay.json()["rental"]["id"] == sim.rentals_of(KEY)[0].id
    assert len(sim.rentals_of(KEY)) == 1 and sim.balance_of(KEY) == Decimal("9.50")


async def test_receive_sms_visible_in_list_and_get(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    rental = await _rent(http)
    assert sim.receive_sms(rental["id"], "G-482913 is your Google verification code") == "482913"
    listed = (await http.get("/api/v1/rentals", params={"sync": "0"})).json()
    assert listed["count"] == 1
    assert listed["rentals"][0]["codes"] == ["482913"] and listed["rentals"][0]["status"] == "RECEIVED"
    got = (await http.get(f"/api/v1/rentals/{rental['id']}")).json()["rental"]
    assert got["otpCode"] == "482913" and got["active"] is True and got["secondsRemaining"] > 0
    assert (await http.get("/api/v1/rentals/nope")).json()["code"] == "RENTAL_NOT_FOUND"


async def test_cancel_done_renew(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    waiting = await _rent(http)
    cancelled = await http.post(f"/api/v1/rentals/{waiting['id']}/cancel")
    assert cancelled.json() == {"success": True, "rentalId": waiting["id"], "status": "CANCELLED"}
    assert sim.balance_of(KEY) == Decimal("10.00") and sim.rental(waiting["id"]).refunded
    assert (await http.post(f"/api/v1/rentals/{waiting['id']}/cancel")).json()["code"] == "CANCEL_NOT_ALLOWED"

    used = await _rent(http)
    sim.receive_sms(used["id"], "code 1234")
    assert (await http.post(f"/api/v1/rentals/{used['id']}/cancel")).status_code == 404
    renewed = await http.post(f"/api/v1/rentals/{used['id']}/renew", headers={"Idempotency-Key": "r-1"})
    assert renewed.status_code == 201 and renewed.json()["rental"]["phone"] == used["phone"]
    replay = await http.post(f"/api/v1/rentals/{used['id']}/renew", headers={"Idempotency-Key": "r-1"})
    assert replay.status_code == 200 and replay.json() == renewed.json()
    assert sim.rental(used["id"]).status == "COMPLETED"
    new_id = renewed.json()["rental"]["id"]
    assert (await http.post(f"/api/v1/rentals/{new_id}/done")).json()["status"] == "COMPLETED"
    assert (await http.post(f"/api/v1/rentals/{new_id}/done")).status_code == 200
    assert sim.balance_of(KEY) == Decimal("9.00")


async def test_expire_refunds_and_lazy_expiry(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    rental = await _rent(http)
    sim.expire(rental["id"])
    assert sim.balance_of(KEY) == Decimal("10.00")
    assert (await http.get("/api/v1/rentals")).json() == {"rentals": [], "count": 0}
    assert (await http.get(f"/api/v1/rentals/{rental['id']}")).json()["rental"]["status"] == "EXPIRED"

    sim.rental_minutes = 0.2 / 60  # 0.2 s
    short = await _rent(http)
    sim.receive_sms(short["id"], "code 5555")
    await asyncio.sleep(0.3)
    got = (await http.get(f"/api/v1/rentals/{short['id']}")).json()["rental"]
    assert got["status"] == "EXPIRED" and got["secondsRemaining"] == 0
    assert sim.balance_of(KEY) == Decimal("9.50")  # a code arrived: no refund


async def test_rate_limit_429_headers(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    sim.set_rate_limit(2)
    ok = [await http.get("/api/v1/balance") for _ in range(2)]
    limited = await http.get("/api/v1/balance")
    assert [r.status_code for r in ok] == [200, 200] and ok[1].headers["X-RateLimit-Remaining"] == "0"
    assert limited.status_code == 429
    assert limited.json() == {"error": "Rate limit exceeded", "code": "RATE_LIMITED"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Limit"] == "2" and int(limited.headers["X-RateLimit-Reset"]) > 0
    sim.set_rate_limit(None)
    assert (await http.get("/api/v1/balance")).status_code == 200


async def test_fail_next_replaces_the_response(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    sim.fail_next("GET", "/api/v1/rentals", 502, "not json", times=2)
    assert [(await http.get("/api/v1/rentals")).text for _ in range(2)] == ["not json", "not json"]
    assert (await http.get("/api/v1/rentals")).status_code == 200


async def test_webhook_signature_verifies(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    received: list[tuple[bytes, str]] = []

    async def hook(request: Request) -> Response:
        received.append((await request.body(), request.headers["X-Webhook-Signature"]))
        return Response(status_code=204)

    receiver = LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    await receiver.start()
    try:
        sim.add_account("hooked", webhook_url=f"{receiver.url}/hook", webhook_secret="s3cret")
        async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-API-Key": "hooked"}) as hooked:
            rental = await _rent(hooked)
        sim.receive_sms(rental["id"], "Your code is 778899")
        for _ in range(100):
            if sim.webhook_deliveries:
                break
            await asyncio.sleep(0.01)
    finally:
        await receiver.stop()
    body, signature = received[0]
    assert hmac.compare_digest(signature, hmac.new(b"s3cret", body, hashlib.sha256).hexdigest())
    payload = json.loads(body)
    assert payload["event"] == "sms.received" and payload["otpCode"] == "778899"
    assert payload["rentalId"] == rental["id"] and payload["receivedAt"].endswith("Z")
    assert sim.webhook_deliveries[0]["status"] == 204


async def test_sandbox_demo_key_and_auto_sms() -> None:
    simulator = KiwiSimulator(sandbox=True, auto_sms_after=0.1)
    await simulator.start()
    try:
        async with httpx.AsyncClient(base_url=simulator.base_url, headers={"X-API-Key": "demo-1"}) as c:
            rental = await _rent(c, "tg", country="16")
            await asyncio.sleep(0.25)
            got = (await c.get(f"/api/v1/rentals/{rental['id']}")).json()["rental"]
        assert rental["phone"].startswith("+447")
        assert got["status"] == "RECEIVED" and len(got["otpCode"]) == 6
        assert simulator.balance_of("demo-1") == Decimal("50.00") - Decimal("0.85")
    finally:
        await simulator.stop()


async def test_fail_after_next_processes_then_loses_the_answer(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    idem = {"Idempotency-Key": "lost-1"}
    sim.fail_after_next("POST", "/api/v1/rentals", 500, {"error": "boom"})
    lost = await http.post("/api/v1/rentals", json={"service": "go"}, headers=idem)
    assert lost.status_code == 500 and lost.json() == {"error": "boom"}
    (rental,) = sim.rentals_of(KEY)  # bought although the answer said otherwise
    assert sim.balance_of(KEY) == Decimal("9.50")
    replay = await http.post("/api/v1/rentals", json={"service": "go"}, headers=idem)
    assert replay.status_code == 201 and replay.json()["rental"]["id"] == rental.id
    assert len(sim.rentals_of(KEY)) == 1 and sim.balance_of(KEY) == Decimal("9.50")


async def test_truncate_next_cuts_the_processed_json(sim: KiwiSimulator, http: httpx.AsyncClient) -> None:
    sim.truncate_next("POST", "/api/v1/rentals")
    cut = await http.post("/api/v1/rentals", json={"service": "go"})
    (rental,) = sim.rentals_of(KEY)  # processed: the rental exists, only its answer is cut
    assert cut.status_code == 201 and cut.content.startswith(b'{"rental":{"id":"' + rental.id.encode())
    with pytest.raises(ValueError):
        json.loads(cut.content)
    sim.truncate_next("GET", "/api/v1/rentals", times=2)
    for _ in range(2):
        listed = await http.get("/api/v1/rentals")
        assert listed.status_code == 200 and listed.content.startswith(b'{"rentals":[')
        with pytest.raises(ValueError):
            json.loads(listed.content)
    assert (await http.get("/api/v1/rentals")).json()["count"] == 1
