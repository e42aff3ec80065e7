"""Auto-cancel (a per-chat setting, handlers/auto_cancel.py): an order with no code for N minutes is
cancelled while its provider still refunds that, and the chat is told once what came back.

Only orders whose provider's cancel or reject refunds (their capabilities offer Cancel / Reject in
the order's state: kiwiSMS cancel, NonVoipUsNumber reject before an SMS; GotSMS's refund is the
provider's decision, so never automatic), only while the order waits for its first code (no SMS
stored) and before it ends. The cancel is the Cancel button's: the provider's answer goes through
`Delivery.apply`, whose compare-and-set on the order's status lets exactly one process move it;
only that one tells the chat (and the notice's key makes even that once per order).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram.ext import ContextTypes

from handlers.accounts import account_gone_line
from handlers.chat_language import speaking_to
from handlers.delivery import Delivery
from handlers.orders import finish_order
from handlers.services import SERVICES_KEY, Services
from handlers.texts import again as again_texts
from providers.errors import ProviderError
from providers.models import Action, OrderStatus, ProviderId
from providers.registry import capabilities_of
from storage.again import AgainStore
from storage.database import utcnow
from storage.records import OrderRecord

logger = logging.getLogger(__name__)

AUTO_CANCEL_JOB = "auto_cancel"
AUTO_CANCEL_SECONDS = 15.0  # how often idle orders are looked for
# An order this close to its end is left to expire (refunded by the provider where unused):
# a cancel sent now might reach the provider after its window.
END_MARGIN = timedelta(seconds=30)
NOTICE_KEY = "auto_cancel"


class AutoCancel:
    def __init__(self, services: Services, delivery: Delivery) -> None:
        self._services = services
        self._delivery = delivery

    async def run_once(
        self, now: datetime | None = None, only: frozenset[tuple[int, ProviderId]] | None = None
    ) -> int:
        """Cancel every due order of every chat that asked for it (of the accounts in `only`, when
        given: a worker's leased ones); returns how many this call moved."""
        moment = now or utcnow()
        cancelled = 0
        for chat_id, minutes in (await AgainStore(self._services.db).auto_cancel_chats()).items():
            for order in await self._services.orders.active_for_chat(chat_id):
                if only is not None and (order.chat_id, order.provider) not in only:
                    continue
                if await self._due(order, minutes, moment) and await self._cancel(order, minutes):
                    cancelled += 1
        return cancelled

    async def _due(self, order: OrderRecord, minutes: int, now: datetime) -> bool:
        if order.status is not OrderStatus.WAITING or _refunding_action(order) is None:
            return False
        if order.created_at > now - timedelta(minutes=minutes):
            return False
        if order.expires_at is not None and order.expires_at <= now + END_MARGIN:
            return False
        if await self._services.messages.has_sms(order.id):
            return False  # a code came (maybe before the status says so): never cancelled
        # Its account is disconnected or replaced: another account's client must not act on it.
        return await account_gone_line(self._services, order) is None

    async def _cancel(self, order: OrderRecord, minutes: int) -> bool:
        client = await self._services.client_for(order.chat_id, order.provider)
        action = _refunding_action(order)
        if client is None or action is None:
            return False
        try:
            remote = await finish_order(client, action, order.remote_id)
        except ProviderError as exc:
            # Refused or unreachable: the order stays as it is (the next run may try again).
            logger.info("auto-cancel of order %s refused: %s", order.id, type(exc).__name__)
            return False
        updated = await self._delivery.apply(order, remote, announce_end=False)
        if updated is order or updated.status is not OrderStatus.CANCELLED:
            return False  # another process (or a poll) moved it first, or the provider did not cancel
        refund = updated.price if updated.refunded else None
        async with speaking_to(self._services.db, updated.chat_id):  # a job: no update set the language
            text = again_texts.auto_cancelled(updated.service_name, updated.phone, minutes, refund)
        notice = await self._services.messages.add_notice(updated, NOTICE_KEY, text)
        if notice is not None:
            await self._delivery.send(notice, updated)  # the outbox sends it if this fails
        logger.info("order %s auto-cancelled after %s min (refunded: %s)", order.id, minutes, updated.refunded)
        return True


def _refunding_action(order: OrderRecord) -> Action | None:
    """Cancel or Reject where the provider offers it for this order now (both refund)."""
    allowed = capabilities_of(order.provider).order_actions(order.status, order.section)
    return next((a for a in (Action.CANCEL, Action.REJECT) if a in allowed), None)


async def auto_cancel_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback: in a worker, for the accounts it leased at its last tick."""
    poller = context.bot_data.get("poller")
    only = poller.held if poller is not None else None
    await AutoCancel(context.bot_data[SERVICES_KEY], context.bot_data["delivery"]).run_once(only=only)
