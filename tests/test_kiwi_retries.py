"""KiwiClient against the simulator: purchases retried under their idempotency key, safe reads retried, 429s."""

from __future__ import annotations

import email.utils
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from providers.errors import IdempotencyConflict, ProviderUnavailable, RateLimited
from providers.http import RetryPolicy, parse_retry_after
from providers.kiwi.client import KiwiClient
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import Offer, OrderRequest, OrderStatus
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import free_port, http
from tests.clients.kiwi import (
    buy, first_offer, key, kiwi, _no_secret_in_logs, posts, PURCHASE_TIMEOUT, raises, RENT, SECRET,
    shared_sim, sim,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


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
