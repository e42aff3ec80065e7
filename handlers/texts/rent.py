"""Actions on a rented number: wake-up, auto-renewal, activation, refund, choosing a renewal or extension."""

from __future__ import annotations

from datetime import UTC, tzinfo
from html import escape
from typing import TYPE_CHECKING

from handlers.texts.common import phone
from handlers.zones import local_time
from providers.models import ActivationWindow
from storage.records import OrderRecord

if TYPE_CHECKING:
    from providers.models import NumberStatus


NO_EXTENSION = "This rent has no longer plan to move to."


def woken(message: str, status: "NumberStatus", zone: tzinfo = UTC) -> str:
    parts = [message.rstrip(".") + "."]
    if status.online_till:
        parts.append(f"Online until {local_time(status.online_till, zone)}")
    if status.online_seconds_left:
        parts.append(f"({status.online_seconds_left // 60} min left).")
    elif status.wakeup_seconds_left:
        parts.append(f"Waking up: {status.wakeup_seconds_left} s left.")
    return " ".join(parts)[:190]


def auto_renewal(enabled: bool) -> str:
    return "Auto-renewal is ON: the rent renews itself at the end of the term." if enabled else "Auto-renewal is OFF."


def choose_extension(order: OrderRecord) -> str:
    return f"Extend <code>{phone(order.phone)}</code> ({escape(order.service_name)}) to a longer plan:"


def extended(order: OrderRecord) -> str:
    if order.expires_at is None:
        return "Extended."
    return f"Extended until {order.expires_at.strftime('%Y-%m-%d %H:%M')} UTC."


def refund_question(order: OrderRecord) -> str:
    return (
        f"Refund <code>{phone(order.phone)}</code> ({escape(order.service_name)})? "
        "The number is released; the provider decides whether the refund is allowed."
    )


def choose_renewal(order: OrderRecord) -> str:
    return f"Renew <code>{phone(order.phone)}</code> ({escape(order.service_name)}) for how long?"


def renewed_until(order: OrderRecord) -> str:
    if order.expires_at is None:
        return "Renewed."
    return f"Renewed until {order.expires_at.strftime('%Y-%m-%d %H:%M')} UTC."


def activation(window: ActivationWindow, zone: tzinfo = UTC) -> str:
    state = "online" if window.online else "not online yet"
    until = f" until {local_time(window.ends_at, zone)}" if window.ends_at else ""
    extra = f" {window.message}" if window.message else ""
    return f"Activated: the number is {state}{until}.{extra}"[:190]
