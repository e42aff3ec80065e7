"""The provider contract: what every client does, and the optional abilities some have.

Every client implements `ProviderClient` and declares `capabilities` (data). An ability only
some providers have is a `typing.Protocol`; the bot checks it with `isinstance` and never
reaches into one client by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable

from providers.models import (
    ActivationWindow,
    Balance,
    Capabilities,
    IncomingSms,
    MessagePage,
    NumberStatus,
    Offer,
    OrderOutcome,
    OrderRequest,
    Plan,
    PremiumBidDecision,
    PriceChangeDecision,
    ProviderId,
    RemoteOrder,
    Section,
)


class ProviderClient(ABC):
    """One provider account. Instances are cheap: they share one `httpx.AsyncClient`."""

    provider: ClassVar[ProviderId]
    capabilities: ClassVar[Capabilities]

    @abstractmethod
    async def get_balance(self) -> Balance:
        """The account balance; also how credentials are checked."""

    @abstractmethod
    async def list_sections(self) -> list[Section]:
        """Catalogue sections offered to the user at step 2 of /buy."""

    @abstractmethod
    async def list_offers(self, section: str) -> list[Offer]:
        """Buyable services of one section, with price and stock."""

    @abstractmethod
    async def place_order(self, request: OrderRequest) -> OrderOutcome:
        """Buy once. A retry, if any, must be unable to buy twice (same idempotency key).

        Besides the order(s), a provider may answer with a decision for the user (price change,
        premium bid); the bot shows it and orders again only through `DecisionAccepting`."""

    @abstractmethod
    async def get_order(self, order_id: str) -> RemoteOrder:
        """One order's current state and messages."""



# ---------------------------------------------------------------------- optional abilities


@runtime_checkable
class OrderListing(Protocol):
    async def active_orders(self) -> list[RemoteOrder]:
        """Every live order of the account in one go (ACCOUNT_LIST polling, reconciliation)."""

    async def recent_orders(self, since: datetime) -> list[RemoteOrder]:
        """Orders created at or after `since`, live or not (reconciling a purchase of unknown
        outcome: a number that already got its code may have left the live list)."""


@runtime_checkable
class DecisionAccepting(Protocol):
    async def accept_decision(
        self, request: OrderRequest, decision: PriceChangeDecision | PremiumBidDecision
    ) -> OrderOutcome:
        """Order again on the terms the provider proposed, after the user accepted them."""


@runtime_checkable
class Cancellable(Protocol):
    async def cancel(self, order_id: str) -> RemoteOrder:
        """Cancel before a code, with a refund where the provider gives one."""


@runtime_checkable
class Rejectable(Protocol):
    async def reject(self, order_id: str) -> RemoteOrder:
        """Give the number back before a code (NonVoipUsNumber's refund)."""


@runtime_checkable
class Finishable(Protocol):
    async def done(self, order_id: str) -> RemoteOrder:
        """The user got what they needed: end the order."""


@runtime_checkable
class Reusable(Protocol):
    async def reuse(self, order_id: str) -> RemoteOrder:
        """Wait for another SMS on the same number (may charge)."""


@runtime_checkable
class Activatable(Protocol):
    async def activate(self, order_id: str) -> ActivationWindow:
        """Bring a long-term number online for a while."""


@runtime_checkable
class Renewable(Protocol):
    async def renew(self, order_id: str, *, idempotency_key: str, duration: str | None = None) -> RemoteOrder:
        """Renew (charges). `duration` is one of `capabilities.renew_durations` where it applies."""


@runtime_checkable
class CallbackRegistering(Protocol):
    async def save_url(self, url: str, user_id: int | None = None) -> None:
        """Tell the provider where to send callbacks."""


@runtime_checkable
class PlanCatalogue(Protocol):
    """Providers that sell plans of a service (GotSMS): /buy shows them after the service."""

    async def service_plans(self, service_id: str, section: str) -> list[Plan]:
        """The plans of one service in one section, with price, duration and renewal price."""

    async def section_plans(self, section: str) -> list[Plan]:
        """Every plan of a section (pricing a confirmation card by plan id)."""


@runtime_checkable
class RentManaging(Protocol):
    """Long rentals managed on the number (GotSMS): wake-up, auto-renewal, plan change, refund."""

    async def wake_up(self, order_id: str) -> str:
        """Ask for the number to come online; the provider's message."""

    async def number_status(self, order_id: str) -> NumberStatus:
        """Online window and time left."""

    async def toggle_auto_renewal(self, order_id: str) -> bool:
        """Flip auto-renewal; the new state."""

    async def extension_plans(self, order_id: str) -> list[Plan]:
        """Plans the rent can move to (charges on `transition`)."""

    async def transition(self, order_id: str, plan_id: str) -> RemoteOrder:
        """Move the rent to a longer plan (charges; sent once)."""

    async def refund(self, order_id: str) -> RemoteOrder:
        """Ask for a refund; the provider decides and says why not."""

    async def number_messages(self, order_id: str, limit: int = 10, before_id: str | None = None) -> MessagePage:
        """The number's SMS, newest first, a page at a time."""


@dataclass(frozen=True)
class FeedItem:
    """One SMS from an account-wide feed, with the order it belongs to."""

    order_id: str
    sms: IncomingSms


@runtime_checkable
class UnreadFeed(Protocol):
    """An account-wide feed of new SMS that marks what it returns as read (GotSMS).

    What the feed returned may be lost with its answer, so `order_messages` reads one
    order's own message list: the poller uses it only to recover after a lost answer."""

    async def unread_messages(self, mark_as_read: bool = True) -> list[FeedItem]:
        """New SMS of every order of the account."""

    async def order_messages(self, order_id: str, since: datetime | None = None) -> Sequence[IncomingSms]:
        """Every SMS of one order (received at or after `since` where given), oldest first."""
