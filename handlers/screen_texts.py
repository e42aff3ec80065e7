"""Sentences of the /orders list and /settings screens (the rest is in handlers/texts.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from html import escape

from handlers.texts import STATUS_WORDS, phone, provider_name, time_left
from handlers.zones import zone_label
from storage.records import OrderRecord


def orders_list(orders: Sequence[OrderRecord], first: int, total: int, page: int, pages: int) -> str:
    """One page of active orders, numbered across pages; each line: service, number, status,
    time left (the buttons below open each card)."""
    head = f"<b>Active orders</b>: {total}" + (f" (page {page + 1}/{pages})" if pages > 1 else "")
    lines = [head, "Tap an order to open its card."]
    for number, order in enumerate(orders, start=first + 1):
        left = time_left(order.expires_at)
        when = "" if left is None else f" · {left}" if left == "ending now" else f" · {left} left"
        lines.append(
            f"\n{number}. <b>{escape(order.service_name)}</b> · {provider_name(order.provider)}\n"
            f"   <code>{phone(order.phone)}</code> · {STATUS_WORDS[order.status]}{when}"
        )
    return "\n".join(lines)


def order_button(number: int, order: OrderRecord) -> str:
    return f"{number}. {order.service_name} · {phone(order.phone)}"


def settings(zone: tzinfo, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(zone)
    return (
        "⚙️ <b>Settings</b>\n\n"
        f"Time zone: <b>{escape(zone_label(zone, moment))}</b> (it is {moment:%H:%M} there now).\n"
        "Order cards, /history and answers show times in this zone, with the zone named."
    )


def choose_zone(zone: tzinfo) -> str:
    return f"Choose your time zone. Now: <b>{escape(zone_label(zone))}</b>."


def zone_set(zone: tzinfo) -> str:
    return f"Time zone set: {zone_label(zone)}."
