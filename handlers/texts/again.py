"""Texts of "Buy again" (recent services on /start and /buy) and of auto-cancelling idle orders."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from handlers.i18n import _, ngettext, pgettext
from handlers.texts.common import money, phone, provider_name
from providers.models import ProviderId

AGAIN_LABEL_LIMIT = 40  # characters of a button label (Telegram shows about this much on a phone)


def again_gone() -> str:
    return _("This service is no longer offered there. Choose another in /buy.")


def again_sold_out() -> str:
    return _("This service is out of stock there right now. Try again later or choose another in /buy.")
AUTO_CANCEL_CHOICES = (0, 5, 10, 15)  # minutes without a code; 0 = off


def again_label(service_name: str, provider: ProviderId) -> str:
    """"🔁 WhatsApp · kiwiSMS" (plain text: button labels are not HTML)."""
    tail = f" · {provider_name(provider)}"
    name = service_name if len(service_name) + len(tail) <= AGAIN_LABEL_LIMIT else service_name[: AGAIN_LABEL_LIMIT - len(tail) - 1] + "…"
    return f"🔁 {name}{tail}"


def auto_cancel_value(minutes: int) -> str:
    return _("{minutes} min").format(minutes=minutes) if minutes else pgettext("auto-cancel", "off")


def auto_cancel_button(minutes: int) -> str:
    return _("⏱ Auto-cancel idle orders: {value}").format(value=auto_cancel_value(minutes))


def auto_cancel_line(minutes: int) -> str:
    """The settings screen's line about it."""
    if not minutes:
        return _("Auto-cancel idle orders: <b>off</b>.")
    return ngettext(
        "Auto-cancel idle orders: <b>{minutes} min</b> — an order with no code after {minutes} minutes"
        " is cancelled while the provider still refunds it.",
        "Auto-cancel idle orders: <b>{minutes} min</b> — an order with no code after {minutes} minutes"
        " is cancelled while the provider still refunds it.",
        minutes,
    ).format(minutes=minutes)


def auto_cancel_question() -> str:
    return _(
        "Cancel an order automatically when no code has come for:\n\n"
        "Only orders the provider refunds on cancel (kiwiSMS, NonVoipUsNumber short-term and country"
        " numbers) and only while it still does; never an order with a code."
    )


def auto_cancel_set(minutes: int) -> str:
    return _("Auto-cancel idle orders: {value}.").format(value=auto_cancel_value(minutes))


def auto_cancelled(service_name: str, number: str, minutes: int, refund: Decimal | None) -> str:
    """The chat's one notice: what was cancelled, why, and what came back (only if the provider said so)."""
    if refund is None:
        sentence = _("⏱ Auto-cancelled {service} · {number}: no code in {minutes} min.")
    else:
        sentence = _("⏱ Auto-cancelled {service} · {number}: no code in {minutes} min; {amount} refunded.")
    amount = money(refund) if refund is not None else ""
    return sentence.format(service=escape(service_name), number=phone(number), minutes=minutes, amount=amount)
