"""The shared HTTP layer of every provider client.

One `httpx.AsyncClient` serves all provider accounts (connection reuse); `send` is the
single choke point where httpx exceptions become `ProviderUnavailable`, and
`send_with_retry` retries SAFE requests only (never a purchase without an idempotency
key: those go through `send` and the client's own idempotent retry loop).

Nothing here ever puts headers, bodies or query strings into an error or a log line:
they carry API keys.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from providers.errors import ProviderUnavailable

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# Exceptions raised before a single byte of the request reached the server: a request
# that failed like this cannot have charged anything.
_NOT_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Transport failures worth retrying for a safe request: connect errors, timeouts and
# broken connections (e.g. a keep-alive connection the server closed under us).
_RETRYABLE_TRANSPORT: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


def create_http_client(timeout: float = 15.0) -> httpx.AsyncClient:
    """The one AsyncClient shared by every provider client (no base_url: each has its own)."""
    # Enough kept-alive connections for the poller's concurrency, and no more: httpcore scans
    # its whole pool on every request, so an oversized pool costs CPU on each poll.
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=30.0)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0), pool=timeout),
        limits=limits,
        follow_redirects=False,  # a redirect would resend our auth header to another URL
        headers={"User-Agent": "otp-rental-bot/0.1"},
    )


def _url_for_log(url: str) -> str:
    """Scheme, host and path only: query strings may carry keys (some providers do that)."""
    return str(httpx.URL(url).copy_with(query=None, fragment=None))


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    json: Any = None,
    timeout: float | None = None,
    may_charge: bool = False,
) -> httpx.Response:
    """Send ONE request; transport failures become `ProviderUnavailable`.

    `may_charge`: the request buys something, so a failure after it may have reached
    the provider is reported with `may_have_charged=True`.
    `timeout`: overrides the client's timeout for this request (None = client default).
    """
    kwargs: dict[str, Any] = {"headers": headers, "params": params}
    if json is not None:
        kwargs["json"] = json
    if timeout is not None:
        kwargs["timeout"] = httpx.Timeout(timeout)
    try:
        response = await http.request(method, url, **kwargs)
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        not_sent = isinstance(exc, _NOT_SENT)
        logger.warning(
            "%s %s %s failed: %s", provider, method, _url_for_log(url), type(exc).__name__
        )
        # `from None`: the httpx exception holds the request (with its auth headers);
        # it must not ride along into tracebacks or error reporters.
        raise ProviderUnavailable(
            provider=provider, may_have_charged=may_charge and not not_sent
        ) from None
    if logger.isEnabledFor(logging.DEBUG):  # _url_for_log parses the URL: not on every poll for nothing
        logger.debug("%s %s %s -> %s", provider, method, _url_for_log(url), response.status_code)
    return response


def parse_retry_after(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else `X-RateLimit-Reset`."""
    now = time.time() if now is None else now
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - now)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            reset_at = float(reset)
        except ValueError:
            return None
        # Some APIs send epoch seconds, others "seconds from now": epoch values are huge.
        return max(0.0, reset_at - now) if reset_at > 1e9 else max(0.0, reset_at)
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Retry rules for safe requests; tests shrink the delays."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 4.0
    retry_after_cap: float = 5.0  # a longer Retry-After is not waited for: the caller gets the 429

    def backoff(self, retry_number: int) -> float:
        """Capped exponential backoff with jitter (retry_number counts from 1)."""
        delay = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        # "Equal jitter": never zero (so we do back off) but spread so callers don't sync up.
        return delay / 2 + random.uniform(0, delay / 2)


def _is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


async def send_with_retry(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    policy: RetryPolicy = RetryPolicy(),
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    json: Any = None,
    timeout: float | None = None,
    sleep: Sleep = asyncio.sleep,
) -> httpx.Response:
    """Send a SAFE request (GET, or a POST that cannot charge twice), retrying transient failures.

    Retries connect errors, timeouts, 429 and 5xx up to `policy.max_attempts`. Returns the
    last response (maybe still a 429/5xx, which the caller maps to an error); raises
    `ProviderUnavailable` when the last attempt failed in transport.
    """
    for attempt in range(1, policy.max_attempts + 1):
        last = attempt == policy.max_attempts
        try:
            response = await send(
                http, method, url, provider=provider, headers=headers, params=params,
                json=json, timeout=timeout,
            )
        except ProviderUnavailable:
            if last:
                raise
            await sleep(policy.backoff(attempt))
            continue
        if last or not _is_retryable_status(response.status_code):
            return response
        delay = _delay_for(response, policy, attempt)
        if delay is None:
            return response  # Retry-After longer than we are willing to wait: let the caller decide
        logger.info(
            "%s %s %s -> %s, retry %d in %.2fs",
            provider, method, _url_for_log(url), response.status_code, attempt, delay,
        )
        await sleep(delay)
    raise AssertionError("unreachable")  # the loop always returns or raises on the last attempt


def _delay_for(response: httpx.Response, policy: RetryPolicy, attempt: int) -> float | None:
    """How long to wait before retrying this response; None = don't retry."""
    # X-RateLimit-Reset only means something on a 429; a 5xx honours Retry-After alone.
    if response.status_code != 429 and "retry-after" not in response.headers:
        return policy.backoff(attempt)
    retry_after = parse_retry_after(response)
    if retry_after is None:
        return policy.backoff(attempt)
    if retry_after > policy.retry_after_cap:
        return None
    return retry_after
