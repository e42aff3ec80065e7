"""NonVoipUsNumber answers -> the domain model (pure functions: no I/O, no memory between calls)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import msgspec

from providers.models import (
    ActivationWindow,
    IncomingSms,
    Offer,
    OrderStatus,
    PlacedOrder,
    PremiumBidDecision,
    PriceChangeDecision,
    RemoteOrder,
)
from providers.nonvoip.capabilities import COUNTRY, SECTIONS
from providers.nonvoip.errors import unexpected, unreadable_purchase
from providers.nonvoip.schema import (
    Activation,
    Decision,
    OrderEntry,
    Product,
    Renewal,
    SecondsOrStamp,
    SmsAnswer,
)
from providers.parsing import convert, money, when

_CENT = Decimal("0.01")
_INVALID = (msgspec.ValidationError, ValueError, TypeError)
_PHONE = re.compile(r"\b1?\d{10}\b")


def offer(product: Product, section: str) -> Offer:
    if section == COUNTRY:  # the same service is sold in several countries: say which
        name = f"{product.name} ({product.country})" if product.country else product.name
        return Offer(section=COUNTRY, service_id=product.product_id, name=name, price=product.price,
                     stock=product.available, country=product.country or "")
    return Offer(section=section, service_id=product.product_id, name=product.name, price=product.price,
                 stock=product.available, duration_minutes=SECTIONS[section][1] if section in SECTIONS else None)


def placed(message: object, *, price: Decimal | None, now: datetime, order_id: str | None = None) -> PlacedOrder:
    """The order(s) of a success answer to a purchase; unreadable = bought but unknown (may have charged).

    A 30-days bundle may answer one entry per service, each with its own order id: each becomes
    its own order. Entries without an id (or sharing one) are one order for all their services,
    whose SMS then say which service they are for. `price` (the card's price, or the accepted
    one) is shared by the orders when the answer carries no `cost`; `order_id` is the id a reuse
    answer falls back to."""
    try:
        entries = [convert(item, OrderEntry) for item in _items(message)]
        expiries = [_expiry(entry, now) for entry in entries]
    except _INVALID:
        raise unreadable_purchase() from None
    groups: dict[str, list[tuple[OrderEntry, datetime | None]]] = {}
    current = order_id
    for entry, expiry in zip(entries, expiries):
        current = entry.order_id or current
        if current is None:
            raise unreadable_purchase()
        groups.setdefault(current, []).append((entry, expiry))
    if not groups:
        raise unreadable_purchase()
    shares = _shares(price or Decimal("0"), len(groups))
    orders = []
    for (remote_id, group), share in zip(groups.items(), shares):
        services = ", ".join(dict.fromkeys(entry.service for entry, _ in group))
        costs = [entry.cost for entry, _ in group]
        first, expires_at = group[0]
        orders.append(RemoteOrder(
            order_id=remote_id,
            phone=first.number,
            service=services,
            service_name=services,
            price=sum((c for c in costs if c is not None), Decimal("0")) if None not in costs else share,
            status=OrderStatus.WAITING,
            expires_at=expires_at,
            created_at=now,
        ))
    return PlacedOrder(tuple(orders))


def decision(message: object) -> PriceChangeDecision | PremiumBidDecision:
    """A `status: info` order answer: a decision for the user, nothing was bought."""
    raw = message if not isinstance(message, str) else {"info": message}
    try:
        item = convert(_items(raw)[0], Decision)
    except (*_INVALID, IndexError):
        raise unexpected("info answer") from None
    if item.info == "Price_Change_Required" and item.available_price is not None:
        return PriceChangeDecision(item.quoted_price, item.allowed_price, item.available_price)
    bid = item.recommended_bid
    if item.info == "Premium_Available" and bid is not None and bid == bid.to_integral_value() and bid > 0:
        return PremiumBidDecision(recommended_bid=int(bid))
    raise unexpected("info answer")


def sms_order(order_id: str, fields: Mapping[str, Any]) -> RemoteOrder:
    """A getsms success: the order's latest SMS, for the service the answer names."""
    try:
        answer = convert(fields, SmsAnswer)
    except _INVALID:
        raise unexpected("getsms answer") from None
    code = answer.pin or None
    service = answer.service or None
    return RemoteOrder(
        order_id=order_id,
        phone=answer.number,
        service=answer.service,
        service_name=answer.service,
        price=Decimal("0"),  # getsms carries no price: the caller keeps the one it stored
        status=OrderStatus.RECEIVED,
        expires_at=None,
        messages=(IncomingSms(message_id=sms_id(answer.sms, code), code=code, text=answer.sms,
                              service_name=service),),
    )


def bare_order(order_id: str, status: OrderStatus, *, refunded: bool | None = None, phone: str = "") -> RemoteOrder:
    """getsms errors and reject answers name no service or price: the caller merges this status
    into the order it stored when buying."""
    return RemoteOrder(order_id=order_id, phone=phone, service="", service_name="", price=Decimal("0"),
                       status=status, expires_at=None, refunded=refunded)


def renewed(order_id: str, fields: Mapping[str, Any], now: datetime) -> RemoteOrder:
    """A renew answer (it charged): fields at the top or in `message`; unreadable may have charged."""
    message = fields.get("message")
    try:
        first = _items(message)[0] if isinstance(message, (list, dict)) and message else {}
        merged = {**(first if isinstance(first, dict) else {}),
                  **{k: v for k, v in fields.items() if k not in ("status", "message")}}
        renewal = convert(merged, Renewal)
        expires_at = _moment(renewal.expiration, now) if renewal.expiration is not None else None
    except _INVALID:
        raise unreadable_purchase() from None
    return RemoteOrder(
        order_id=renewal.order_id or order_id,
        phone=renewal.number,
        service=renewal.service,
        service_name=renewal.service,
        price=renewal.cost if renewal.cost is not None else Decimal("0"),  # unknown without cost
        status=OrderStatus.WAITING,
        expires_at=expires_at,
    )


def activation(message: object) -> ActivationWindow:
    try:
        window = convert(_items(message)[0], Activation)
    except (*_INVALID, IndexError):
        raise unexpected("activate answer") from None
    ends_at = None
    if window.end_on and window.end_on.strip():
        ends_at = when(window.end_on)
        if ends_at is None:
            raise unexpected("end_on")
    return ActivationWindow(online=window.online_status.strip().lower() == "online", ends_at=ends_at,
                            message=window.online_status)


def sms_id(text: str, code: str | None) -> str:
    """Stable across polls (getsms shows the latest SMS again and again)."""
    return hashlib.sha256(f"{text}\x00{code or ''}".encode()).hexdigest()[:16]


def phone_in(text: str) -> str:
    match = _PHONE.search(text)
    return match.group(0) if match else ""


def wire_id(product_id: str) -> int | str:
    """The API documents integer ids; anything non-numeric is sent as given."""
    return int(product_id) if product_id.isdigit() else product_id


# ---------------------------------------------------------------------- helpers


def _items(message: object) -> list[Any]:
    """`message` is a list of objects in most answers, a bare object in some (country orders)."""
    if isinstance(message, list):
        return message
    if isinstance(message, dict):
        return [message]
    raise ValueError("message is neither a list nor an object")


def _shares(total: Decimal, count: int) -> list[Decimal]:
    """`total` split over `count` orders to the cent, the remainder on the first: the sum is exact."""
    share = (total / count).quantize(_CENT, rounding=ROUND_DOWN) if count > 1 else total
    return [total - share * (count - 1)] + [share] * (count - 1)


def _expiry(entry: OrderEntry, now: datetime) -> datetime | None:
    """`expiration`/`till_expiration` (seconds from now, or a stamp), else `expires`/`expires_at`."""
    for value in (entry.expiration, entry.till_expiration):
        if value is not None:
            return _moment(value, now)
    return entry.expires or entry.expires_at


def _moment(value: SecondsOrStamp, now: datetime) -> datetime:
    seconds = money(value)
    if seconds is None:
        moment = when(value)
        if moment is None:
            raise ValueError("unreadable expiration")
        return moment
    if not 0 <= seconds <= 10 * 366 * 86400:  # `money` is finite; beyond ten years is nonsense
        raise ValueError("expiration out of range")
    return now + timedelta(seconds=float(seconds))


def utc_now() -> datetime:
    return datetime.now(UTC)
