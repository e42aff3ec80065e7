"""Texts of "Buy again" (recent services on /start and /buy) and of auto-cancelling idle orders."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from handlers.texts.common import money, phone, provider_name
from providers.models import ProviderId

AGAIN_LABEL_LIMIT = 40  # characters of a button label (Telegram shows about this much on a phone)
AGAIN_GONE = "This service is no longer offered there. Choose another in /buy."
AGAIN_SOLD_OUT = "This service is out of stock there right now. Try again later or choose another in /buy."
AUTO_CANCEL_CHOICES = (0, 5, 10, 15)  # minutes without a code; 0 = off


def again_label(service_name: str, provider: ProviderId) -> str:
    """"🔁 WhatsApp · kiwiSMS" (plain text: button labels are not HTML)."""
    tail = f" · {provider_name(provider)}"
    name = service_name if len(service_name) + len(tail) <= AGAIN_LABEL_LIMIT else service_name[: AGAIN_LABEL_LIMIT - len(tail) - 1] + "…"
    return f"🔁 {name}{tail}"


def auto_cancel_value(minutes: int) -> str:
    return f"{minutes} min" if minutes else "off"


def auto_cancel_button(minutes: int) -> str:
    return f"⏱ Auto-cancel idle orders: {auto_cancel_value(minutes)}"


def auto_cancel_line(minutes: int) -> str:
    """The settings screen's line about it."""
    if not minutes:
        return "Auto-cancel idle orders: <b>off</b>."
    return (
        f"Auto-cancel idle orders: <b>{minutes} min</b> — an order with no code after {minutes} minutes"
        " is cancelled while the provider still refunds it."
    )


AUTO_CANCEL_QUESTION = (
    "Cancel an order automatically when no code has come for:\n\n"
    "Only orders the provider refunds on cancel (kiwiSMS, NonVoipUsNumber short-term and country"
    " numbers) and only while it still does; never an order with a code."
)


def auto_cancel_set(minutes: int) -> str:
    return f"Auto-cancel idle orders: {auto_cancel_value(minutes)}."


def auto_cancelled(service_name: str, number: str, minutes: int, refund: Decimal | None) -> str:
    """The chat's one notice: what was cancelled, why, and what came back (only if the provider said so)."""
    head = f"⏱ Auto-cancelled {escape(service_name)} · {phone(number)}: no code in {minutes} min"
    return f"{head}; {money(refund)} refunded." if refund is not None else f"{head}."
