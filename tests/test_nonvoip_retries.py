"""NonVoipClient against the simulator: 429, 5xx, timeouts and lost answers; what may have charged."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from providers.errors import ProviderUnavailable, RateLimited
from providers.http import create_http_client
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.simulator.sim import NonVoipSimulator
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import free_port, http
from tests.clients.nonvoip import (
    email, GETSMS, ids, _no_secret_in_logs, nv, offer_in, ORDER, password, raises, request_for, sent,
    shared_sim, sim, START,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


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
