"""The shared HTTP layer against a real loopback server: what is retried, how long it waits,
what a purchase may and may not do, and that no credential leaks anywhere."""

from __future__ import annotations

import asyncio
import itertools
import json as jsonlib
import logging
import socket
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from providers.errors import BadCredentials, ProviderUnavailable
from providers.http import RetryPolicy, TransportFailure, create_http_client, send, send_with_retry
from providers.simulation.loopback_server import LoopbackServer
from tests.secret_checks import assert_secret_absent

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "sk_live_s3cr3t_9f8e7d"
HANG = "hang"  # the server takes the request and never answers (until the test ends)
TIMEOUT = 0.3  # per-attempt timeout in tests that make the server hang
POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0, retry_after_cap=5.0)
UNSENDABLE = "credentials contain characters the provider cannot accept"

Reply = int | tuple[int, dict[str, str]] | str
Retrying = Callable[..., Awaitable[httpx.Response]]  # (method, url, **send_with_retry options)


@dataclass
class Received:
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes


@dataclass
class Script:
    """What one endpoint answers, in order (200 once the script runs out), and what it got."""

    replies: deque[Reply]
    received: list[Received] = field(default_factory=list)


class ScriptedServer:
    """A loopback HTTP server whose endpoints answer from per-test scripts and count requests."""

    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.release = asyncio.Event()
        self.server = LoopbackServer(
            Starlette(routes=[Route("/{name}", self._endpoint, methods=["GET", "POST"])])
        )
        self._names = itertools.count()

    def endpoint(self, *replies: Reply) -> tuple[str, Script]:
        name = f"ep{next(self._names)}"
        script = Script(deque(replies))
        self.scripts[name] = script
        return f"{self.server.url}/{name}", script

    async def _endpoint(self, request: Request) -> Response:
        script = self.scripts[request.path_params["name"]]
        script.received.append(
            Received(dict(request.headers), dict(request.query_params), await request.body())
        )
        reply: Reply = script.replies.popleft() if script.replies else 200
        if reply == HANG:
            await self.release.wait()
            return Response(status_code=204)
        status, headers = reply if isinstance(reply, tuple) else (reply, {})
        assert isinstance(status, int)
        return JSONResponse({"status": status}, status_code=status, headers=headers)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    await scripted.server.start()
    try:
        yield scripted
    finally:
        scripted.release.set()  # let hanging handlers finish so the server stops at once
        await scripted.server.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = create_http_client(timeout=5.0)
    try:
        yield client
    finally:
        await client.aclose()


class SleepRecorder:
    """The injected `sleep`: records the waits asked for instead of waiting."""

    def __init__(self) -> None:
        self.requested: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.requested.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def retrying(http: httpx.AsyncClient, sleeps: SleepRecorder) -> Retrying:
    """`send_with_retry` on the test client with the test policy and the recording sleep."""

    async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        options: dict[str, Any] = {"provider": "p", "policy": POLICY, "sleep": sleeps, **kwargs}
        return await send_with_retry(http, method, url, **options)

    return call


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback port that is bound but not listening: every connect is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/buy"
    finally:
        sock.close()


@pytest.fixture(autouse=True)
def _no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test also proves that no log record carries the secret.

    Except httpx's own INFO line "HTTP Request: <url with query>": the app keeps the httpx
    logger at WARNING (bot/logging_setup.py) for exactly that reason.
    """
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        if record.name == "httpx" and record.levelno < logging.WARNING:
            continue
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.args)


def auth() -> dict[str, str]:
    return {"X-API-Key": SECRET}


def assert_backoff(delays: list[float], policy: RetryPolicy) -> None:
    """Each delay is the policy's capped exponential backoff with equal jitter."""
    for retry_number, delay in enumerate(delays, start=1):
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (retry_number - 1))
        assert ceiling / 2 <= delay <= ceiling


# ---------------------------------------------------------------- safe requests


async def test_safe_get_is_retried_through_500_429_and_a_timeout_until_it_succeeds(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(500, 429, HANG, 200)
    response = await retrying("GET", url, headers=auth(), timeout=TIMEOUT)
    assert response.status_code == 200
    assert len(script.received) == 4
    assert len(sleeps.requested) == 3
    assert_backoff(sleeps.requested, POLICY)


async def test_safe_get_still_failing_returns_the_last_response_after_max_attempts(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(500, 502, 503, 504, 200)
    assert (await retrying("GET", url)).status_code == 504
    assert len(script.received) == POLICY.max_attempts
    assert len(sleeps.requested) == POLICY.max_attempts - 1


async def test_safe_get_timing_out_every_time_raises_unavailable_without_charge(
    server: ScriptedServer, retrying: Retrying
) -> None:
    url, script = server.endpoint(HANG, HANG)
    with pytest.raises(ProviderUnavailable) as info:
        await retrying("GET", url, policy=RetryPolicy(max_attempts=2), headers=auth(), timeout=TIMEOUT)
    assert info.value.may_have_charged is False
    assert info.value.provider == "p"
    assert len(script.received) == 2
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert_secret_absent(info.value, SECRET)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_a_definite_client_error_is_not_retried(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder, status: int
) -> None:
    url, script = server.endpoint(status)
    assert (await retrying("GET", url)).status_code == status
    assert len(script.received) == 1
    assert sleeps.requested == []


async def test_retry_after_seconds_and_ratelimit_reset_are_waited_for_exactly(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(
        (429, {"Retry-After": "2"}),
        (503, {"Retry-After": "1.5"}),
        (429, {"X-RateLimit-Reset": "3"}),  # "seconds from now" form
        200,
    )
    assert (await retrying("GET", url)).status_code == 200
    assert sleeps.requested == [2.0, 1.5, 3.0]
    assert len(script.received) == 4


async def test_ratelimit_reset_on_a_5xx_is_a_quota_not_a_wait(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, _ = server.endpoint((503, {"X-RateLimit-Reset": "60"}), 200)
    assert (await retrying("GET", url)).status_code == 200
    assert_backoff(sleeps.requested, POLICY)


async def test_retry_after_above_the_cap_returns_the_429_at_once(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint((429, {"Retry-After": "60"}), 200)
    response = await retrying("GET", url)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert len(script.received) == 1
    assert sleeps.requested == []


# ---------------------------------------------------------------- purchases


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_purchase_without_key_is_sent_exactly_once_on_an_error_answer(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder, status: int
) -> None:
    url, script = server.endpoint(status, 200)
    response = await retrying("POST", url, headers=auth(), json={"service": 1}, may_charge=True)
    assert response.status_code == status  # the caller maps it (5xx: outcome unknown)
    assert len(script.received) == 1
    assert sleeps.requested == []


async def test_purchase_without_key_is_sent_exactly_once_on_a_timeout(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(HANG, 200)
    with pytest.raises(ProviderUnavailable) as info:
        await retrying("POST", url, headers=auth(), json={"service": 1}, timeout=TIMEOUT, may_charge=True)
    assert info.value.may_have_charged is True
    assert "check your orders" in info.value.user_message
    assert len(script.received) == 1
    assert sleeps.requested == []
    assert_secret_absent(info.value, SECRET)


async def test_purchase_with_key_is_retried_with_the_same_idempotency_key(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(500, HANG, 409, 201)
    response = await retrying(
        "POST", url, headers=auth(), json={"service": 1}, timeout=TIMEOUT, may_charge=True,
        idempotency_key="order-42",
    )
    assert response.status_code == 201
    assert [r.headers.get("idempotency-key") for r in script.received] == ["order-42"] * 4
    assert {r.body for r in script.received} == {b'{"service":1}'}
    assert len(sleeps.requested) == 3


async def test_purchase_with_key_ambiguous_to_the_end_raises_may_have_charged(
    server: ScriptedServer, retrying: Retrying
) -> None:
    url, script = server.endpoint(HANG, HANG)
    with pytest.raises(ProviderUnavailable) as info:
        await retrying(
            "POST", url, policy=RetryPolicy(max_attempts=2), timeout=TIMEOUT, may_charge=True,
            idempotency_key="order-43",
        )
    assert info.value.may_have_charged is True
    assert len(script.received) == 2


async def test_purchase_with_key_still_5xx_after_max_attempts_returns_the_last_answer(
    server: ScriptedServer, retrying: Retrying
) -> None:
    url, script = server.endpoint(500, 502, 503, 500, 200)
    response = await retrying("POST", url, may_charge=True, idempotency_key="order-44")
    assert response.status_code == 500
    assert len(script.received) == POLICY.max_attempts


async def test_purchase_hitting_a_refused_connection_is_retried_and_did_not_charge(
    retrying: Retrying, sleeps: SleepRecorder, refused_url: str
) -> None:
    policy = RetryPolicy(max_attempts=3)
    with pytest.raises(ProviderUnavailable) as info:
        await retrying("POST", refused_url, policy=policy, headers=auth(), json={"service": 1}, may_charge=True)
    assert info.value.may_have_charged is False
    assert len(sleeps.requested) == policy.max_attempts - 1  # it was retried: nothing was sent
    assert_backoff(sleeps.requested, policy)


async def test_purchase_whose_first_attempt_may_have_charged_stays_may_have_charged(
    sleeps: SleepRecorder,
) -> None:
    # A 500 and then connect errors: a real server cannot stop listening between two attempts.
    answers: deque[httpx.Response] = deque([httpx.Response(500)])

    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.popleft()
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mocked:
        with pytest.raises(ProviderUnavailable) as info:
            await send_with_retry(
                mocked, "POST", "http://provider.test/buy", provider="p", policy=RetryPolicy(max_attempts=3),
                sleep=sleeps, may_charge=True, idempotency_key="order-45",
            )
    assert info.value.may_have_charged is True
    assert len(sleeps.requested) == 2


# ---------------------------------------------------------------- credentials and secrets


@pytest.mark.parametrize(
    "credential",
    [f"{SECRET}\u2013x", f"{SECRET}\u043a", f"{SECRET}\u00e9", f"{SECRET}\n", f" {SECRET}", f"{SECRET}\x00"],
    ids=["typographic-dash", "cyrillic", "latin-1", "newline", "leading-space", "nul"],
)
@pytest.mark.parametrize("may_charge", [False, True])
async def test_unsendable_credential_is_bad_credentials_and_nothing_reaches_the_server(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder, credential: str, may_charge: bool
) -> None:
    url, script = server.endpoint(200)
    with pytest.raises(BadCredentials) as info:
        await retrying("POST", url, headers={"X-API-Key": credential}, may_charge=may_charge)
    assert UNSENDABLE in info.value.user_message
    assert info.value.provider == "p"
    assert_secret_absent(info.value, SECRET)
    assert script.received == []
    assert sleeps.requested == []


async def test_send_refuses_an_unsendable_credential_too(server: ScriptedServer, http: httpx.AsyncClient) -> None:
    url, script = server.endpoint(200)
    with pytest.raises(BadCredentials) as info:
        await send(http, "GET", url, provider="p", headers={"Authorization": f"Bearer {SECRET}\u2014"})
    assert UNSENDABLE in info.value.user_message
    assert_secret_absent(info.value, SECRET)
    assert script.received == []


async def test_non_ascii_in_query_and_json_body_reaches_the_server_intact(
    server: ScriptedServer, http: httpx.AsyncClient
) -> None:
    url, script = server.endpoint(200)
    text = "ключ\u2013café"
    response = await send(http, "POST", url, provider="p", params={"q": text}, json={"name": text})
    assert response.status_code == 200
    assert script.received[0].query == {"q": text}
    assert jsonlib.loads(script.received[0].body) == {"name": text}


async def test_transport_failure_carries_no_httpx_exception(server: ScriptedServer, http: httpx.AsyncClient) -> None:
    url, _ = server.endpoint(HANG)
    with pytest.raises(TransportFailure) as info:
        await send(
            http, "POST", url, provider="p", headers=auth(), params={"key": SECRET},
            json={"password": SECRET}, timeout=TIMEOUT,
        )
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert info.value.kind == "ReadTimeout"
    assert info.value.reached_provider is True
    assert_secret_absent(info.value, SECRET)


async def test_no_log_line_on_any_path_carries_the_secret(
    server: ScriptedServer, http: httpx.AsyncClient, retrying: Retrying, refused_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets: dict[str, Any] = {"headers": auth(), "params": {"api_key": SECRET}, "json": {"password": SECRET}}
    url, _ = server.endpoint(500, (429, {"Retry-After": "1"}), HANG, 200)
    await retrying("POST", url, timeout=TIMEOUT, **secrets)
    with pytest.raises(ProviderUnavailable):
        await retrying("POST", refused_url, policy=RetryPolicy(max_attempts=2), may_charge=True, **secrets)
    with pytest.raises(BadCredentials):
        await send(http, "GET", url, provider="p", headers={"X-API-Key": SECRET + "\u2013"})
    # Every path logged (retries, failures, successes, the refusal): the check below has teeth.
    messages = [record.getMessage() for record in caplog.records if record.name.startswith("providers")]
    assert any("retry" in message for message in messages)
    assert any("ConnectError" in message for message in messages)
    assert any("ReadTimeout" in message for message in messages)
    assert any("-> 200" in message for message in messages)
    assert any("X-API-Key" in message and "not sent" in message for message in messages)
    assert all(SECRET not in message for message in messages)
