"""Paid actions on an order (renew, reuse, extend): their confirmation card and outcome."""

from __future__ import annotations

from datetime import UTC, tzinfo
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from handlers.texts.common import money, phone, provider_name
from handlers.zones import local_time
from providers.models import Action
from storage.records import OrderRecord

if TYPE_CHECKING:
    from providers.models import Plan


# Paid actions on an order: a card of their own with the amount, confirmed by its own tap.
RENEW_WHAT = "Renew: a new session on the same number"
REUSE_WHAT = "Reuse: wait for one more SMS on the same number"
NOTHING_CHARGED = "Nothing was charged."
DURATION_WORDS = {"1d": "1 day", "3d": "3 days", "7d": "7 days", "30d": "30 days"}


def renew_what(duration: str) -> str:
    return f"Renew for {DURATION_WORDS.get(duration, escape(duration))}"


def extend_what(plan: "Plan") -> str:
    return f"Extend to the {escape(plan.duration_label)} plan"


def paid_action_card(order: OrderRecord, what: str, price: Decimal | None) -> str:
    cost = f"<b>{money(price)}</b>" if price is not None else "<b>price set by the provider</b> when it charges"
    return (
        f"<b>Confirm</b>\n{what}\n"
        f"{provider_name(order.provider)} · {escape(order.service_name)} · <code>{phone(order.phone)}</code>\n"
        f"Price: {cost}\nIt is charged to your {provider_name(order.provider)} balance when you confirm."
    )


def paid_action_done(action: Action, order: OrderRecord, zone: tzinfo = UTC) -> str:
    until = f" until {local_time(order.expires_at, zone)}" if order.expires_at else ""
    done = {Action.RENEW: f"Renewed{until}.", Action.REUSE: "Reused: waiting for the next SMS.",
            Action.EXTEND: f"Extended{until}."}
    return done.get(action, "Done.")
