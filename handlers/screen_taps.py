"""Callback data of the /orders list, an order card opened from it, and /settings.

Kept apart from handlers/callbacks.py (a prefix each, not used there): the same rules hold —
ids only, within 64 bytes, and `decode` never raises (None for anything else).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from handlers.callbacks import MAX_BYTES, MAX_ORDER_ID, MAX_PAGE
from handlers.zones import ZONES

_DIGITS = re.compile(r"[0-9]{1,19}")
_ORDERS_PAGE = "ol"
_OPEN_CARD = "ov"
_SETTINGS = "st"
_ZONES = "z"


@dataclass(frozen=True)
class OrdersPage:
    page: int


@dataclass(frozen=True)
class OpenCard:
    order_id: int


@dataclass(frozen=True)
class SettingsScreen:
    """The settings screen; `zones` = the time zone choice; `zone` = the zone chosen."""

    zones: bool = False
    zone: str | None = None


Tap = OrdersPage | OpenCard | SettingsScreen


def orders_page(page: int) -> str:
    if not 0 <= page <= MAX_PAGE:
        raise ValueError("page out of range")
    return f"{_ORDERS_PAGE}:{page}"


def open_card(order_id: int) -> str:
    if not 0 <= order_id <= MAX_ORDER_ID:
        raise ValueError("order id out of range")
    return f"{_OPEN_CARD}:{order_id}"


def settings() -> str:
    return _SETTINGS


def time_zones() -> str:
    return f"{_SETTINGS}:{_ZONES}"


def choose_zone(name: str) -> str:
    if name not in ZONES:
        raise ValueError("not a zone on the list")
    return f"{_SETTINGS}:{_ZONES}:{name}"


def decode(data: object) -> Tap | None:
    if not isinstance(data, str) or not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    parts = data.split(":")
    head, rest = parts[0], parts[1:]
    if head == _ORDERS_PAGE and len(rest) == 1 and _number(rest[0], MAX_PAGE) is not None:
        return OrdersPage(int(rest[0]))
    if head == _OPEN_CARD and len(rest) == 1 and _number(rest[0], MAX_ORDER_ID) is not None:
        return OpenCard(int(rest[0]))
    if head == _SETTINGS:
        if not rest:
            return SettingsScreen()
        if rest == [_ZONES]:
            return SettingsScreen(zones=True)
        if len(rest) == 2 and rest[0] == _ZONES and rest[1] in ZONES:
            return SettingsScreen(zones=True, zone=rest[1])
    return None


def _number(field: str, maximum: int) -> int | None:
    # ASCII digits only ("²" is a digit to str.isdigit but not to int()).
    return int(field) if _DIGITS.fullmatch(field) and int(field) <= maximum else None


def matches(kind: type) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern: data that decodes to `kind`."""
    return lambda data: isinstance(decode(data), kind)
