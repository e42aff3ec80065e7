"""Fixtures and helpers every provider-client test module uses (import the fixtures by name)."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.http import create_http_client
from providers.simulation.loopback_server import LoopbackServer
from tests.helpers import until


class Startable(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Startable)


def simulator_fixture(factory: Callable[[], S], name: str, *, per_module: bool = False) -> Any:
    """A fixture `name` that starts a server from `factory` and stops it afterwards: for each test,
    or once per test module (starting and stopping is the slow part; then each test takes its own
    account, so state never leaks between tests)."""

    async def started() -> AsyncIterator[S]:
        server = factory()
        await server.start()
        try:
            yield server
        finally:
            await server.stop()

    if per_module:
        return pytest_asyncio.fixture(started, scope="module", loop_scope="module", name=name)
    return pytest_asyncio.fixture(started, name=name)


def module_simulator(factory: Callable[[], S]) -> Any:
    """The module-scoped `shared_sim` fixture of a provider-client test module."""
    return simulator_fixture(factory, "shared_sim", per_module=True)


def secret_free_logs(secret: str) -> Any:
    """An autouse fixture: every test also proves that nothing logged `secret`."""

    def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
        caplog.set_level(logging.DEBUG)
        yield
        assert secret not in caplog.text

    return pytest.fixture(no_secret_in_logs, autouse=True, name="_no_secret_in_logs")


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = create_http_client(timeout=5.0)
    try:
        yield client
    finally:
        await client.aclose()


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Received = TypeVar("Received")


@asynccontextmanager
async def callback_receiver(
    keep: Callable[[Request], Awaitable[Received]], status_code: int = 200
) -> AsyncIterator[tuple[str, list[Received]]]:
    """A loopback endpoint a provider posts its callbacks to: its URL, and what `keep` took from
    each request, in order of arrival."""
    received: list[Received] = []

    async def hook(request: Request) -> Response:
        received.append(await keep(request))
        return Response(status_code=status_code)

    receiver = LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    await receiver.start()
    try:
        yield f"{receiver.url}/hook", received
    finally:
        await receiver.stop()


async def first_callback(received: list[Received], timeout: float = 2.0) -> None:
    """Until the receiver has taken a callback."""
    await until(lambda: bool(received), "a callback from the simulator", timeout)
