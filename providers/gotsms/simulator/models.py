"""State records of the GotSMS simulator (rents, messages, accounts, recorded requests, lost answers)."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from enum import StrEnum

from providers.simulation import requests


def money(amount: Decimal) -> int | float:
    """JSON numbers like the real API (1, 4.99); Decimal stays the internal truth."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def iso(moment: datetime | None) -> str | None:
    """'2026-03-11T12:00:00+00:00' (Laravel's ISO-8601, whole seconds), None stays null."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class OrderedIds:
    """UUIDv7-style ids that sort (as strings) in creation order: `before_id` paging compares them."""

    def __init__(self, seed: str) -> None:
        self._rng = random.Random(seed)
        self._last_ms = 0

    def new(self) -> str:
        # Strictly increasing millisecond field, so two messages in the same ms still order.
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        value = (self._last_ms << 80) | (0x7 << 76) | (self._rng.getrandbits(12) << 64)
        value |= (0b10 << 62) | self._rng.getrandbits(62)
        return str(uuid.UUID(int=value))


@dataclass
class SimMessage:
    id: str
    body: str
    code: str | None
    received_at: datetime
    read: bool = False
    rent_id: str = ""
    sender: str = ""


@dataclass
class SimRent:
    id: str
    token: str
    phone: str  # display form, as served: '+1 415 555 0123'
    service_id: str
    service_name: str
    plan_id: str
    status: str  # "active" | "finished"
    price: Decimal  # everything this rent has cost (creation + transition): a refund credits it back
    active_from: datetime
    active_till: datetime
    auto_renew: bool = False
    refunded: bool = False
    wake_from: datetime | None = None
    wake_till: datetime | None = None
    online_till: datetime | None = None
    messages: list[SimMessage] = field(default_factory=list)  # oldest first
    message_times: list[float] = field(default_factory=list)  # time.time() when each became visible
    phone_e164: str = ""
    country_id: str = ""
    # set_refundable(): None = the normal rules decide; (allowed, message) overrides them.
    refund_override: tuple[bool, str] | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass
class Account:
    token: str
    balance: Decimal
    rents: list[SimRent] = field(default_factory=list)  # oldest first
    active: dict[str, SimRent] = field(default_factory=dict)  # lazy expiry only looks at these
    messages: list[SimMessage] = field(default_factory=list)  # every message, oldest first
    # Unread messages by id, in arrival order: the 1 Hz unread poll costs O(unread), not O(history).
    unread: dict[str, SimMessage] = field(default_factory=dict)


class RecordedRequest(requests.RecordedRequest):
    """A request as received (`sim.requests`); `token` is the Bearer token it was sent with."""

    @property
    def token(self) -> str | None:
        return self.account


class LostAnswer(StrEnum):
    """How the answer of a request that WAS processed gets lost (lose_answer_next)."""

    SERVER_ERROR = "server_error"  # 500 {"success": false, "message": "Server Error."}
    TRUNCATED = "truncated"  # the real status with the first half of its JSON body
    DROPPED = "dropped"  # headers, part of the body, then the connection closes
