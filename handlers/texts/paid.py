"""Paid actions on an order (renew, reuse, extend): their confirmation card and outcome."""

from __future__ import annotations

from datetime import UTC, tzinfo
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from handlers.i18n import N_, _
from handlers.texts.common import money, phone, provider_name
from handlers.zones import local_time
from providers.models import Action
from storage.records import OrderRecord

if TYPE_CHECKING:
    from providers.models import Plan


# Paid actions on an order: a card of their own with the amount, confirmed by its own tap.
def renew_session_what() -> str:
    return _("Renew: a new session on the same number")


def reuse_what() -> str:
    return _("Reuse: wait for one more SMS on the same number")


def nothing_charged() -> str:
    return _("Nothing was charged.")


# A renewal's duration options (GotSMS codes); marked here, translated by `duration_option`.
DURATION_WORDS = {"1d": N_("1 day"), "3d": N_("3 days"), "7d": N_("7 days"), "30d": N_("30 days")}


def duration_option(duration: str) -> str:
    """A renewal option in words ("3 days"); an unknown code as given (escaped)."""
    words = DURATION_WORDS.get(duration)
    return _(words) if words is not None else escape(duration)


def renew_what(duration: str) -> str:
    return _("Renew for {duration}").format(duration=duration_option(duration))


def extend_what(plan: "Plan") -> str:
    return _("Extend to the {plan} plan").format(plan=escape(plan.duration_label))


def paid_action_card(order: OrderRecord, what: str, price: Decimal | None) -> str:
    cost = f"<b>{money(price)}</b>" if price is not None else _("<b>price set by the provider</b> when it charges")
    return _(
        "<b>Confirm</b>\n{action}\n"
        "{provider} · {service} · <code>{phone}</code>\n"
        "Price: {price}\nIt is charged to your {provider} balance when you confirm."
    ).format(action=what, provider=provider_name(order.provider), service=escape(order.service_name),
             phone=phone(order.phone), price=cost)


def paid_action_done(action: Action, order: OrderRecord, zone: tzinfo = UTC) -> str:
    until = local_time(order.expires_at, zone) if order.expires_at else None
    if action is Action.RENEW:
        return _("Renewed until {time}.").format(time=until) if until else _("Renewed.")
    if action is Action.EXTEND:
        return _("Extended until {time}.").format(time=until) if until else _("Extended.")
    if action is Action.REUSE:
        return _("Reused: waiting for the next SMS.")
    return _("Done.")
