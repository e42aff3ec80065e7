"""GotSmsClient against the simulator: buying rents, listing them, and transition, renewal and refund."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from providers.errors import (
    InsufficientBalance, InvalidRequest, NotAllowedNow, OrderNotFound, ProviderUnavailable, RateLimited,
)
from providers.gotsms.client import GotSmsClient
from providers.gotsms.domain import Rent
from providers.gotsms.simulator.sim import GotSmsSimulator, LostAnswer
from providers.models import OrderRequest, OrderStatus, Plan
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import free_port, http
from tests.clients.gotsms import (
    actions, calls, gs, LIVE_SUPERSET, _no_secret_in_logs, raises, rent_of, RENTS, SECRET, service_name,
    shared_sim, sim, sim_plan, token,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


# ---------------------------------------------------------------------- rents


async def test_create_rent_charges_and_maps(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    plan = sim_plan(sim, duration_type="day")
    order = await gs.create_rent(str(plan["id"]), area_code="212")
    assert order.status is OrderStatus.WAITING and order.refunded is None
    assert order.price == Decimal(str(plan["price"])) and order.phone
    assert order.service_name == service_name(plan) and order.service
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
