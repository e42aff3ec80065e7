"""A loopback HTTP proxy between the bot and one upstream (a provider simulator or the fake Bot API).

The bot's `*_BASE_URL` points here; every request is forwarded to the upstream unchanged, and
recorded as an `Exchange`. A test can make the proxy misbehave in the ways a real network and a
real provider do:

* `storm(rate, kinds)`: each matching request fails with probability `rate`, with one of the
  `Fault` kinds — some before the upstream sees the request, some after it has acted (the answer
  is lost, cut short or late), which is the case that tests whether the bot can recover what the
  provider already did (a charged purchase, GotSMS unread messages marked read);
* `kill_when(...)`: the moment an answer matching a predicate (e.g. "its body holds code 482913")
  comes back from the upstream, call a victim — `BotProcess.kill` — either right after the answer
  went through to the bot, or instead of answering at all (the provider acted, the bot never knew).

Waiting: `wait_for(predicate)` wakes on every finished exchange, so no test sleeps blindly.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx

from providers.simulation.loopback_server import LoopbackServer

# Hop-by-hop and encoding headers the proxy sets itself (it reads and may rewrite bodies).
_DROP_REQUEST_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding"})
_DROP_RESPONSE_HEADERS = frozenset({"content-length", "connection", "content-encoding", "transfer-encoding", "date", "server"})


class Fault(StrEnum):
    """What the proxy can do to one request instead of a clean pass-through."""

    UNAVAILABLE = "503 before the provider saw it"
    LOST_AFTER_ACTING = "502 after the provider acted"
    TRUNCATED = "200 with the JSON body cut in half"
    RATE_LIMITED = "429 with Retry-After"
    TIMEOUT = "no answer within the bot's timeout (the provider acted)"


ALL_FAULTS: tuple[Fault, ...] = tuple(Fault)
# The faults that strike after the provider acted on the request: the bot cannot know what it did.
AFTER_ACTING: tuple[Fault, ...] = (Fault.LOST_AFTER_ACTING, Fault.TRUNCATED, Fault.TIMEOUT)


class KillMoment(StrEnum):
    AFTER_ANSWER = "the answer reached the bot, then the bot was killed"
    INSTEAD_OF_ANSWER = "the provider acted, the bot was killed before any answer"


@dataclass
class Exchange:
    """One request through the proxy and what became of it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    started: float  # time.time()
    upstream_status: int | None = None  # None: the upstream never saw it
    upstream_body: bytes = b""
    status: int | None = None  # what the bot was answered (None: nothing)
    fault: Fault | None = None
    killed: bool = False
    finished: float | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def holds(self, needle: str) -> bool:
        """The upstream's answer contains `needle` (a code, an order id...)."""
        return needle.encode() in self.upstream_body


Predicate = Callable[[Exchange], bool]


@dataclass
class _KillRule:
    matches: Predicate
    victim: Callable[[], None]
    moment: KillMoment
    fired: bool = False


@dataclass
class _ForcedFault:
    matches: Predicate
    fault: Fault
    fired: bool = False


@dataclass
class _Storm:
    rate: float
    kinds: tuple[Fault, ...]
    matches: Predicate
    rng: random.Random
    applied: Counter[Fault] = field(default_factory=Counter)


class LoopbackProxy:
    """`await start()`, then give the bot `base_url` instead of the upstream's."""

    def __init__(self, upstream_base_url: str, *, hold_seconds: float = 2.0, retry_after_seconds: int = 1) -> None:
        parts = urlsplit(upstream_base_url)
        self._upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self._prefix = parts.path.rstrip("/")
        self.hold_seconds = hold_seconds  # TIMEOUT: longer than the bot's provider timeout
        self.retry_after_seconds = retry_after_seconds
        self.exchanges: list[Exchange] = []
        self._kills: list[_KillRule] = []
        self._storm: _Storm | None = None
        self._forced: list[_ForcedFault] = []
        self._changed = asyncio.Event()
        self._http: httpx.AsyncClient | None = None
        self._server = LoopbackServer(self._asgi_entry())

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        # Long read timeout: the fake Bot API holds getUpdates long polls.
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()
        if self._http is not None:
            await self._http.aclose()

    @property
    def base_url(self) -> str:
        return self._server.url + self._prefix

    # -- misbehaviour -------------------------------------------------------------------

    def storm(self, rate: float, kinds: tuple[Fault, ...] = ALL_FAULTS, *, matches: Predicate | None = None,
              seed: int = 7) -> None:
        """From now on, each matching request fails with probability `rate` (one of `kinds`)."""
        self._storm = _Storm(rate, kinds, matches or (lambda _e: True), random.Random(seed))

    def calm(self) -> None:
        self._storm = None
        self._forced.clear()

    def strike_once(self, matches: Predicate, fault: Fault) -> None:
        """The first upstream answer that matches (e.g. holds a given code) gets `fault`, one of
        AFTER_ACTING: so a storm surely hits the answers that matter, not only by chance."""
        assert fault in AFTER_ACTING, "only a fault after the provider acted can depend on its answer"
        self._forced.append(_ForcedFault(matches, fault))

    @property
    def strikes_pending(self) -> int:
        return sum(1 for forced in self._forced if not forced.fired)

    @property
    def faults_applied(self) -> Counter[Fault]:
        counts: Counter[Fault] = Counter(e.fault for e in self.exchanges if e.fault is not None)
        return counts

    def kill_when(self, matches: Predicate, victim: Callable[[], None],
                  moment: KillMoment = KillMoment.AFTER_ANSWER) -> None:
        """Once: when an upstream answer matches, kill (call `victim`) at `moment`."""
        self._kills.append(_KillRule(matches, victim, moment))

    def disarm(self) -> None:
        self._kills.clear()

    @property
    def kills_fired(self) -> int:
        return sum(1 for rule in self._kills if rule.fired)

    # -- observing ----------------------------------------------------------------------

    def count(self, predicate: Predicate | None = None) -> int:
        return sum(1 for e in self.exchanges if e.finished is not None and (predicate is None or predicate(e)))

    async def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str = "") -> None:
        """Until `predicate()` holds, woken by every finished exchange."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"proxy for {self.base_url}: not within {timeout}s: {what or predicate}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass

    # -- the ASGI application -------------------------------------------------------------

    def _asgi_entry(self) -> Callable[..., Any]:
        # A plain coroutine function: uvicorn takes a bound method for an ASGI2 application.
        async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
            await self._app(scope, receive, send)

        return app

    async def _app(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        exchange = Exchange(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode(),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
            started=time.time(),
        )
        self.exchanges.append(exchange)
        try:
            await self._handle(exchange, receive, send)
        finally:
            exchange.finished = time.time()
            self._changed.set()

    async def _handle(self, exchange: Exchange, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        fault = self._draw_fault(exchange)
        exchange.fault = fault
        if fault is Fault.UNAVAILABLE:
            await _answer(send, exchange, 503, b'{"error": "Service Unavailable"}')
            return
        if fault is Fault.RATE_LIMITED:
            await _answer(send, exchange, 429, b'{"error": "Too Many Requests", "retryAfter": %d}'
                          % self.retry_after_seconds, {"retry-after": str(self.retry_after_seconds)})
            return
        upstream = await self._forward(exchange, receive)
        if upstream is None:
            return  # the bot went away (a long poll of a killed bot): nothing to answer
        status, headers, content = upstream
        forced = [f for f in self._forced if not f.fired and f.matches(exchange)]
        for strike in forced:  # one lost answer may carry several awaited codes
            strike.fired = True
        if forced:
            fault = exchange.fault = forced[0].fault
        rule = next((r for r in self._kills if not r.fired and r.matches(exchange)), None)
        if rule is not None:
            rule.fired = True
            exchange.killed = True
            if rule.moment is KillMoment.INSTEAD_OF_ANSWER:
                rule.victim()
                # No answer: the connection dies with the bot (returning earlier would make
                # uvicorn answer 500 itself).
                await asyncio.wait_for(_client_disconnect(receive), timeout=10.0)
                return
            await _answer(send, exchange, status, content, headers)
            rule.victim()
            return
        if fault is Fault.LOST_AFTER_ACTING:
            await _answer(send, exchange, 502, b"<html><body>502 Bad Gateway</body></html>")
        elif fault is Fault.TRUNCATED:
            await _answer(send, exchange, status, content[: max(1, len(content) // 2)], headers)
        elif fault is Fault.TIMEOUT:
            await asyncio.sleep(self.hold_seconds)  # the bot's provider timeout is shorter: it gives up
            await _answer(send, exchange, status, content, headers)
        else:
            await _answer(send, exchange, status, content, headers)

    def _draw_fault(self, exchange: Exchange) -> Fault | None:
        storm = self._storm
        if storm is None or not storm.matches(exchange) or storm.rng.random() >= storm.rate:
            return None
        fault = storm.kinds[storm.rng.randrange(len(storm.kinds))]
        storm.applied[fault] += 1
        return fault

    async def _forward(
        self, exchange: Exchange, receive: Callable[..., Any]
    ) -> tuple[int, dict[str, str], bytes] | None:
        assert self._http is not None
        headers = {k: v for k, v in exchange.headers.items() if k not in _DROP_REQUEST_HEADERS}
        url = self._upstream_origin + exchange.path + (f"?{exchange.query}" if exchange.query else "")
        request = asyncio.ensure_future(
            self._http.request(exchange.method, url, headers=headers, content=exchange.body)
        )
        gone = asyncio.ensure_future(_client_disconnect(receive))
        done, _ = await asyncio.wait({request, gone}, return_when=asyncio.FIRST_COMPLETED)
        if request not in done:
            request.cancel()  # a killed bot's long poll: do not let it take updates meant for the next one
            await asyncio.gather(request, return_exceptions=True)
            return None
        gone.cancel()
        response = request.result()
        exchange.upstream_status = response.status_code
        exchange.upstream_body = response.content
        kept = {k: v for k, v in response.headers.items() if k.lower() not in _DROP_RESPONSE_HEADERS}
        return response.status_code, kept, response.content


async def _client_disconnect(receive: Callable[..., Any]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _answer(send: Callable[..., Any], exchange: Exchange, status: int, content: bytes,
                  headers: dict[str, str] | None = None) -> None:
    exchange.status = status
    out = [(k.encode(), v.encode()) for k, v in (headers or {"content-type": "application/json"}).items()]
    out.append((b"content-length", str(len(content)).encode()))
    try:
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": content, "more_body": False})
    except OSError:
        pass  # the bot is gone
