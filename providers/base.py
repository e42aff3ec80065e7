"""The provider contract every client implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from decimal import Decimal

from providers.models import (
    Action,
    ActivationWindow,
    Balance,
    Offer,
    OrderOutcome,
    PremiumBidDecision,
    PriceChangeDecision,
    ProviderId,
    RemoteOrder,
    Section,
)


class ProviderClient(ABC):
    """One provider account. Instances are cheap: they share one `httpx.AsyncClient`."""

    provider: ProviderId

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
    async def place_order(
        self, offer: Offer, *, idempotency_key: str, max_price: Decimal | None = None
    ) -> OrderOutcome:
        """Buy once. Retries, if any, must be unable to buy twice (same idempotency key).

        Besides the order, a provider may answer with a decision for the user (price change,
        premium bid); the bot shows it and orders again only through `accept_decision`."""

    @abstractmethod
    async def get_order(self, order_id: str) -> RemoteOrder:
        """One order's current state and messages."""

    @abstractmethod
    async def active_orders(self) -> list[RemoteOrder]:
        """Every live order of the account in one request, for the poller."""

    @abstractmethod
    def actions(self, order: RemoteOrder) -> frozenset[Action]:
        """What the user may do to this order now; the order card shows only these."""

    async def accept_decision(
        self, offer: Offer, decision: PriceChangeDecision | PremiumBidDecision
    ) -> OrderOutcome:
        """Order again on the terms the provider proposed, after the user accepted them."""
        raise NotImplementedError

    # Order actions; a client implements those its `actions` can return.
    async def cancel(self, order_id: str) -> RemoteOrder:
        raise NotImplementedError

    async def reject(self, order_id: str) -> RemoteOrder:
        raise NotImplementedError

    async def done(self, order_id: str) -> RemoteOrder:
        raise NotImplementedError

    async def reuse(self, order_id: str) -> RemoteOrder:
        raise NotImplementedError

    async def activate(self, order_id: str) -> ActivationWindow:
        raise NotImplementedError

    async def renew(self, order_id: str, *, idempotency_key: str, duration: str | None = None) -> RemoteOrder:
        raise NotImplementedError
