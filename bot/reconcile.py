"""Purchases whose outcome was unknown are matched against the account's live orders.

A purchase that timed out may still have bought a number. Rather than buy again, the poller
looks at the account's live orders: one it does not know, for the same service, created after
the purchase started, is that purchase; it is adopted and the chat gets its card.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from handlers.services import Services
from handlers import keyboards, texts
from providers.models import RemoteOrder
from storage.records import OrderRecord, PurchaseRecord

logger = logging.getLogger(__name__)

# Provider clocks differ from ours; a little slack when comparing creation times.
_CLOCK_SKEW = timedelta(minutes=2)


def match(purchase: PurchaseRecord, candidates: Iterable[RemoteOrder]) -> RemoteOrder | None:
    for remote in candidates:
        if remote.service != purchase.service:
            continue
        if remote.created_at is not None and remote.created_at < purchase.created_at - _CLOCK_SKEW:
            continue
        return remote
    return None


async def adopt(
    services: Services,
    bot: Bot,
    purchases: list[PurchaseRecord],
    remote_orders: Iterable[RemoteOrder],
    local_remote_ids: set[str],
) -> list[OrderRecord]:
    """Adopt the unknown purchases found among `remote_orders`; returns the new orders."""
    unclaimed = [r for r in remote_orders if r.order_id not in local_remote_ids]
    adopted: list[OrderRecord] = []
    for purchase in purchases:
        remote = match(purchase, unclaimed)
        if remote is None:
            continue
        unclaimed.remove(remote)
        if await services.orders.by_remote_id(purchase.chat_id, purchase.provider, remote.order_id):
            continue  # already ours (e.g. renewed from the bot meanwhile): not this purchase
        order = await services.purchases.complete(purchase, remote)
        adopted.append(order)
        logger.info("purchase %s reconciled as order %s", purchase.id, order.id)
        try:
            card = await bot.send_message(
                order.chat_id,
                f"{texts.RECONCILED}\n\n{texts.order_card(order, [])}",
                parse_mode=ParseMode.HTML,
                reply_markup=keyboards.order_card(order),
            )
        except TelegramError as exc:
            logger.warning("could not show reconciled order %s: %s", order.id, exc)
            continue
        await services.orders.set_card(order.id, card.message_id)
    return adopted
