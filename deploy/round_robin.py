"""A load balancer in miniature: each request goes to the next upstream in turn (round robin).

It exists so that `python -m deploy.local_cluster` runs on one machine with nothing else
installed; a real deployment puts nginx, haproxy or a cloud load balancer in front of the
`python -m bot web` processes instead. The tests use it too (tests/harness/round_robin.py): with
`record=True` it keeps which upstream answered which request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import httpx

from providers.simulation.loopback_server import LoopbackServer

_DROP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding", "content-encoding"})


@dataclass(frozen=True)
class Routed:
    """One request and the upstream (its index) that answered it."""

    upstream: int
    path: str
    body: bytes
    status: int

    def update_id(self) -> int | None:
        """The Telegram update id of a webhook post (None for anything else)."""
        try:
            value = json.loads(self.body).get("update_id")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, int) else None


class RoundRobinProxy:
    """`await start()` listens on `host:port` (port 0: a free one); its `url` is the public URL of
    all `upstreams` together. An upstream that does not answer gets 502 (no retry elsewhere: a
    webhook post may already have been handled, and Telegram retries by itself)."""

    def __init__(self, upstreams: list[str], *, host: str = "127.0.0.1", port: int = 0, record: bool = False) -> None:
        assert upstreams, "a balancer needs something to balance"
        self.upstreams = upstreams
        self.routed: list[Routed] = []  # only with record=True: a long-running front keeps nothing
        self._record = record
        self._turn = count()
        self._http: httpx.AsyncClient | None = None
        self._server = LoopbackServer(self._asgi_entry(), port=port, host=host)

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return self._server.url

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def upstream_of_update(self, update_id: int) -> int | None:
        """Which upstream answered the webhook post of this update (2xx), if any did."""
        for routed in self.routed:
            if routed.update_id() == update_id and 200 <= routed.status < 300:
                return routed.upstream
        return None

    def _asgi_entry(self) -> Callable[..., Any]:
        async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
            if scope["type"] == "http":
                await self._forward(scope, receive, send)

        return app

    async def _forward(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        assert self._http is not None
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        upstream = next(self._turn) % len(self.upstreams)
        query = scope.get("query_string", b"").decode()
        url = self.upstreams[upstream] + scope["path"] + (f"?{query}" if query else "")
        headers = {k.decode(): v.decode() for k, v in scope["headers"] if k.decode().lower() not in _DROP_HEADERS}
        try:
            response = await self._http.request(scope["method"], url, headers=headers, content=body)
            status, content = response.status_code, response.content
            kept = [(k.encode(), v.encode()) for k, v in response.headers.items() if k.lower() not in _DROP_HEADERS]
        except httpx.HTTPError:
            status, content, kept = 502, b"upstream unreachable", []
        if self._record:
            self.routed.append(Routed(upstream, scope["path"], body, status))
        kept.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": kept})
        await send({"type": "http.response.body", "body": content, "more_body": False})
