"""The shared HTTP layer of every provider client.

One `httpx.AsyncClient` serves all provider accounts (connection reuse). `send` is the
single choke point where httpx exceptions become `ProviderUnavailable`; `send_with_retry`
retries through one tenacity policy whose rule is `providers.retry.may_retry` (never a
purchase without its idempotency key).

Nothing here ever puts headers, bodies or query strings into an error or a log line:
they carry API keys.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt

from providers.errors import BadCredentials, ProviderUnavailable
from providers.metrics import PROVIDER_ERRORS, PROVIDER_REQUESTS, request_kind
from providers.retry import (
    Attempt,
    RetryPolicy,
    delay_before_retry,
    may_retry,
    parse_retry_after,
    requested_wait,
)
from providers.transport import CookielessClient, LeanTransport
from providers.wording import N_

__all__ = [
    "RetryPolicy",
    "Sleep",
    "TransportFailure",
    "create_http_client",
    "parse_retry_after",
    "send",
    "send_with_retry",
]

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# Failures before a single byte of the request reached the provider: a request that failed
# like this cannot have charged anything. (LocalProtocolError: h11 refused to send it.)
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
# Failures that sending again cannot cure: the request itself is unusable.
_PERMANENT: tuple[type[Exception], ...] = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)

_UNSENDABLE_CREDENTIALS = N_(
    "The credentials contain characters the provider cannot accept (for example a typographic "
    "dash, a letter from another alphabet or a space). Copy them from the provider's site again."
)
_UNCONFIRMED_PURCHASE = (
    N_("The provider did not confirm the purchase; check your orders before buying again.")
)


class TransportFailure(ProviderUnavailable):
    """The `ProviderUnavailable` that `send` raises when a request failed in transport.

    `reached_provider` is False only when no byte can have reached the provider;
    `transient` is False when sending the same request again cannot help;
    `kind` names the failure (e.g. "ReadTimeout") for logs.
    """

    def __init__(
        self, *, provider: str, may_charge: bool, reached_provider: bool, transient: bool, kind: str
    ) -> None:
        may_have_charged = may_charge and reached_provider
        super().__init__(
            _UNCONFIRMED_PURCHASE if may_have_charged else None,
            provider=provider,
            may_have_charged=may_have_charged,
        )
        self.reached_provider = reached_provider
        self.transient = transient
        self.kind = kind


def create_http_client(timeout: float = 15.0) -> httpx.AsyncClient:
    """The one AsyncClient shared by every provider client (no base_url: each has its own)."""
    # Every connection may stay open: reconnecting costs far more than an idle socket (the lean
    # transport, unlike httpcore, does no per-request work per kept-alive connection).
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32, keepalive_expiry=30.0)
    # The lean transport (providers/transport.py) costs a fraction of httpcore's CPU per request;
    # behind a proxy from the environment httpx's own transport is kept, since it knows proxies.
    transport = None if urllib.request.getproxies() else LeanTransport(limits)
    return CookielessClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0), pool=timeout),
        limits=limits,
        transport=transport,
        follow_redirects=False,  # a redirect would resend our auth header to another URL
        headers={"User-Agent": "otp-rental-bot/0.1"},
    )


def _url_for_log(url: str) -> str:
    """Scheme, host and path only: query strings may carry keys (some providers do that)."""
    return str(httpx.URL(url).copy_with(query=None, fragment=None))


def _sendable_header_value(value: str) -> bool:
    """What an HTTP/1.1 header can carry: httpx encodes values as ASCII (UnicodeEncodeError
    otherwise) and h11 refuses control characters and surrounding whitespace."""
    return (
        value.isascii()
        and value == value.strip(" \t")
        and all(char == "\t" or " " <= char < "\x7f" for char in value)
    )


def _check_headers(headers: Mapping[str, str] | None, *, provider: str, method: str, url: str) -> None:
    """`BadCredentials` before anything is sent when a header value cannot be sent at all.

    Header values are credentials (an API key pasted with a typographic dash or a Cyrillic
    letter): the error and the log name the header, never its value.
    """
    for name, value in (headers or {}).items():
        if not _sendable_header_value(value):
            logger.warning(
                "%s %s %s not sent: header %s has characters HTTP cannot carry",
                provider, method, _url_for_log(url), name,
            )
            raise BadCredentials(_UNSENDABLE_CREDENTIALS, provider=provider)


def _failure_of(exc: httpx.RequestError, *, provider: str, may_charge: bool) -> TransportFailure:
    return TransportFailure(
        provider=provider,
        may_charge=may_charge,
        reached_provider=not isinstance(exc, _NOT_SENT),
        transient=not isinstance(exc, _PERMANENT),
        kind=type(exc).__name__,
    )


def _count(provider: str, status: int | None) -> None:
    """One request in `/metrics`, by what came back (None: no answer at all)."""
    kind = request_kind(status)
    PROVIDER_REQUESTS.labels(provider, kind).inc()
    if kind != "ok":
        PROVIDER_ERRORS.labels(provider, kind).inc()


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
    """Send ONE request; transport failures become `TransportFailure` (a `ProviderUnavailable`).

    `may_charge`: the request buys something, so a failure after it may have reached
    the provider is reported with `may_have_charged=True`.
    `timeout`: overrides the client's timeout for this request (None = client default).
    Raises `BadCredentials`, sending nothing, when a header value has characters HTTP
    cannot carry. Non-ASCII in `params` (percent-encoded) and `json` (UTF-8) is fine.
    """
    _check_headers(headers, provider=provider, method=method, url=url)
    kwargs: dict[str, Any] = {"headers": headers, "params": params}
    if json is not None:
        kwargs["json"] = json
    if timeout is not None:
        kwargs["timeout"] = httpx.Timeout(timeout)
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.RequestError as exc:  # transport failures, and a body that cannot be decoded
        failure = _failure_of(exc, provider=provider, may_charge=may_charge)
    else:
        _count(provider, response.status_code)
        if logger.isEnabledFor(logging.DEBUG):  # _url_for_log parses the URL: not on every poll
            logger.debug("%s %s %s -> %s", provider, method, _url_for_log(url), response.status_code)
        return response
    _count(provider, None)
    logger.warning("%s %s %s failed: %s", provider, method, _url_for_log(url), failure.kind)
    # Raised outside the `except`, and `from None`: the httpx exception holds the request
    # (auth headers included) and must not ride along as __context__ into error reporters.
    raise failure from None


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
    may_charge: bool = False,
    idempotency_key: str | None = None,
) -> httpx.Response:
    """Send a request, retrying what `providers.retry.may_retry` allows, up to `policy.max_attempts`.

    `may_charge=True` marks a purchase: it is retried only with `idempotency_key` (sent as the
    `Idempotency-Key` header, the same on every attempt) or after a connect error. Waits honour
    `Retry-After` / `X-RateLimit-Reset` up to `policy.retry_after_cap` (a longer one returns the
    429 at once), else capped exponential backoff with jitter. `sleep` is injectable for tests.

    Returns the last response (maybe a 409/429/5xx for the caller to map: after a 5xx or 409 a
    purchase's outcome is unknown). Raises `ProviderUnavailable` when the last attempt failed
    in transport, with `may_have_charged=True` when a purchase may have reached the provider
    in any attempt; `BadCredentials` when a header cannot be sent at all.
    """
    if idempotency_key:
        headers = {**(headers or {}), "Idempotency-Key": idempotency_key}
    attempts: list[Attempt] = []

    async def attempt_once() -> httpx.Response:
        try:
            response = await send(
                http, method, url, provider=provider, headers=headers, params=params,
                json=json, timeout=timeout, may_charge=may_charge,
            )
        except TransportFailure as failure:
            attempts.append(
                Attempt(None, reached_provider=failure.reached_provider, transient=failure.transient)
            )
            raise
        attempts.append(Attempt(response.status_code, requested_wait=requested_wait(response)))
        return response

    def retry_allowed(state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is not None and outcome.failed and not isinstance(outcome.exception(), TransportFailure):
            return False  # BadCredentials, cancellation, a bug: never sent again
        return may_retry(
            attempts[-1], policy=policy, may_charge=may_charge, has_idempotency_key=bool(idempotency_key)
        )

    def wait(state: RetryCallState) -> float:
        return delay_before_retry(attempts[-1], policy, state.attempt_number)

    def log_retry(state: RetryCallState) -> None:
        outcome = state.outcome
        what = (
            getattr(outcome.exception(), "kind", "failure")
            if outcome is not None and outcome.failed
            else attempts[-1].status
        )
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        logger.info(
            "%s %s %s -> %s, retry %d in %.2fs",
            provider, method, _url_for_log(url), what, state.attempt_number, delay,
        )

    def give_up(state: RetryCallState) -> httpx.Response:
        assert state.outcome is not None
        return state.outcome.result()  # the last response, or the last failure re-raised

    # The first attempt is sent before tenacity is involved: an answer that the rule would not
    # retry (nearly every answer) goes straight back, sparing a retry loop's CPU on every poll.
    # Otherwise tenacity takes over, seeing that same first outcome as its attempt 1.
    first: httpx.Response | TransportFailure
    try:
        first = await attempt_once()
    except TransportFailure as failure:
        first = failure
    else:
        if not may_retry(
            attempts[-1], policy=policy, may_charge=may_charge, has_idempotency_key=bool(idempotency_key)
        ):
            return first
    replay = [first]

    async def attempt() -> httpx.Response:
        if replay:
            outcome = replay.pop()
            if isinstance(outcome, TransportFailure):
                raise outcome
            return outcome
        return await attempt_once()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts),
        retry=retry_allowed,
        wait=wait,
        sleep=sleep,
        before_sleep=log_retry,
        retry_error_callback=give_up,
    )
    try:
        return await retrying(attempt)
    except TransportFailure as failure:
        last_failure = failure
    if may_charge and not last_failure.may_have_charged and any(a.may_have_charged for a in attempts):
        # This attempt never reached the provider, but an earlier one may have bought.
        raise ProviderUnavailable(_UNCONFIRMED_PURCHASE, provider=provider, may_have_charged=True) from None
    raise last_failure
