"""Deterministic kiwiSMS catalogue (countries, services, prices, stock) and phone numbers.

Kept apart from the simulator so the numbers a test sees never depend on the order of requests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from providers.simulation.numbers import CA_AREAS, US_AREAS, UniqueNumbers

# DaisySMS numeric country code -> (name, how many services the country offers).
COUNTRIES: dict[str, tuple[str, int]] = {
    "187": ("USA", 40),
    "16": ("United Kingdom", 18),
    "36": ("Canada", 16),
    "43": ("Germany", 14),
    "78": ("France", 13),
    "48": ("Netherlands", 12),
}
DEFAULT_COUNTRY = "187"

# (code, name, USA base price, multiSms), most popular first: smaller countries take a prefix.
_SERVICES: list[tuple[str, str, str, bool]] = [
    ("go", "Google / Gmail / YouTube", "0.50", True),
    ("wa", "WhatsApp", "0.75", False),
    ("tg", "Telegram", "0.60", False),
    ("fb", "Facebook", "0.40", False),
    ("ig", "Instagram", "0.45", False),
    ("tw", "Twitter / X", "0.35", False),
    ("ds", "Discord", "0.30", False),
    ("am", "Amazon", "0.55", True),
    ("mm", "Microsoft / Outlook / Hotmail", "0.25", False),
    ("ub", "Uber", "0.40", False),
    ("oi", "Tinder", "0.80", False),
    ("fu", "Snapchat", "0.30", False),
    ("lf", "TikTok", "0.35", False),
    ("ts", "PayPal", "0.90", False),
    ("wx", "Apple", "0.70", False),
    ("nf", "Netflix", "0.25", False),
    ("vi", "Viber", "0.20", False),
    ("mb", "Yahoo", "0.20", False),
    ("sg", "Signal", "0.65", False),
    ("li", "LinkedIn", "0.45", False),
    ("ly", "Lyft", "0.40", False),
    ("dd", "DoorDash", "0.35", False),
    ("ac", "Airbnb", "0.50", False),
    ("cb", "Coinbase", "1.20", False),
    ("ca", "Cash App", "1.00", False),
    ("vm", "Venmo", "0.95", False),
    ("bm", "Bumble", "0.60", False),
    ("hg", "Hinge", "0.55", False),
    ("st", "Steam", "0.25", False),
    ("ew", "eBay", "0.30", False),
    ("re", "Reddit", "0.20", False),
    ("sp", "Spotify", "0.15", False),
    ("tc", "Twitch", "0.20", False),
    ("wc", "WeChat", "1.50", False),
    ("gr", "Grindr", "0.45", False),
    ("ch", "ChatGPT / OpenAI", "0.65", False),
    ("kk", "Kik", "0.15", False),
    ("mt", "Match", "0.50", False),
    ("zl", "Zelle", "1.25", False),
    ("ot", "Any other", "0.35", True),
]

# Services that start sold out, so "out of stock" paths are reachable without set_stock().
_SOLD_OUT: dict[str, set[str]] = {
    "187": {"li", "gr", "zl"},
    "16": {"ub"},
    "36": {"fu"},
    "43": {"ds"},
    "78": {"tw"},
    "48": {"ig"},
}

# Rough price level per country relative to the USA.
_PRICE_FACTOR: dict[str, Decimal] = {
    "187": Decimal("1.00"),
    "16": Decimal("1.40"),
    "36": Decimal("1.20"),
    "43": Decimal("1.60"),
    "78": Decimal("1.50"),
    "48": Decimal("1.80"),
}


@dataclass
class CatalogItem:
    """One service in one country; mutable so set_stock/set_price can change it."""

    code: str
    name: str
    price: Decimal
    count: int
    multi_sms: bool


def build_catalog() -> dict[str, dict[str, CatalogItem]]:
    """country -> service code -> item; the same every call (seeded per country)."""
    return {country: _country_catalog(country, size) for country, (_, size) in COUNTRIES.items()}


def _country_catalog(country: str, size: int) -> dict[str, CatalogItem]:
    rng = random.Random(f"kiwi-catalog-{country}")
    factor = _PRICE_FACTOR[country]
    items: dict[str, CatalogItem] = {}
    for code, name, base, multi in _SERVICES[: size - 1] + [_SERVICES[-1]]:
        # Round to a 5-cent step: real price lists look like 0.85, not 0.84.
        price = (Decimal(base) * factor * 20).to_integral_value() / 20
        # Plenty of stock: a 1,000-rental benchmark on one service must not run dry.
        count = 0 if code in _SOLD_OUT[country] else rng.randint(1500, 9000)
        items[code] = CatalogItem(code, name, price.quantize(Decimal("0.01")), count, multi)
    return items


def format_price(price: Decimal) -> str:
    """Prices travel as strings with two decimals ("0.50")."""
    return str(price.quantize(Decimal("0.01")))


class PhoneFactory(UniqueNumbers):
    """Plausible, unique E.164 numbers per country (seeded, so runs are reproducible)."""

    def __init__(self, seed: str = "kiwi-phones") -> None:
        super().__init__(seed)

    def new(self, country: str, area: str | None = None) -> str:
        return self.unique(lambda r: self._candidate(r, country, area))

    @staticmethod
    def _candidate(r: random.Random, country: str, area: str | None) -> str:
        if country == "187":
            code = area if area else r.choice(US_AREAS)
            return f"+1{code}{r.randint(200, 999)}{r.randint(0, 9999):04d}"
        if country == "36":
            return f"+1{r.choice(CA_AREAS)}{r.randint(200, 999)}{r.randint(0, 9999):04d}"
        if country == "16":
            return f"+447{r.choice('45789')}{r.randint(0, 99_999_999):08d}"
        if country == "43":
            return f"+491{r.choice(('51', '52', '57', '60', '62', '70', '76'))}{r.randint(0, 99_999_999):08d}"
        if country == "78":
            return f"+33{r.choice('67')}{r.randint(0, 99_999_999):08d}"
        return f"+316{r.randint(0, 99_999_999):08d}"  # Netherlands
