"""One error taxonomy for every provider.

Each error carries `user_message`, a short sentence fit to show in the chat.
Never put a credential into an error: its text and repr end up in logs.
"""

from __future__ import annotations

import httpx

from providers.retry import parse_retry_after
from providers.wording import N_

MAX_USER_MESSAGE = 200  # a provider error page must not flood the chat


class ProviderError(Exception):
    """Base class; `user_message` is what the chat sees."""

    default_message = N_("The provider returned an error.")

    def __init__(self, user_message: str | None = None, *, provider: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        self.provider = provider
        super().__init__(self.user_message)


class BadCredentials(ProviderError):
    default_message = N_("The provider rejected the credentials.")


class AccountSuspended(ProviderError):
    default_message = N_("The provider account is suspended.")


class InsufficientBalance(ProviderError):
    default_message = N_("Insufficient balance on the provider account.")


class OutOfStock(ProviderError):
    default_message = N_("This service is unavailable right now (out of stock).")


class OrderNotFound(ProviderError):
    default_message = N_("The provider does not know this order.")


class NotAllowedNow(ProviderError):
    default_message = N_("The provider does not allow this for the order right now.")


class InvalidRequest(ProviderError):
    default_message = N_("The provider refused the request as invalid.")


class IdempotencyConflict(ProviderError):
    """409: the same key is still being processed; 422: the key was used with another body."""

    default_message = N_("The same request is already being processed; check /orders.")


class RateLimited(ProviderError):
    default_message = N_("The provider is rate limiting us; try again shortly.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        provider: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(user_message, provider=provider)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """5xx, timeouts, connection errors.

    `may_have_charged` is True when a purchase request may have reached the provider
    and its outcome is unknown: the bot must not buy again blindly.
    """

    default_message = N_("The provider is unavailable right now; try again later.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        provider: str | None = None,
        may_have_charged: bool = False,
    ) -> None:
        super().__init__(user_message, provider=provider)
        self.may_have_charged = may_have_charged


class UnexpectedResponse(ProviderError):
    default_message = N_("The provider sent an answer the bot does not understand.")


def clip(text: str) -> str:
    return text[:MAX_USER_MESSAGE]


def chat_text(raw: object, secret: str) -> str | None:
    """A provider's error text fit for the chat: a non-empty string, stripped and clipped, with the
    credential masked (belt and braces: a provider echoing it must not put it into our errors)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    if secret:
        text = text.replace(secret, "***")
    return clip(text)


def status_error(response: httpx.Response, message: str | None, *, provider: str) -> ProviderError | None:
    """What the HTTP status alone says, for every provider: 401 BadCredentials, 403 AccountSuspended,
    429 RateLimited (with Retry-After), 5xx ProviderUnavailable; None for any other status."""
    status = response.status_code
    if status == 401:
        return BadCredentials(message, provider=provider)
    if status == 403:
        return AccountSuspended(message, provider=provider)
    if status == 429:
        return RateLimited(message, provider=provider, retry_after=parse_retry_after(response))
    if status >= 500:
        return ProviderUnavailable(message, provider=provider)
    return None
