"""State records of the kiwiSMS simulator (rentals, accounts, recorded requests, injected faults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

LIVE_STATUSES = frozenset({"WAITING", "RECEIVED"})


def iso_z(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and 'Z', like the real (JavaScript) backend."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def money(amount: Decimal) -> float:
    """JSON numbers for prices/balances; Decimal stays the internal truth."""
    return float(amount)


@dataclass
class SimRental:
    id: str
    external_id: str
    api_key: str
    phone: str
    country: str
    service: str
    service_name: str
    price: Decimal
    status: str
    codes: list[str]
    sms_texts: list[str]
    code_times: list[float]
    created_at: datetime
    expires_at: datetime
    refunded: bool = False

    @property
    def active(self) -> bool:
        return self.status in LIVE_STATUSES

    def seconds_remaining(self, now: datetime) -> int:
        if not self.active:
            return 0
        return max(0, int((self.expires_at - now).total_seconds()))

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The `Rental` schema."""
        return {
            "id": self.id,
            "externalId": self.external_id,
            "phone": self.phone,
            "service": self.service,
            "serviceName": self.service_name,
            "status": self.status,
            "price": money(self.price),
            "codes": list(self.codes),
            "otpCode": self.codes[-1] if self.codes else None,
            "expiresAt": iso_z(self.expires_at),
            "createdAt": iso_z(self.created_at),
            "active": self.active,
            "secondsRemaining": self.seconds_remaining(now),
        }

    def to_created_json(self) -> dict[str, Any]:
        """The `RentalCreated` schema."""
        return {
            "id": self.id,
            "externalId": self.external_id,
            "phone": self.phone,
            "service": self.service,
            "serviceName": self.service_name,
            "price": money(self.price),
            "status": self.status,
            "expiresAt": iso_z(self.expires_at),
            "asleep": False,
        }


@dataclass
class Account:
    api_key: str
    balance: Decimal
    suspended: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # Every rental, oldest first, plus the live ones by id: GET /rentals touches only `active`.
    rentals: list[SimRental] = field(default_factory=list)
    active: dict[str, SimRental] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    api_key: str | None
    at: float


@dataclass
class Rule:
    """An injected fault (fail_next, fail_after_next, truncate_next) or latency (delay_next /
    stall_next) for matching requests."""

    method: str
    path_prefix: str
    times: int
    status: int = 0
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] | None = None
    seconds: float = 0.0
    truncate: bool = False  # truncate_next: send the real answer's first half

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and path.startswith(self.path_prefix)


@dataclass
class IdempotencyRecord:
    fingerprint: str
    created: float  # time.monotonic(), for the 24 h TTL
    done: bool = False
    status: int = 0
    body: bytes = b""
