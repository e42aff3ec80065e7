"""NonVoipClient against the simulator: refusals, garbage answers, and the password kept out of both."""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from providers.errors import (
    BadCredentials, InsufficientBalance, InvalidRequest, NotAllowedNow, OutOfStock, ProviderUnavailable,
    UnexpectedResponse,
)
from providers.models import Offer, OrderStatus, ProviderId
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.simulator.sim import NonVoipSimulator
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.nonvoip import (
    catalogue, email, GETSMS, ids, _no_secret_in_logs, nv, offer_in, ORDER, order_in, password, raises,
    request_for, SECRET, sent, shared_sim, sim, START,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


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
