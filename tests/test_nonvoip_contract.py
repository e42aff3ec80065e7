"""NonVoipClient against the simulator: callbacks, the actions table, capabilities and the registry."""

from __future__ import annotations

import json

import httpx
import pytest

from providers.base import (
    Activatable, CallbackRegistering, Cancellable, DecisionAccepting, Finishable, OrderListing, Rejectable,
    Renewable, Reusable,
)
from providers.models import Action, OrderStatus, PollStrategy, PremiumBidDecision, ProviderId
from providers.nonvoip.callbacks import parse_callback
from providers.nonvoip.capabilities import CAPABILITIES
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.simulator.sim import NonVoipSimulator
from providers.registry import ProviderEndpoints, capabilities_of, make_client
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import callback_receiver, first_callback, http
from tests.clients.nonvoip import (
    email, _no_secret_in_logs, nv, offer_in, order_in, password, placed, request_for, sent, shared_sim,
    sim, START,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_save_url_and_sms_callback(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    async with callback_receiver(lambda request: request.json()) as (url, received):
        await nv.save_url(url)
        assert sent(sim, email, "/api/saveurl")[0].json["url"] == url
        _, order = await order_in(nv, "10-minutes")
        sim.receive_sms(order.order_id, "Your code is 246810", "246810")
        await first_callback(received)
    (payload,) = received
    assert payload["event"] == "incoming_message"
    assert str(payload["message"]["order_id"]) == order.order_id and payload["message"]["code"] == "246810"
    # The callback's SMS is the one getsms returns: one message, whichever way it came.
    update = parse_callback(json.dumps(payload).encode())
    assert update is not None and update.sms is not None and update.sms.order_id == order.order_id
    assert update.sms.sms == (await nv.get_order(order.order_id)).messages[0]


async def test_auction_win_callback_names_the_order(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    async with callback_receiver(lambda request: request.body()) as (url, received):
        await nv.save_url(url)
        offer = await offer_in(nv, "10-minutes")
        sim.offer_premium(offer.service_id, recommended_bid=20)
        decision = await nv.place_order(request_for(offer))
        assert isinstance(decision, PremiumBidDecision)
        order = placed(await nv.accept_decision(request_for(offer), decision))
        await first_callback(received)
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
    assert table(received, "10-minutes") == {Action.REUSE, Action.MESSAGES, Action.REFRESH}
    for section in ("30-days", "1-day", "3-days"):
        assert table(waiting, section) == {Action.ACTIVATE, Action.RENEW, Action.REFRESH}
        assert table(received, section) == {Action.ACTIVATE, Action.RENEW, Action.MESSAGES, Action.REFRESH}
    assert table(waiting, "country") == {Action.REJECT, Action.REFRESH}
    assert table(received, "country") == {Action.MESSAGES, Action.REFRESH}
    for section in ("10-minutes", "30-days", "country", "5-years"):
        for final in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            assert table(final, section) == frozenset()
    # An unknown section follows the most restricted live row (short-term's).
    assert table(waiting, "5-years") == {Action.REJECT, Action.REFRESH}
    assert table(received, "") == {Action.REUSE, Action.MESSAGES, Action.REFRESH}


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
