"""The shared HTTP layer's tests: a loopback server that answers from per-test scripts, the test
retry policy with a recording sleep, and the check that no log record carries the secret."""

from __future__ import annotations

import asyncio
import itertools
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

from providers.http import RetryPolicy, send_with_retry
from providers.simulation.loopback_server import LoopbackServer

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
