"""Polling providers with an account-wide unread-messages endpoint (GotSMS).

One request per account per tick returns every new SMS of every rent; rents whose term is
over are looked up once to learn how they ended; long rents get a reminder before they end.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from handlers.delivery import REMINDER, Delivery
from handlers.services import Services
from handlers import texts
from providers.base import ProviderClient
from providers.errors import OrderNotFound, ProviderError
from providers.models import IncomingSms, OrderStatus, RemoteOrder
from storage.database import utcnow
from storage.records import OrderRecord

logger = logging.getLogger(__name__)

# Rents of at least REMINDER_MIN_TERM are reminded REMINDER_BEFORE their end.
REMINDER_BEFORE = timedelta(hours=24)
REMINDER_MIN_TERM = timedelta(days=2)


async def poll_unread(
    services: Services,
    delivery: Delivery,
    client: ProviderClient,
    orders: list[OrderRecord],
    known: dict[int, set[str]],
) -> None:
    by_remote = {o.remote_id: o for o in orders}
    fresh: dict[int, list[IncomingSms]] = {}
    for rent_id, sms in await client.unread_messages(mark_as_read=True):  # type: ignore[attr-defined]
        order = by_remote.get(rent_id)
        if order is None or sms.message_id in known.get(order.id, set()):
            continue  # not a rent of ours (bought elsewhere), or already stored
        fresh.setdefault(order.id, []).append(sms)
    now = utcnow()
    for order in orders:
        if order.id in services.busy_orders:
            continue
        if order.id in fresh:
            await delivery.apply(order, _with_messages(order, fresh[order.id]), known.get(order.id, set()))
        if order.expires_at is not None and order.expires_at <= now:
            await _ended(delivery, client, order)
        elif _due_reminder(order, now):
            notice = await services.messages.add_notice(order, REMINDER, texts.rent_ending(order))
            if notice is not None:
                await delivery.send(notice, order)


def _with_messages(order: OrderRecord, messages: list[IncomingSms]) -> RemoteOrder:
    """The order as stored, with its new messages: unread messages carry no rent state."""
    return RemoteOrder(
        order_id=order.remote_id,
        phone=order.phone,
        service=order.service,
        service_name=order.service_name,
        price=order.price,
        status=OrderStatus.RECEIVED,
        expires_at=None,
        messages=tuple(messages),
    )


async def _ended(delivery: Delivery, client: ProviderClient, order: OrderRecord) -> None:
    """The term is over: ask the provider how the rent stands (auto-renewal may have extended it)."""
    try:
        remote = await client.get_order(order.remote_id)
    except OrderNotFound:
        logger.warning("rent of order %s vanished", order.id)
        return
    except ProviderError as exc:
        logger.info("rent of order %s not checked: %s", order.id, type(exc).__name__)
        return
    await delivery.apply(order, remote)


def _due_reminder(order: OrderRecord, now: object) -> bool:
    if order.expires_at is None:
        return False
    term = order.expires_at - order.created_at
    return term >= REMINDER_MIN_TERM and order.expires_at - REMINDER_BEFORE <= now  # type: ignore[operator]
