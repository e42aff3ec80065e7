"""Sentences of the /orders list and /settings screens (the rest is in handlers/texts.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from html import escape

from handlers.i18n import _
from handlers.texts import phone, provider_name, status_words, time_left
from handlers.zones import zone_label
from storage.records import OrderRecord


def orders_list(orders: Sequence[OrderRecord], first: int, total: int, page: int, pages: int) -> str:
    """One page of active orders, numbered across pages; each line: service, number, status,
    time left (the buttons below open each card)."""
    head = (
        _("<b>Active orders</b>: {count} (page {page}/{pages})").format(count=total, page=page + 1, pages=pages)
        if pages > 1
        else _("<b>Active orders</b>: {count}").format(count=total)
    )
    lines = [head, _("Tap an order to open its card.")]
    ending_now = _("ending now")  # time_left's own words when the term is over
    for number, order in enumerate(orders, start=first + 1):
        left = time_left(order.expires_at)
        if left is None:
            when = ""
        elif left == ending_now:
            when = f" · {left}"
        else:
            when = " · " + _("{time} left").format(time=left)
        lines.append(
            f"\n{number}. <b>{escape(order.service_name)}</b> · {provider_name(order.provider)}\n"
            f"   <code>{phone(order.phone)}</code> · {status_words(order.status)}{when}"
        )
    return "\n".join(lines)


def order_button(number: int, order: OrderRecord) -> str:
    return f"{number}. {order.service_name} · {phone(order.phone)}"


def settings(zone: tzinfo, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(zone)
    zone_line = _("Time zone: <b>{zone}</b> (it is {time} there now).").format(
        zone=escape(zone_label(zone, moment)), time=f"{moment:%H:%M}"
    )
    heading = _("⚙️ <b>Settings</b>")
    shown_in = _("Order cards, /history and answers show times in this zone, with the zone named.")
    return f"{heading}\n\n{zone_line}\n{shown_in}"


def choose_zone(zone: tzinfo) -> str:
    return _("Choose your time zone. Now: <b>{zone}</b>.").format(zone=escape(zone_label(zone)))


def zone_set(zone: tzinfo) -> str:
    return _("Time zone set: {zone}.").format(zone=zone_label(zone))
