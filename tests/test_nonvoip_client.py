"""NonVoipClient against the real NonVoipUsNumber simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import itertools
import json
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
from providers.base import (
    Activatable,
    CallbackRegistering,
    Cancellable,
    DecisionAccepting,
    Finishable,
    OrderListing,
    Rejectable,
    Renewable,
    Reusable,
)
from providers.http import create_http_client
from providers.models import (
    Action,
    ActivationWindow,
    Offer,
    OrderOutcome,
    OrderRequest,
    OrderStatus,
    PlacedOrder,
    PollStrategy,
    PremiumBidDecision,
    PriceChangeDecision,
    ProviderId,
    RemoteOrder,
)
from providers.nonvoip.callbacks import parse_callback
from providers.nonvoip.capabilities import CAPABILITIES
from providers.nonvoip.client import NonVoipClient
from providers.registry import ProviderEndpoints, capabilities_of, make_client
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
        shared_sim.set_price(offer.service_id, offer.price)
        shared_sim.set_stock(offer.service_id, offer.stock or 0)


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


def request_for(*offers: Offer) -> OrderRequest:
    """What the bot sends after Confirm: the card's services and price."""
    return OrderRequest.for_offers(offers, max_price=sum((o.price for o in offers), Decimal("0")),
                                   idempotency_key="unused")


def ids(section: str, *service_ids: str) -> OrderRequest:
    return OrderRequest(section=section, service_ids=service_ids)


def placed(outcome: OrderOutcome) -> RemoteOrder:
    """The one order of a purchase of one service."""
    assert isinstance(outcome, PlacedOrder) and len(outcome.orders) == 1
    return outcome.first


async def order_in(nv: NonVoipClient, section: str) -> tuple[Offer, RemoteOrder]:
    offer = await offer_in(nv, section)
    return offer, placed(await nv.place_order(request_for(offer)))


def actions(order: RemoteOrder, section: str) -> frozenset[Action]:
    """The order card's buttons: the bot stores the section each order was bought from."""
    return CAPABILITIES.order_actions(order.status, section)


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
        assert all(isinstance(o.price, Decimal) and o.price > 0 and o.service_id.isdigit() for o in offers)
    assert len(await nv.list_offers("10-minutes")) >= 30
    target = (await nv.list_offers("10-minutes"))[0]
    catalogue.append(target)
    sim.set_price(target.service_id, Decimal("0.77"))
    sim.set_stock(target.service_id, 3)
    again = {o.service_id: o for o in await nv.list_offers("10-minutes")}[target.service_id]
    assert (again.price, again.stock, again.name) == (Decimal("0.77"), 3, target.name)
    country = await nv.list_offers("country")
    assert len(country) >= 10 and all(o.section == "country" and o.duration_minutes is None for o in country)
    assert any(o.name == "Telegram (United States)" and o.service_id == "501" for o in country)
    assert sent(sim, email, "/api/country/products")
    await raises(InvalidRequest, nv.list_offers("5-years"))


async def test_products_filters(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    short = await nv.products(type="short_term")
    assert short and all(o.section == "10-minutes" for o in short)
    assert sent(sim, email, "/api/products")[-1].json["type"] == "short_term"
    (one,) = await nv.products(product_id="9044")
    assert one.service_id == "9044" and one.section == "30-days"
    assert sent(sim, email, "/api/products")[-1].json["product_id"] == 9044
    grouped = await nv.products(grouped=True)
    assert {o.section for o in grouped} >= {"10-minutes", "1-day", "30-days"}


async def test_liberal_prices_and_ids(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    sim.fail_next("/api/products", 200, {"status": "success", "message": {"10-minutes": [
        {"product_id": "77", "name": "Odd", "price": 0.5, "available": "4"},
        {"product_id": 78, "name": "Even", "price": "1.10", "available": 0}]}})
    odd, even = await nv.list_offers("10-minutes")
    assert (odd.service_id, odd.price, odd.stock) == ("77", Decimal("0.5"), 4)
    assert (even.service_id, even.price, even.stock) == ("78", Decimal("1.10"), 0)
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
    assert request.json == {"email": email, "password": "***", "product_id": int(offer.service_id)}
    assert order.order_id == sim.orders_of(email)[0].order_id
    assert actions(order, "10-minutes") == {Action.REJECT, Action.REFRESH}

    waiting = await nv.get_order(order.order_id)  # HTTP 200 "No SMS received yet"
    assert waiting.status is OrderStatus.WAITING and waiting.messages == ()
    sim.receive_sms(order.order_id, "Your code is 545123", "545123")
    first = await nv.get_order(order.order_id)
    assert first.status is OrderStatus.RECEIVED and first.phone == order.phone
    (sms,) = first.messages
    assert (sms.code, sms.text) == ("545123", "Your code is 545123")
    assert (await nv.get_order(order.order_id)).messages[0].message_id == sms.message_id  # stable
    assert actions(first, "10-minutes") == {Action.REUSE, Action.REFRESH}
    assert sent(sim, email, GETSMS)[-1].json["order_id"] == order.order_id
    assert not isinstance(nv, OrderListing)  # no order-list endpoint: polled per order


async def test_getsms_error_200_and_404_mean_waiting(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    _, order = await order_in(nv, "10-minutes")
    for status in (200, 404):
        sim.fail_next(GETSMS, status, {"status": "error", "message": "No SMS received yet"})
        assert (await nv.get_order(order.order_id)).status is OrderStatus.WAITING


async def test_getsms_final_texts(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    _, order = await order_in(nv, "10-minutes")
    # A rejected order was refunded; whether an expired one was depends on the codes the bot
    # stored (capabilities.refunds_unused_expiry), so the client leaves it unknown.
    for text, status, refunded in (
        ("Order expired", OrderStatus.EXPIRED, None), ("Order not found", OrderStatus.EXPIRED, None),
        ("Order rejected", OrderStatus.CANCELLED, True), ("Order completed", OrderStatus.COMPLETED, None),
    ):
        sim.fail_next(GETSMS, 200, {"status": "error", "message": text})
        ended = await nv.get_order(order.order_id)
        assert (ended.status, ended.refunded, ended.messages) == (status, refunded, ())
    sim.fail_next(GETSMS, 200, {"status": "error", "message": "Wrong Auth"})
    await raises(BadCredentials, nv.get_order(order.order_id))


async def test_expiry_is_reported(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "10-minutes")
    sim.expire(order.order_id)
    expired = await nv.get_order(order.order_id)
    assert expired.status is OrderStatus.EXPIRED and actions(expired, "10-minutes") == frozenset()
    assert expired.refunded is None and CAPABILITIES.refunds_unused_expiry
    assert sim.balance_of(email) == START  # no SMS: refunded


async def test_reject_refunds(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "10-minutes")
    rejected = await nv.reject(order.order_id)
    assert rejected.status is OrderStatus.CANCELLED and rejected.refunded is True
    assert rejected.order_id == order.order_id
    assert sim.order(order.order_id).status == "Rejected" and sim.balance_of(email) == START
    assert len(sent(sim, email, "/api/reject")) == 1
    assert actions(rejected, "10-minutes") == frozenset()
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
    assert actions(order, "30-days") == {Action.ACTIVATE, Action.RENEW, Action.REFRESH}
    window = await nv.activate(order.order_id)
    assert isinstance(window, ActivationWindow) and window.online
    assert window.ends_at is not None and window.ends_at > datetime.now(timezone.utc)
    assert sim.order(order.order_id).online_until is not None
    before = sim.balance_of(email)
    renewed = await nv.renew(order.order_id, idempotency_key="k", duration="30d")
    assert renewed.order_id == order.order_id and renewed.status is OrderStatus.WAITING
    assert renewed.expires_at is not None and renewed.expires_at > order.expires_at
    assert renewed.price == before - sim.balance_of(email) > 0  # the answer's `cost`
    (request,) = sent(sim, email, "/api/renew")
    assert request.json["duration"] == "30d" and request.json["order_id"] == order.order_id


async def test_one_day_and_three_days_actions(nv: NonVoipClient) -> None:
    for section in ("1-day", "3-days"):
        _, order = await order_in(nv, section)
        assert actions(order, section) == {Action.ACTIVATE, Action.RENEW, Action.REFRESH}


@pytest.fixture
def one_order_bundles(shared_sim: NonVoipSimulator) -> Iterator[None]:
    """The provider answers a bundle with ONE order id (restored afterwards: the sim is shared)."""
    shared_sim.bundle_answer = "one_order"
    yield
    shared_sim.bundle_answer = "per_service"


async def bundle_offers(nv: NonVoipClient) -> tuple[Offer, Offer]:
    offers = {o.service_id: o for o in await nv.list_offers("30-days")}
    return offers["9044"], offers["8555"]  # WhatsApp, Telegram


async def test_bundle_answered_per_service_gives_every_service_its_order(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str
) -> None:
    whatsapp, telegram = await bundle_offers(nv)
    outcome = await nv.place_order(request_for(whatsapp, telegram))
    assert isinstance(outcome, PlacedOrder)
    first, second = outcome.orders  # none dropped
    assert (first.service, second.service) == ("WhatsApp", "Telegram")
    assert first.order_id != second.order_id and first.phone == second.phone != ""
    assert all(o.status is OrderStatus.WAITING and o.expires_at and o.expires_at > soon(29 * 86400)
               for o in outcome.orders)
    assert first.price + second.price == whatsapp.price + telegram.price == START - sim.balance_of(email)
    (request,) = sent(sim, email, ORDER)
    assert request.json["product_ids"] == [9044, 8555] and "product_id" not in request.json
    assert [o.order_id for o in sim.orders_of(email)] == [first.order_id, second.order_id]
    # Each service's code arrives on its own order, named for its service.
    sim.receive_sms(second.order_id, "Telegram code 55501", "55501")
    sim.receive_sms(first.order_id, "WhatsApp code 66602", "66602")
    for order, code, service in ((first, "66602", "WhatsApp"), (second, "55501", "Telegram")):
        (sms,) = (await nv.get_order(order.order_id)).messages
        assert (sms.code, sms.service_name) == (code, service)


async def test_bundle_answered_with_one_id_names_the_service_of_each_sms(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str, one_order_bundles: None
) -> None:
    whatsapp, telegram = await bundle_offers(nv)
    order = placed(await nv.place_order(request_for(whatsapp, telegram)))
    assert order.service == "WhatsApp, Telegram" and order.price == whatsapp.price + telegram.price
    assert sim.orders_of(email)[0].product_ids == ["9044", "8555"]
    sim.receive_sms(order.order_id, "WhatsApp code 11122", "11122", service="WhatsApp")
    (sms,) = (await nv.get_order(order.order_id)).messages
    assert (sms.code, sms.service_name) == ("11122", "WhatsApp")
    sim.receive_sms(order.order_id, "Telegram code 33344", "33344", service="Telegram")
    (later,) = (await nv.get_order(order.order_id)).messages
    assert (later.code, later.service_name) == ("33344", "Telegram") and later.message_id != sms.message_id


async def test_bundle_entries_without_cost_share_the_card_price(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    entry = {"status": "Active", "number": "16095550123", "type": "long_term", "expires": "2100-12-31 23:59:59"}
    sim.fail_next(ORDER, 200, {"status": "success", "message": [
        {**entry, "order_id": 1, "service": "WhatsApp"}, {**entry, "order_id": 2, "service": "Telegram"},
        {**entry, "order_id": 3, "service": "Discord"}]})
    request = OrderRequest("30-days", ("9044", "8555", "8613"), max_price=Decimal("5.50"))
    outcome = await nv.place_order(request)
    assert isinstance(outcome, PlacedOrder)
    assert [o.order_id for o in outcome.orders] == ["1", "2", "3"]
    assert [o.price for o in outcome.orders] == [Decimal("1.84"), Decimal("1.83"), Decimal("1.83")]
    sim.fail_next(ORDER, 200, {"status": "success", "message": [
        {**entry, "order_id": 7, "service": "WhatsApp", "cost": "2.00"}, {**entry, "service": "Telegram"}]})
    one = placed(await nv.place_order(request))
    assert (one.order_id, one.service, one.price) == ("7", "WhatsApp, Telegram", Decimal("5.50"))


async def test_bundles_refused_before_sending(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    six = ("9044", "8555", "8560", "8571", "8590", "8602")
    await raises(InvalidRequest, nv.place_order(ids("30-days", *six)))
    await raises(InvalidRequest, nv.place_order(ids("10-minutes", "9044", "8555")))
    await raises(InvalidRequest, nv.place_order(ids("30-days")))
    assert sent(sim, email, ORDER) == []  # the refused ones were never sent


async def test_country_order_has_a_string_id(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer, order = await order_in(nv, "country")
    assert order.order_id.startswith("sb_") and order.phone
    assert order.price == offer.price and order.expires_at is not None
    assert len(sent(sim, email, COUNTRY_ORDER)) == 1 and not sent(sim, email, ORDER)
    assert actions(order, "country") == {Action.REJECT, Action.REFRESH}
    waiting = await nv.get_order(order.order_id)  # HTTP 404 "No SMS received yet"
    assert waiting.status is OrderStatus.WAITING
    assert sent(sim, email, GETSMS)[-1].status == 404
    sim.receive_sms(order.order_id, "Telegram code 77777", "77777")
    assert (await nv.get_order(order.order_id)).messages[0].code == "77777"


# ---------------------------------------------------------------------- decisions


async def test_price_change_is_a_decision_until_accepted(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str
) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.require_price_change(offer.service_id, Decimal("1.70"))
    decision = await nv.place_order(request_for(offer))
    assert isinstance(decision, PriceChangeDecision) and decision.available_price == Decimal("1.70")
    assert len(sent(sim, email, ORDER)) == 1  # not retried on its own
    assert sim.orders_of(email) == [] and sim.balance_of(email) == START
    order = placed(await nv.accept_decision(request_for(offer), decision))
    assert order.price == Decimal("1.70")
    requests = sent(sim, email, ORDER)
    assert len(requests) == 2 and requests[1].json["accepted_max_price"] == pytest.approx(1.7)
    assert "accepted_max_price" not in requests[0].json
    assert sim.balance_of(email) == START - Decimal("1.70")


async def test_price_change_cap_too_low_asks_again(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.require_price_change(offer.service_id, Decimal("2.00"))
    low = PriceChangeDecision(quoted_price=None, allowed_price=None, available_price=Decimal("1.00"))
    again = await nv.accept_decision(request_for(offer), low)
    assert isinstance(again, PriceChangeDecision) and again.available_price == Decimal("2.00")
    assert len(sent(sim, email, ORDER)) == 1 and sim.balance_of(email) == START
    # The user accepts the new price: bought at it (and the injected rule is consumed).
    order = placed(await nv.accept_decision(request_for(offer), again))
    assert order.price == Decimal("2.00") and sim.balance_of(email) == START - Decimal("2.00")


async def test_premium_is_a_decision_until_bid(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.offer_premium(offer.service_id, recommended_bid=25)
    decision = await nv.place_order(request_for(offer))
    assert decision == PremiumBidDecision(recommended_bid=25)
    assert len(sent(sim, email, ORDER)) == 1 and sim.orders_of(email) == []
    order = placed(await nv.accept_decision(request_for(offer), decision))
    assert order.status is OrderStatus.WAITING
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
    error = await raises(InsufficientBalance, poor.place_order(request_for(offer)))
    assert error.user_message == "Insufficient balance."
    assert len(sent(sim, poor_email, ORDER)) == 1 and sim.orders_of(poor_email) == []


async def test_wrong_auth(sim: NonVoipSimulator, http: httpx.AsyncClient, email: str, password: str) -> None:
    wrong = NonVoipClient(http, sim.base_url, email, password + "x", retry_delay=0.01)
    error = await raises(BadCredentials, wrong.get_balance())
    assert error.user_message == "Wrong Auth"
    assert len(sent(sim, email, "/api/balance")) == 1  # a definite answer: not retried
    offer = Offer(section="10-minutes", service_id="10000086", name="x", price=Decimal("1"), stock=1)
    await raises(BadCredentials, wrong.place_order(request_for(offer)))
    await raises(BadCredentials, wrong.get_order("123"))
    await raises(BadCredentials, wrong.reject("123"))
    assert len(sent(sim, email, ORDER)) == 1


async def test_out_of_stock(sim: NonVoipSimulator, nv: NonVoipClient, email: str,
                            catalogue: list[Offer]) -> None:
    offer = await offer_in(nv, "10-minutes")
    catalogue.append(offer)
    sim.set_stock(offer.service_id, 0)
    await raises(OutOfStock, nv.place_order(request_for(offer)))
    assert len(sent(sim, email, ORDER)) == 1 and sim.balance_of(email) == START


async def test_actions_refused_in_the_wrong_state(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    _, long = await order_in(nv, "30-days")
    _, short = await order_in(nv, "10-minutes")
    error = await raises(NotAllowedNow, nv.reject(long.order_id))
    assert error.user_message == "Only reserved numbers can be rejected"
    await raises(NotAllowedNow, nv.activate(short.order_id))
    await raises(NotAllowedNow, nv.renew(short.order_id, idempotency_key="k"))
    await raises(NotAllowedNow, nv.reuse(short.order_id))  # still waiting for its SMS
    sim.receive_sms(short.order_id, "code 4321", "4321")
    await raises(NotAllowedNow, nv.reject(short.order_id))  # an SMS arrived: no refund any more
    _, gone = await order_in(nv, "10-minutes")
    await nv.reject(gone.order_id)
    assert (await nv.get_order(gone.order_id)).status is OrderStatus.CANCELLED  # "Order rejected"
    await raises(NotAllowedNow, nv.reuse(gone.order_id))
    unknown = await nv.get_order("999999999")  # HTTP 404 "Order not found": nothing more will come
    assert unknown.status is OrderStatus.EXPIRED
    await raises(OutOfStock, nv.place_order(ids("10-minutes", "424242")))  # "Product not found"


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
    error = await raises(RateLimited, nv.place_order(request_for(offer)))
    assert isinstance(error, RateLimited) and error.retry_after == 12
    assert error.user_message == "Too many requests"
    sim.fail_next(ORDER, 429, limited, headers={"Retry-After": "7"})
    error = await raises(RateLimited, nv.place_order(request_for(offer)))
    assert isinstance(error, RateLimited) and error.retry_after == 7
    reset = (datetime.now(timezone.utc) + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sim.fail_next(ORDER, 429, {"status": "error", "message": "Too many requests"},
                  headers={"X-RateLimit-Reset": reset})
    error = await raises(RateLimited, nv.place_order(request_for(offer)))
    assert isinstance(error, RateLimited) and error.retry_after is not None and 35 <= error.retry_after <= 41
    sim.fail_next(ORDER, 429, {"status": "error", "message": "Too many requests"},
                  headers={"X-RateLimit-Reset": str(int(time.time()) + 20)})
    error = await raises(RateLimited, nv.place_order(request_for(offer)))
    assert isinstance(error, RateLimited) and error.retry_after is not None and 15 <= error.retry_after <= 21
    assert len(sent(sim, email, ORDER)) == 4 and sim.orders_of(email) == []


async def test_429_on_reads_short_waits_retried_long_ones_raised(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str
) -> None:
    sim.fail_next("/api/balance", 429, {"status": "error", "message": "Too many requests", "retryAfter": 0})
    assert (await nv.get_balance()).amount == START
    assert sim.request_count("/api/balance", email=email) == 2
    # The shared retry rule reads the wait from the headers (a body-only `retryAfter` is reported
    # in RateLimited, but not seen by the retry loop).
    sim.fail_next("/api/balance", 429, {"status": "error", "message": "Too many requests", "retryAfter": 30},
                  headers={"Retry-After": "30"})
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
        error = await raises(ProviderUnavailable, nv.place_order(request_for(offer)))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(sent(sim, email, ORDER)) == 1
    assert len(sim.orders_of(email)) == 1  # it did buy: the bot must not buy again blindly


@pytest.mark.parametrize("path", ["/api/order", "/api/reuse", "/api/renew"])
async def test_5xx_on_purchases_may_have_charged(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str, path: str
) -> None:
    sim.fail_next(path, 502, {"status": "error", "message": "Bad gateway"})
    if path == ORDER:
        call = nv.place_order(ids("10-minutes", "10000086"))
    elif path == "/api/reuse":
        call = nv.reuse("1")
    else:
        call = nv.renew("1", idempotency_key="k")
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
    error = await raises(ProviderUnavailable, dead.place_order(ids("10-minutes", "1")))
    assert isinstance(error, ProviderUnavailable) and not error.may_have_charged
    await raises(ProviderUnavailable, dead.get_balance())


async def test_getsms_is_not_retried_the_poller_is_its_retry(sim: NonVoipSimulator, nv: NonVoipClient,
                                                              email: str) -> None:
    sim.fail_next(GETSMS, 503, {"status": "error", "message": "down"})
    await raises(ProviderUnavailable, nv.get_order("1"))
    sim.fail_next(GETSMS, 429, {"status": "error", "message": "Too many requests", "retryAfter": 0})
    await raises(RateLimited, nv.get_order("1"))
    assert sim.request_count(GETSMS, email=email) == 2


@pytest.mark.parametrize("truncate", [False, True])
async def test_lost_order_answer_may_have_charged(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str, truncate: bool
) -> None:
    # The provider bought the number, then the answer was lost (5xx) or cut short mid-JSON.
    offer = await offer_in(nv, "10-minutes")
    sim.lose_answer_next(ORDER, 500, {"status": "error", "message": "Internal error"}, truncate=truncate)
    error = await raises(ProviderUnavailable, nv.place_order(request_for(offer)))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(sent(sim, email, ORDER)) == 1 and len(sim.orders_of(email)) == 1
    assert sim.balance_of(email) == START - offer.price


# ---------------------------------------------------------------------- garbage


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", {"status": "success"}, {"status": "success", "balance": "lots"},
             {"status": "success", "balance": True}, {"status": "weird", "balance": "1.00"}],
)
async def test_garbage_balance_is_unexpected(sim: NonVoipSimulator, nv: NonVoipClient, body: Any) -> None:
    sim.fail_next("/api/balance", 200, body)
    await raises(UnexpectedResponse, nv.get_balance())


async def test_a_bad_catalogue_item_is_skipped_the_rest_survive(
    sim: NonVoipSimulator, nv: NonVoipClient, caplog: pytest.LogCaptureFixture
) -> None:
    good = {"product_id": 10000086, "name": "Instagram", "price": "0.36", "available": 5}
    sim.fail_next("/api/products", 200, {"status": "success", "message": {"10-minutes": [
        {"name": "x"}, good, {**good, "product_id": 2, "price": "free"}, {**good, "product_id": 3, "available": -1}]}})
    (offer,) = await nv.list_offers("10-minutes")
    assert (offer.service_id, offer.name, offer.price, offer.stock) == ("10000086", "Instagram", Decimal("0.36"), 5)
    sim.fail_next("/api/country/products", 200, {"status": "success", "message": [
        {"product_id": 1}, {**good, "product_id": 501, "country": "United States"}]})
    (country,) = await nv.list_offers("country")
    assert (country.service_id, country.name) == ("501", "Instagram (United States)")
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 4 and not any("Instagram" in line or "free" in line for line in skipped)


async def test_garbage_everywhere_else_is_unexpected(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    cases: list[tuple[str, Any, Awaitable[Any]]] = [
        ("/api/products", {"status": "success", "message": "nope"}, nv.list_sections()),
        ("/api/products", {"status": "success", "message": {"10-minutes": {"name": "x"}}},
         nv.list_offers("10-minutes")),
        ("/api/country/products", {"status": "success", "message": {"product_id": 1}},
         nv.list_offers("country")),
        (GETSMS, {"status": "success", "number": "1"}, nv.get_order("1")),
        (GETSMS, "<html>", nv.get_order("1")),
        (GETSMS, {"status": "error"}, nv.get_order("1")),
        ("/api/activate", {"status": "success", "message": []}, nv.activate("1")),
        ("/api/activate", {"status": "success", "message": [{"online_status": "online", "end_on": "soon"}]},
         nv.activate("1")),
        (ORDER, {"status": "info", "message": [{"info": "Something_New"}]},
         nv.place_order(ids("10-minutes", "1"))),
        (ORDER, {"status": "info", "message": [{"info": "Price_Change_Required"}]},
         nv.place_order(ids("10-minutes", "1"))),
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
    error = await raises(ProviderUnavailable, nv.place_order(ids("10-minutes", "10000086")))
    assert isinstance(error, ProviderUnavailable) and error.may_have_charged
    assert len(sent(sim, email, ORDER)) == 1


# ---------------------------------------------------------------------- secrets


async def test_password_never_leaks(sim: NonVoipSimulator, nv: NonVoipClient, password: str) -> None:
    assert SECRET not in repr(nv) and SECRET not in str(nv)
    assert nv.provider is ProviderId.NONVOIP
    # A provider echoing the password in an error must not put it into our exception.
    sim.fail_next("/api/balance", 400, {"status": "error", "message": f"Wrong Auth for {password}"})
    error = await raises(BadCredentials, nv.get_balance())
    assert "***" in error.user_message
    sim.fail_next("/api/balance", 200, f'{{"status": "success", "balance": "{password}"')  # truncated JSON
    await raises(UnexpectedResponse, nv.get_balance())
    sim.fail_next(GETSMS, 200, f'{{"password": "{password}"')
    await raises(UnexpectedResponse, nv.get_order("1"))


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
    # The callback's SMS is the one getsms returns: one message, whichever way it came.
    update = parse_callback(json.dumps(payload).encode())
    assert update is not None and update.sms is not None and update.sms.order_id == order.order_id
    assert update.sms.sms == (await nv.get_order(order.order_id)).messages[0]


async def test_auction_win_callback_names_the_order(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    received: list[bytes] = []

    async def hook(request: Request) -> Response:
        received.append(await request.body())
        return Response(status_code=200)

    receiver = LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    await receiver.start()
    try:
        await nv.save_url(f"{receiver.url}/hook")
        offer = await offer_in(nv, "10-minutes")
        sim.offer_premium(offer.service_id, recommended_bid=20)
        decision = await nv.place_order(request_for(offer))
        assert isinstance(decision, PremiumBidDecision)
        order = placed(await nv.accept_decision(request_for(offer), decision))
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
    finally:
        await receiver.stop()
    (body,) = received
    update = parse_callback(body)
    assert update is not None and update.sms is None
    (won,) = update.won
    assert (won.order_id, won.phone, won.service) == (order.order_id, order.phone, order.service)
    assert parse_callback(b'{"event": "something_new", "message": {}}') is None
    assert parse_callback(b'{"event": "incoming_message", "message": {"sms": "x"}}') is None


async def test_actions_table() -> None:
    waiting, received = OrderStatus.WAITING, OrderStatus.RECEIVED
    table = CAPABILITIES.order_actions
    assert table(waiting, "10-minutes") == {Action.REJECT, Action.REFRESH}
    assert table(received, "10-minutes") == {Action.REUSE, Action.REFRESH}
    for section in ("30-days", "1-day", "3-days"):
        assert table(waiting, section) == table(received, section) == {
            Action.ACTIVATE, Action.RENEW, Action.REFRESH}
    assert table(waiting, "country") == {Action.REJECT, Action.REFRESH}
    assert table(received, "country") == {Action.REFRESH}
    for section in ("10-minutes", "30-days", "country", "5-years"):
        for final in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            assert table(final, section) == frozenset()
    # An unknown section follows the most restricted live row (short-term's).
    assert table(waiting, "5-years") == {Action.REJECT, Action.REFRESH}
    assert table(received, "") == {Action.REUSE, Action.REFRESH}


async def test_capabilities_as_data(http: httpx.AsyncClient) -> None:
    client = NonVoipClient(http, "http://127.0.0.1:1/manager", "a@b.c", "pw")
    caps = client.capabilities
    assert caps is CAPABILITIES is capabilities_of(ProviderId.NONVOIP)
    assert caps.poll is PollStrategy.PER_ORDER and caps.requests_per_minute == 500
    assert not caps.idempotent_purchase and not caps.chooses_plan
    assert caps.reminds_before_end and caps.refunds_unused_expiry
    for section in ("1-day", "3-days", "30-days"):
        assert caps.durations_for(section) == ("1d", "3d", "30d")
    assert caps.durations_for("10-minutes") == caps.durations_for("country") == ()
    assert caps.bundle_limit("30-days") == 5 and caps.bundle_limit("1-day") == 0
    assert caps.order_page_url.startswith("https://nonvoipusnumber.com/")
    for ability in (Rejectable, Cancellable, Reusable, Activatable, Renewable, CallbackRegistering,
                    DecisionAccepting):
        assert isinstance(client, ability)
    assert not isinstance(client, OrderListing) and not isinstance(client, Finishable)


async def test_registry_builds_the_client(sim: NonVoipSimulator, http: httpx.AsyncClient, email: str,
                                          password: str) -> None:
    endpoints = ProviderEndpoints(nonvoip=sim.base_url, kiwi="http://kiwi", gotsms="http://gotsms")
    client = make_client(ProviderId.NONVOIP, {"email": email, "password": password}, http, endpoints)
    assert isinstance(client, NonVoipClient)
    assert (await client.get_balance()).amount == START
