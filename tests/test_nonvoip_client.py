"""NonVoipClient against the real NonVoipUsNumber simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.secret_checks import assert_secret_absent, raises_clean
from providers.errors import (
    BadCredentials,
    InsufficientBalance,
    InvalidRequest,
    NotAllowedNow,
    OutOfStock,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnexpectedResponse,
)
from providers.http import create_http_client
from providers.models import (
    Action,
    ActivationWindow,
    Offer,
    OrderStatus,
    PremiumBidDecision,
    PriceChangeDecision,
    ProviderId,
    RemoteOrder,
)
from providers.nonvoip.client import NonVoipClient, nonvoip_actions
from providers.registry import ProviderEndpoints, make_client
from providers.simulation.loopback_server import LoopbackServer
from providers.nonvoip.simulator.sim import NonVoipSimulator

SECRET = "TOPSECRETpw!Material987"  # part of every test password; must never show up anywhere
ORDER, COUNTRY_ORDER, GETSMS = "/api/order", "/api/country/order", "/api/getsms"
START = Decimal("50.00")

# One simulator for the module (start/stop is the slow part); each test gets its own account,
# so state never leaks between tests. Injected faults are always consumed by the test.
pytestmark = pytest.mark.asyncio(loop_scope="module")
_ids = itertools.count()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_sim() -> AsyncIterator[NonVoipSimulator]:
    simulator = NonVoipSimulator()
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
def email() -> str:
    return f"user{next(_ids)}@example.com"


@pytest.fixture
def password() -> str:
    return f"pw{next(_ids)}_{SECRET}"


@pytest.fixture
def sim(shared_sim: NonVoipSimulator, email: str, password: str) -> Iterator[NonVoipSimulator]:
    shared_sim.add_account(email, password)
    yield shared_sim


@pytest.fixture
def catalogue(shared_sim: NonVoipSimulator) -> Iterator[list[Offer]]:
    """Offers a test changes with set_price/set_stock: restored afterwards (the sim is shared)."""
    changed: list[Offer] = []
    yield changed
    for offer in changed:
        shared_sim.set_price(offer.service, offer.price)
        shared_sim.set_stock(offer.service, offer.stock or 0)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = create_http_client(timeout=5.0)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def nv(sim: NonVoipSimulator, http: httpx.AsyncClient, email: str, password: str) -> NonVoipClient:
    return NonVoipClient(http, sim.base_url, email, password, retry_delay=0.01)


@pytest.fixture(autouse=True)
def _no_password_in_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """Every test also proves that nothing logged the password."""
    caplog.set_level(logging.DEBUG)
    yield
    assert SECRET not in caplog.text


def assert_clean(exc: BaseException) -> None:
    assert_secret_absent(exc, SECRET)


async def raises(kind: type[ProviderError], call: Awaitable[Any]) -> ProviderError:
    return await raises_clean(kind, call, provider="nonvoip", secret=SECRET)


def sent(sim: NonVoipSimulator, email: str, path: str) -> list[Any]:
    return [r for r in sim.requests if r.path == path and r.email == email]


async def offer_in(nv: NonVoipClient, section: str) -> Offer:
    return next(o for o in await nv.list_offers(section) if o.stock)


async def order_in(nv: NonVoipClient, section: str) -> tuple[Offer, RemoteOrder]:
    offer = await offer_in(nv, section)
    order = await nv.place_order(offer, idempotency_key="unused")
    assert isinstance(order, RemoteOrder)
    return offer, order


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def soon(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


# ---------------------------------------------------------------------- account / catalogue


async def test_balance_sends_credentials_only_in_the_json_body(
    sim: NonVoipSimulator, email: str, password: str
) -> None:
    seen: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as spy:
        nv = NonVoipClient(spy, sim.base_url, email, password, retry_delay=0.01)
        balance = await nv.get_balance()
    assert balance.amount == START and balance.currency == "USD"
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/manager/api/balance"
    assert password not in str(request.url) and all(password not in v for v in request.headers.values())
    assert request.headers["content-type"] == "application/json"
    assert f'"password":"{password}"'.replace(" ", "") in request.content.decode().replace(" ", "")
    assert sent(sim, email, "/api/balance")[0].json == {"email": email, "password": "***"}


async def test_sections_from_one_grouped_call(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    sections = await nv.list_sections()
    assert [(s.id, s.title) for s in sections] == [
        ("10-minutes", "10-minutes"), ("1-day", "1-day"), ("30-days", "30-days"),
        ("3-days", "3-days"), ("country", "Country"),
    ]
    (request,) = sent(sim, email, "/api/products")
    assert request.json["grouped"] is True


async def test_offers_per_section(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str, catalogue: list[Offer]
) -> None:
    durations = {"10-minutes": 10, "1-day": 1440, "30-days": 43200, "3-days": 4320}
    for section, minutes in durations.items():
        offers = await nv.list_offers(section)
        assert offers and all(o.section == section and o.duration_minutes == minutes for o in offers)
        assert all(isinstance(o.price, Decimal) and o.price > 0 and o.service.isdigit() for o in offers)
    assert len(await nv.list_offers("10-minutes")) >= 30
    target = (await nv.list_offers("10-minutes"))[0]
    catalogue.append(target)
    sim.set_price(target.service, Decimal("0.77"))
    sim.set_stock(target.service, 3)
    again = {o.service: o for o in await nv.list_offers("10-minutes")}[target.service]
    assert (again.price, again.stock, again.name) == (Decimal("0.77"), 3, target.name)
    country = await nv.list_offers("country")
    assert len(country) >= 10 and all(o.section == "country" and o.duration_minutes is None for o in country)
    assert any(o.name == "Telegram (United States)" and o.service == "501" for o in country)
    assert sent(sim, email, "/api/country/products")
    await raises(InvalidRequest, nv.list_offers("5-years"))


async def test_products_filters(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    short = await nv.products(type="short_term")
    assert short and all(o.section == "10-minutes" for o in short)
    assert sent(sim, email, "/api/products")[-1].json["type"] == "short_term"
    (one,) = await nv.products(product_id="9044")
    assert one.service == "9044" and one.section == "30-days"
    assert sent(sim, email, "/api/products")[-1].json["product_id"] == 9044
    grouped = await nv.products(grouped=True)
    assert {o.section for o in grouped} >= {"10-minutes", "1-day", "30-days"}


async def test_liberal_prices_and_ids(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    sim.fail_next("/api/products", 200, {"status": "success", "message": {"10-minutes": [
        {"product_id": "77", "name": "Odd", "price": 0.5, "available": "4"},
        {"product_id": 78, "name": "Even", "price": "1.10", "available": 0}]}})
    odd, even = await nv.list_offers("10-minutes")
    assert (odd.service, odd.price, odd.stock) == ("77", Decimal("0.5"), 4)
    assert (even.service, even.price, even.stock) == ("78", Decimal("1.10"), 0)
    sim.fail_next("/api/balance", 200, {"status": "success", "balance": 12.5})
    assert (await nv.get_balance()).amount == Decimal("12.5")


# ---------------------------------------------------------------------- short-term lifecycle


async def test_short_term_order_poll_and_codes(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "10-minutes")
    assert order.status is OrderStatus.WAITING and order.messages == () and order.phone
    assert order.price == offer.price and order.service == order.service_name == offer.name
    assert order.expires_at is not None and abs((order.expires_at - soon(900)).total_seconds()) < 30
    assert sim.balance_of(email) == START - offer.price
    (request,) = sent(sim, email, ORDER)
    assert request.json == {"email": email, "password": "***", "product_id": int(offer.service)}
    assert order.order_id == sim.orders_of(email)[0].order_id
    assert nv.actions(order) == {Action.REJECT, Action.REFRESH}

    waiting = await nv.check_order(order.order_id)  # HTTP 200 "No SMS received yet"
    assert waiting.status is OrderStatus.WAITING and waiting.messages == ()
    sim.receive_sms(order.order_id, "Your code is 545123", "545123")
    first = await nv.get_order(order.order_id)
    assert first.status is OrderStatus.RECEIVED and first.phone == order.phone
    (sms,) = first.messages
    assert (sms.code, sms.text) == ("545123", "Your code is 545123")
    assert (await nv.check_order(order.order_id)).messages[0].message_id == sms.message_id  # stable
    assert nv.actions(first) == {Action.REUSE, Action.REFRESH}
    assert sent(sim, email, GETSMS)[-1].json["order_id"] == order.order_id
    with pytest.raises(NotImplementedError):
        await nv.active_orders()


async def test_getsms_error_200_and_404_mean_waiting(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    _, order = await order_in(nv, "10-minutes")
    for status in (200, 404):
        sim.fail_next(GETSMS, status, {"status": "error", "message": "No SMS received yet"})
        assert (await nv.check_order(order.order_id)).status is OrderStatus.WAITING


async def test_getsms_final_texts(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    _, order = await order_in(nv, "10-minutes")
    for text, status in (("Order expired", OrderStatus.EXPIRED), ("Order not found", OrderStatus.EXPIRED),
                         ("Order rejected", OrderStatus.CANCELLED), ("Order completed", OrderStatus.COMPLETED)):
        sim.fail_next(GETSMS, 200, {"status": "error", "message": text})
        assert (await nv.check_order(order.order_id)).status is status
    sim.fail_next(GETSMS, 200, {"status": "error", "message": "Wrong Auth"})
    await raises(BadCredentials, nv.check_order(order.order_id))


async def test_expiry_is_reported(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "10-minutes")
    sim.expire(order.order_id)
    expired = await nv.check_order(order.order_id)
    assert expired.status is OrderStatus.EXPIRED and nv.actions(expired) == frozenset()
    assert sim.balance_of(email) == START  # no SMS: refunded


async def test_reject_refunds(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "10-minutes")
    rejected = await nv.reject(order.order_id)
    assert rejected.status is OrderStatus.CANCELLED and rejected.refunded is True
    assert rejected.order_id == order.order_id
    assert sim.order(order.order_id).status == "Rejected" and sim.balance_of(email) == START
    assert len(sent(sim, email, "/api/reject")) == 1
    assert nv.actions(rejected) == frozenset()
    _, other = await order_in(nv, "10-minutes")
    assert (await nv.cancel(other.order_id)).status is OrderStatus.CANCELLED


async def test_reuse_same_number(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "10-minutes")
    sim.receive_sms(order.order_id, "code 1111", "1111")
    reused = await nv.reuse(order.order_id)
    assert reused.phone == order.phone and reused.status is OrderStatus.WAITING
    assert reused.expires_at is not None and reused.expires_at > datetime.now(timezone.utc)
    assert sim.order(reused.order_id).status == "Reserved"
    assert len(sent(sim, email, "/api/reuse")) == 1
    assert sim.balance_of(email) < START - offer.price  # charged again


# ---------------------------------------------------------------------- long-term lifecycle


async def test_long_term_activate_and_renew(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "30-days")
    assert order.status is OrderStatus.WAITING and order.price == offer.price
    assert order.expires_at is not None and order.expires_at > soon(29 * 86400)
    assert nv.actions(order) == {Action.ACTIVATE, Action.RENEW, Action.REFRESH}
    window = await nv.activate(order.order_id)
    assert isinstance(window, ActivationWindow) and window.online
    assert window.ends_at is not None and window.ends_at > datetime.now(timezone.utc)
    assert sim.order(order.order_id).online_until is not None
    before = sim.balance_of(email)
    renewed = await nv.renew(order.order_id, duration="30d")
    assert renewed.order_id == order.order_id and renewed.status is OrderStatus.WAITING
    assert renewed.expires_at is not None and renewed.expires_at > order.expires_at
    assert renewed.price == before - sim.balance_of(email) > 0  # the answer's `cost`
    (request,) = sent(sim, email, "/api/renew")
    assert request.json["duration"] == "30d" and request.json["order_id"] == order.order_id


async def test_one_day_and_three_days_actions(nv: NonVoipClient) -> None:
    for section in ("1-day", "3-days"):
        _, order = await order_in(nv, section)
        assert nv.actions(order) == {Action.ACTIVATE, Action.RENEW, Action.REFRESH}


async def test_multi_service_30_days(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    order = await nv.order(["9044", "8555"], section="30-days")
    assert isinstance(order, RemoteOrder) and order.status is OrderStatus.WAITING
    assert "WhatsApp" in order.service and "Telegram" in order.service
    (request,) = sent(sim, email, ORDER)
    assert request.json["product_ids"] == [9044, 8555] and "product_id" not in request.json
    assert sim.orders_of(email)[0].product_ids == ["9044", "8555"]
    six = ["9044", "8555", "8560", "8571", "8590", "8602"]
    await raises(InvalidRequest, nv.order(six, section="30-days"))
    await raises(InvalidRequest, nv.order(["9044", "8555"], section="10-minutes"))
    await raises(InvalidRequest, nv.order([], section="30-days"))
    assert len(sent(sim, email, ORDER)) == 1  # the refused ones were never sent


async def test_country_order_has_a_string_id(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "country")
    assert order.order_id.startswith("sb_") and order.phone
    assert order.price == offer.price and order.expires_at is not None
    assert len(sent(sim, email, COUNTRY_ORDER)) == 1 and not sent(sim, email, ORDER)
    assert nv.actions(order) == {Action.REJECT, Action.REFRESH}
    waiting = await nv.check_order(order.order_id)  # HTTP 404 "No SMS received yet"
    assert waiting.status is OrderStatus.WAITING
    assert sent(sim, email, GETSMS)[-1].status == 404
    sim.receive_sms(order.order_id, "Telegram code 77777", "77777")
    assert (await nv.check_order(order.order_id)).messages[0].code == "77777"


# ---------------------------------------------------------------------- decisions


async def test_price_change_is_a_decision_until_accepted(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str
) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.require_price_change(offer.service, Decimal("1.70"))
    decision = await nv.place_order(offer, idempotency_key="k")
    assert isinstance(decision, PriceChangeDecision) and decision.available_price == Decimal("1.70")
    assert len(sent(sim, email, ORDER)) == 1  # not retried on its own
    assert sim.orders_of(email) == [] and sim.balance_of(email) == START
    order = await nv.order([offer.service], section="10-minutes", accepted_max_price=Decimal("1.70"))
    assert isinstance(order, RemoteOrder) and order.price == Decimal("1.70")
    requests = sent(sim, email, ORDER)
    assert len(requests) == 2 and requests[1].json["accepted_max_price"] == pytest.approx(1.7)
    assert "accepted_max_price" not in requests[0].json
    assert sim.balance_of(email) == START - Decimal("1.70")


async def test_price_change_cap_too_low_asks_again(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.require_price_change(offer.service, Decimal("2.00"))
    again = await nv.order([offer.service], section="10-minutes", accepted_max_price=Decimal("1.00"))
    assert isinstance(again, PriceChangeDecision) and again.available_price == Decimal("2.00")
    assert len(sent(sim, email, ORDER)) == 1 and sim.balance_of(email) == START
    # The user accepts the new price: bought at it (and the injected rule is consumed).
    order = await nv.order([offer.service], section="10-minutes", accepted_max_price=Decimal("2.00"))
    assert isinstance(order, RemoteOrder) and sim.balance_of(email) == START - Decimal("2.00")


async def test_premium_is_a_decision_until_bid(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.offer_premium(offer.service, recommended_bid=25)
    decision = await nv.place_order(offer, idempotency_key="k")
    assert decision == PremiumBidDecision(recommended_bid=25)
    assert len(sent(sim, email, ORDER)) == 1 and sim.orders_of(email) == []
    order = await nv.order([offer.service], section="10-minutes", auction=25)
    assert isinstance(order, RemoteOrder) and order.status is OrderStatus.WAITING
    assert order.price == (offer.price * Decimal("1.25")).quantize(Decimal("0.01"))  # bid = % on top
    assert sim.balance_of(email) == START - order.price
    requests = sent(sim, email, ORDER)
    assert len(requests) == 2 and requests[1].json["auction"] == 25
    assert len(sim.orders_of(email)) == 1


# ---------------------------------------------------------------------- errors


async def test_insufficient_balance(sim: NonVoipSimulator, http: httpx.AsyncClient, email: str,
                                    password: str) -> None:
    poor_email = "poor-" + email
    sim.add_account(poor_email, password, Decimal("0.01"))
    poor = NonVoipClient(http, sim.base_url, poor_email, password, retry_delay=0.01)
    offer = await offer_in(poor, "10-minutes")
    error = await raises(InsufficientBalance, poor.place_order(offer, idempotency_key="k"))
    assert error.user_message == "Insufficient balance."
    assert len(sent(sim, poor_email, ORDER)) == 1 and sim.orders_of(poor_email) == []


async def test_wrong_auth(sim: NonVoipSimulator, http: httpx.AsyncClient, email: str, password: str) -> None:
    wrong = NonVoipClient(http, sim.base_url, email, password + "x", retry_delay=0.01)
    error = await raises(BadCredentials, wrong.get_balance())
    assert error.user_message == "Wrong Auth"
    assert len(sent(sim, email, "/api/balance")) == 1  # a definite answer: not retried
    offer = Offer(section="10-minutes", service="10000086", name="x", price=Decimal("1"), stock=1)
    await raises(BadCredentials, wrong.place_order(offer, idempotency_key="k"))
    await raises(BadCredentials, wrong.check_order("123"))
    await raises(BadCredentials, wrong.reject("123"))
    assert len(sent(sim, email, ORDER)) == 1


async def test_out_of_stock(sim: NonVoipSimulator, nv: NonVoipClient, email: str,
                            catalogue: list[Offer]) -> None:
    offer = await offer_in(nv, "10-minutes")
    catalogue.append(offer)
    sim.set_stock(offer.service, 0)
    await raises(OutOfStock, nv.place_order(offer, idempotency_key="k"))
    assert len(sent(sim, email, ORDER)) == 1 and sim.balance_of(email) == START


async def test_actions_refused_in_the_wrong_state(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    _, long = await order_in(nv, "30-days")
    _, short = await order_in(nv, "10-minutes")
    error = await raises(NotAllowedNow, nv.reject(long.order_id))
    assert error.user_message == "Only reserved numbers can be rejected"
    await raises(NotAllowedNow, nv.activate(short.order_id))
    await raises(NotAllowedNow, nv.renew(short.order_id))
    await raises(NotAllowedNow, nv.reuse(short.order_id))  # still waiting for its SMS
    sim.receive_sms(short.order_id, "code 4321", "4321")
    await raises(NotAllowedNow, nv.reject(short.order_id))  # an SMS arrived: no refund any more
    _, gone = await order_in(nv, "10-minutes")
    await nv.reject(gone.order_id)
    assert (await nv.check_order(gone.order_id)).status is OrderStatus.CANCELLED  # "Order rejected"
    await raises(NotAllowedNow, nv.reuse(gone.order_id))
    unknown = await nv.check_order("999999999")  # HTTP 404 "Order not found": nothing more will come
    assert unknown.status is OrderStatus.EXPIRED
    await raises(OutOfStock, nv.order(["424242"], section="10-minutes"))  # "Product not found"


async def test_other_errors_carry_the_providers_message(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    sim.fail_next("/api/activate", 400, {"status": "error", "message": "Weird provider rule 42"})
    error = await raises(InvalidRequest, nv.activate("1"))
    assert error.user_message == "Weird provider rule 42"


# ---------------------------------------------------------------------- 429, 5xx, timeouts


async def test_429_on_order_maps_retry_after_and_is_not_retried(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str
) -> None:
    offer = await offer_in(nv, "10-minutes")
    limited = {"status": "error", "message": "Too many requests", "retryAfter": 12}
    sim.fail_next(ORDER, 429, limited)
    error = await raises(RateLimited, nv.place_order(offer, idempotency_key="k"))
    assert isinstance(error, RateLimited) and error.retry_after == 12
    assert error.user_message == "Too many requests"
    sim.fail_next(ORDER, 429, limited, headers={"Retry-After": "7"})
    error = await raises(RateLimited, nv.place_order(offer, idempotency_key="k"))
    assert isinstance(error, RateLimited) and error.retry_after == 7
    reset = (datetime.now(timezone.utc) + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sim.fail_next(ORDER, 429, {"status": "error", "message": "Too many requests"},
                  headers={"X-RateLimit-Reset": reset})
    error = await raises(RateLimited, nv.place_order(offer, idempotency_key="k"))
    assert isinstance(error, RateLimited) and error.retry_after is not None and 35 <= error.retry_after <= 41
    sim.fail_next(ORDER, 429, {"status": "error", "message": "Too many requests"},
                  headers={"X-RateLimit-Reset": str(int(time.time()) + 20)})
    error = await raises(RateLimited, nv.place_order(offer, idempotency_key="k"))
    assert isinstance(error, RateLimited) and error.retry_after is not None and 15 <= error.retry_after <= 21
    assert len(sent(sim, email, ORDER)) == 4 and sim.orders_of(email) == []


async def test_429_on_reads_short_waits_retried_long_ones_raised(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str
) -> None:
    sim.fail_next("/api/balance", 429, {"status": "error", "message": "Too many requests", "retryAfter": 0})
    assert (await nv.get_balance()).amount == START
    assert sim.request_count("/api/balance", email=email) == 2
    sim.fail_next("/api/balance", 429, {"status": "error", "message": "Too many requests", "retryAfter": 30})
    error = await raises(RateLimited, nv.get_balance())
    assert isinstance(error, RateLimited) and error.retry_after == 30
    assert sim.request_count("/api/balance", email=email) == 3  # not worth waiting 30 s


async def test_real_rate_limit(http: httpx.AsyncClient, email: str, password: str) -> None:
    limited = NonVoipSimulator(rate_limit_per_minute=2)
    await limited.start()
    try:
        limited.add_account(email, password)
        nv = NonVoipClient(http, limited.base_url, email, password, retry_delay=0.01)
        await nv.get_balance()
        await nv.get_balance()
        error = await raises(RateLimited, nv.get_balance())
        assert isinstance(error, RateLimited) and error.retry_after and 0 < error.retry_after <= 61
    finally:
        await limited.stop()


async def test_reads_retry_5xx(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    sim.fail_next("/api/balance", 500, {"status": "error", "message": "boom"})
    assert (await nv.get_balance()).amount == START
    assert sim.request_count("/api/balance", email=email) == 2
    sim.fail_next("/api/balance", 502, "Bad gateway", times=3)
    await raises(ProviderUnavailable, nv.get_balance())
    assert sim.request_count("/api/balance", email=email) == 5


async def test_order_timeout_may_have_charged_and_is_sent_once(
    sim: NonVoipSimulator, email: str, password: str
) -> None:
    async with create_http_client(timeout=0.3) as quick:
        nv = NonVoipClient(quick, sim.base_url, email, password, retry_delay=0.01)
        offer = await offer_in(nv, "10-minutes")
        sim.delay_next(ORDER, 1.0)
        error = await raises(ProviderUnavailable, nv.place_order(offer, idempotency_key="k"))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(sent(sim, email, ORDER)) == 1
    assert len(sim.orders_of(email)) == 1  # it did buy: the bot must not buy again blindly


@pytest.mark.parametrize("path", ["/api/order", "/api/reuse", "/api/renew"])
async def test_5xx_on_purchases_may_have_charged(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str, path: str
) -> None:
    sim.fail_next(path, 502, {"status": "error", "message": "Bad gateway"})
    if path == ORDER:
        call = nv.order(["10000086"], section="10-minutes")
    elif path == "/api/reuse":
        call = nv.reuse("1")
    else:
        call = nv.renew("1")
    error = await raises(ProviderUnavailable, call)
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(sent(sim, email, path)) == 1


@pytest.mark.parametrize("path", ["/api/reject", "/api/activate"])
async def test_actions_are_sent_once_and_charge_nothing(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str, path: str
) -> None:
    sim.fail_next(path, 503, {"status": "error", "message": "down"})
    error = await raises(ProviderUnavailable, nv.reject("1") if "reject" in path else nv.activate("1"))
    assert isinstance(error, ProviderUnavailable) and not error.may_have_charged
    assert len(sent(sim, email, path)) == 1


async def test_unreachable_provider_did_not_charge(http: httpx.AsyncClient, password: str) -> None:
    dead = NonVoipClient(http, f"http://127.0.0.1:{free_port()}/manager", "a@b.c", password, retry_delay=0.01)
    error = await raises(ProviderUnavailable, dead.order(["1"], section="10-minutes"))
    assert isinstance(error, ProviderUnavailable) and not error.may_have_charged
    await raises(ProviderUnavailable, dead.get_balance())


# ---------------------------------------------------------------------- garbage


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", {"status": "success"}, {"status": "success", "balance": "lots"},
             {"status": "success", "balance": True}, {"status": "weird", "balance": "1.00"}],
)
async def test_garbage_balance_is_unexpected(sim: NonVoipSimulator, nv: NonVoipClient, body: Any) -> None:
    sim.fail_next("/api/balance", 200, body)
    await raises(UnexpectedResponse, nv.get_balance())


async def test_garbage_everywhere_else_is_unexpected(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    cases: list[tuple[str, Any, Awaitable[Any]]] = [
        ("/api/products", {"status": "success", "message": "nope"}, nv.list_sections()),
        ("/api/products", {"status": "success", "message": {"10-minutes": [{"name": "x"}]}},
         nv.list_offers("10-minutes")),
        ("/api/country/products", {"status": "success", "message": [{"product_id": 1}]},
         nv.list_offers("country")),
        (GETSMS, {"status": "success", "number": "1"}, nv.check_order("1")),
        (GETSMS, "<html>", nv.check_order("1")),
        (GETSMS, {"status": "error"}, nv.check_order("1")),
        ("/api/activate", {"status": "success", "message": []}, nv.activate("1")),
        ("/api/activate", {"status": "success", "message": [{"online_status": "online", "end_on": "soon"}]},
         nv.activate("1")),
        (ORDER, {"status": "info", "message": [{"info": "Something_New"}]},
         nv.order(["1"], section="10-minutes")),
        (ORDER, {"status": "info", "message": [{"info": "Price_Change_Required"}]},
         nv.order(["1"], section="10-minutes")),
    ]
    for path, body, call in cases:
        sim.fail_next(path, 200, body)
        await raises(UnexpectedResponse, call)


@pytest.mark.parametrize("body", ["not json", {"status": "success", "message": [{"order_id": 5}]},
                                  {"status": "success", "message": []}])
async def test_unreadable_success_on_order_may_have_charged(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str, body: Any
) -> None:
    # A 2xx to a purchase may have bought something: reported as ambiguous, not as garbage.
    sim.fail_next(ORDER, 200, body)
    error = await raises(ProviderUnavailable, nv.order(["10000086"], section="10-minutes"))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(sent(sim, email, ORDER)) == 1


# ---------------------------------------------------------------------- secrets


async def test_password_never_leaks(sim: NonVoipSimulator, nv: NonVoipClient, password: str) -> None:
    assert SECRET not in repr(nv) and SECRET not in str(nv)
    assert nv.provider is ProviderId.NONVOIP and nv.polling == "order" and nv.requests_per_minute == 500
    # A provider echoing the password in an error must not put it into our exception.
    sim.fail_next("/api/balance", 400, {"status": "error", "message": f"Wrong Auth for {password}"})
    error = await raises(BadCredentials, nv.get_balance())
    assert "***" in error.user_message
    sim.fail_next("/api/balance", 200, f'{{"status": "success", "balance": "{password}"')  # truncated JSON
    await raises(UnexpectedResponse, nv.get_balance())
    sim.fail_next(GETSMS, 200, f'{{"password": "{password}"')
    await raises(UnexpectedResponse, nv.check_order("1"))


# ---------------------------------------------------------------------- callbacks, actions, registry


async def test_save_url_and_sms_callback(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        received.append(await request.json())
        return Response(status_code=200)

    receiver = LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    await receiver.start()
    try:
        await nv.save_url(f"{receiver.url}/hook")
        assert sent(sim, email, "/api/saveurl")[0].json["url"] == f"{receiver.url}/hook"
        _, order = await order_in(nv, "10-minutes")
        sim.receive_sms(order.order_id, "Your code is 246810", "246810")
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
    finally:
        await receiver.stop()
    (payload,) = received
    assert payload["event"] == "incoming_message"
    assert str(payload["message"]["order_id"]) == order.order_id and payload["message"]["code"] == "246810"


async def test_actions_table() -> None:
    waiting, received = OrderStatus.WAITING, OrderStatus.RECEIVED
    assert nonvoip_actions("short_term", waiting) == {Action.REJECT, Action.REFRESH}
    assert nonvoip_actions("short_term", received) == {Action.REUSE, Action.REFRESH}
    for kind in ("long_term", "one_day", "3days"):
        assert nonvoip_actions(kind, waiting) == nonvoip_actions(kind, received) == {
            Action.ACTIVATE, Action.RENEW, Action.REFRESH}
    assert nonvoip_actions("country", waiting) == {Action.REJECT, Action.REFRESH}
    for kind in ("short_term", "long_term", "country"):
        for final in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            assert nonvoip_actions(kind, final) == frozenset()


async def test_actions_of_orders_this_client_never_saw(http: httpx.AsyncClient) -> None:
    fresh = NonVoipClient(http, "http://127.0.0.1:1/manager", "a@b.c", "pw")

    def order(order_id: str, expires_in: float | None) -> RemoteOrder:
        return RemoteOrder(order_id, "1", "s", "s", Decimal("1"), OrderStatus.WAITING,
                           soon(expires_in) if expires_in is not None else None)

    assert fresh.actions(order("1", 900)) == {Action.REJECT, Action.REFRESH}
    assert fresh.actions(order("2", 30 * 86400)) == {Action.ACTIVATE, Action.RENEW, Action.REFRESH}
    assert fresh.actions(order("sb_3", 300)) == {Action.REJECT, Action.REFRESH}


async def test_registry_builds_the_client(sim: NonVoipSimulator, http: httpx.AsyncClient, email: str,
                                          password: str) -> None:
    endpoints = ProviderEndpoints(nonvoip=sim.base_url, kiwi="http://kiwi", gotsms="http://gotsms")
    client = make_client(ProviderId.NONVOIP, {"email": email, "password": password}, http, endpoints)
    assert isinstance(client, NonVoipClient)
    assert (await client.get_balance()).amount == START
