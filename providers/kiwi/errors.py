"""kiwiSMS error answers (`{"error", "code"}` with an HTTP status) mapped onto the taxonomy."""

from __future__ import annotations

import logging
from typing import Literal

import httpx

from providers.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidRequest,
    NotAllowedNow,
    OrderNotFound,
    OutOfStock,
    ProviderError,
    UnexpectedResponse,
    chat_text,
    status_error,
)
from providers.kiwi.schema import PROVIDER, error_body
from providers.wording import N_

logger = logging.getLogger(__name__)

# Which resource a request is about decides what an unexplained 404 means.
Context = Literal["rent", "rental", "other"]

# A purchase whose outcome is unknown: the bot must look before buying again.
UNCONFIRMED_PURCHASE = N_("The provider did not confirm the purchase; check /orders before buying again.")


def raise_for_status(response: httpx.Response, context: Context, *, secret: str) -> None:
    """Raise the taxonomy error for a non-2xx answer; `secret` is scrubbed from its message."""
    if not 200 <= response.status_code < 300:
        raise error_for(response, context, secret=secret)


def error_for(response: httpx.Response, context: Context, *, secret: str) -> ProviderError:
    status = response.status_code
    body = error_body(response.content)
    message = chat_text(body.error, secret)
    logger.info("%s -> %s %s", PROVIDER, status, body.code)
    common = status_error(response, message, provider=PROVIDER)
    if common is not None:  # 401, 403, 429, 5xx
        return common
    if status == 402:
        return InsufficientBalance(message, provider=PROVIDER)
    if status == 404:
        return _not_found(message, body.code, context)
    if status == 400:
        return InvalidRequest(message, provider=PROVIDER)
    # 409: the same Idempotency-Key is still being processed; 422: the key was used with
    # another body (IDEMPOTENCY_KEY_REUSED). Neither bought anything with this request.
    if status in (409, 422):
        return IdempotencyConflict(message, provider=PROVIDER)
    return UnexpectedResponse(provider=PROVIDER)


def _not_found(message: str | None, code: str | None, context: Context) -> ProviderError:
    if code == "SERVICE_UNAVAILABLE":
        return OutOfStock(message, provider=PROVIDER)
    if code in ("RENTAL_NOT_FOUND", "NOT_FOUND"):
        return OrderNotFound(message, provider=PROVIDER)
    if code == "CANCEL_NOT_ALLOWED":
        return NotAllowedNow(message, provider=PROVIDER)
    if context == "rent":
        return OutOfStock(message, provider=PROVIDER)
    if context == "rental":
        return OrderNotFound(message, provider=PROVIDER)
    return UnexpectedResponse(provider=PROVIDER)  # e.g. a wrong base URL
