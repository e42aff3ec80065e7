"""Deterministic NonVoipUsNumber catalogue (USA products per category, country-wise products) and numbers.

Kept apart from the simulator so the ids, prices and numbers a test sees never depend on request order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from providers.nonvoip.simulator.models import money
from providers.simulation.numbers import UniqueNumbers

# Grouped-products key -> (order type, rental period). "3-days" is the provider's legacy category.
# The order is the grouped answer's key order (as in the provider's example).
CATEGORIES: dict[str, tuple[str, timedelta | None]] = {
    "10-minutes": ("short_term", None),
    "30-days": ("long_term", timedelta(days=30)),
    "1-day": ("one_day", timedelta(days=1)),
    "3-days": ("3days", timedelta(days=3)),
}
TYPE_TO_CATEGORY = {kind: category for category, (kind, _) in CATEGORIES.items()}

# 10-minute services: 30+ so that product lists paginate in the bot. (name, price)
_SHORT: list[tuple[str, str]] = [
    ("Instagram", "0.36"), ("WhatsApp", "0.55"), ("Telegram", "0.50"), ("Google / Gmail", "0.40"),
    ("Facebook", "0.30"), ("Twitter / X", "0.30"), ("Discord", "0.25"), ("Amazon", "0.45"),
    ("Microsoft", "0.25"), ("Uber", "0.35"), ("Tinder", "0.70"), ("Snapchat", "0.25"),
    ("TikTok", "0.30"), ("PayPal", "0.80"), ("Apple", "0.60"), ("Netflix", "0.20"),
    ("Viber", "0.20"), ("Yahoo", "0.20"), ("Signal", "0.55"), ("LinkedIn", "0.40"),
    ("Lyft", "0.35"), ("DoorDash", "0.30"), ("Airbnb", "0.45"), ("Coinbase", "1.10"),
    ("Cash App", "0.95"), ("Venmo", "0.90"), ("Bumble", "0.55"), ("Hinge", "0.50"),
    ("Steam", "0.25"), ("eBay", "0.30"), ("Reddit", "0.20"), ("Spotify", "0.15"),
    ("OpenAI / ChatGPT", "0.60"), ("Zelle", "1.20"),
]
_SHORT_SOLD_OUT = frozenset({"Zelle"})  # so "out of stock" is reachable without set_stock()

# (product_id, name, price) per long category; 9044 / 8555 / 9441 are the ids in the provider's examples.
_LONG: dict[str, list[tuple[int, str, str]]] = {
    "30-days": [
        (9044, "WhatsApp", "2.00"), (8555, "Telegram", "2.00"), (8560, "Google / Gmail", "2.50"),
        (8571, "Facebook", "1.75"), (8590, "PayPal", "3.00"), (8602, "Amazon", "2.25"),
        (8613, "Discord", "1.50"), (8620, "Instagram", "2.00"),
    ],
    "1-day": [
        (9441, "Telegram", "1.25"), (9442, "WhatsApp", "1.25"), (9443, "Google / Gmail", "1.00"),
        (9444, "Tinder", "1.50"), (9445, "Uber", "1.00"),
    ],
    "3-days": [(7301, "WhatsApp", "1.60"), (7302, "Telegram", "1.60"), (7303, "Facebook", "1.40")],
}

# Country-wise inventory: (name, ISO code, calling code, number length after the calling code).
COUNTRIES: dict[str, tuple[str, str, int]] = {
    "United States": ("US", "1", 10),
    "United Kingdom": ("GB", "44", 10),
    "Canada": ("CA", "1", 10),
    "Germany": ("DE", "49", 11),
    "France": ("FR", "33", 9),
    "Netherlands": ("NL", "31", 9),
}
# (product_id, name, service code, country, price); 501 is the provider's example.
_COUNTRY: list[tuple[int, str, str, str, str]] = [
    (501, "Telegram", "tg", "United States", "0.45"), (502, "WhatsApp", "wa", "United States", "0.55"),
    (503, "Google", "go", "United States", "0.40"), (504, "Telegram", "tg", "United Kingdom", "0.60"),
    (505, "WhatsApp", "wa", "United Kingdom", "0.70"), (506, "Facebook", "fb", "United Kingdom", "0.35"),
    (507, "Telegram", "tg", "Canada", "0.50"), (508, "Instagram", "ig", "Canada", "0.40"),
    (509, "Telegram", "tg", "Germany", "0.65"), (510, "WhatsApp", "wa", "Germany", "0.80"),
    (511, "Telegram", "tg", "France", "0.60"), (512, "Discord", "ds", "Netherlands", "0.45"),
]


@dataclass
class Product:
    """One orderable product; mutable so set_stock/set_price can change it."""

    product_id: str
    name: str
    price: Decimal
    available: int
    category: str  # grouped key, or "country"
    type: str  # order type
    period: timedelta | None = None  # rental length of long-term kinds
    code: str = ""  # country-wise service code ("tg")
    country: str = ""  # country-wise country name

    def to_json(self, *, with_category: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"product_id": int(self.product_id), "name": self.name}
        if self.country:
            body["country"] = self.country
        body["price"] = money(self.price)
        body["available"] = self.available
        if with_category:
            body["category"] = self.category
        return body


def build_catalog() -> tuple[dict[str, Product], dict[str, Product]]:
    """(USA products by id, country-wise products by id), the same on every call."""
    rng = random.Random("nonvoip-catalog")
    usa: dict[str, Product] = {}
    for index, (name, price) in enumerate(_SHORT):
        pid = str(10000086 + index)  # Instagram = 10000086, as in the provider's examples
        stock = 0 if name in _SHORT_SOLD_OUT else rng.randint(2000, 9000)
        usa[pid] = Product(pid, name, Decimal(price), stock, "10-minutes", "short_term")
    for category, rows in _LONG.items():
        kind, period = CATEGORIES[category]
        for pid_int, name, price in rows:
            pid = str(pid_int)
            usa[pid] = Product(pid, name, Decimal(price), rng.randint(100, 400), category, kind, period)
    country = {
        str(pid): Product(str(pid), name, Decimal(price), rng.randint(50, 300), "country", "country",
                          code=code, country=where)
        for pid, name, code, where, price in _COUNTRY
    }
    return usa, country


class NumberFactory(UniqueNumbers):
    """Plausible, unique numbers without '+' (like "16095550123"), seeded so runs are reproducible."""

    _US_AREAS = ("201", "305", "312", "415", "512", "609", "617", "702", "713", "818")
    _CA_AREAS = ("416", "604", "514", "403", "613")

    def __init__(self, seed: str = "nonvoip-numbers") -> None:
        super().__init__(seed)

    def new(self, country: str = "United States") -> str:
        return self.unique(lambda r: self._candidate(r, country))

    def _candidate(self, r: random.Random, country: str) -> str:
        if country in ("United States", "Canada"):
            areas = self._US_AREAS if country == "United States" else self._CA_AREAS
            return f"1{r.choice(areas)}{r.randint(200, 999)}{r.randint(0, 9999):04d}"
        _, calling, length = COUNTRIES[country]
        first = "7" if calling == "44" else "1" if calling == "49" else "6"
        rest = length - 1
        return f"{calling}{first}{r.randint(0, 10**rest - 1):0{rest}d}"
