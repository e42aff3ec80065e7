"""GotSMS wire Structs -> the domain model (plans, rents as orders, SMS)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from providers.base import FeedItem
from providers.models import IncomingSms, OrderStatus, Plan, RemoteOrder
from providers.parsing import convert, decode_items
from providers.gotsms.schema import (
    PROVIDER,
    ListedMessageWire,
    Named,
    NumberMessageWire,
    PlanWire,
    PricelistGroupWire,
    PricelistPlanWire,
    RentWire,
    unreadable,
)

logger = logging.getLogger(__name__)

_MINUTES_PER: dict[str, int] = {
    "min": 1, "minute": 1, "hour": 60, "day": 1440, "week": 10080, "month": 43200, "year": 525600,
}
_MONTHLY_PERIODS = frozenset({1, 3, 6, 12})

# The documents know "active" and "finished"; the rest is accepted in case a server says more.
_STATUSES: dict[str, OrderStatus] = {
    "active": OrderStatus.WAITING,  # whether a code arrived is the bot's knowledge, not the rent's
    # "finished" is also what a REFUNDED rent reads as: nothing in a rent tells them apart, so
    # `refunded` stays None (unknown) and the bot keeps what its own refund call returned.
    "finished": OrderStatus.COMPLETED,
    "completed": OrderStatus.COMPLETED,
    "expired": OrderStatus.EXPIRED,
    "refunded": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "canceled": OrderStatus.CANCELLED,
}


@dataclass(frozen=True)
class Rent:
    """A rent with what only GotSMS has: its plan, auto-renewal, wake-up window, longer plans."""

    order: RemoteOrder
    plan: Plan | None
    auto_renew: bool
    can_wake_up: bool
    wake_from: datetime | None
    wake_till: datetime | None
    transition_options: list[Plan] = field(default_factory=list)


# ---------------------------------------------------------------------- plans


def duration_label(duration_type: str, amount: int) -> str:
    """ "1 day", "3 months": the provider's own translation is preferred where it sends one."""
    if not duration_type or amount <= 0:
        return ""
    return f"{amount} {duration_type}" + ("" if amount == 1 else "s")


def _minutes(duration_type: str, amount: int) -> int | None:
    """Rental length from the plan's unit and count; None when unknown."""
    per = _MINUTES_PER.get(duration_type)
    if per is None or amount <= 0:
        return None
    return per * amount


def _is_monthly(duration_type: str, amount: int) -> bool:
    return duration_type == "month" and amount in _MONTHLY_PERIODS


def plan_from(wire: PlanWire, service: Named | None = None) -> Plan:
    """A plan; `service` is the rent's, for the short plan form inside a rent."""
    owner = wire.service or service or Named()
    duration_type = wire.duration_type.lower()
    amount = wire.duration_in_type
    minutes = wire.duration_in_minutes
    return Plan(
        id=str(wire.id),
        service_id=str(owner.id),
        service_name=str(owner.name),
        country=str(wire.country.name) if wire.country else "",
        billing_type=wire.billing_type.lower() or "duration",
        duration_type=duration_type,
        duration_in_type=amount,
        duration_minutes=minutes if minutes is not None else _minutes(duration_type, amount),
        duration_label=str(wire.duration_translation) or duration_label(duration_type, amount),
        price=wire.price,
        renew_price=wire.renew_price if wire.renew_price is not None else wire.price,
        monthly=wire.is_monthly_supported if wire.is_monthly_supported is not None
        else _is_monthly(duration_type, amount),
    )


def plans_from(items: Iterable[object], service: Named | None = None, what: str = "plan") -> list[Plan]:
    return [plan_from(w, service) for w in decode_items(items, PlanWire, provider=PROVIDER, what=what)]


def public_plans(groups: Iterable[object]) -> list[Plan]:
    """The public price list: plans without ids, grouped by service name."""
    plans: list[Plan] = []
    for group in decode_items(groups, PricelistGroupWire, provider=PROVIDER, what="pricelist group"):
        for wire in decode_items(group.plans, PricelistPlanWire, provider=PROVIDER, what="pricelist plan"):
            duration_type = wire.period_type.lower()
            plans.append(Plan(
                id="",
                service_id="",
                service_name=str(wire.service_name or group.name),
                country=str(wire.country),
                billing_type=wire.billing_type.lower() or "duration",
                duration_type=duration_type,
                duration_in_type=wire.period,
                duration_minutes=_minutes(duration_type, wire.period),
                duration_label=str(wire.duration_translation) or duration_label(duration_type, wire.period),
                price=wire.price,
                renew_price=wire.renew_price if wire.renew_price is not None else wire.price,
                monthly=_is_monthly(duration_type, wire.period),
            ))
    return plans


# ---------------------------------------------------------------------- rents


def _embedded_plan(raw: object, service: Named | None) -> Plan | None:
    if raw is None:
        return None
    try:
        return plan_from(convert(raw, PlanWire), service)
    except (msgspec.ValidationError, ValueError, TypeError):
        logger.warning("gotsms rent: unreadable plan ignored")
        return None


def rent_from(wire: RentWire) -> Rent:
    """A rent; `ValueError` when its status or price cannot be told (the item is then skipped)."""
    status = _STATUSES.get(wire.status.strip().lower())
    if status is None:
        raise ValueError("unknown rent status")
    service = wire.service or Named()
    plan = _embedded_plan(wire.plan, service)
    price = wire.price if wire.price is not None else (plan.price if plan else None)
    if price is None:
        raise ValueError("rent without a price")
    order = RemoteOrder(
        order_id=str(wire.id),
        phone=str(wire.phone),
        service=str(service.id),  # the SERVICE id: a purchase is matched to it, not to the plan id
        service_name=str(service.name),
        price=price,
        status=status,
        expires_at=wire.active_till,
        created_at=wire.active_from,
        refunded=True if wire.status.strip().lower() == "refunded" else None,
        plan=plan.duration_label if plan else "",
        plan_id=str(plan.id) if plan and plan.id else None,
        auto_renew=wire.is_included_for_next_renewal,
    )
    return Rent(
        order=order,
        plan=plan,
        auto_renew=wire.is_included_for_next_renewal,
        can_wake_up=wire.can_wake_up,
        wake_from=wire.wake_from,
        wake_till=wire.wake_till,
        transition_options=plans_from(wire.transition_options, service, "transition option"),
    )


def rents_from(items: Iterable[object]) -> list[Rent]:
    """Rents of a list answer; a rent that does not read is logged and skipped."""
    rents: list[Rent] = []
    for position, wire in enumerate(decode_items(items, RentWire, provider=PROVIDER, what="rent")):
        try:
            rents.append(rent_from(wire))
        except ValueError as exc:
            logger.warning("gotsms rent item %d skipped: %s", position, exc)
    return rents


def one_rent(raw: object) -> Rent:
    """The rent of a single-rent answer (a purchase); `UnexpectedResponse` when it does not read."""
    rents = rents_from([raw])
    if not rents:
        raise unreadable("rent")
    return rents[0]


# ---------------------------------------------------------------------- messages


def _sms(wire: NumberMessageWire | ListedMessageWire, service_name: str | None = None) -> IncomingSms:
    return IncomingSms(
        message_id=str(wire.id),
        code=str(wire.code) if wire.code else None,
        text=str(wire.body or ""),
        received_at=wire.received_at,
        service_name=service_name,
    )


def number_messages_from(items: Iterable[object]) -> list[IncomingSms]:
    return [_sms(w) for w in decode_items(items, NumberMessageWire, provider=PROVIDER, what="message")]


def feed_items_from(items: Iterable[object]) -> list[FeedItem]:
    """Messages of the account-wide listings, each with the rent it belongs to."""
    return [
        FeedItem(order_id=str(w.rent_id), sms=_sms(w, str(w.service.name) if w.service and w.service.name else None))
        for w in decode_items(items, ListedMessageWire, provider=PROVIDER, what="message")
    ]

