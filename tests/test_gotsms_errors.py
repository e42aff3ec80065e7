"""GotSmsClient against the simulator: error mapping, retries of reads, Retry-After, the token kept out."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from providers.errors import (
    AccountSuspended, BadCredentials, InsufficientBalance, NotAllowedNow, ProviderUnavailable, RateLimited,
    UnexpectedResponse,
)
from providers.gotsms.capabilities import CAPABILITIES
from providers.gotsms.client import GotSmsClient
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.models import PollStrategy, ProviderId
from providers.registry import ProviderEndpoints, capabilities_of, make_client
from providers.simulation.loopback_server import LoopbackServer
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.gotsms import calls, gs, _no_secret_in_logs, raises, RENTS, SECRET, shared_sim, sim, token

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


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
