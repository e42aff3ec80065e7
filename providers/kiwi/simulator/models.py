"""State records of the kiwiSMS simulator (rentals, accounts, recorded requests, idempotency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from providers.simulation import requests

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

    def _identity(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "externalId": self.external_id,
            "phone": self.phone,
            "service": self.service,
            "serviceName": self.service_name,
            "status": self.status,
            "price": money(self.price),
            "expiresAt": iso_z(self.expires_at),
        }

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The `Rental` schema."""
        return {
            **self._identity(),
            "codes": list(self.codes),
            "otpCode": self.codes[-1] if self.codes else None,
            "createdAt": iso_z(self.created_at),
            "active": self.active,
            "secondsRemaining": self.seconds_remaining(now),
        }

    def to_created_json(self) -> dict[str, Any]:
        """The `RentalCreated` schema."""
        return {**self._identity(), "asleep": False}


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


class RecordedRequest(requests.RecordedRequest):
    """A request as received (`sim.requests`); `api_key` is the key it was sent with."""

    @property
    def api_key(self) -> str | None:
        return self.account


@dataclass
class IdempotencyRecord:
    fingerprint: str
    created: float  # time.monotonic(), for the 24 h TTL
    done: bool = False
    status: int = 0
    body: bytes = b""
