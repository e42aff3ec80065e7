"""Actions on a rented number: wake-up, auto-renewal, activation, refund, choosing a renewal or extension."""

from __future__ import annotations

from datetime import UTC, tzinfo
from html import escape
from typing import TYPE_CHECKING

from handlers.i18n import _
from handlers.texts.common import phone, provider_words
from handlers.zones import local_time
from providers.models import ActivationWindow
from storage.records import OrderRecord

if TYPE_CHECKING:
    from providers.models import NumberStatus


def no_extension() -> str:
    return _("This rent has no longer plan to move to.")


def woken(message: str, status: "NumberStatus", zone: tzinfo = UTC) -> str:
    parts = [provider_words(message).rstrip(".") + "."]
    if status.online_till:
        parts.append(_("Online until {time}").format(time=local_time(status.online_till, zone)))
    if status.online_seconds_left:
        parts.append(_("({minutes} min left).").format(minutes=status.online_seconds_left // 60))
    elif status.wakeup_seconds_left:
        parts.append(_("Waking up: {seconds} s left.").format(seconds=status.wakeup_seconds_left))
    return " ".join(parts)[:190]


def auto_renewal(enabled: bool) -> str:
    return _("Auto-renewal is ON: the rent renews itself at the end of the term.") if enabled else _("Auto-renewal is OFF.")


def choose_extension(order: OrderRecord) -> str:
    return _("Extend <code>{phone}</code> ({service}) to a longer plan:").format(
        phone=phone(order.phone), service=escape(order.service_name)
    )


def refund_question(order: OrderRecord) -> str:
    return _(
        "Refund <code>{phone}</code> ({service})? "
        "The number is released; the provider decides whether the refund is allowed."
    ).format(phone=phone(order.phone), service=escape(order.service_name))


def choose_renewal(order: OrderRecord) -> str:
    return _("Renew <code>{phone}</code> ({service}) for how long?").format(
        phone=phone(order.phone), service=escape(order.service_name)
    )


def activation(window: ActivationWindow, zone: tzinfo = UTC) -> str:
    until = local_time(window.ends_at, zone) if window.ends_at else None
    if window.online:
        said = _("Activated: the number is online until {time}.").format(time=until) if until \
            else _("Activated: the number is online.")
    else:
        said = _("Activated: the number is not online yet until {time}.").format(time=until) if until \
            else _("Activated: the number is not online yet.")
    extra = f" {window.message}" if window.message else ""  # the provider's own words
    return f"{said}{extra}"[:190]
