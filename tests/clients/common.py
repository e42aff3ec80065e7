"""Fixtures and helpers every provider-client test module uses (import the fixtures by name)."""

from __future__ import annotations

import logging
import itertools
import os
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


# Ports for servers that must know their port before they listen (a webhook URL in the settings):
# below the kernel's ephemeral range (32768-60999 here), so between our check and the server's bind
# the OS never gives the port to another test's `bind(0)` or outgoing connection; a block of its own
# per pytest-xdist worker, so two workers never pick the same one.
_PORT_BASE = 20000
_PORTS_PER_WORKER = 2000
_WORKER_BLOCKS = 6
_port_cursor = itertools.count(os.getpid() % _PORTS_PER_WORKER)


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw3"
    return int(worker[2:]) % _WORKER_BLOCKS if worker[2:].isdigit() else 0


def free_port() -> int:
    """A loopback port nobody listens on now, and that the OS will not hand to anyone else."""
    block = _PORT_BASE + _worker_index() * _PORTS_PER_WORKER
    for _ in range(_PORTS_PER_WORKER):
        port = block + next(_port_cursor) % _PORTS_PER_WORKER
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # still held (a server of an earlier test closing): the next one
            return port
    raise RuntimeError("no free loopback port")


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
