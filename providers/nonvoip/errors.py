"""NonVoipUsNumber answers -> the error taxonomy (providers/errors.py).

The API signals most failures as `{"status": "error", "message": <text>}` (HTTP 200, 400 or 404), so
the error class comes from the text; HTTP 429 and 5xx come first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import httpx

from providers.errors import (
    AccountSuspended,
    BadCredentials,
    InsufficientBalance,
    InvalidRequest,
    NotAllowedNow,
    OrderNotFound,
    OutOfStock,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnexpectedResponse,
    chat_text,
)
from providers.http import parse_retry_after
from providers.models import OrderStatus, ProviderId
from providers.nonvoip.schema import Envelope
from providers.parsing import money, when
from providers.wording import N_

logger = logging.getLogger(__name__)

PROVIDER = ProviderId.NONVOIP.value

# getsms `status: error` texts that end an order (lower-cased substrings, checked in order).
# Anything else with HTTP 200/404 means "no SMS yet".
_FINAL_SMS_TEXTS: tuple[tuple[tuple[str, ...], OrderStatus], ...] = (
    (("reject", "cancel", "refunded", "stopped"), OrderStatus.CANCELLED),
    (("expired",), OrderStatus.EXPIRED),
    (("completed", "finished"), OrderStatus.COMPLETED),
    # The provider forgot the order (or it is not this account's): nothing more will come.
    (("not found", "does not exist", "no such order", "invalid order"), OrderStatus.EXPIRED),
)

# `status: error` message (lower-cased substring) -> error class; the first match wins.
_ERROR_TEXTS: tuple[tuple[tuple[str, ...], type[ProviderError]], ...] = (
    (("wrong auth", "invalid credential", "unauthori", "authentication", "invalid email or password",
      "login failed"), BadCredentials),
    (("suspended", "banned", "blocked", "disabled"), AccountSuspended),
    (("insufficient", "not enough balance", "low balance"), InsufficientBalance),
    (("too many requests", "rate limit"), RateLimited),
    (("out of stock", "not available", "unavailable", "no number", "sold out", "no stock",
      "product not found"), OutOfStock),
    (("not found", "does not exist", "no such order", "invalid order"), OrderNotFound),
    (("expired", "rejected", "already", "cannot", "can't", "not allowed", "not eligible", "not possible",
      "still waiting"), NotAllowedNow),
)

# Errors about the account, not the order: getsms raises these instead of "no SMS yet".
ACCOUNT_ERRORS: frozenset[type[ProviderError]] = frozenset({BadCredentials, AccountSuspended, RateLimited})


def error_class(message: str) -> type[ProviderError] | None:
    lowered = message.lower()
    if lowered.startswith("only "):  # "Only short-term numbers can be reused": wrong order for this
        return NotAllowedNow
    for needles, kind in _ERROR_TEXTS:
        if any(n in lowered for n in needles):
            return kind
    return None


def final_status(message: str) -> OrderStatus | None:
    """The order's end, from a getsms error text ("Order expired"); None = still live."""
    lowered = message.lower()
    for needles, status in _FINAL_SMS_TEXTS:
        if any(n in lowered for n in needles):
            return status
    return None


def user_message(envelope: Envelope | None, secret: str) -> str | None:
    """The provider's error text, fit for the chat; scrubbed of the password."""
    return chat_text(envelope.message if envelope is not None else None, secret)


def error_for(response: httpx.Response, envelope: Envelope | None, path: str, secret: str) -> ProviderError:
    """The error an answer that is not a success means."""
    status = response.status_code
    if status == 429:  # the body may say when, too
        return rate_limited(response, envelope, secret)
    if status >= 500:
        return ProviderUnavailable(user_message(envelope, secret), provider=PROVIDER)
    if envelope is None:
        logger.warning("nonvoip %s -> %s: not a JSON object", path, status)
        return BadCredentials(provider=PROVIDER) if status in (401, 403) else UnexpectedResponse(provider=PROVIDER)
    if envelope.status != "error" and 200 <= status < 300:
        logger.warning("nonvoip %s -> %s: unknown answer status", path, status)
        return UnexpectedResponse(provider=PROVIDER)
    message = user_message(envelope, secret)
    kind = error_class(message or "")
    if kind is None:
        if status in (401, 403):
            kind = BadCredentials
        elif message is None:
            logger.warning("nonvoip %s -> %s: error without a message", path, status)
            return UnexpectedResponse(provider=PROVIDER)
        else:
            kind = InvalidRequest
    logger.info("nonvoip %s -> %s %s", path, status, kind.__name__)
    if kind is RateLimited:
        return rate_limited(response, envelope, secret)
    return kind(message, provider=PROVIDER)


def rate_limited(response: httpx.Response, envelope: Envelope | None, secret: str) -> RateLimited:
    return RateLimited(
        user_message(envelope, secret), provider=PROVIDER, retry_after=retry_after(response, envelope),
    )


def retry_after(response: httpx.Response, envelope: Envelope | None) -> float | None:
    """Seconds to wait: Retry-After, else the body's `retryAfter`, else X-RateLimit-Reset."""
    if "retry-after" in response.headers:
        value = parse_retry_after(response)
        if value is not None:
            return value
    seconds = money(envelope.retry_after) if envelope is not None else None
    if seconds is not None:
        return max(0.0, float(seconds))
    return _reset_in(response.headers)


def _reset_in(headers: Mapping[str, str]) -> float | None:
    """X-RateLimit-Reset is documented as a UTC date-time; epoch or "seconds from now" numbers too."""
    reset = headers.get("x-ratelimit-reset")
    if not reset:
        return None
    try:
        number = float(reset)
    except ValueError:
        moment = when(reset)
        return None if moment is None else max(0.0, moment.timestamp() - time.time())
    return max(0.0, number - time.time()) if number > 1e9 else max(0.0, number)


def unconfirmed_purchase() -> ProviderUnavailable:
    """A purchase whose answer never came (5xx, timeout): it may have bought something."""
    return ProviderUnavailable(
        N_("The provider did not confirm the purchase; check your orders before buying again."),
        provider=PROVIDER, may_have_charged=True,
    )


def unreadable_purchase() -> ProviderUnavailable:
    """A purchase answered in a way we cannot read: it may well have bought something."""
    return ProviderUnavailable(
        N_("The provider confirmed the purchase in an unreadable answer; check your orders."),
        provider=PROVIDER, may_have_charged=True,
    )


def unexpected(what: str) -> UnexpectedResponse:
    logger.warning("nonvoip answer: unreadable %s", what)
    return UnexpectedResponse(provider=PROVIDER)
