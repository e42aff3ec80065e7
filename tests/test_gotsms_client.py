"""GotSmsClient against the real GotSMS simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.secret_checks import assert_secret_absent, raises_clean
from providers.errors import (
    AccountSuspended,
    BadCredentials,
    InsufficientBalance,
    InvalidRequest,
    NotAllowedNow,
    OrderNotFound,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnexpectedResponse,
)
from providers.base import (
    Activatable,
    Cancellable,
    DecisionAccepting,
    FeedItem,
    Finishable,
    OrderListing,
    PlanCatalogue,
    Rejectable,
    Renewable,
    RentManaging,
    Reusable,
    UnreadFeed,
)
from providers.gotsms.capabilities import CAPABILITIES
from providers.gotsms.client import GotSmsClient
from providers.gotsms.domain import Rent
from providers.http import create_http_client
from providers.models import (
    Action,
    MessagePage,
    NumberStatus,
    OrderRequest,
    OrderStatus,
    Plan,
    PollStrategy,
    ProviderId,
    RemoteOrder,
    Section,
)
from providers.registry import ProviderEndpoints, capabilities_of, make_client
from providers.gotsms.simulator.sim import GotSmsSimulator, LostAnswer
from providers.simulation.loopback_server import LoopbackServer

SECRET = "TOPSECRETgotsmsToken4242"  # part of every test token; must never show up anywhere
RENTS = "/api/rents"

# One simulator for the module; each test gets its own account, so state never leaks.
pytestmark = pytest.mark.asyncio(loop_scope="module")
_tokens = itertools.count()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_sim() -> AsyncIterator[GotSmsSimulator]:
    simulator = GotSmsSimulator()
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
def token() -> str:
    return f"gs{next(_tokens)}|{SECRET}"


@pytest.fixture
def sim(shared_sim: GotSmsSimulator, token: str) -> Iterator[GotSmsSimulator]:
    shared_sim.add_account(token, Decimal("50.00"))
    yield shared_sim


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = create_http_client(timeout=5.0)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def gs(sim: GotSmsSimulator, http: httpx.AsyncClient, token: str) -> GotSmsClient:
    return GotSmsClient(http, sim.base_url, token, retry_delay=0.01)


@pytest.fixture(autouse=True)
def _no_token_in_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """Every test also proves that nothing logged the token."""
    caplog.set_level(logging.DEBUG)
    yield
    assert SECRET not in caplog.text


def assert_clean(exc: BaseException) -> None:
    assert_secret_absent(exc, SECRET)


E = TypeVar("E", bound=ProviderError)
# What a live rent of unknown plan offers: the "*" row of the actions table.
LIVE_SUPERSET = frozenset({Action.WAKE_UP, Action.AUTO_RENEW, Action.EXTEND, Action.REFUND, Action.MESSAGES,
                           Action.REFRESH})


async def raises(kind: type[E], call: Awaitable[Any]) -> E:
    error = await raises_clean(kind, call, provider="gotsms", secret=SECRET)
    assert isinstance(error, kind)
    return error


def actions(order: RemoteOrder, kind: str = "") -> frozenset[Action]:
    return CAPABILITIES.order_actions(order.status, kind)


def calls(sim: GotSmsSimulator, token: str, method: str, path: str) -> int:
    return sim.request_count(method=method, path=path, token=token)


# ---------------------------------------------------------------------- catalogue helpers


def _service_name(plan: dict[str, Any]) -> str:
    service = plan.get("service")
    return service["name"] if isinstance(service, dict) else str(plan.get("service_name"))


def sim_plan(sim: GotSmsSimulator, *, duration_type: str = "day", billing_type: str = "duration",
             amount: int | None = None) -> dict[str, Any]:
    """The first served plan of this kind."""
    for plan in sim.plans:
        if plan.get("billing_type") == billing_type and (
            billing_type == "sms" or plan.get("duration_type") == duration_type
        ) and (amount is None or plan.get("duration_in_type") == amount):
            return plan
    raise AssertionError(f"no {billing_type}/{duration_type} plan in the simulator")


async def rent_of(gs: GotSmsClient, sim: GotSmsSimulator, **kind: Any) -> tuple[RemoteOrder, dict[str, Any]]:
    plan = sim_plan(sim, **kind)
    return await gs.create_rent(str(plan["id"])), plan


# ---------------------------------------------------------------------- account / catalogue


async def test_balance_sends_bearer_token(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    balance = await gs.get_balance()
    assert balance.amount == Decimal("50.00") and balance.currency == "USD"
    request = sim.requests[-1]
    assert (request.method, request.path, request.token) == ("GET", "/api/account", token)
    assert SECRET not in str(request.query)  # the token never travels in the URL


async def test_pricelist_is_public(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    anonymous = GotSmsClient(http, sim.base_url, "", retry_delay=0.01)
    plans = await anonymous.pricelist()
    assert plans and all(isinstance(p, Plan) and p.price > 0 and p.service_name for p in plans)
    assert {p.billing_type for p in plans} <= {"duration", "sms"}
    assert any(p.duration_type == "day" and p.duration_minutes == 1440 for p in plans)
    assert sim.requests[-1].path == "/api/pricelist" and not sim.requests[-1].token


async def test_services_follow_every_page(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    everything = await gs.services()
    assert len(everything) >= 30 and len({sid for sid, _ in everything}) == len(everything)
    assert calls(sim, token, "GET", "/api/services") == 1  # per_page=100: one page
    assert sim.requests[-1].query.get("per_page") == "100"
    gs.page_size = 7
    paged = await gs.services()
    assert paged == everything
    pages = -(-len(everything) // 7)
    assert calls(sim, token, "GET", "/api/services") == 1 + pages
    name = everything[0][1]
    found = await gs.services(search=name)
    assert (everything[0][0], name) in found
    assert sim.requests[-1].query.get("search") == name


async def test_plans_all_pages_and_mapping(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    plans = await gs.plans()
    assert len(plans) == len(sim.plans) > 100  # more than one page of 100
    assert calls(sim, token, "GET", "/api/rents/plans") >= 2
    assert [q.query.get("page") for q in sim.requests if q.path == "/api/rents/plans"][:2] == ["1", "2"]
    served = {str(p["id"]): p for p in sim.plans}
    for plan in plans:
        raw = served[plan.id]
        assert plan.service_name == _service_name(raw) and plan.service_id
        assert plan.price == Decimal(str(raw["price"])) and plan.renew_price == Decimal(str(raw["renew_price"]))
        assert plan.billing_type == raw["billing_type"] and plan.country
    day = next(p for p in plans if p.duration_type == "day" and p.billing_type == "duration")
    assert day.duration_minutes == 1440 * day.duration_in_type and not day.monthly and day.duration_label
    assert any(p.monthly and p.duration_type == "month" for p in plans)
    assert any(p.billing_type == "sms" for p in plans)


async def test_plans_filters_are_sent(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    service_id = (await gs.plans())[0].service_id
    mine = await gs.plans(service_id=service_id, billing_type="duration", duration_type="month")
    assert mine and all(p.service_id == service_id and p.duration_type == "month" for p in mine)
    assert sim.requests[-1].query == {
        "service_id": service_id, "billing_type": "duration", "duration_type": "month",
        "per_page": "100", "page": "1",
    }
    assert all(p.billing_type == "sms" for p in await gs.plans(billing_type="sms"))


async def test_sections_and_offers_one_per_service(gs: GotSmsClient) -> None:
    assert await gs.list_sections() == [Section("duration", "Rental plans"), Section("sms", "SMS-billed plans")]
    plans = await gs.plans()
    for section in ("duration", "sms"):
        offers = await gs.list_offers(section)
        kinds = [p for p in plans if p.billing_type == section]
        assert {o.service_id for o in offers} == {p.service_id for p in kinds}
        for offer in offers:
            cheapest = min(p.price for p in kinds if p.service_id == offer.service_id)
            assert offer.price == cheapest and offer.section == section
            assert offer.stock is None and offer.duration_minutes is None and offer.name
    await raises(InvalidRequest, gs.list_offers("nope"))


# ---------------------------------------------------------------------- rents


async def test_create_rent_charges_and_maps(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    plan = sim_plan(sim, duration_type="day")
    order = await gs.create_rent(str(plan["id"]), area_code="212")
    assert order.status is OrderStatus.WAITING and order.refunded is None
    assert order.price == Decimal(str(plan["price"])) and order.phone
    assert order.service_name == _service_name(plan) and order.service
    assert order.expires_at is not None and order.expires_at.tzinfo is not None
    assert sim.balance_of(token) == Decimal("50.00") - order.price
    (rent,) = sim.rents_of(token)
    assert rent.id == order.order_id and rent.plan_id == str(plan["id"])
    (post,) = [r for r in sim.requests if r.method == "POST" and r.path == RENTS and r.token == token]
    assert post.json == {"plan_id": str(plan["id"]), "area_code": "212"}
    assert actions(order) == LIVE_SUPERSET


async def test_place_order_rents_the_plan(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    plan = sim_plan(sim, billing_type="sms")
    service_id = plan["service"]["id"]
    request = OrderRequest(section="sms", service_ids=(service_id,), plan_id=str(plan["id"]),
                           max_price=Decimal("1"), idempotency_key="k1")
    placed = await gs.place_order(request)
    (order,) = placed.orders
    assert sim.rents_of(token)[0].id == order.order_id
    posts = [r for r in sim.requests if r.method == "POST" and r.path == RENTS and r.token == token]
    assert [p.json for p in posts] == [{"plan_id": str(plan["id"])}]
    assert "Idempotency-Key" not in str(posts[0].json)
    # The order names the SERVICE (what a purchase is reconciled by) and the plan in words.
    assert order.service == service_id != order.plan and order.plan == plan["duration_translation"]
    assert order.created_at is not None and order.created_at.tzinfo is not None
    assert order.created_at == sim.rent(order.order_id).active_from.replace(microsecond=0)


async def test_place_order_without_a_plan_buys_nothing(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    request = OrderRequest(section="duration", service_ids=(sim.service_id("Telegram"),))
    await raises(InvalidRequest, gs.place_order(request))
    assert calls(sim, token, "POST", RENTS) == 0


async def test_create_rent_insufficient_balance(sim: GotSmsSimulator, http: httpx.AsyncClient, token: str) -> None:
    sim.add_account(token + "poor", Decimal("0.00"))
    poor = GotSmsClient(http, sim.base_url, token + "poor", retry_delay=0.01)
    error = await raises(InsufficientBalance, poor.create_rent(str(sim_plan(sim)["id"])))
    assert error.user_message and error.user_message != InsufficientBalance.default_message
    assert sim.rents_of(token + "poor") == []


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_create_rent_5xx_is_ambiguous_and_never_retried(
        sim: GotSmsSimulator, gs: GotSmsClient, token: str, status: int) -> None:
    sim.fail_next("POST", RENTS, status)
    error = await raises(ProviderUnavailable, gs.create_rent(str(sim_plan(sim)["id"])))
    assert error.may_have_charged is True
    assert calls(sim, token, "POST", RENTS) == 1


async def test_create_rent_unreadable_success_may_have_charged(
        sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    sim.fail_next("POST", RENTS, 201, body="<html>ok</html>")
    error = await raises(ProviderUnavailable, gs.create_rent(str(sim_plan(sim)["id"])))
    assert error.may_have_charged is True
    assert calls(sim, token, "POST", RENTS) == 1


@pytest.mark.parametrize("how", list(LostAnswer))
async def test_purchase_whose_answer_is_lost_is_ambiguous_and_reconciled(
        sim: GotSmsSimulator, gs: GotSmsClient, token: str, how: LostAnswer) -> None:
    plan = sim_plan(sim, duration_type="week")
    sim.lose_answer_next("POST", RENTS, how)
    error = await raises(ProviderUnavailable, gs.create_rent(str(plan["id"])))
    assert error.may_have_charged is True and calls(sim, token, "POST", RENTS) == 1
    (bought,) = sim.rents_of(token)  # it WAS bought: reconciliation finds it by service
    (found,) = await gs.recent_orders(bought.active_from.replace(microsecond=0))
    assert found.order_id == bought.id and found.service == plan["service"]["id"]


async def test_create_rent_429_is_refused_not_retried(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    sim.fail_next("POST", RENTS, 429, {"success": False, "message": "Too Many Attempts."})
    error = await raises(RateLimited, gs.create_rent(str(sim_plan(sim)["id"])))
    assert error.user_message == "Too Many Attempts."
    assert calls(sim, token, "POST", RENTS) == 1 and sim.rents_of(token) == []


async def test_create_rent_connection_refused_did_not_charge(http: httpx.AsyncClient) -> None:
    dead = GotSmsClient(http, f"http://127.0.0.1:{free_port()}", "x" + SECRET, retry_delay=0.01)
    error = await raises(ProviderUnavailable, dead.create_rent("p"))
    assert error.may_have_charged is False
    await raises(ProviderUnavailable, dead.get_balance())


async def test_list_rents_get_order_and_active(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    daily, day_plan = await rent_of(gs, sim, duration_type="day")
    monthly, _ = await rent_of(gs, sim, duration_type="month")
    rents = await gs.list_rents()
    assert [r.order.order_id for r in rents].count(daily.order_id) == 1 and len(rents) == 2
    by_id = {r.order.order_id: r for r in rents}
    day = by_id[daily.order_id]
    assert isinstance(day, Rent) and day.plan is not None and day.plan.id == str(day_plan["id"])
    assert day.order == daily and day.auto_renew is False and isinstance(day.can_wake_up, bool)
    assert day.transition_options and all(isinstance(o, Plan) for o in day.transition_options)
    assert all(o.monthly and o.service_id == day.order.service for o in day.transition_options)
    assert day.order.plan == day_plan["duration_translation"] and day.plan.kind == "duration:day"
    monthly_plan = by_id[monthly.order_id].plan
    assert monthly_plan is not None and monthly_plan.monthly
    assert await gs.get_order(monthly.order_id) == monthly
    sim.finish(daily.order_id)
    assert [o.order_id for o in await gs.active_orders()] == [monthly.order_id]
    assert sim.requests[-1].query.get("status") == "active"
    finished = await gs.get_order(daily.order_id)
    assert finished.status is OrderStatus.COMPLETED and actions(finished) == frozenset()
    assert finished.refunded is None  # "finished" says nothing about money
    assert [r.order.order_id for r in await gs.list_rents(phone=monthly.phone)] == [monthly.order_id]
    await raises(OrderNotFound, gs.get_order("00000000-0000-0000-0000-000000000000"))


async def test_list_rents_pages(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    sim.add_account(token, Decimal("500.00"))
    for _ in range(5):
        await rent_of(gs, sim, duration_type="day")
    gs.page_size = 2
    rents = await gs.list_rents()
    assert len({r.order.order_id for r in rents}) == 5
    assert calls(sim, token, "GET", RENTS) == 3


# ---------------------------------------------------------------------- rent actions


async def test_transition_daily_to_monthly(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    daily, _ = await rent_of(gs, sim, duration_type="day")
    (rent,) = await gs.list_rents()
    options = await gs.extension_plans(daily.order_id)
    assert options == rent.transition_options and [p.duration_in_type for p in options] == [1, 3, 6, 12]
    target = options[1]  # 3 months
    balance = sim.balance_of(token)
    order = await gs.transition(daily.order_id, target.id)
    assert order.order_id == daily.order_id and order.status is OrderStatus.WAITING
    assert sim.rent(daily.order_id).plan_id == target.id
    # The rent as it is now: the new plan in words, its price, the longer term.
    assert order.plan == "3 months" and order.price == target.price
    assert sim.balance_of(token) == balance - target.price
    assert order.expires_at == sim.rent(daily.order_id).active_till.replace(microsecond=0)
    assert await gs.extension_plans(daily.order_id) == []
    assert calls(sim, token, "POST", f"{RENTS}/{daily.order_id}/transition") == 1
    # Now monthly: the provider refuses another transition, with its reason.
    error = await raises(NotAllowedNow, gs.transition(daily.order_id, target.id))
    assert error.user_message != NotAllowedNow.default_message
    await raises(OrderNotFound, gs.transition("00000000-0000-0000-0000-000000000000", target.id))


async def test_transition_5xx_is_not_retried(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    daily, _ = await rent_of(gs, sim, duration_type="day")
    path = f"{RENTS}/{daily.order_id}/transition"
    sim.fail_next("POST", path, 503)
    error = await raises(ProviderUnavailable, gs.transition(daily.order_id, "any"))
    assert error.may_have_charged is True
    assert calls(sim, token, "POST", path) == 1


async def test_auto_renewal_toggle_and_refusal(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    monthly, _ = await rent_of(gs, sim, duration_type="month")
    assert await gs.toggle_auto_renewal(monthly.order_id) is True
    assert sim.rent(monthly.order_id).auto_renew is True
    assert (await gs.list_rents())[0].auto_renew is True
    assert await gs.toggle_auto_renewal(monthly.order_id) is False
    assert sim.rent(monthly.order_id).auto_renew is False
    daily, _ = await rent_of(gs, sim, duration_type="day")
    error = await raises(NotAllowedNow, gs.toggle_auto_renewal(daily.order_id))
    assert "monthly" in error.user_message.lower()  # the provider's reason, kept for the user
    path = f"{RENTS}/{monthly.order_id}/renewal/toggle"
    sim.fail_next("POST", path, 500)
    await raises(ProviderUnavailable, gs.toggle_auto_renewal(monthly.order_id))
    assert calls(sim, token, "POST", path) == 3  # two toggles + one failed, never repeated
    assert sim.rent(monthly.order_id).auto_renew is False


async def test_toggle_whose_answer_is_lost_is_not_repeated(
        sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    monthly, _ = await rent_of(gs, sim, duration_type="month")
    path = f"{RENTS}/{monthly.order_id}/renewal/toggle"
    sim.lose_answer_next("POST", path, LostAnswer.DROPPED)
    error = await raises(ProviderUnavailable, gs.toggle_auto_renewal(monthly.order_id))
    assert error.may_have_charged is False and "refresh" in error.user_message  # a toggle charges nothing
    assert calls(sim, token, "POST", path) == 1 and sim.rent(monthly.order_id).auto_renew is True


async def test_refund_allowed(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    order, _ = await rent_of(gs, sim, duration_type="day")
    refunded = await gs.refund(order.order_id)
    assert refunded.status is OrderStatus.CANCELLED and refunded.refunded is True
    assert refunded.order_id == order.order_id and refunded.phone == order.phone
    assert sim.balance_of(token) == Decimal("50.00") and sim.rent(order.order_id).refunded
    assert actions(refunded) == frozenset()
    # Read back, a refunded rent is just "finished": the client says COMPLETED, refund unknown.
    read_back = await gs.get_order(order.order_id)
    assert read_back.status is OrderStatus.COMPLETED and read_back.refunded is None
    cancelled, _ = await rent_of(gs, sim, duration_type="day")
    assert (await gs.cancel(cancelled.order_id)).refunded is True


async def test_refund_refused_with_reason(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    order, _ = await rent_of(gs, sim, duration_type="day")
    sim.receive_sms(order.order_id, "Your code is 1234", "1234")
    error = await raises(NotAllowedNow, gs.refund(order.order_id))
    assert error.user_message != NotAllowedNow.default_message
    other, _ = await rent_of(gs, sim, duration_type="day")
    sim.set_refundable(other.order_id, False, "Refunds are closed for this number.")
    error = await raises(NotAllowedNow, gs.refund(other.order_id))
    assert error.user_message == "Refunds are closed for this number."
    assert calls(sim, token, "POST", f"{RENTS}/{other.order_id}/refund") == 1
    assert not sim.rent(other.order_id).refunded


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


# ---------------------------------------------------------------------- error mapping


async def test_wrong_token_is_bad_credentials(sim: GotSmsSimulator, http: httpx.AsyncClient, token: str) -> None:
    wrong = GotSmsClient(http, sim.base_url, "wrong|" + SECRET, retry_delay=0.01)
    for call in (wrong.get_balance(), wrong.unread_messages(), wrong.create_rent("x")):
        await raises(BadCredentials, call)
    assert sim.request_count(token="wrong|" + SECRET) == 3  # a 401 is never retried


async def test_422_keeps_the_provider_message(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    sim.fail_next("GET", "/api/account", 422, {"success": False, "message": "Account is being verified."})
    error = await raises(NotAllowedNow, gs.get_balance())
    assert error.user_message == "Account is being verified."
    sim.fail_next("POST", RENTS, 422, {"success": False, "message": "Insufficient balance to rent."})
    error = await raises(InsufficientBalance, gs.create_rent("x"))
    assert error.user_message == "Insufficient balance to rent."


async def test_success_false_in_a_200_is_a_refusal(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    sim.fail_next("GET", "/api/account", 200, {"success": False, "message": "Maintenance mode."})
    error = await raises(NotAllowedNow, gs.get_balance())
    assert error.user_message == "Maintenance mode."


async def test_read_5xx_is_retried_then_succeeds(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    sim.fail_next("GET", "/api/account", 503, times=2)
    assert (await gs.get_balance()).amount == Decimal("50.00")
    assert calls(sim, token, "GET", "/api/account") == 3


async def test_read_5xx_persisting_is_unavailable(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    sim.fail_next("GET", "/api/services", 500, times=3)
    await raises(ProviderUnavailable, gs.services())
    assert calls(sim, token, "GET", "/api/services") == 3


async def test_429_on_a_read_is_retried(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    sim.fail_next("GET", "/api/account", 429, {"success": False, "message": "Too Many Attempts."})
    assert (await gs.get_balance()).amount == Decimal("50.00")
    assert calls(sim, token, "GET", "/api/account") == 2


async def test_429_persisting_is_rate_limited(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    sim.fail_next("GET", "/api/messages/unread", 429, {"success": False, "message": "Slow down."}, times=3)
    error = await raises(RateLimited, gs.unread_messages(mark_as_read=False))
    assert error.user_message == "Slow down."
    assert calls(sim, token, "GET", "/api/messages/unread") == 3
    # Marking read is never repeated within a call: the next poll tick asks again.
    sim.fail_next("GET", "/api/messages/unread", 429, {"success": False, "message": "Slow down."},
                  headers={"Retry-After": "2"})
    error = await raises(RateLimited, gs.unread_messages())
    assert error.retry_after == 2 and calls(sim, token, "GET", "/api/messages/unread") == 4


@pytest.mark.parametrize("body", ["<html>oops</html>", "", '{"success": true}', '["a"]',
                                  '{"success": true, "data": {"balance": "lots"}}'])
async def test_garbage_is_unexpected(sim: GotSmsSimulator, gs: GotSmsClient, body: str) -> None:
    sim.fail_next("GET", "/api/account", 200, body=body)
    await raises(UnexpectedResponse, gs.get_balance())


async def test_liberal_prices_and_ids(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    sim.fail_next("GET", "/api/account", 200, {"success": True, "data": {"balance": "12.30"}})
    assert (await gs.get_balance()).amount == Decimal("12.30")
    sim.fail_next("GET", "/api/services", 200, {
        "success": True, "data": [{"id": 7, "name": "Seven"}],
        "meta": {"current_page": 1, "last_page": 1, "per_page": 100, "total": 1}})
    assert await gs.services() == [("7", "Seven")]


async def test_403_and_unknown_route(sim: GotSmsSimulator, gs: GotSmsClient, http: httpx.AsyncClient,
                                     token: str) -> None:
    sim.fail_next("GET", "/api/account", 403, {"success": False, "message": "API access is disabled."})
    error = await raises(AccountSuspended, gs.get_balance())
    assert error.user_message == "API access is disabled."
    misplaced = GotSmsClient(http, sim.base_url + "/v9", token, retry_delay=0.01)
    await raises(UnexpectedResponse, misplaced.get_balance())  # a wrong base URL is not "order not found"


# fail_next cannot set headers: Retry-After is exercised against a tiny loopback stub that
# answers 429 with the scripted Retry-After values, then the balance.
@pytest_asyncio.fixture(loop_scope="module")
async def throttling() -> AsyncIterator[tuple[str, list[str], list[float]]]:
    script: list[str] = []  # Retry-After values still to send, one per request
    hits: list[float] = []

    async def handler(request: Request) -> Response:
        hits.append(time.monotonic())
        if script:
            return JSONResponse({"success": False, "message": "Too Many Attempts."}, status_code=429,
                                headers={"Retry-After": script.pop(0)})
        return JSONResponse({"success": True, "data": {"balance": "7.5"}})

    server = LoopbackServer(Starlette(routes=[Route("/api/{path:path}", handler, methods=["GET", "POST"])]))
    await server.start()
    try:
        yield server.url, script, hits
    finally:
        await server.stop()


async def test_429_waits_for_retry_after(
        throttling: tuple[str, list[str], list[float]], http: httpx.AsyncClient) -> None:
    url, script, hits = throttling
    client = GotSmsClient(http, url, "t|" + SECRET, retry_delay=0.01)
    script.append("0.3")
    assert (await client.get_balance()).amount == Decimal("7.5")
    assert len(hits) == 2 and hits[1] - hits[0] >= 0.29  # the retry waited as told
    script.append("30")  # longer than we wait: the caller gets RateLimited with the delay
    error = await raises(RateLimited, client.get_balance())
    assert error.retry_after == 30 and error.user_message == "Too Many Attempts."
    assert len(hits) == 3
    script.append("1")  # a POST is never retried, even with a short Retry-After
    error = await raises(RateLimited, client.toggle_auto_renewal("r1"))
    assert error.retry_after == 1 and len(hits) == 4


async def test_token_never_in_repr_or_errors(sim: GotSmsSimulator, http: httpx.AsyncClient, token: str) -> None:
    client = GotSmsClient(http, sim.base_url, token)
    assert SECRET not in repr(client) and SECRET not in str(client)
    sim.fail_next("GET", "/api/account", 422, {"success": False, "message": f"Bad token {token}"})
    error = await raises(NotAllowedNow, client.get_balance())
    assert "***" in error.user_message


async def test_registry_builds_the_client(sim: GotSmsSimulator, http: httpx.AsyncClient, token: str) -> None:
    endpoints = ProviderEndpoints(nonvoip="http://n", kiwi="http://k", gotsms=sim.base_url)
    client = make_client(ProviderId.GOTSMS, {"token": token}, http, endpoints)
    assert isinstance(client, GotSmsClient) and client.capabilities.poll is PollStrategy.UNREAD_FEED
    assert capabilities_of(ProviderId.GOTSMS) is CAPABILITIES is client.capabilities
    assert (await client.get_balance()).amount == Decimal("50.00")


# ---------------------------------------------------------------------- the typed contract


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
