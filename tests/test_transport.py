"""The shared provider client (`create_http_client`) against a raw scripted HTTP server on
loopback: what a provider sends back, and how each transport failure is classified before it
reaches the retry rule. Whatever transport sits under the client, a purchase may be sent again
only after a failure that provably never reached the provider (connection refused); every
failure after the request may have been read must say "may have charged"."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from providers.http import TransportFailure, create_http_client, send


class Drop:
    """The server's move instead of a whole answer: close the connection after writing `partial`
    (`reset`: with a TCP RST)."""

    def __init__(self, partial: bytes = b"", *, reset: bool = False) -> None:
        self.partial = partial
        self.reset = reset


Reply = Callable[[bytes], bytes | Drop]  # request head -> raw answer, or a dropped connection


@dataclass
class ScriptedServer:
    reply: Reply
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    close_after_answer: bool = False
    server: asyncio.Server | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)  # a connection was closed by us

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                answer = self.reply(head)
                if isinstance(answer, Drop):
                    writer.write(answer.partial)
                    await writer.drain()
                    if answer.reset:  # RST instead of FIN: the client reads "connection reset"
                        sock = writer.get_extra_info("socket")
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        writer.transport.abort()
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()
        self.closed.set()


StartServer = Callable[[Reply], Awaitable[ScriptedServer]]


@pytest.fixture
async def scripted() -> AsyncIterator[StartServer]:
    servers: list[ScriptedServer] = []

    async def start(reply: Reply) -> ScriptedServer:
        scripted_server = ScriptedServer(reply)
        scripted_server.server = await asyncio.start_server(scripted_server.handle, "127.0.0.1", 0)
        servers.append(scripted_server)
        return scripted_server

    yield start
    for s in servers:
        assert s.server is not None
        s.server.close()


def _ok(body: bytes, extra: bytes = b"") -> Reply:
    return lambda head: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def _refused_url() -> str:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


async def _purchase(http: httpx.AsyncClient, url: str) -> TransportFailure:
    """A charging request that fails in transport: the failure `send` reports."""
    with pytest.raises(TransportFailure) as failure:
        await send(http, "POST", f"{url}/buy", provider="kiwi", json={"buy": 1}, may_charge=True)
    return failure.value


# ------------------------------------------------------------------ answers and connections


async def test_answers_are_read_whole_and_the_connection_is_kept_alive(scripted: StartServer) -> None:
    server = await scripted(_ok(b'{"ok": true}', b"Content-Type: application/json\r\n"))
    async with create_http_client(timeout=2.0) as http:
        for _ in range(3):
            response = await http.post(f"{server.url}/api?x=1", json={"a": "é"}, headers={"X-Key": "k"})
            assert response.status_code == 200 and response.json() == {"ok": True}
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /api?x=1 HTTP/1.1\r\n") and b"\r\nx-key: k\r\n" in first.lower()
    assert first.endswith('{"a":"é"}'.encode())


async def test_a_chunked_answer_and_an_answer_that_ends_with_the_connection(
    scripted: StartServer,
) -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\n\r\n"
    server = await scripted(lambda head: chunked)
    async with create_http_client(timeout=2.0) as http:
        assert (await http.get(server.url)).content == b"abcdefg"
        assert (await http.get(server.url)).content == b"abcdefg"
    assert server.connections == 1

    until_close = await scripted(lambda head: b"HTTP/1.0 200 OK\r\n\r\nall of it")
    until_close.close_after_answer = True
    async with create_http_client(timeout=2.0) as http:
        assert (await http.get(until_close.url)).content == b"all of it"
        assert (await http.get(until_close.url)).content == b"all of it"
    assert until_close.connections == 2  # not reused: the body ended with the connection


async def test_a_kept_alive_connection_the_server_closed_while_idle_is_not_reused(
    scripted: StartServer,
) -> None:
    server = await scripted(_ok(b"x", b"Connection: keep-alive\r\n"))
    server.close_after_answer = True  # closes right after each answer, without saying so
    async with create_http_client(timeout=2.0) as http:
        assert (await http.post(server.url, json={"buy": 1})).content == b"x"
        await server.closed.wait()
        await asyncio.sleep(0.05)  # the FIN crosses loopback to the client (no event of ours)
        assert (await http.post(server.url, json={"buy": 1})).content == b"x"
    assert server.connections == 2 and len(server.requests) == 2


async def test_no_cookie_a_provider_sets_rides_along_with_the_next_request(scripted: StartServer) -> None:
    server = await scripted(_ok(b"x", b"Set-Cookie: session=account-a; Path=/\r\n"))
    async with create_http_client(timeout=2.0) as http:
        await http.get(server.url)
        await http.get(server.url)
    assert len(server.requests) == 2
    assert all(b"\r\ncookie:" not in request.lower() for request in server.requests)


async def test_a_header_that_would_split_the_request_is_never_sent(scripted: StartServer) -> None:
    server = await scripted(_ok(b"x"))
    async with create_http_client(timeout=2.0) as http:
        with pytest.raises(httpx.LocalProtocolError):
            await http.get(server.url, headers={"X-Key": "a\r\nX-Injected: 1"})
    assert server.requests == []


# ------------------------------------------------------------------ failure classification


async def test_connection_refused_is_the_one_failure_that_cannot_have_charged() -> None:
    async with create_http_client(timeout=2.0) as http:
        refused = await _purchase(http, _refused_url())
    assert refused.kind == "ConnectError"
    assert not refused.reached_provider and not refused.may_have_charged


@pytest.mark.parametrize(
    "reply",
    [
        lambda head: Drop(),
        lambda head: Drop(reset=True),
        lambda head: Drop(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"order\""),
        lambda head: b"NOT HTTP AT ALL\r\n\r\n",
    ],
    ids=["closed-without-answer", "reset-without-answer", "answer-cut-short", "not-http"],
)
async def test_a_failure_after_the_server_read_the_purchase_may_have_charged(
    scripted: StartServer, reply: Reply
) -> None:
    server = await scripted(reply)
    async with create_http_client(timeout=2.0) as http:
        failure = await _purchase(http, server.url)
    assert len(server.requests) == 1  # the server did read it
    assert failure.reached_provider and failure.may_have_charged
    assert failure.kind not in {"ConnectError", "ConnectTimeout", "PoolTimeout"}


async def test_a_read_timeout_may_have_charged(scripted: StartServer) -> None:
    server = await scripted(lambda head: b"")  # reads the request, never answers
    async with create_http_client(timeout=0.3) as http:
        failure = await _purchase(http, server.url)
    assert failure.kind == "ReadTimeout" and failure.may_have_charged


async def test_a_request_whose_connection_dropped_is_not_sent_again_behind_the_retry_rule(
    scripted: StartServer,
) -> None:
    # A GET can act too (GotSMS marks messages read): only providers.retry may send it again.
    server = await scripted(lambda head: Drop())
    async with create_http_client(timeout=2.0) as http:
        with pytest.raises(TransportFailure) as failure:
            await send(http, "GET", f"{server.url}/unread", provider="gotsms", may_charge=True)
    assert failure.value.may_have_charged
    assert server.connections == 1 and len(server.requests) == 1
