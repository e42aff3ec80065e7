"""GotSmsClient against the simulator: the unread feed, message lists, and numbers woken up."""

from __future__ import annotations

import pytest

from providers.base import FeedItem
from providers.errors import NotAllowedNow, OrderNotFound, ProviderUnavailable
from providers.gotsms.client import GotSmsClient
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.models import MessagePage, NumberStatus
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.gotsms import calls, gs, _no_secret_in_logs, raises, rent_of, shared_sim, sim, token

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


# ---------------------------------------------------------------------- messages


async def test_unread_messages_one_request_and_mark_as_read(
        sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    first, _ = await rent_of(gs, sim)
    second, _ = await rent_of(gs, sim)
    assert await gs.unread_messages() == []
    one = sim.receive_sms(first.order_id, "Your code is 111111", "111111")
    two = sim.receive_sms(second.order_id, "Code 222222", "222222")
    before = calls(sim, token, "GET", "/api/messages/unread")
    peeked = await gs.unread_messages(mark_as_read=False)
    assert all(isinstance(i, FeedItem) for i in peeked)
    assert {(i.order_id, i.sms.message_id) for i in peeked} == {(first.order_id, one), (second.order_id, two)}
    assert sim.requests[-1].query.get("mark_as_read") in ("0", "false")
    got = await gs.unread_messages()
    assert calls(sim, token, "GET", "/api/messages/unread") == before + 2  # one request each
    assert sim.requests[-1].query.get("per_page") == "100"
    assert sim.requests[-1].query.get("mark_as_read") in ("1", "true")
    sms = {i.sms.message_id: (i.order_id, i.sms) for i in got}
    rid, message = sms[one]
    assert rid == first.order_id and message.code == "111111" and message.text == "Your code is 111111"
    assert message.received_at is not None and message.received_at.tzinfo is not None
    assert all(m.read for m in sim.rent(first.order_id).messages)
    assert await gs.unread_messages() == []


async def test_unread_messages_more_than_a_page(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    order, _ = await rent_of(gs, sim)
    ids = {sim.receive_sms(order.order_id, f"Code {i}", str(1000 + i)) for i in range(7)}
    gs.page_size = 3
    before = calls(sim, token, "GET", "/api/messages/unread")
    got = await gs.unread_messages()
    assert {i.sms.message_id for i in got} == ids and len(got) == 7
    assert calls(sim, token, "GET", "/api/messages/unread") == before + 3  # 3 + 3 + 1
    # Read messages leave the unread set, so the rest is always on page 1 again.
    pages = [r.query.get("page") for r in sim.requests if r.path == "/api/messages/unread" and r.token == token]
    assert pages[-3:] == ["1", "1", "1"]
    # Without marking, the pages are walked in order.
    more = {sim.receive_sms(order.order_id, f"Again {i}", None) for i in range(5)}
    peeked = await gs.unread_messages(mark_as_read=False)
    assert {i.sms.message_id for i in peeked} == more
    assert all(i.sms.code is None for i in peeked)


async def test_messages_across_rents(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    first, _ = await rent_of(gs, sim)
    second, _ = await rent_of(gs, sim)
    a = sim.receive_sms(first.order_id, "A 123", "123")
    b = sim.receive_sms(second.order_id, "B 456", "456")
    everything = await gs.messages()
    assert {(i.order_id, i.sms.message_id) for i in everything} == {(first.order_id, a), (second.order_id, b)}
    mine = await gs.messages(phone=second.phone)
    assert [(i.order_id, i.sms.message_id) for i in mine] == [(second.order_id, b)]
    gs.page_size = 1
    assert len(await gs.messages()) == 2


async def test_number_messages_pages_with_before_id(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    order, _ = await rent_of(gs, sim)
    ids = [sim.receive_sms(order.order_id, f"Code {i}", str(i)) for i in range(12)]
    seen: list[str] = []
    page = await gs.number_messages(order.order_id, limit=5)
    pages = 1
    while True:
        assert isinstance(page, MessagePage) and len(page.messages) <= 5
        seen.extend(m.message_id for m in page.messages)
        if page.next_before_id is None:
            break
        assert page.next_before_id == page.messages[-1].message_id
        page = await gs.number_messages(order.order_id, limit=5, before_id=page.next_before_id)
        pages += 1
    assert pages == 3 and sorted(seen) == sorted(ids) and len(set(seen)) == 12
    assert sim.requests[-1].query.get("limit") == "5" and sim.requests[-1].query.get("before_id")
    await raises(OrderNotFound, gs.number_messages("00000000-0000-0000-0000-000000000000"))


# ---------------------------------------------------------------------- numbers


async def test_wake_up_and_number_status(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    order, _ = await rent_of(gs, sim)
    status = await gs.number_status(order.order_id)
    assert isinstance(status, NumberStatus) and status.rent_id == order.order_id
    assert status.status == "active" and status.active_till == order.expires_at
    assert status.can_wake_up is True and status.wake_from is None and status.wakeup_seconds_left in (None, 0)
    message = await gs.wake_up(order.order_id)
    assert message and isinstance(message, str)
    assert calls(sim, token, "POST", f"/api/numbers/{order.order_id}/wake-up") == 1
    status = await gs.number_status(order.order_id)
    assert status.wake_from is not None and status.wake_till is not None and status.online_till is not None
    assert status.wake_from <= status.wake_till <= status.online_till
    assert status.wakeup_seconds_left is not None and status.wakeup_seconds_left >= 0
    assert status.online_seconds_left is not None and status.online_seconds_left > 0
    rent = (await gs.list_rents())[0]
    assert rent.wake_from == status.wake_from and rent.wake_till == status.wake_till
    await raises(OrderNotFound, gs.number_status("00000000-0000-0000-0000-000000000000"))
    await raises(OrderNotFound, gs.wake_up("00000000-0000-0000-0000-000000000000"))


async def test_sms_billed_number_cannot_wake_up(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    order, _ = await rent_of(gs, sim, billing_type="sms")
    assert (await gs.number_status(order.order_id)).can_wake_up is False
    assert (await gs.list_rents())[0].can_wake_up is False
    error = await raises(NotAllowedNow, gs.wake_up(order.order_id))
    assert error.user_message != NotAllowedNow.default_message  # the provider's reason


async def test_wake_up_is_not_retried(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    order, _ = await rent_of(gs, sim)
    path = f"/api/numbers/{order.order_id}/wake-up"
    sim.fail_next("POST", path, 502)
    await raises(ProviderUnavailable, gs.wake_up(order.order_id))
    assert calls(sim, token, "POST", path) == 1
