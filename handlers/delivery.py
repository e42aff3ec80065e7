"""From a provider's view of an order to the chat: new codes once each, status, the order card."""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers.services import Services
from handlers import keyboards, texts
from providers.models import RemoteOrder
from storage.messages import KIND_SMS
from storage.records import MessageRecord, OrderRecord

logger = logging.getLogger(__name__)

REMINDER = "reminder"
REMINDER_KEY = f"notice:{REMINDER}"


class Delivery:
    """Owns sending from the outbox; `_in_flight` keeps two senders off the same message."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self._services = services
        self._bot = bot
        self._in_flight: set[int] = set()

    async def apply(
        self,
        order: OrderRecord,
        remote: RemoteOrder,
        known: set[str] | None = None,
        *,
        announce_end: bool = True,
    ) -> OrderRecord:
        """Store what is new in `remote`, send new codes, tell the chat if the order ended.

        `known` (provider message ids already stored) spares the database a write per poll;
        `announce_end=False` when the user ended the order themselves.
        """
        services = self._services
        fresh = [m for m in remote.messages if known is None or m.message_id not in known]
        inserted = await services.messages.add_sms(order, fresh) if fresh else []
        # Claimed before the next await, so a concurrent outbox flush never sends them too.
        self._in_flight.update(m.id for m in inserted)
        updated = order
        ended_now = False
        if _status_changed(order, remote):
            live_before = await services.orders.update_status(
                order.id, remote.status, refunded=remote.refunded, expires_at=remote.expires_at
            )
            if live_before:
                updated = replace(
                    order,
                    status=remote.status,
                    refunded=remote.refunded if remote.refunded is not None else order.refunded,
                    expires_at=remote.expires_at or order.expires_at,
                )
                ended_now = remote.status.is_final
        for message in inserted:
            await self._deliver(message, updated)
        if ended_now and announce_end:
            notice = texts.finished_notice(
                updated, remote.status, updated.refunded, had_code=bool(remote.messages)
            )
            record = await services.messages.add_notice(updated, remote.status.value, notice)
            if record is not None:
                self._in_flight.add(record.id)
                await self._deliver(record, updated)
        if inserted or updated is not order:
            await self.update_card(updated)
        return updated

    async def send(self, message: MessageRecord, order: OrderRecord) -> bool:
        """Send one outbox row unless another sender has it or it went out meanwhile."""
        if message.id in self._in_flight:
            return False
        self._in_flight.add(message.id)
        if await self._services.messages.is_delivered(message.id):  # sent since it was read
            self._in_flight.discard(message.id)
            return False
        return await self._deliver(message, order)

    async def _deliver(self, message: MessageRecord, order: OrderRecord) -> bool:
        """Send a claimed outbox row; it stays in the outbox if Telegram fails, and is retried next tick."""
        try:
            if message.kind == KIND_SMS:
                text = texts.code_message(order, message.code, message.text)
                markup = keyboards.code_message(message.code)
            else:
                # A reminder carries the order's buttons (Renew / Auto-renewal / Extend).
                text = message.text
                markup = keyboards.order_card(order) if message.provider_message_id == REMINDER_KEY else None
            try:
                sent = await self._bot.send_message(
                    order.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
                )
            except (Forbidden, BadRequest) as exc:
                # The chat is gone or blocked us: retrying forever would not help.
                logger.warning("dropping message %s for order %s: %s", message.id, order.id, exc)
                await self._services.messages.mark_delivered(message.id, None)
                return False
            except TelegramError as exc:
                logger.warning("message %s for order %s stays in the outbox: %s", message.id, order.id, exc)
                return False
            await self._services.messages.mark_delivered(message.id, sent.message_id)
            return True
        finally:
            self._in_flight.discard(message.id)

    async def flush_outbox(self) -> None:
        """Send whatever a restart or a Telegram outage left behind."""
        pending = [m for m in await self._services.messages.undelivered() if m.id not in self._in_flight]
        orders: dict[int, OrderRecord | None] = {}
        for message in pending:
            if message.order_id not in orders:
                orders[message.order_id] = await self._services.orders.by_id(message.order_id)
            order = orders[message.order_id]
            if order is not None:
                await self.send(message, order)

    async def update_card(self, order: OrderRecord) -> None:
        if order.card_message_id is None:
            return
        codes = (await self._services.messages.codes_by_order([order.id])).get(order.id, [])
        try:
            await self._bot.edit_message_text(
                texts.order_card(order, codes),
                chat_id=order.chat_id,
                message_id=order.card_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboards.order_card(order),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                logger.info("order card %s not updated: %s", order.id, exc)
        except TelegramError as exc:
            logger.info("order card %s not updated: %s", order.id, exc)


def _status_changed(order: OrderRecord, remote: RemoteOrder) -> bool:
    return (
        remote.status != order.status
        or (remote.refunded is not None and remote.refunded != order.refunded)
        or (remote.expires_at is not None and remote.expires_at != order.expires_at)
    )
