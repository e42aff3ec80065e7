"""A lean HTTP/1.1 transport for the shared provider `httpx.AsyncClient`.

Why not httpx's default (httpcore over anyio): profiled under the delivery benchmark it cost
~2-4 ms of CPU per provider request at ~200 requests a second, most of it bookkeeping — the
pool re-checks every kept-alive connection (a `poll()` syscall each) on every request and every
response, through several layers of anyio wrappers. Provider answers are small JSON documents,
so this transport reads each answer whole over a plain asyncio protocol: a kept-alive connection
learns that the server closed it from `connection_lost`, with no syscall per request.

httpx keeps doing everything above the wire (URLs, headers, redirects policy, decompression,
`Response`); failures are raised as the same httpx exceptions httpcore raises, so
`providers.http.send` classifies them exactly as before: `ConnectError` / `ConnectTimeout` /
`PoolTimeout` only before a single byte of the request was written.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator

import httpx

_Origin = tuple[str, str, int]
_MAX_HEADER_BYTES = 64 * 1024
_NO_BODY_STATUS = frozenset({204, 304})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _ServerClosed(Exception):
    """The server closed the connection before the answer was complete."""


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: bytes in a buffer, a waiter woken when more arrive."""

    def __init__(self, origin: _Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False  # the peer sent EOF or the connection is gone
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # used by the transport
    def reusable(self, now: float, expiry: float) -> bool:
        return not self.closed and not self.buffer and now - self.idle_since < expiry

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def write(self, data: bytes) -> None:
        assert self.transport is not None
        if self.closed:
            raise _ServerClosed
        self.transport.write(data)
        if self._drained is not None:  # the kernel buffer is full: wait (flow control)
            await self._drained

    async def _more(self) -> None:
        if self.closed:
            raise _ServerClosed
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def read_until(self, separator: bytes, limit: int) -> bytes:
        start = 0
        while True:
            end = self.buffer.find(separator, start)
            if end >= 0:
                end += len(separator)
                data = bytes(self.buffer[:end])
                del self.buffer[:end]
                return data
            if len(self.buffer) > limit:
                raise httpx.RemoteProtocolError("response header too long")
            start = max(0, len(self.buffer) - len(separator) + 1)
            await self._more()

    async def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._more()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def read_to_eof(self) -> bytes:
        while not self.closed:
            await self._more()
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


class _Body(httpx.AsyncByteStream):
    def __init__(self, content: bytes) -> None:
        self._content = content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._content


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing: empty (so requests carry no Cookie header) and deaf to Set-Cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass

    def set_cookie_header(self, request: httpx.Request) -> None:
        pass


class CookielessClient(httpx.AsyncClient):
    """The shared provider client never keeps cookies: one client serves every account of every
    chat, so a cookie one account's answer set must never ride along with another account's
    request. (No provider API uses cookies; it also spares parsing every response for them.)"""

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return _NoCookies()

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        pass


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive; at most `max_connections` requests at once (others wait up to
    the pool timeout), at most `max_keepalive_connections` idle connections kept."""

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        self._max_keepalive = limits.max_keepalive_connections or 0
        self._expiry = limits.keepalive_expiry if limits.keepalive_expiry is not None else float("inf")
        self._slots = asyncio.Semaphore(limits.max_connections or 1_000_000)
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._idle_count = 0
        self._ssl_context = ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = _origin_of(request)
        timeouts = request.extensions.get("timeout", {})
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection free in time") from None
        try:
            payload = _serialize(request, await request.aread())
            conn = self._checkout(origin)
            if conn is None:
                conn = await self._connect(origin, timeouts.get("connect"))
            try:
                response, keep = await self._exchange(conn, request, payload, timeouts)
            except BaseException:
                conn.close()
                raise
            if keep:
                self._checkin(conn)
            else:
                conn.close()
            return response
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        self._idle_count = 0

    def _checkout(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()  # the most recently used: the likeliest to be alive
            self._idle_count -= 1
            if conn.reusable(now, self._expiry):
                return conn
            conn.close()
        return None

    def _checkin(self, conn: _Connection) -> None:
        if self._idle_count >= self._max_keepalive:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._idle_count += 1

    async def _connect(self, origin: _Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context()
            context = self._ssl_context
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(origin), host, port, ssl=context,
                    server_hostname=host if context is not None else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout("connect timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"connect failed: {type(exc).__name__}") from None
        return conn

    async def _exchange(
        self, conn: _Connection, request: httpx.Request, payload: bytes, timeouts: dict[str, float | None]
    ) -> tuple[httpx.Response, bool]:
        try:
            async with asyncio.timeout(timeouts.get("write")):
                await conn.write(payload)
        except TimeoutError:
            raise httpx.WriteTimeout("write timed out") from None
        except (OSError, _ServerClosed) as exc:
            raise httpx.WriteError(f"write failed: {type(exc).__name__}") from None
        try:
            async with asyncio.timeout(timeouts.get("read")):
                return await _read_response(conn, request)
        except TimeoutError:
            raise httpx.ReadTimeout("read timed out") from None
        except _ServerClosed:
            raise httpx.RemoteProtocolError("server disconnected without a complete response") from None
        except OSError as exc:
            raise httpx.ReadError(f"read failed: {type(exc).__name__}") from None


def _origin_of(request: httpx.Request) -> _Origin:
    url = request.url
    if url.scheme not in _DEFAULT_PORTS:
        raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
    if not url.host:
        raise httpx.UnsupportedProtocol("URL without a host")
    return url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme]


def _serialize(request: httpx.Request, body: bytes) -> bytes:
    """Request line, headers and body; header values that could split the request are refused
    (as h11 refuses them) before anything is sent."""
    lines = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), request.url.raw_path)]
    chunked = False
    for name, value in request.headers.raw:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name or b":" in name:
            raise httpx.LocalProtocolError("illegal header")
        if name.lower() == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
        lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"\r\n")
    if chunked:
        lines.append(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n")
    else:
        lines.append(body)
    return b"".join(lines)


async def _read_response(conn: _Connection, request: httpx.Request) -> tuple[httpx.Response, bool]:
    """One whole response; True when the connection may carry the next request."""
    while True:
        head = await conn.read_until(b"\r\n\r\n", _MAX_HEADER_BYTES)
        status_line, _, header_block = head[:-4].partition(b"\r\n")
        version, status, reason = _parse_status(status_line)
        if not 100 <= status < 200 or status == 101:
            break  # 1xx interim answers (100 Continue) are skipped
    headers: list[tuple[bytes, bytes]] = []
    length: int | None = None
    chunked = False
    keep_alive = version == b"HTTP/1.1"
    for line in header_block.split(b"\r\n") if header_block else ():
        name, colon, value = line.partition(b":")
        if not colon:
            raise httpx.RemoteProtocolError("malformed response header")
        value = value.strip()
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = _content_length(value)
        elif lowered == b"transfer-encoding":
            chunked = value.lower().endswith(b"chunked")
        elif lowered == b"connection":
            keep_alive = b"close" not in value.lower() and (keep_alive or b"keep-alive" in value.lower())
        headers.append((name, value))
    if request.headers.get("connection", "").lower() == "close":
        keep_alive = False
    if request.method == "HEAD" or status in _NO_BODY_STATUS:
        body = b""
    elif chunked:
        body = await _read_chunked(conn)
    elif length is not None:
        body = await conn.read_exactly(length)
    else:
        body = await conn.read_to_eof()  # delimited by the connection's end
        keep_alive = False
    response = httpx.Response(
        status, headers=headers, stream=_Body(body),
        extensions={"http_version": version, "reason_phrase": reason},
    )
    return response, keep_alive


def _parse_status(line: bytes) -> tuple[bytes, int, bytes]:
    version, _, rest = line.partition(b" ")
    code, _, reason = rest.partition(b" ")
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise httpx.RemoteProtocolError("malformed status line")
    return version, int(code), reason


def _content_length(value: bytes) -> int:
    if not value.isdigit():
        raise httpx.RemoteProtocolError("malformed Content-Length")
    return int(value)


async def _read_chunked(conn: _Connection) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await conn.read_until(b"\r\n", _MAX_HEADER_BYTES)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise httpx.RemoteProtocolError("malformed chunk size") from None
        if size == 0:
            while await conn.read_until(b"\r\n", _MAX_HEADER_BYTES) != b"\r\n":
                pass  # trailers: ignored
            return b"".join(parts)
        chunk = await conn.read_exactly(size + 2)
        if chunk[-2:] != b"\r\n":
            raise httpx.RemoteProtocolError("malformed chunk")
        parts.append(chunk[:-2])
