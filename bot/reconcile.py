"""Purchases of unknown outcome: found at the provider and adopted, or the chat is told plainly.

A purchase that timed out, or whose process died while placing it, may still have bought a number.
Rather than buy again, the poller asks again with the same idempotency key where the provider
has them (kiwiSMS replays the first outcome), or reads the account's recent orders (live or finished: a number may
have got its code already): one this chat does not have, for the same service (and plan), created
after the purchase started, is that purchase; it is adopted, its card and any codes appear. Where
the provider cannot list orders (NonVoipUsNumber), or nothing turns up for a while, the chat is
told once that it may have been charged, where to check, and offered a "Buy again anyway" that
needs its own confirmation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from handlers import keyboards, texts
from handlers.chat_language import speaking_to
from handlers.delivery import Delivery
from handlers.services import Services
from providers.base import OrderListing, ProviderClient
from providers.errors import ProviderError, ProviderUnavailable
from providers.models import PlacedOrder, RemoteOrder
from storage.database import utcnow
from storage.records import PurchaseRecord, PurchaseState

logger = logging.getLogger(__name__)

# Provider clocks differ from ours; a little slack when comparing creation times.
CLOCK_SKEW = timedelta(minutes=2)
# How long the order list is searched before the chat is told it could not be found (the search
# goes on for a day: a late find still becomes an order and a card).
SEARCH_BEFORE_TELLING = timedelta(minutes=2)


def match(purchase: PurchaseRecord, candidates: Iterable[RemoteOrder]) -> RemoteOrder | None:
    """The provider order that is this purchase: same service (and plan), created after it began."""
    for remote in candidates:
        if remote.service not in purchase.service_ids:
            continue
        if purchase.plan_id and remote.plan_id and remote.plan_id != purchase.plan_id:
            continue
        if remote.created_at is not None and remote.created_at < purchase.created_at - CLOCK_SKEW:
            continue
        return remote
    return None


class Reconciler:
    def __init__(self, services: Services, delivery: Delivery, bot: Bot) -> None:
        self._services = services
        self._delivery = delivery
        self._bot = bot

    async def reconcile(self, client: ProviderClient, chat_id: int, purchases: list[PurchaseRecord]) -> None:
        if client.capabilities.idempotent_purchase:
            for purchase in purchases:
                await self._replay(client, purchase)
            return
        if not isinstance(client, OrderListing):
            for purchase in purchases:  # nothing can find it: say so at once
                await self.tell_unconfirmed(purchase)
            return
        since = min(p.created_at for p in purchases) - CLOCK_SKEW
        remote = await client.recent_orders(since)
        ours = await self._services.orders.remote_ids_since(chat_id, client.provider, since - CLOCK_SKEW)
        unclaimed = [r for r in remote if r.order_id not in ours]
        for purchase in sorted(purchases, key=lambda p: p.created_at):
            found = match(purchase, unclaimed)
            if found is not None:
                unclaimed.remove(found)
                await self._adopt(purchase, PlacedOrder((found,)))
            elif utcnow() - purchase.created_at >= SEARCH_BEFORE_TELLING:
                await self.tell_unconfirmed(purchase)

    async def _replay(self, client: ProviderClient, purchase: PurchaseRecord) -> None:
        """Providers with idempotency keys (kiwiSMS) answer the same request with the same key by
        replaying its first outcome, without charging again: the surest way to find the order,
        even one that already got its code and left the live list. If the first attempt never
        reached the provider, this places the one purchase the user confirmed."""
        try:
            outcome = await client.place_order(purchase.order_request())
        except ProviderUnavailable:
            return  # still unknown: next tick
        except ProviderError as exc:
            if await self._services.purchases.transition(
                purchase.id, purchase.chat_id, PurchaseState.UNKNOWN, PurchaseState.FAILED, exc.user_message
            ):
                async with speaking_to(self._services.db, purchase.chat_id):  # outside an update
                    text = texts.purchase_failed(purchase.provider, exc.user_message)
                await self._say(purchase.chat_id, text)
            return
        if isinstance(outcome, PlacedOrder):
            await self._adopt(purchase, outcome)

    async def _say(self, chat_id: int, text: str) -> None:
        try:
            await self._bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            logger.warning("could not tell chat %s: %s", chat_id, type(exc).__name__)

    async def _adopt(self, purchase: PurchaseRecord, placed: PlacedOrder) -> None:
        orders = await self._services.purchases.complete(purchase, placed)
        if not orders:
            return  # the placing task recorded it meanwhile
        logger.info("purchase %s reconciled as order(s) %s", purchase.id, [o.id for o in orders])
        for order, remote in zip(orders, placed.orders):
            # Codes that came while the bot did not know the order follow its card.
            await self._delivery.show_found_order(order, remote, texts.reconciled)

    async def tell_unconfirmed(self, purchase: PurchaseRecord) -> None:
        """Once per purchase: it may have been charged; where to check; buy again only on purpose."""
        if not await self._services.purchases.mark_notified(purchase.id):
            return
        async with speaking_to(self._services.db, purchase.chat_id):  # outside an update
            text, markup = texts.purchase_unconfirmed(purchase), keyboards.buy_again(purchase)
        try:
            await self._bot.send_message(purchase.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except TelegramError as exc:
            logger.warning("could not tell chat about purchase %s: %s", purchase.id, type(exc).__name__)
            await self._services.purchases.unmark_notified(purchase.id)  # told next tick instead
