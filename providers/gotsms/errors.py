"""GotSMS answers -> the error taxonomy of `providers/errors.py`.

Errors are `{"success": false, "message": "..."}`; the message is kept as the user's text
(clipped, the token masked). The HTTP status decides the class, the message refines a refusal,
and what the request was about decides what an unexplained 404 means.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import httpx
import msgspec

from providers.errors import (
    InsufficientBalance,
    InvalidRequest,
    NotAllowedNow,
    OrderNotFound,
    OutOfStock,
    ProviderError,
    ProviderUnavailable,
    UnexpectedResponse,
    chat_text,
    status_error,
)
from providers.gotsms.schema import PROVIDER
from providers.wording import N_

logger = logging.getLogger(__name__)

# What a request is about decides what an unexplained 404 means.
Context = Literal["rent", "purchase", "other"]

# Lower-cased message substrings that refine a 4xx refusal.
_INSUFFICIENT = ("insufficient", "not enough balance", "not enough funds", "low balance", "top up")
_OUT_OF_STOCK = ("out of stock", "no numbers", "no available number", "no free number", "sold out",
                 "no number available", "numbers are not available")


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(response.content)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def error_for(response: httpx.Response, context: Context, token: str) -> ProviderError:
    """The taxonomy error of a non-2xx answer."""
    status = response.status_code
    body = _body(response)
    message = chat_text(body.get("message"), token)
    logger.info("gotsms -> HTTP %s", status)
    common = status_error(response, message, provider=PROVIDER)
    if common is not None:  # 401, 403, 429, 5xx
        return common
    if status == 404:
        if context == "purchase":
            return OutOfStock(message, provider=PROVIDER)  # the plan is gone
        if context == "rent":
            return OrderNotFound(message, provider=PROVIDER)
        return UnexpectedResponse(provider=PROVIDER)  # e.g. a wrong base URL
    if status == 422 and isinstance(body.get("errors"), dict) \
            and not _matches(message, _INSUFFICIENT + _OUT_OF_STOCK):
        return InvalidRequest(message, provider=PROVIDER)  # Laravel validation failure
    if status in (400, 402, 409, 422) or (400 <= status < 500 and message):
        return refusal(message, context, status)
    return UnexpectedResponse(provider=PROVIDER)


def refusal(message: str | None, context: Context, status: int) -> ProviderError:
    """A business refusal: the provider's message decides the class."""
    if status == 402 or _matches(message, _INSUFFICIENT):
        return InsufficientBalance(message, provider=PROVIDER)
    if context == "purchase" and _matches(message, _OUT_OF_STOCK):
        return OutOfStock(message, provider=PROVIDER)
    if status == 400:
        return InvalidRequest(message, provider=PROVIDER)
    return NotAllowedNow(message, provider=PROVIDER)


def may_have_acted(message: str | None = None) -> ProviderUnavailable:
    """The request reached GotSMS and its answer is lost: it may have charged (a purchase,
    a transition) or marked messages read (the unread feed)."""
    return ProviderUnavailable(
        message or N_("The provider did not confirm the request; check /orders before trying again."),
        provider=PROVIDER,
        may_have_charged=True,
    )


def _matches(message: str | None, needles: tuple[str, ...]) -> bool:
    lowered = (message or "").lower()
    return any(n in lowered for n in needles)
