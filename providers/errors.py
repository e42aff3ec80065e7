"""One error taxonomy for every provider.

Each error carries `user_message`, a short sentence fit to show in the chat.
Never put a credential into an error: its text and repr end up in logs.
"""

from __future__ import annotations



class ProviderError(Exception):
    """Base class; `user_message` is what the chat sees."""

    default_message = "The provider returned an error."

    def __init__(self, user_message: str | None = None, *, provider: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        self.provider = provider
        super().__init__(self.user_message)


class BadCredentials(ProviderError):
    default_message = "The provider rejected the credentials."


class AccountSuspended(ProviderError):
    default_message = "The provider account is suspended."


class InsufficientBalance(ProviderError):
    default_message = "Insufficient balance on the provider account."


class OutOfStock(ProviderError):
    default_message = "This service is unavailable right now (out of stock)."


class OrderNotFound(ProviderError):
    default_message = "The provider does not know this order."


class NotAllowedNow(ProviderError):
    default_message = "The provider does not allow this for the order right now."


class InvalidRequest(ProviderError):
    default_message = "The provider refused the request as invalid."


class IdempotencyConflict(ProviderError):
    """409: the same key is still being processed; 422: the key was used with another body."""

    default_message = "The same request is already being processed; check /orders."


class RateLimited(ProviderError):
    default_message = "The provider is rate limiting us; try again shortly."

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

    default_message = "The provider is unavailable right now; try again later."

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
    default_message = "The provider sent an answer the bot does not understand."
