"""The provider-neutral domain model: what every client maps its API onto."""

from __future__ import annotations

from collections.abc import Mapping
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
    """One buyable service in one section (for GotSMS: one plan of a service)."""

    section: str
    service_id: str  # the provider's id of the service (NonVoipUsNumber product id, ...)
    name: str
    price: Decimal
    stock: int | None
    duration_minutes: int | None = None
    multi_sms: bool = False
    plan_id: str | None = None  # GotSMS: the plan that is bought
    country: str = ""


@dataclass(frozen=True)
class OrderRequest:
    """What to buy, typed: never one string that means a service, a plan or a bundle."""

    section: str
    service_ids: tuple[str, ...]  # one service, or several on one number (a bundle)
    plan_id: str | None = None  # GotSMS buys a plan of the service
    max_price: Decimal | None = None  # never pay more than the confirmation card said
    idempotency_key: str | None = None  # replayed, not re-bought, by providers that support it

    @classmethod
    def for_offers(
        cls, offers: "tuple[Offer, ...] | list[Offer]", *, max_price: Decimal | None = None,
        idempotency_key: str | None = None,
    ) -> "OrderRequest":
        first = offers[0]
        return cls(
            section=first.section,
            service_ids=tuple(o.service_id for o in offers),
            plan_id=first.plan_id,
            max_price=max_price,
            idempotency_key=idempotency_key,
        )


@dataclass(frozen=True)
class IncomingSms:
    """One received message; `message_id` is unique per order and stable across polls."""

    message_id: str
    code: str | None
    text: str
    received_at: datetime | None = None
    service_name: str | None = None  # the service this SMS is for, where one number has several


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
    plan: str = ""  # the plan the order is on now, in words (GotSMS), for the card
    plan_id: str | None = None  # the plan's id where the provider sells plans (reconciliation)
    auto_renew: bool | None = None  # whether the rent renews by itself; None = the provider does not say


@dataclass(frozen=True)
class PlacedOrder:
    """A purchase's result: one order, or one per service of a bundle (all on one number)."""

    orders: tuple[RemoteOrder, ...]

    @property
    def first(self) -> RemoteOrder:
        return self.orders[0]


@dataclass(frozen=True)
class Plan:
    """A rental plan of one service (GotSMS sells plans: duration or SMS-billed)."""

    id: str
    service_id: str
    service_name: str
    country: str
    billing_type: str  # "duration" | "sms"
    duration_type: str  # "day", "month", ...
    duration_in_type: int
    duration_minutes: int | None
    duration_label: str  # "1 day", "30 days"
    price: Decimal
    renew_price: Decimal
    monthly: bool

    @property
    def kind(self) -> str:
        """What the order's buttons depend on, stored as the order's section ("duration:month")."""
        return f"{self.billing_type}:{self.duration_type}"


@dataclass(frozen=True)
class NumberStatus:
    """A long rental's number: its online window and time left."""

    rent_id: str
    status: str
    active_till: datetime | None
    wake_from: datetime | None
    wake_till: datetime | None
    online_till: datetime | None
    wakeup_seconds_left: int | None
    online_seconds_left: int | None
    can_wake_up: bool


@dataclass(frozen=True)
class MessagePage:
    """A page of a number's SMS, newest first; `next_before_id` pages back."""

    messages: list[IncomingSms]
    next_before_id: str | None


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


# What ordering can answer besides an error: the order(s), or a decision for the user.
OrderOutcome = PlacedOrder | PriceChangeDecision | PremiumBidDecision


class PollStrategy(StrEnum):
    """How the poller learns of new SMS for an account."""

    ACCOUNT_LIST = "account_list"  # one request lists every live order with its codes (kiwiSMS)
    PER_ORDER = "per_order"  # one request per order, within the account's rate limit (NonVoipUsNumber)
    UNREAD_FEED = "unread_feed"  # one request returns new SMS of every order, marking them read (GotSMS)


# Actions of an order by its kind, then by status; the kind "*" applies when no other matches.
ActionTable = Mapping[str, Mapping[OrderStatus, frozenset[Action]]]


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do, as data: the bot reads this, never a client's attributes."""

    poll: PollStrategy
    actions: ActionTable
    requests_per_minute: int | None = None  # documented per-account limit, None = not documented
    idempotent_purchase: bool = False  # an Idempotency-Key makes a retried purchase safe
    renew_durations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # by order kind
    bundle_limits: Mapping[str, int] = field(default_factory=dict)  # services per number, by section
    chooses_plan: bool = False  # after the service comes the list of its plans (GotSMS)
    reminds_before_end: bool = False  # long rentals get a reminder before their term ends
    # An order that expires without a code is refunded by the provider (NonVoipUsNumber), so
    # the bot can say "refunded" from its own stored codes when the API does not say.
    refunds_unused_expiry: bool = False
    order_page_url: str = ""  # where the user can check their orders at the provider

    def order_kind(self, section: str) -> str:
        """The row of `actions` an order bought in `section` follows."""
        if section in self.actions:
            return section
        prefix = section.partition(":")[0] + ":*"
        return prefix if prefix in self.actions else "*"

    def order_actions(self, status: OrderStatus, section: str) -> frozenset[Action]:
        return self.actions.get(self.order_kind(section), {}).get(status, frozenset())

    def durations_for(self, section: str) -> tuple[str, ...]:
        return self.renew_durations.get(section, ())

    def bundle_limit(self, section: str) -> int:
        return self.bundle_limits.get(section, 0)
