"""NonVoipUsNumber callbacks: `incoming_message` and `auction_wining`, trusted for the account's own orders.

These callbacks carry no signature: the URL's random per-account token is what names the account,
and a callback is acted on only for that account's orders. An SMS for an order the account does
not have is ignored. A won auction names an order the bot may not know yet (a premium bid whose
answer was lost): it is confirmed with the API (getsms under the account's credentials) before it
becomes an order and a card in the chat, once — a second callback finds the order recorded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from bot.hooks.common import ACCEPTED, HookAnswer, Spawn, store_sms
from handlers import texts
from handlers.delivery import Delivery
from handlers.services import Services
from providers.errors import OrderNotFound, ProviderError
from providers.models import PlacedOrder, ProviderId, RemoteOrder
from providers.nonvoip.callbacks import parse_callback
from providers.nonvoip.capabilities import SHORT_TERM
from storage.hooks import AccountHook
from storage.records import PurchaseRecord

logger = logging.getLogger(__name__)

PROVIDER = ProviderId.NONVOIP
UNREADABLE_EVENT = HookAnswer(400, "unreadable body or unknown event")
NOT_OURS = HookAnswer(200, "ignored: not an order of this account")
# A won auction no purchase of the chat was waiting for (a bid placed elsewhere on the account).
_CENT = Decimal("0.01")


def awaited_bid(purchases: list[PurchaseRecord], won: RemoteOrder) -> PurchaseRecord | None:
    """The chat's premium bid (placing, or of unknown outcome) this won order is the outcome of:
    same service, oldest first (a bid is only ever a one-service 10-minutes order)."""
    for purchase in purchases:
        if _bid_of(purchase) is None:
            continue
        if purchase.service_name.strip().casefold() == won.service.strip().casefold():
            return purchase
    return None


def _bid_of(purchase: PurchaseRecord) -> int | None:
    if not purchase.decision:
        return None
    try:
        decision = json.loads(purchase.decision)
        return int(decision["bid"]) if decision.get("kind") == "premium" else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def bid_price(purchase: PurchaseRecord) -> Decimal:
    """What the won bid cost: the bid is a percentage on top of the card's price."""
    bid = _bid_of(purchase) or 0
    return (purchase.price * (100 + bid) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)


class NonVoipHooks:
    def __init__(self, services: Services, delivery: Delivery, spawn: Spawn) -> None:
        self._services = services
        self._delivery = delivery
        self._spawn = spawn

    async def receive(self, hook: AccountHook, body: bytes) -> HookAnswer:
        chat_id = hook.chat_id
        update = parse_callback(body)
        if update is None:
            return UNREADABLE_EVENT
        if update.sms is not None:
            order = await self._services.orders.by_remote_id(chat_id, PROVIDER, update.sms.order_id)
            if order is None:
                return NOT_OURS
            follow = await store_sms(self._delivery, order, update.sms.sms)
            if follow is not None:
                self._spawn(follow)
            await self._services.hooks.mark_callback(chat_id, PROVIDER)
            return ACCEPTED
        if update.won:
            # Confirmed and recorded before the answer: NonVoipUsNumber has no order list, so a won
            # order that a process death lost after a 200 could never be found again.
            await self._adopt_won(chat_id, update.won)
            return ACCEPTED
        return UNREADABLE_EVENT

    async def _adopt_won(self, chat_id: int, won: tuple[RemoteOrder, ...]) -> None:
        for remote in won:
            if await self._services.orders.by_remote_id(chat_id, PROVIDER, remote.order_id) is not None:
                await self._services.hooks.mark_callback(chat_id, PROVIDER)  # known already: no news
                continue
            confirmed = await self._confirm(chat_id, remote)
            if confirmed is None:
                continue
            await self._services.hooks.mark_callback(chat_id, PROVIDER)
            await self._record(chat_id, confirmed)

    async def _confirm(self, chat_id: int, won: RemoteOrder) -> RemoteOrder | None:
        """The won order as the provider shows it to THIS account, if it is live there; else None."""
        client = await self._services.client_for(chat_id, PROVIDER)
        if client is None:
            logger.info("won auction for chat %s ignored: account not connected", chat_id)
            return None
        try:
            current = await client.get_order(won.order_id)
        except OrderNotFound:
            logger.warning("won auction for chat %s ignored: the provider does not know it as this account's", chat_id)
            return None
        except ProviderError as exc:
            logger.warning("won auction for chat %s not confirmed: %s", chat_id, type(exc).__name__)
            return None
        if current.status.is_final:
            logger.info("won auction for chat %s ignored: the order is %s", chat_id, current.status.value)
            return None
        # The callback says what the number is for and until when; getsms its state and any SMS.
        return replace(won, status=current.status, messages=current.messages, phone=won.phone or current.phone)

    async def _record(self, chat_id: int, confirmed: RemoteOrder) -> None:
        """The purchase that was waiting for it, if any, becomes placed with it; else a new order.
        Either insert happens once, whoever else (a second callback, the placing task) tries."""
        pending = await self._services.purchases.outcome_pending(chat_id, PROVIDER)
        purchase = awaited_bid(pending, confirmed)
        if purchase is not None:
            placed = PlacedOrder((replace(confirmed, price=bid_price(purchase)),))
            orders = await self._services.purchases.complete(purchase, placed)
            if orders:
                logger.info("purchase %s placed by its won auction as order(s) %s", purchase.id, [o.id for o in orders])
                for order in orders:
                    await self._delivery.show_found_order(order, confirmed, texts.reconciled)
                return
        order = await self._services.orders.add_new(chat_id, PROVIDER, confirmed, SHORT_TERM)
        if order is not None:
            logger.info("won auction recorded as order %s", order.id)
            await self._delivery.show_found_order(order, confirmed, texts.auction_won)
