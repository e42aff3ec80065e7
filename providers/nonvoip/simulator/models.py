"""State records of the NonVoipUsNumber simulator (orders, accounts, recorded requests, decision rules)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from providers.simulation import requests

CENT = Decimal("0.01")
LONG_KINDS = frozenset({"long_term", "one_day", "3days"})
# Statuses in which an order still holds its number (lazy expiry only looks at these).
LIVE_STATUSES = frozenset({"Reserved", "Active"})


def money(amount: Decimal) -> str:
    """Prices and balances travel as strings with two decimals ("50.00")."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def stamp(moment: datetime) -> str:
    """The provider's timestamp format: 'YYYY-MM-DD HH:MM:SS' in UTC."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def wire_id(order_id: str) -> int | str:
    """Numeric ids go out as JSON numbers (like the real API), `sb_...` ids as strings."""
    return int(order_id) if order_id.isdigit() else order_id


@dataclass
class SimOrder:
    order_id: str
    email: str
    number: str
    service: str
    product_id: str
    type: str  # "short_term" | "long_term" | "one_day" | "3days" | "country"
    status: str  # "Reserved" | "Active" | "Completed" | "Rejected" | "Expired"
    price: Decimal
    expires_at: datetime
    sms: list[tuple[str, str]] = field(default_factory=list)  # (text, pin), oldest first
    sms_services: list[str] = field(default_factory=list)  # the service each SMS is for (getsms `service`)
    sms_times: list[float] = field(default_factory=list)  # time.time() of each SMS
    online_until: datetime | None = None
    refunded: bool = False
    product_ids: list[str] = field(default_factory=list)  # every product of a multi-service order
    country: str | None = None  # ISO code, country-wise orders only
    # Reuse starts a new wait on the same order: SMS before `cycle_start` belong to earlier cycles,
    # and `charged` is what the current cycle cost (refunded if it ends without an SMS).
    cycle_start: int = 0
    charged: Decimal = Decimal("0")

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def long(self) -> bool:
        return self.type in LONG_KINDS

    @property
    def has_new_sms(self) -> bool:
        return len(self.sms) > self.cycle_start

    def seconds_left(self, now: datetime) -> int:
        # Rounded up, so a fresh short-term order says 900 like the real API, not 899.
        return max(0, math.ceil((self.expires_at - now).total_seconds()))


@dataclass
class Account:
    email: str  # lower-cased: the lookup key
    password: str
    balance: Decimal
    user_id: int
    callback_url: str | None = None
    orders: list[SimOrder] = field(default_factory=list)  # oldest first


class RecordedRequest(requests.RecordedRequest):
    """A request as received (`sim.requests`): `path` without the "/manager" prefix, `json` the parsed
    body (JSON or form) with the password replaced by "***", `email` its lower-cased account."""

    @property
    def email(self) -> str | None:
        return self.account


@dataclass
class PriceChange:
    """require_price_change: the next `times` successful orders need the dearer route."""

    available_price: Decimal
    times: int


@dataclass
class Premium:
    """offer_premium: the next `times` successful orders need a premium bid."""

    recommended_bid: int
    times: int
