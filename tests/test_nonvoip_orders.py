"""NonVoipClient against the simulator: short-term, long-term, bundled and country orders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from providers.base import OrderListing
from providers.errors import BadCredentials, InvalidRequest
from providers.models import Action, ActivationWindow, Offer, OrderRequest, OrderStatus, PlacedOrder
from providers.nonvoip.capabilities import CAPABILITIES
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.simulator.sim import NonVoipSimulator
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.nonvoip import (
    actions, COUNTRY_ORDER, email, GETSMS, ids, _no_secret_in_logs, nv, ORDER, order_in, password, placed,
    raises, request_for, sent, shared_sim, sim, soon, START,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


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
    assert actions(first, "10-minutes") == {Action.REUSE, Action.MESSAGES, Action.REFRESH}
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
