"""The provider-neutral domain model: what every client maps its API onto."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class ProviderId(StrEnum):
    """Stable ids used in the database and in callback data."""

    NONVOIP = "nonvoip"
    KIWI = "kiwi"
    GOTSMS = "gotsms"


PROVIDER_NAMES: dict[ProviderId, str] = {
    ProviderId.NONVOIP: "NonVoipUsNumber",
    ProviderId.KIWI: "kiwiSMS",
    ProviderId.GOTSMS: "GotSMS",
}


class OrderStatus(StrEnum):
    """Normalised order status."""

    WAITING = "waiting"  # number is ours, no code yet
    RECEIVED = "received"  # at least one code arrived, still live
    COMPLETED = "completed"  # finished by the user (done)
    CANCELLED = "cancelled"  # cancelled / rejected (usually refunded)
    EXPIRED = "expired"  # ran out of time on the provider's side

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.EXPIRED)


class Action(StrEnum):
    """Things a user can do to an order; the order card shows a button per action."""

    CANCEL = "cancel"
    REJECT = "reject"
    DONE = "done"
    REUSE = "reuse"
    ACTIVATE = "activate"
    RENEW = "renew"
    WAKE_UP = "wake"
    AUTO_RENEW = "autorenew"
    EXTEND = "extend"
    REFUND = "refund"
    MESSAGES = "messages"
    REFRESH = "refresh"


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    currency: str = "USD"


@dataclass(frozen=True)
class Section:
    """A catalogue section: a kiwiSMS country, a NonVoipUsNumber product type, ..."""

    id: str
    title: str


@dataclass(frozen=True)
class Offer:
    """One buyable service in one section."""

    section: str
    service: str  # provider's service code, used to order
    name: str
    price: Decimal
    stock: int | None
    duration_minutes: int | None = None
    multi_sms: bool = False


@dataclass(frozen=True)
class IncomingSms:
    """One received message; `message_id` is unique per order and stable across polls."""

    message_id: str
    code: str | None
    text: str
    received_at: datetime | None = None


@dataclass(frozen=True)
class RemoteOrder:
    """An order as the provider reports it."""

    order_id: str
    phone: str
    service: str
    service_name: str
    price: Decimal
    status: OrderStatus
    expires_at: datetime | None
    created_at: datetime | None = None
    messages: tuple[IncomingSms, ...] = field(default_factory=tuple)
    # True/False when the provider says whether the money came back; None = unknown.
    refunded: bool | None = None


@dataclass(frozen=True)
class PriceChangeDecision:
    """The provider wants a higher price: shown to the user, retried only on their tap."""

    quoted_price: Decimal | None
    allowed_price: Decimal | None
    available_price: Decimal


@dataclass(frozen=True)
class PremiumBidDecision:
    """A premium bid (percent above the price) would get a number: retried only on the user's tap."""

    recommended_bid: int


@dataclass(frozen=True)
class ActivationWindow:
    """A long-term number's online window after `activate`."""

    online: bool
    ends_at: datetime | None
    message: str = ""


# What ordering can answer besides an error: the order, or a decision for the user.
OrderOutcome = RemoteOrder | PriceChangeDecision | PremiumBidDecision
