"""GotSmsClient against the simulator: the typed contract: capabilities, abilities, plans, recovery reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from providers.base import (
    Activatable, Cancellable, DecisionAccepting, Finishable, OrderListing, PlanCatalogue, Rejectable,
    Renewable, RentManaging, Reusable, UnreadFeed,
)
from providers.errors import InvalidRequest, ProviderUnavailable
from providers.gotsms.capabilities import CAPABILITIES
from providers.gotsms.client import GotSmsClient
from providers.gotsms.simulator.sim import GotSmsSimulator, LostAnswer
from providers.http import create_http_client
from providers.models import Action, OrderStatus, PollStrategy
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.gotsms import (
    calls, gs, LIVE_SUPERSET, _no_secret_in_logs, raises, rent_of, RENTS, shared_sim, sim, token,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_capabilities_are_data() -> None:
    assert CAPABILITIES.poll is PollStrategy.UNREAD_FEED and CAPABILITIES.chooses_plan
    assert CAPABILITIES.reminds_before_end and not CAPABILITIES.idempotent_purchase
    assert CAPABILITIES.order_page_url.startswith("https://app.gotsms.org")
    every = {Action.REFUND, Action.MESSAGES, Action.REFRESH}
    expected = {
        "duration:month": every | {Action.WAKE_UP, Action.AUTO_RENEW},
        "duration:day": every | {Action.WAKE_UP, Action.EXTEND},
        "duration:week": every | {Action.WAKE_UP},
        "duration:hour": every | {Action.WAKE_UP},
        "sms:min": every,
        "": LIVE_SUPERSET,
    }
    for kind, allowed in expected.items():
        for status in (OrderStatus.WAITING, OrderStatus.RECEIVED):
            assert CAPABILITIES.order_actions(status, kind) == allowed, kind
        for status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            assert CAPABILITIES.order_actions(status, kind) == frozenset(), kind


async def test_client_has_the_abilities(gs: GotSmsClient) -> None:
    for ability in (PlanCatalogue, OrderListing, RentManaging, Cancellable, UnreadFeed):
        assert isinstance(gs, ability), ability.__name__
    for absent in (Rejectable, Finishable, Reusable, Activatable, Renewable, DecisionAccepting):
        assert not isinstance(gs, absent), absent.__name__


async def test_service_and_section_plans(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    telegram = sim.service_id("Telegram")
    plans = await gs.service_plans(telegram, "duration")
    assert plans and {p.service_id for p in plans} == {telegram} and {p.billing_type for p in plans} == {"duration"}
    served = {p["id"] for p in sim.plans if p["service"]["id"] == telegram and p["billing_type"] == "duration"}
    assert {p.id for p in plans} == served
    assert {p.kind for p in plans} >= {"duration:day", "duration:month"}
    sms = await gs.section_plans("sms")
    assert {p.id for p in sms} == {p["id"] for p in sim.plans if p["billing_type"] == "sms"}
    assert all(p.kind == "sms:min" for p in sms)
    await raises(InvalidRequest, gs.service_plans(telegram, "nope"))


async def test_recent_orders_any_status_and_stops_paging(
        sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    sim.add_account(token, Decimal("500.00"))
    old = [(await rent_of(gs, sim))[0] for _ in range(4)]
    for rent in sim.rents_of(token):  # bought an hour ago
        rent.active_from -= timedelta(hours=1)
    since = datetime.now(UTC) - timedelta(minutes=10)
    new, _ = await rent_of(gs, sim)
    sim.finish(new.order_id)  # a finished rent is still a recent order
    gs.page_size = 2
    before = calls(sim, token, "GET", RENTS)
    recent = await gs.recent_orders(since)
    assert [o.order_id for o in recent] == [new.order_id] and recent[0].status is OrderStatus.COMPLETED
    assert calls(sim, token, "GET", RENTS) - before == 2  # newest first: page 2 holds only older rents
    everything = await gs.recent_orders(min(r.active_from for r in sim.rents_of(token)).replace(microsecond=0))
    assert {o.order_id for o in everything} == {o.order_id for o in old} | {new.order_id}


async def test_order_messages_share_the_feed_ids(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    order, _ = await rent_of(gs, sim)
    other, _ = await rent_of(gs, sim)
    ids = [sim.receive_sms(order.order_id, f"Code {1000 + i}") for i in range(3)]
    sim.receive_sms(other.order_id, "Code 9999")
    fed = [i.sms for i in await gs.unread_messages() if i.order_id == order.order_id]
    history = await gs.order_messages(order.order_id)
    assert [m.message_id for m in history] == ids == [m.message_id for m in fed]  # oldest first
    assert [(m.code, m.text) for m in history] == [(m.code, m.text) for m in fed]
    assert all(m.received_at is not None and m.received_at.tzinfo is not None for m in history)
    later = sim.rent(order.order_id).messages[2].received_at.replace(microsecond=0)
    assert [m.message_id for m in await gs.order_messages(order.order_id, since=later)][-1] == ids[2]
    assert await gs.unread_messages() == []  # reading a rent's messages marked nothing


async def test_order_messages_pages_back(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    order, _ = await rent_of(gs, sim)
    ids = [sim.receive_sms(order.order_id, f"Code {i}", str(i)) for i in range(105)]
    path = f"/api/numbers/{order.order_id}/messages"
    history = await gs.order_messages(order.order_id)
    assert [m.message_id for m in history] == ids and calls(sim, token, "GET", path) == 2


@pytest.mark.parametrize("how", list(LostAnswer))
async def test_lost_feed_answer_is_reported_and_recovered(
        sim: GotSmsSimulator, gs: GotSmsClient, token: str, how: LostAnswer) -> None:
    """GotSMS marks the messages read, then the answer is lost: the client says so (never
    retries into the next batch), and the rent's own list still has them, same ids."""
    order, _ = await rent_of(gs, sim)
    lost = sim.receive_sms(order.order_id, "Your code is 424242")
    sim.lose_answer_next("GET", "/api/messages/unread", how)
    error = await raises(ProviderUnavailable, gs.unread_messages())
    assert error.may_have_charged is True  # the request acted: recover
    assert calls(sim, token, "GET", "/api/messages/unread") == 1
    assert await gs.unread_messages() == []  # gone from the feed for good
    assert [(m.message_id, m.code) for m in await gs.order_messages(order.order_id)] == [(lost, "424242")]


async def test_feed_timeout_is_reported_as_possibly_marked(
        sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    order, _ = await rent_of(gs, sim)
    sim.receive_sms(order.order_id, "Your code is 515151")
    sim.delay_next("GET", "/api/messages/unread", 1.0)
    short_http = create_http_client(timeout=0.3)
    try:
        impatient = GotSmsClient(short_http, sim.base_url, token, retry_delay=0.01)
        error = await raises(ProviderUnavailable, impatient.unread_messages())
    finally:
        await short_http.aclose()
    assert error.may_have_charged is True and calls(sim, token, "GET", "/api/messages/unread") == 1
    while not sim.rent(order.order_id).messages[0].read:  # the server goes on after we gave up
        await asyncio.sleep(0.02)
    assert await gs.unread_messages() == []
    assert [m.code for m in await gs.order_messages(order.order_id)] == ["515151"]


async def test_feed_5xx_is_never_retried(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    order, _ = await rent_of(gs, sim)
    sim.receive_sms(order.order_id, "Code 777777")
    sim.fail_next("GET", "/api/messages/unread", 503)  # answered instead of processed
    error = await raises(ProviderUnavailable, gs.unread_messages())
    assert error.may_have_charged is True  # the client cannot tell a 503 from a lost answer
    assert [i.sms.code for i in await gs.unread_messages()] == ["777777"]
