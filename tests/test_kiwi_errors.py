"""KiwiClient against the simulator: garbage answers and unknown error codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from providers.errors import OrderNotFound, OutOfStock, ProviderUnavailable, UnexpectedResponse
from providers.kiwi.client import KiwiClient
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import OrderStatus
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.kiwi import (
    buy, first_offer, key, kiwi, _no_secret_in_logs, posts, raises, RENT, shared_sim, sim,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


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
