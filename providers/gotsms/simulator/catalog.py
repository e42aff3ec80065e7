"""Deterministic GotSMS catalogue (services, countries, plans) and phone numbers.

Ids are UUIDs derived from names (uuid5), so a plan id is the same in every run and every test.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.models import money
from providers.simulation.numbers import CA_AREAS, US_AREAS, UniqueNumbers

_NAMESPACE = uuid.UUID("6f1c3c52-0d2e-4b8a-9a57-2f3f0c1e9b10")

MONTHLY_LENGTHS = frozenset({1, 3, 6, 12})
DURATION_TYPES = ("min", "hour", "day", "week", "month", "year")
BILLING_TYPES = ("sms", "duration")
_MINUTES = {"min": 1, "hour": 60, "day": 1440, "week": 10080, "month": 43200, "year": 525600}
_UNIT_NAMES = {"min": "minute", "hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}

# (name, daily USA price), most popular first; smaller countries take a prefix of the list.
_SERVICES: list[tuple[str, str]] = [
    ("Telegram", "1.00"), ("WhatsApp", "1.20"), ("Google", "0.90"), ("Facebook", "0.80"),
    ("Instagram", "0.85"), ("Twitter", "0.70"), ("Discord", "0.60"), ("Amazon", "0.95"),
    ("Microsoft", "0.55"), ("Uber", "0.75"), ("Tinder", "1.30"), ("Snapchat", "0.65"),
    ("TikTok", "0.70"), ("PayPal", "1.50"), ("Apple", "1.10"), ("Netflix", "0.50"),
    ("Viber", "0.45"), ("Yahoo", "0.40"), ("Signal", "1.05"), ("LinkedIn", "0.85"),
    ("Lyft", "0.75"), ("DoorDash", "0.70"), ("Airbnb", "0.90"), ("Coinbase", "1.80"),
    ("Cash App", "1.60"), ("Venmo", "1.55"), ("Bumble", "1.00"), ("Hinge", "0.95"),
    ("Steam", "0.50"), ("eBay", "0.60"), ("Reddit", "0.40"), ("Spotify", "0.35"),
    ("Twitch", "0.40"), ("OpenAI", "1.10"), ("Other", "0.60"),
]

# name -> (how many services, price factor relative to the USA, SMS-billed plans for the first n services)
_COUNTRIES: dict[str, tuple[int, Decimal, int]] = {
    "USA": (len(_SERVICES), Decimal("1.00"), len(_SERVICES)),
    "Canada": (16, Decimal("1.20"), 8),
    "United Kingdom": (12, Decimal("1.50"), 0),
}

# (duration_type, duration_in_type, price multiplier of the daily price); hour/year only for the top services.
_DURATION_PLANS: list[tuple[str, int, Decimal]] = [
    ("day", 1, Decimal("1")), ("week", 1, Decimal("5")), ("month", 1, Decimal("15")),
    ("month", 3, Decimal("40")), ("month", 6, Decimal("75")), ("month", 12, Decimal("140")),
]
_TOP_EXTRAS: list[tuple[str, int, Decimal]] = [("hour", 6, Decimal("0.4")), ("year", 1, Decimal("150"))]
_TOP = 5
_SMS_PLAN = ("min", 20, Decimal("0.3"))


def stable_id(kind: str, *parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join((kind, *parts))))


def translation(duration_type: str, amount: int) -> str:
    unit = _UNIT_NAMES[duration_type]
    return f"{amount} {unit}" + ("" if amount == 1 else "s")


@dataclass
class Plan:
    """One rent plan; `stock` None = unlimited (set_stock may change it)."""

    id: str
    service_id: str
    service_name: str
    country_id: str
    country: str
    billing_type: str
    duration_type: str
    duration_in_type: int
    price: Decimal
    renew_price: Decimal
    stock: int | None = None

    @property
    def minutes(self) -> int:
        return _MINUTES[self.duration_type] * self.duration_in_type

    @property
    def monthly(self) -> bool:
        """Auto-renewal (and the target of a transition) is for monthly 1/3/6/12 plans only."""
        return self.duration_type == "month" and self.duration_in_type in MONTHLY_LENGTHS

    @property
    def daily(self) -> bool:
        return self.duration_type == "day"

    @property
    def translation(self) -> str:
        return translation(self.duration_type, self.duration_in_type)

    def to_json(self) -> dict[str, Any]:
        """An item of GET /api/rents/plans."""
        return {
            "id": self.id,
            "service": {"id": self.service_id, "name": self.service_name},
            "country": {"id": self.country_id, "name": self.country},
            "billing_type": self.billing_type,
            "duration_type": self.duration_type,
            "duration_in_type": self.duration_in_type,
            "duration_in_minutes": self.minutes,
            "duration_translation": self.translation,
            "price": money(self.price),
            "renew_price": money(self.renew_price),
            "is_monthly_supported": self.monthly,
        }

    def to_rent_json(self) -> dict[str, Any]:
        """The short plan form inside a rent (and its transition_options)."""
        return {
            "id": self.id,
            "billing_type": self.billing_type,
            "duration_type": self.duration_type,
            "duration_in_type": self.duration_in_type,
            "duration_translation": self.translation,
            "price": money(self.price),
            "renew_price": money(self.renew_price),
        }

    def to_pricelist_json(self) -> dict[str, Any]:
        """An item of the public pricelist."""
        label = _UNIT_NAMES[self.duration_type] + ("" if self.duration_in_type == 1 else "s")
        return {
            "service_name": self.service_name,
            "period": self.duration_in_type,
            "period_type": self.duration_type,
            "period_type_label": label,
            "duration_translation": self.translation,
            "price": money(self.price),
            "renew_price": money(self.renew_price),
            "country": self.country,
            "billing_type": self.billing_type,
        }


@dataclass(frozen=True)
class Catalog:
    services: list[tuple[str, str]]  # (id, name), catalogue order
    countries: dict[str, str]  # id -> name
    plans: list[Plan]  # USA first, then by service popularity


def build_catalog() -> Catalog:
    """The same catalogue every call."""
    services = [(stable_id("service", name), name) for name, _ in _SERVICES]
    countries = {stable_id("country", name): name for name in _COUNTRIES}
    plans: list[Plan] = []
    for country, (size, factor, sms_count) in _COUNTRIES.items():
        for index, (name, daily) in enumerate(_SERVICES[:size]):
            kinds = _DURATION_PLANS + (_TOP_EXTRAS if index < _TOP and country == "USA" else [])
            for duration_type, amount, multiplier in kinds:
                plans.append(_plan(name, country, "duration", duration_type, amount, Decimal(daily) * factor * multiplier))
            if index < sms_count:
                duration_type, amount, multiplier = _SMS_PLAN
                plans.append(_plan(name, country, "sms", duration_type, amount, Decimal(daily) * factor * multiplier))
    return Catalog(services, countries, plans)


def _plan(service: str, country: str, billing: str, duration_type: str, amount: int, raw: Decimal) -> Plan:
    # A 5-cent step, never below 0.10: real price lists look like 4.95, not 4.93.
    price = max(Decimal("0.10"), (raw * 20).to_integral_value() / 20).quantize(Decimal("0.01"))
    return Plan(
        id=stable_id("plan", service, country, billing, duration_type, str(amount)),
        service_id=stable_id("service", service),
        service_name=service,
        country_id=stable_id("country", country),
        country=country,
        billing_type=billing,
        duration_type=duration_type,
        duration_in_type=amount,
        price=price,
        renew_price=price,
    )


class PhoneFactory(UniqueNumbers):
    """Unique numbers per country (seeded): (display form '+1 415 555 0123', E.164 '+14155550123')."""

    def __init__(self, seed: str = "gotsms-phones") -> None:
        super().__init__(seed)

    def new(self, country: str, area_code: str | None = None) -> tuple[str, str]:
        display = self.unique(lambda r: self._candidate(r, country, area_code), key=_e164)
        return display, _e164(display)

    @staticmethod
    def _candidate(r: random.Random, country: str, area_code: str | None) -> str:
        if country == "United Kingdom":
            return f"+44 7{r.randint(100, 999)} {r.randint(0, 999_999):06d}"
        areas = CA_AREAS if country == "Canada" else US_AREAS
        area = area_code or r.choice(areas)
        return f"+1 {area} {r.randint(200, 999)} {r.randint(0, 9999):04d}"


def _e164(display: str) -> str:
    return "+" + "".join(ch for ch in display if ch.isdigit())
