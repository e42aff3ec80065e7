"""KiwiClient against the real kiwiSMS simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import logging
import socket
import time
from datetime import timedelta
from collections.abc import AsyncIterator, Awaitable, Iterator
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
    AccountSuspended,
    BadCredentials,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidRequest,
    NotAllowedNow,
    OrderNotFound,
    OutOfStock,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnexpectedResponse,
)
from providers.http import RetryPolicy, create_http_client, parse_retry_after
from providers.base import Cancellable, Finishable, OrderListing, Renewable
from providers.kiwi.capabilities import CAPABILITIES
from providers.kiwi.client import KIWI_COUNTRIES, KiwiClient
from providers.kiwi.webhook import parse_sms_received, sign, verify_signature
from providers.models import (
    Action, Offer, OrderRequest, OrderStatus, PlacedOrder, PollStrategy, ProviderId, RemoteOrder,
)
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.simulation.loopback_server import LoopbackServer

SECRET = "TOPSECRETkeyMaterial987"  # part of every test key; must never show up anywhere
RENT = "/api/v1/rentals"
PURCHASE_TIMEOUT = 0.25


# One simulator for the module (its shutdown costs ~0.2 s); each test gets its own account,
# so state never leaks between tests. Injected faults are always consumed by the test.
pytestmark = pytest.mark.asyncio(loop_scope="module")
_keys = itertools.count()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_sim() -> AsyncIterator[KiwiSimulator]:
    simulator = KiwiSimulator()
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
def key() -> str:
    return f"lsms_t{next(_keys)}_{SECRET}"


@pytest.fixture
def sim(shared_sim: KiwiSimulator, key: str) -> Iterator[KiwiSimulator]:
    shared_sim.add_account(key, Decimal("50.00"))
    yield shared_sim
    shared_sim.set_rate_limit(None)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = create_http_client(timeout=5.0)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def kiwi(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> KiwiClient:
    return KiwiClient(http, sim.base_url, key, retry_delay=0.01, purchase_timeout=PURCHASE_TIMEOUT)


@pytest.fixture(autouse=True)
def _no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """Every test also proves that nothing logged the API key."""
    caplog.set_level(logging.DEBUG)
    yield
    assert SECRET not in caplog.text


def assert_clean(exc: BaseException) -> None:
    assert_secret_absent(exc, SECRET)


async def raises(kind: type[ProviderError], call: Awaitable[Any]) -> ProviderError:
    return await raises_clean(kind, call, provider="kiwi", secret=SECRET)


async def first_offer(kiwi: KiwiClient, section: str = "187") -> Offer:
    offers = await kiwi.list_offers(section)
    return next(o for o in offers if o.stock)


async def buy(
    kiwi: KiwiClient, offer: Offer, idempotency_key: str | None, max_price: Decimal | None = None
) -> RemoteOrder:
    """`place_order` for one offer; a kiwiSMS purchase is always exactly one order."""
    placed = await kiwi.place_order(
        OrderRequest.for_offers([offer], max_price=max_price, idempotency_key=idempotency_key)
    )
    assert isinstance(placed, PlacedOrder) and len(placed.orders) == 1
    return placed.first


def actions(order: RemoteOrder) -> frozenset[Action]:
    """The order card's buttons for a kiwiSMS order (every order is of the one kind "*")."""
    return CAPABILITIES.order_actions(order.status, "187")


def posts(sim: KiwiSimulator, key: str, path: str = RENT) -> list[Any]:
    return [r for r in sim.requests if r.method == "POST" and r.path == path and r.api_key == key]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------- account / catalogue


async def test_balance_and_auth_header(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    balance = await kiwi.get_balance()
    assert balance.amount == Decimal("50.00") and balance.currency == "USD"
    request = sim.requests[-1]
    assert request.headers["x-api-key"] == key and request.api_key == key


async def test_sections_are_the_six_countries(kiwi: KiwiClient) -> None:
    sections = await kiwi.list_sections()
    assert [(s.id, s.title) for s in sections] == [
        ("187", "USA"), ("16", "UK"), ("36", "Canada"),
        ("43", "Germany"), ("78", "France"), ("48", "Netherlands"),
    ]
    assert sections == list(KIWI_COUNTRIES)


async def test_list_offers_maps_price_stock_and_country(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    offers = await kiwi.list_offers("187")
    assert len(offers) == 40
    target = offers[0]
    sim.set_price("187", target.service_id, Decimal("0.77"))
    sim.set_stock("187", target.service_id, 3)
    again = {o.service_id: o for o in await kiwi.list_offers("187")}[target.service_id]
    assert again.price == Decimal("0.77") and again.stock == 3
    assert again.section == "187" and again.duration_minutes == 20
    assert isinstance(again.multi_sms, bool) and again.name
    assert sim.requests[-1].query.get("country") == "187"
    for section in KIWI_COUNTRIES[1:]:
        offers = await kiwi.list_offers(section.id)
        assert 12 <= len(offers) <= 20 and all(o.section == section.id for o in offers)


async def test_unsupported_country_is_invalid_request(kiwi: KiwiClient) -> None:
    await raises(InvalidRequest, kiwi.list_offers("999"))


async def test_public_pricing_needs_no_key(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> None:
    anonymous = KiwiClient(http, sim.base_url, "no-such-key", retry_delay=0.01)
    offers = await anonymous.public_pricing()
    assert len(offers) == 10
    assert all(o.section == "187" and o.stock is None and o.price > 0 for o in offers)
    assert "x-api-key" not in sim.requests[-1].headers


# ---------------------------------------------------------------------- rent


async def test_place_order_sends_body_and_key_and_charges(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    order = await kiwi.rent(
        offer.service_id, offer.section, idempotency_key="key-1", max_price=Decimal("9.99"),
        areas="212,646", carrier="tmo",
    )
    assert order.status is OrderStatus.WAITING and order.messages == ()
    assert order.service == offer.service_id and order.price == offer.price and order.phone
    assert order.expires_at is not None and order.expires_at.tzinfo is not None
    assert sim.balance_of(key) == Decimal("50.00") - offer.price
    (request,) = posts(sim, key)
    assert request.headers["idempotency-key"] == "key-1"
    assert request.json == {
        "service": offer.service_id, "country": "187", "max_price": "9.99",
        "areas": "212,646", "carrier": "tmo",
    }
    assert actions(order) == {Action.CANCEL, Action.REFRESH}


async def test_place_order_omits_unset_options(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi, "16")
    await buy(kiwi, offer, "key-uk")
    assert posts(sim, key)[0].json == {"service": offer.service_id, "country": "16"}
    assert sim.rentals_of(key)[0].country == "16"


async def test_place_order_maps_the_typed_request(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi, "36")
    request = OrderRequest(section="36", service_ids=(offer.service_id,), max_price=Decimal("5"),
                           idempotency_key="typed-1")
    placed = await kiwi.place_order(request)
    assert isinstance(placed, PlacedOrder) and [o.order_id for o in placed.orders] == [sim.rentals_of(key)[0].id]
    (sent,) = posts(sim, key)
    assert sent.json == {"service": offer.service_id, "country": "36", "max_price": "5"}
    assert sent.headers["idempotency-key"] == "typed-1"


async def test_place_order_without_key_or_with_a_bundle_is_refused(
    sim: KiwiSimulator, kiwi: KiwiClient, key: str
) -> None:
    offer = await first_offer(kiwi)
    await raises(InvalidRequest, buy(kiwi, offer, None))
    await raises(InvalidRequest, kiwi.place_order(
        OrderRequest(section="187", service_ids=(offer.service_id, "wa"), idempotency_key="b")))
    assert posts(sim, key) == [] and sim.balance_of(key) == Decimal("50.00")


async def test_capabilities_and_abilities(kiwi: KiwiClient) -> None:
    assert kiwi.capabilities is CAPABILITIES and KiwiClient.capabilities is CAPABILITIES
    assert CAPABILITIES.poll is PollStrategy.ACCOUNT_LIST and CAPABILITIES.idempotent_purchase
    assert not CAPABILITIES.reminds_before_end and not CAPABILITIES.chooses_plan
    assert CAPABILITIES.order_page_url.startswith("https://kiwisms.com/")
    assert CAPABILITIES.durations_for("187") == () and CAPABILITIES.bundle_limit("187") == 0
    for ability in (OrderListing, Cancellable, Finishable, Renewable):
        assert isinstance(kiwi, ability)


@pytest.mark.parametrize("case", ["price_above_max", "no_stock", "unknown_service"])
async def test_unavailable_service_is_out_of_stock(
    sim: KiwiSimulator, kiwi: KiwiClient, case: str, key: str) -> None:
    offer = await first_offer(kiwi)
    max_price = None
    if case == "price_above_max":
        max_price = offer.price - Decimal("0.01")
    elif case == "no_stock":
        sim.set_stock("187", offer.service_id, 0)
    else:
        offer = Offer(section="187", service_id="nope", name="Nope", price=Decimal("1"), stock=1)
    await raises(OutOfStock, buy(kiwi, offer, "k", max_price))
    assert len(posts(sim, key)) == 1  # definite: not retried
    assert sim.rentals_of(key) == [] and sim.balance_of(key) == Decimal("50.00")


async def test_insufficient_balance(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> None:
    sim.add_account(key + "-poor", Decimal("0.01"))
    poor = KiwiClient(http, sim.base_url, key + "-poor", retry_delay=0.01)
    offer = await first_offer(poor)
    error = await raises(InsufficientBalance, buy(poor, offer, "k"))
    assert error.user_message == "Insufficient balance"
    assert len(posts(sim, key + "-poor")) == 1


async def test_bad_carrier_is_invalid_request(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    await raises(InvalidRequest, kiwi.rent(offer.service_id, "187", idempotency_key="k", carrier="xyz"))
    assert len(posts(sim, key)) == 1


async def test_bad_and_suspended_credentials(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> None:
    wrong = KiwiClient(http, sim.base_url, key + "x", retry_delay=0.01)
    error = await raises(BadCredentials, wrong.get_balance())
    assert error.user_message == "Invalid API key"
    assert key + "x" not in str(error) + repr(error)
    sim.add_account(key + "-suspended", suspended=True)
    suspended = KiwiClient(http, sim.base_url, key + "-suspended", retry_delay=0.01)
    error = await raises(AccountSuspended, suspended.get_balance())
    assert error.user_message == "Account suspended"
    offer = Offer(section="187", service_id="wa", name="x", price=Decimal("1"), stock=1)
    await raises(BadCredentials, buy(wrong, offer, "k"))
    assert len(posts(sim, key + "x")) == 1


# ---------------------------------------------------------------------- idempotent retries


async def test_timeout_after_provider_created_it_buys_once(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.delay_next("POST", RENT, seconds=PURCHASE_TIMEOUT * 3)
    order = await buy(kiwi, offer, "slow-1")
    assert [r.status for r in sim.rentals_of(key)] == ["WAITING"]
    assert order.order_id == sim.rentals_of(key)[0].id
    assert sim.balance_of(key) == Decimal("50.00") - offer.price
    keys = {r.headers["idempotency-key"] for r in posts(sim, key)}
    bodies = [r.json for r in posts(sim, key)]
    assert len(posts(sim, key)) >= 2 and keys == {"slow-1"} and all(b == bodies[0] for b in bodies)


async def test_502_then_retry_buys_once(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.fail_next("POST", RENT, 502, {"error": "Upstream", "code": "PROVIDER_ERROR"})
    order = await buy(kiwi, offer, "k502")
    assert len(sim.rentals_of(key)) == 1 and order.order_id == sim.rentals_of(key)[0].id
    assert len(posts(sim, key)) == 2 and {r.headers["idempotency-key"] for r in posts(sim, key)} == {"k502"}


async def test_409_still_processing_waits_and_replays(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.fail_next("POST", RENT, 409, {"error": "In progress", "code": "IDEMPOTENCY_CONFLICT"})
    await buy(kiwi, offer, "k409")
    assert len(sim.rentals_of(key)) == 1 and len(posts(sim, key)) == 2


async def test_ambiguous_to_the_end_may_have_charged(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.delay_next("POST", RENT, seconds=PURCHASE_TIMEOUT * 3, times=3)
    error = await raises(ProviderUnavailable, buy(kiwi, offer, "amb"))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(posts(sim, key)) == 3  # max_attempts
    assert {r.headers["idempotency-key"] for r in posts(sim, key)} == {"amb"}
    assert len(sim.rentals_of(key)) == 1  # the first one went through; the retries replayed
    assert sim.balance_of(key) == Decimal("50.00") - offer.price


async def test_5xx_to_the_end_may_have_charged(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.fail_next("POST", RENT, 503, {"error": "down"}, times=3)
    error = await raises(ProviderUnavailable, buy(kiwi, offer, "k5"))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(posts(sim, key)) == 3 and {r.headers["idempotency-key"] for r in posts(sim, key)} == {"k5"}


async def test_unreachable_provider_did_not_charge(http: httpx.AsyncClient, key: str) -> None:
    dead = KiwiClient(http, f"http://127.0.0.1:{free_port()}", key, retry_delay=0.01)
    offer = Offer(section="187", service_id="wa", name="x", price=Decimal("1"), stock=1)
    error = await raises(ProviderUnavailable, buy(dead, offer, "k"))
    assert isinstance(error, ProviderUnavailable) and not error.may_have_charged
    await raises(ProviderUnavailable, dead.get_balance())
    assert SECRET not in repr(dead)


async def test_409_to_the_end_may_have_charged(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.fail_next("POST", RENT, 409, {"error": "In progress", "code": "IDEMPOTENCY_CONFLICT"}, times=3)
    error = await raises(ProviderUnavailable, buy(kiwi, offer, "k409x3"))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(posts(sim, key)) == 3 and sim.rentals_of(key) == []


async def test_answer_lost_after_the_purchase_is_retried_into_a_replay(
    sim: KiwiSimulator, kiwi: KiwiClient, key: str
) -> None:
    offer = await first_offer(kiwi)
    sim.fail_after_next("POST", RENT, 500, {"error": "Internal error"})
    order = await buy(kiwi, offer, "lost-once")
    (rental,) = sim.rentals_of(key)
    assert order.order_id == rental.id and len(posts(sim, key)) == 2
    assert sim.balance_of(key) == Decimal("50.00") - offer.price


async def test_truncated_purchase_answer_may_have_charged(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.truncate_next("POST", RENT)
    error = await raises(ProviderUnavailable, buy(kiwi, offer, "cut"))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(posts(sim, key)) == 1 and len(sim.rentals_of(key)) == 1


async def test_a_lost_purchase_that_already_finished_is_found_by_replaying_its_key(
    sim: KiwiSimulator, kiwi: KiwiClient, key: str
) -> None:
    offer = await first_offer(kiwi)
    request = OrderRequest.for_offers([offer], idempotency_key="lost-3")
    sim.fail_after_next("POST", RENT, 502, {"error": "Upstream"}, times=3)
    error = await raises(ProviderUnavailable, kiwi.place_order(request))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    (rental,) = sim.rentals_of(key)
    sim.receive_sms(rental.id, "code 9090")
    await kiwi.done(rental.id)  # finished: it left the live list
    assert await kiwi.recent_orders(rental.created_at - timedelta(minutes=1)) == []  # lists live ones only
    found = (await kiwi.place_order(request)).first
    assert found.order_id == rental.id and len(sim.rentals_of(key)) == 1
    assert sim.balance_of(key) == Decimal("50.00") - offer.price  # replayed, not bought again
    current = await kiwi.get_order(found.order_id)
    assert current.status is OrderStatus.COMPLETED and [m.code for m in current.messages] == ["9090"]


async def test_recent_orders_are_the_live_ones_created_since(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    offer = await first_offer(kiwi)
    older = await buy(kiwi, offer, "older")
    newer = await buy(kiwi, offer, "newer")
    cancelled = await buy(kiwi, offer, "gone")
    await kiwi.cancel(cancelled.order_id)
    since = (await kiwi.get_order(newer.order_id)).created_at  # as the provider reports it (ms)
    older_at = (await kiwi.get_order(older.order_id)).created_at
    assert since is not None and older_at is not None and older_at < since  # two round trips apart
    assert [o.order_id for o in await kiwi.recent_orders(since)] == [newer.order_id]
    everything = await kiwi.recent_orders(since - timedelta(days=1))
    assert {o.order_id for o in everything} == {older.order_id, newer.order_id}
    assert all(o.created_at is not None and o.created_at.tzinfo is not None for o in everything)


async def test_same_key_other_body_is_idempotency_conflict(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offers = [o for o in await kiwi.list_offers("187") if o.stock][:2]
    await buy(kiwi, offers[0], "dup")
    replay = await buy(kiwi, offers[0], "dup")
    assert len(sim.rentals_of(key)) == 1 and replay.order_id == sim.rentals_of(key)[0].id
    await raises(IdempotencyConflict, buy(kiwi, offers[1], "dup"))
    assert len(posts(sim, key)) == 3  # the 422 was not retried


async def test_429_on_purchase_is_raised_not_retried(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.fail_next("POST", RENT, 429, {"error": "Rate limit exceeded", "code": "RATE_LIMITED"},
                  headers={"Retry-After": "7"})
    error = await raises(RateLimited, buy(kiwi, offer, "k"))
    assert isinstance(error, RateLimited) and error.retry_after == 7
    assert len(posts(sim, key)) == 1 and sim.rentals_of(key) == []


# ---------------------------------------------------------------------- safe retries, 429, 5xx


async def test_get_retries_5xx_then_gives_up(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    sim.fail_next("GET", "/api/v1/balance", 500, {"error": "boom"})
    assert (await kiwi.get_balance()).amount == Decimal("50")
    assert sim.request_count("GET", "/api/v1/balance", api_key=key) == 2
    sim.fail_next("GET", "/api/v1/balance", 502, {"error": "Bad gateway"}, times=3)
    error = await raises(ProviderUnavailable, kiwi.get_balance())
    assert error.user_message == "Bad gateway"
    assert sim.request_count("GET", "/api/v1/balance", api_key=key) == 5


async def test_get_honours_short_retry_after(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    sim.fail_next("GET", "/api/v1/balance", 429, {"error": "Rate limit exceeded"},
                  headers={"Retry-After": "0"})
    assert (await kiwi.get_balance()).amount == Decimal("50")
    assert sim.request_count("GET", "/api/v1/balance", api_key=key) == 2


async def test_long_retry_after_is_raised_with_its_value(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    sim.fail_next("GET", "/api/v1/balance", 429, {"error": "Rate limit exceeded"},
                  headers={"Retry-After": "30"})
    error = await raises(RateLimited, kiwi.get_balance())
    assert isinstance(error, RateLimited) and error.retry_after == 30
    assert error.user_message == "Rate limit exceeded"
    assert sim.request_count("GET", "/api/v1/balance", api_key=key) == 1  # not worth waiting 30 s in a handler
    reset = int(time.time()) + 40
    sim.fail_next("GET", "/api/v1/balance", 429, {"error": "slow down"},
                  headers={"X-RateLimit-Reset": str(reset)})
    error = await raises(RateLimited, kiwi.get_balance())
    assert isinstance(error, RateLimited) and error.retry_after is not None
    assert 35 <= error.retry_after <= 41


async def test_real_rate_limit(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    sim.set_rate_limit(2)
    await kiwi.get_balance()
    await kiwi.get_balance()
    error = await raises(RateLimited, kiwi.get_balance())
    assert isinstance(error, RateLimited) and error.retry_after and error.retry_after > 0


# ---------------------------------------------------------------------- garbage


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", {"currency": "USD"}, {"balance": "lots", "currency": "USD"},
     {"balance": True, "currency": "USD"}],
)
async def test_garbage_balance_is_unexpected(sim: KiwiSimulator, kiwi: KiwiClient, body: Any) -> None:
    sim.fail_next("GET", "/api/v1/balance", 200, body)
    await raises(UnexpectedResponse, kiwi.get_balance())


async def test_garbage_rentals_are_unexpected(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    good = (await kiwi.get_order(order.order_id))
    assert good.status is OrderStatus.WAITING
    path = f"{RENT}/{order.order_id}"
    base = {"id": order.order_id, "phone": "1", "service": "x", "serviceName": "X",
            "status": "WAITING", "price": 1.5, "codes": [], "expiresAt": "2030-01-01T00:00:00Z",
            "createdAt": "2030-01-01T00:00:00Z"}
    for broken in ({**base, "status": "ZOMBIE"}, {**base, "price": "abc"},
                   {**base, "codes": [1]}, {**base, "expiresAt": "soon"},
                   {k: v for k, v in base.items() if k != "phone"}):
        sim.fail_next("GET", path, 200, {"rental": broken})
        await raises(UnexpectedResponse, kiwi.get_order(order.order_id))
    sim.fail_next("GET", RENT, 200, {"count": 0})
    await raises(UnexpectedResponse, kiwi.active_orders())
    sim.fail_next("GET", "/api/v1/services", 200, {"countryCode": "187", "count": 1})
    await raises(UnexpectedResponse, kiwi.list_offers("187"))
    sim.fail_next("GET", "/api/v1/services", 200, '{"services": [{"service": "go", "na')  # truncated
    await raises(UnexpectedResponse, kiwi.list_offers("187"))
    sim.truncate_next("GET", RENT)
    await raises(UnexpectedResponse, kiwi.active_orders())
    sim.fail_next("GET", "/api/public/pricing", 200, "<html>")
    await raises(UnexpectedResponse, kiwi.public_pricing())


async def test_one_bad_item_is_skipped_and_the_rest_of_the_list_lives(
    sim: KiwiSimulator, kiwi: KiwiClient, http: httpx.AsyncClient, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    good_service = {"service": "go", "name": "Google", "price": "0.50", "count": 7, "multiSms": True}
    sim.fail_next("GET", "/api/v1/services", 200, {"services": [
        {"service": "x"}, good_service, {**good_service, "service": "wa", "price": "free"}]})
    offers = await kiwi.list_offers("187")
    assert [(o.service_id, o.price, o.stock, o.multi_sms) for o in offers] == [("go", Decimal("0.50"), 7, True)]
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "code 4711")
    # The live rentals exactly as the simulator serves them, to build a faulty page from.
    live = (await http.get(sim.base_url + RENT, headers={"X-API-Key": key})).json()["rentals"]
    sim.fail_next("GET", RENT, 200, {"rentals": [
        {**live[0], "status": "ZOMBIE", "phone": "+15550001111"}, live[0], "junk"], "count": 3})
    (only,) = await kiwi.active_orders()
    assert only.order_id == order.order_id and [m.code for m in only.messages] == ["4711"]
    assert "ZOMBIE" not in caplog.text and "+15550001111" not in caplog.text  # the fault, not the item


async def test_garbage_2xx_on_purchase_may_have_charged(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    sim.fail_next("POST", RENT, 201, "not json")
    error = await raises(ProviderUnavailable, buy(kiwi, offer, "k"))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(posts(sim, key)) == 1


async def test_unknown_404_codes(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    offer = await first_offer(kiwi)
    sim.fail_next("POST", RENT, 404, {"error": "Gone fishing", "code": "WHATEVER"})
    error = await raises(OutOfStock, buy(kiwi, offer, "k"))
    assert error.user_message == "Gone fishing"
    sim.fail_next("GET", f"{RENT}/abc", 404, {"error": "nope"})
    await raises(OrderNotFound, kiwi.get_order("abc"))


# ---------------------------------------------------------------------- lifecycle


async def test_poll_codes_have_stable_ids(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "Your code is 123456")
    first = await kiwi.get_order(order.order_id)
    assert first.status is OrderStatus.RECEIVED
    assert [(m.message_id, m.code, m.text) for m in first.messages] == [("0", "123456", "")]
    assert first.created_at is not None and first.created_at.tzinfo is not None
    sim.receive_sms(order.order_id, "Another one: 654321")
    second = await kiwi.get_order(order.order_id)
    assert [(m.message_id, m.code) for m in second.messages] == [("0", "123456"), ("1", "654321")]
    assert actions(second) == {Action.DONE, Action.RENEW, Action.REFRESH}
    assert second.refunded is None


async def test_active_orders_lists_live_only(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    offer = await first_offer(kiwi)
    a = await buy(kiwi, offer, "a")
    b = await buy(kiwi, offer, "b")
    c = await buy(kiwi, offer, "c")
    await kiwi.cancel(b.order_id)
    sim.receive_sms(c.order_id, "code 4242")
    live = {o.order_id: o for o in await kiwi.active_orders()}
    assert set(live) == {a.order_id, c.order_id}
    assert live[c.order_id].messages[0].code == "4242"
    assert all(isinstance(o, RemoteOrder) for o in live.values())


async def test_get_unknown_order(kiwi: KiwiClient) -> None:
    error = await raises(OrderNotFound, kiwi.get_order("does-not-exist"))
    assert error.user_message == "Rental not found"


async def test_cancel_refunds(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    order = await buy(kiwi, offer, "k")
    assert sim.balance_of(key) == Decimal("50.00") - offer.price
    cancelled = await kiwi.cancel(order.order_id)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.refunded is True
    assert sim.balance_of(key) == Decimal("50.00")
    assert actions(cancelled) == frozenset()
    # Cancelling again (e.g. a retry after a lost answer) reports the cancelled order.
    assert (await kiwi.cancel(order.order_id)).status is OrderStatus.CANCELLED
    assert sim.balance_of(key) == Decimal("50.00")


async def test_cancel_after_code_is_not_allowed(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "code 999999")
    await raises(NotAllowedNow, kiwi.cancel(order.order_id))


async def test_done_completes_without_refund(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    order = await buy(kiwi, offer, "k")
    sim.receive_sms(order.order_id, "code 112233")
    done = await kiwi.done(order.order_id)
    assert done.status is OrderStatus.COMPLETED and done.refunded is False
    assert actions(done) == {Action.RENEW}
    assert (await kiwi.done(order.order_id)).status is OrderStatus.COMPLETED  # idempotent
    assert sim.balance_of(key) == Decimal("50.00") - offer.price
    other = await buy(kiwi, offer, "k2")
    await kiwi.cancel(other.order_id)
    await raises(OrderNotFound, kiwi.done(other.order_id))


async def test_renew_gives_a_new_rental_once(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    order = await buy(kiwi, offer, "k")
    sim.receive_sms(order.order_id, "code 5555")
    renewed = await kiwi.renew(order.order_id, idempotency_key="renew-1", duration="30d")  # ignored
    assert renewed.order_id != order.order_id and renewed.phone == order.phone
    assert renewed.status is OrderStatus.WAITING
    assert (await kiwi.get_order(order.order_id)).status is OrderStatus.COMPLETED
    replay = await kiwi.renew(order.order_id, idempotency_key="renew-1")
    assert replay.order_id == renewed.order_id
    assert len(sim.rentals_of(key)) == 2
    assert sim.balance_of(key) == Decimal("50.00") - offer.price - renewed.price
    path = f"{RENT}/{order.order_id}/renew"
    assert {r.headers["idempotency-key"] for r in posts(sim, key, path)} == {"renew-1"}


async def test_renew_retries_with_same_key(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "code 5555")
    path = f"{RENT}/{order.order_id}/renew"
    sim.delay_next("POST", path, seconds=PURCHASE_TIMEOUT * 3)
    renewed = await kiwi.renew(order.order_id, idempotency_key="r")
    assert len(sim.rentals_of(key)) == 2 and renewed.order_id == sim.rentals_of(key)[1].id
    assert len(posts(sim, key, path)) == 2


async def test_renew_errors(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    await raises(OrderNotFound, kiwi.renew("nope", idempotency_key="r"))
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "code 5555")
    sim.fail_next("POST", f"{RENT}/{order.order_id}/renew", 402,
                  {"error": "Insufficient balance", "code": "INSUFFICIENT_BALANCE"})
    await raises(InsufficientBalance, kiwi.renew(order.order_id, idempotency_key="r2"))


@pytest.mark.parametrize("with_code", [False, True])
async def test_expired_refund_depends_on_code(
    sim: KiwiSimulator, kiwi: KiwiClient, with_code: bool
) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    if with_code:
        sim.receive_sms(order.order_id, "code 8080")
    sim.expire(order.order_id)
    expired = await kiwi.get_order(order.order_id)
    assert expired.status is OrderStatus.EXPIRED and expired.refunded is (not with_code)
    assert actions(expired) == frozenset()


async def test_repr_and_errors_hide_the_key(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    assert key not in repr(kiwi) and key not in str(kiwi)
    assert kiwi.provider is ProviderId.KIWI
    # A provider echoing the key back in an error message must not leak it either.
    sim.fail_next("GET", "/api/v1/balance", 401, {"error": f"Invalid API key {key}"})
    error = await raises(BadCredentials, kiwi.get_balance())
    assert "***" in error.user_message


# ---------------------------------------------------------------------- webhook


async def test_signature_good_and_bad() -> None:
    body = b'{"event":"sms.received"}'
    good = sign(body, "s3cret")
    assert verify_signature(body, good, "s3cret")
    assert verify_signature(body, "sha256=" + good.upper(), "s3cret")
    assert not verify_signature(body, good, "other")
    assert not verify_signature(body + b" ", good, "s3cret")
    assert not verify_signature(body, "", "s3cret")
    assert not verify_signature(body, good, "")
    assert not verify_signature(body, "é" * 64, "s3cret")


async def test_parse_rejects_bad_payloads() -> None:
    for bad in (b"nope", b"[]", b'{"event":"other"}',
                b'{"event":"sms.received","receivedAt":"2030-01-01T00:00:00Z"}',
                b'{"event":"sms.received","rentalId":"r","receivedAt":"yesterday"}'):
        with pytest.raises(UnexpectedResponse):
            parse_sms_received(bad)


async def test_signed_webhook_from_simulator(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> None:
    received: list[tuple[bytes, str]] = []

    async def hook(request: Request) -> Response:
        received.append((await request.body(), request.headers.get("x-webhook-signature", "")))
        return Response(status_code=204)

    receiver = LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    await receiver.start()
    try:
        sim.add_account(key + "-hook", webhook_url=f"{receiver.url}/hook", webhook_secret="whsec")
        client = KiwiClient(http, sim.base_url, key + "-hook", retry_delay=0.01)
        order = await buy(client, await first_offer(client), "k")
        sim.receive_sms(order.order_id, "Your verification code is 246810")
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
    finally:
        await receiver.stop()
    (body, signature), = received
    assert verify_signature(body, signature, "whsec")
    assert not verify_signature(body, signature, "wrong")
    rental_id, message = parse_sms_received(body)
    assert rental_id == order.order_id
    assert message.code == "246810" and "246810" in message.text
    assert message.service_name == order.service_name
    assert message.message_id.startswith("wh:") and message.received_at is not None
    assert parse_sms_received(body)[1].message_id == message.message_id  # redelivery: same id


async def test_cancel_unknown_order(kiwi: KiwiClient) -> None:
    await raises(OrderNotFound, kiwi.cancel("does-not-exist"))


# ---------------------------------------------------------------------- http helpers


async def test_retry_after_parsing_and_backoff() -> None:
    now = 1_800_000_000.0
    request = httpx.Request("GET", "http://x")
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert parse_retry_after(httpx.Response(429, headers={"Retry-After": date}, request=request),
                             now=now) == pytest.approx(12, abs=1)
    assert parse_retry_after(httpx.Response(429, headers={"Retry-After": "3"}, request=request)) == 3
    assert parse_retry_after(httpx.Response(429, headers={"X-RateLimit-Reset": str(now + 9)},
                                            request=request), now=now) == 9
    assert parse_retry_after(httpx.Response(429, request=request)) is None
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0)
    for retry in range(1, 6):
        cap = min(4.0, 2.0 ** (retry - 1))
        assert cap / 2 <= policy.backoff(retry) <= cap
