"""Polling an account-wide feed of new SMS that marks what it returns as read (GotSMS).

One request per account per tick returns every new SMS of every rent. Because the provider marks
them read as it answers, the answer itself can never be relied on: the poll is recorded in the
database before it is sent (`feed_recovery`) and cleared only once every returned SMS is stored.
A record left behind — a failed, truncated or malformed answer, a kill -9 in between — makes the
next poll read each live rent's own message list from that moment: whatever was marked read and
lost is found there, and the stored ids keep it from arriving twice. In the normal case that costs
no request per rent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from handlers.delivery import Delivery
from handlers.services import Services
from providers.base import FeedItem, ProviderClient, UnreadFeed
from providers.errors import OrderNotFound, ProviderError
from providers.models import IncomingSms, ProviderId
from storage.database import utcnow
from storage.records import OrderRecord

logger = logging.getLogger(__name__)

# Provider clocks differ from ours: recovery reads a little further back than the lost poll.
CLOCK_SKEW = timedelta(minutes=2)


async def poll_feed(
    services: Services,
    delivery: Delivery,
    client: UnreadFeed,
    chat_id: int,
    orders: list[OrderRecord],
    known: dict[int, set[str]],
    *,
    purchases_pending: bool = False,
) -> None:
    assert isinstance(client, ProviderClient)
    provider = client.provider
    if not orders and not purchases_pending and await services.feed_recovery.pending_since(chat_id, provider) is None:
        return
    # Recorded before the answer that marks SMS read; an earlier unfinished read is recovered.
    recovery_since = await services.feed_recovery.begin(chat_id, provider)
    items = await client.unread_messages(mark_as_read=True)
    unmatched = await _store_feed(services, delivery, chat_id, provider, orders, known, items)
    if recovery_since is not None:
        since = recovery_since - CLOCK_SKEW
        # Rents that ended since the lost answer may have had an SMS in it too.
        ended = await services.orders.ended_since(chat_id, provider, since)
        await _recover(delivery, client, [*orders, *ended], known, since)
    # An SMS of a rent we do not know yet may belong to a purchase still being reconciled: keep
    # the record so its rent's messages are read once it is adopted. Otherwise (a rent bought
    # outside the bot) there is nothing of ours to lose.
    if not (unmatched and purchases_pending):
        await services.feed_recovery.finish(chat_id, provider)
    await _check_ended(delivery, client, orders)


async def _store_feed(
    services: Services,
    delivery: Delivery,
    chat_id: int,
    provider: ProviderId,
    orders: list[OrderRecord],
    known: dict[int, set[str]],
    items: list[FeedItem],
) -> bool:
    """Store (and send) every SMS the feed returned; True if some belong to no order of ours."""
    by_remote = {o.remote_id: o for o in orders}
    grouped: dict[str, list[IncomingSms]] = defaultdict(list)
    for item in items:
        grouped[item.order_id].append(item.sms)
    unmatched = False
    for remote_id, messages in grouped.items():
        order = by_remote.get(remote_id)
        if order is None:  # ended a moment ago, or bought since this tick read its orders
            order = await services.orders.by_remote_id(chat_id, provider, remote_id)
        if order is None:
            unmatched = True
            continue
        await delivery.apply(order, order.with_messages(messages), known.get(order.id, set()))
    return unmatched


async def _recover(
    delivery: Delivery, client: UnreadFeed, orders: list[OrderRecord], known: dict[int, set[str]], since: datetime
) -> None:
    """Read each live rent's own messages since the lost poll; stored ids drop what we have."""
    for order in orders:
        messages = await client.order_messages(order.remote_id, since=since)
        if messages:
            await delivery.apply(order, order.with_messages(list(messages)), known.get(order.id, set()))
    logger.info("recovered the unread feed of %d rent(s)", len(orders))


async def _check_ended(delivery: Delivery, client: ProviderClient, orders: list[OrderRecord]) -> None:
    """Rents whose term is over: ask how they stand (auto-renewal may have extended them)."""
    now = utcnow()
    for order in orders:
        if order.expires_at is None or order.expires_at > now:
            continue
        try:
            remote = await client.get_order(order.remote_id)
        except OrderNotFound:
            logger.warning("rent of order %s vanished", order.id)
            continue
        except ProviderError as exc:
            logger.info("rent of order %s not checked: %s", order.id, type(exc).__name__)
            continue
        await delivery.apply(order, remote)
