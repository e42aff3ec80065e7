"""From a provider's view of an order to the chat: every SMS stored first, then sent once.

Nothing here decides in memory what was sent: a message is stored (its insert says whether it was
new) and claimed in the database with a lease before it goes out — a new code is inserted already
claimed by the sender that found it — then marked delivered. A sender that dies leaves a claim
that runs out; the next flush sends the row — once. Card edits give way to messages
(handlers/card_edits.py): codes first when Telegram's rate limit is the bottleneck.

Nothing here runs inside the chat's update (poller ticks, callbacks, jobs): every text and keyboard
is written inside `speaking_to(chat)`, in the chat's language — a notice when it is stored, a code
message, a reminder's buttons and a card when they are sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers import keyboards, texts
from handlers.card_edits import CardEdits
from handlers.card_screen import card_screen
from handlers.chat_language import speaking_to
from handlers.metrics import CODE_LATENCY, CODES_DELIVERED
from handlers.services import Services
from providers.models import OrderStatus, RemoteOrder
from providers.registry import capabilities_of
from storage.database import utcnow
from storage.messages import KIND_SMS, NOTICE_PREFIX, SOURCE_POLL
from storage.records import MessageRecord, OrderRecord

logger = logging.getLogger(__name__)

REMINDER = "reminder"


def reminder_key(order: OrderRecord) -> str:
    """One reminder per term: a renewal moves the end, and with it the key."""
    end = order.expires_at.isoformat() if order.expires_at else "none"
    return f"{REMINDER}:{end}"


class Delivery:
    def __init__(self, services: Services, bot: Bot) -> None:
        self._services = services
        self._bot = bot
        self.cards = CardEdits(self.update_card)

    async def apply(
        self,
        order: OrderRecord,
        remote: RemoteOrder,
        known: set[str] | None = None,
        *,
        announce_end: bool = True,
        source: str = SOURCE_POLL,
    ) -> OrderRecord:
        """Store what is new in `remote` (before anything else), send it, update the status and
        tell the chat if the order ended.

        `known` (provider message ids already stored) spares the database a write per poll;
        `announce_end=False` when the user ended the order themselves; `source`: the path that
        brought the SMS (poll or callback)."""
        with self.cards.busy():
            inserted = await self.store(order, remote, known, source=source)
            return await self.follow(order, remote, inserted, announce_end=announce_end)

    async def store(
        self, order: OrderRecord, remote: RemoteOrder, known: set[str] | None = None, *, source: str = SOURCE_POLL
    ) -> list[MessageRecord]:
        """The first half of `apply`: store what is new, claimed by this sender (see the module
        docstring); returns exactly the rows inserted. A callback stores before it answers."""
        fresh = [m for m in remote.messages if known is None or m.message_id not in known]
        if not fresh:
            return []
        return await self._services.messages.add_sms(order, fresh, source=source, claimed=True)

    async def follow(
        self, order: OrderRecord, remote: RemoteOrder, inserted: list[MessageRecord], *, announce_end: bool = True
    ) -> OrderRecord:
        """The second half of `apply`: the order's new status, the `inserted` rows sent, the end
        announced, the card brought up to date."""
        with self.cards.busy():
            updated = await self._update_status(order, remote, got_code=bool(remote.messages))
            for message in inserted:
                await self._deliver(message, updated)
            if updated.status.is_final and updated is not order and announce_end:
                await self._announce_end(updated)
        if inserted or updated is not order:
            self.cards.request(updated)  # after the codes, not between them
        return updated

    async def _update_status(self, order: OrderRecord, remote: RemoteOrder, *, got_code: bool) -> OrderRecord:
        """Move a live order forward; a final state (what the bot cancelled or refunded) never changes."""
        status = remote.status
        if got_code and status is OrderStatus.WAITING:
            status = OrderStatus.RECEIVED  # a code arrived: never "waiting for the SMS" again
        if order.status is OrderStatus.RECEIVED and status is OrderStatus.WAITING:
            status = OrderStatus.RECEIVED  # status never goes backwards (a provider that cannot tell)
        refunded = remote.refunded
        if status is OrderStatus.EXPIRED and refunded is None and capabilities_of(order.provider).refunds_unused_expiry:
            refunded = not await self._services.messages.has_sms(order.id)
        changed = (
            status != order.status
            or (refunded is not None and refunded != order.refunded)
            or (remote.expires_at is not None and remote.expires_at != order.expires_at)
        )
        if not changed or order.status.is_final:
            return order
        if not await self._services.orders.update_status(
            order.id, status, refunded=refunded, expires_at=remote.expires_at
        ):
            return order  # someone else ended it first (and told the chat)
        return replace(
            order,
            status=status,
            refunded=refunded if refunded is not None else order.refunded,
            expires_at=remote.expires_at or order.expires_at,
        )

    async def _announce_end(self, order: OrderRecord) -> None:
        """Once per order: the notice's key makes a second insert (anyone's) a no-op."""
        had_code = await self._services.messages.has_sms(order.id)  # what we stored, not the last answer
        async with speaking_to(self._services.db, order.chat_id):
            notice = texts.finished_notice(order, order.status, order.refunded, had_code=had_code)
        record = await self._services.messages.add_notice(order, order.status.value, notice, claimed=True)
        if record is not None:
            await self._deliver(record, order)

    async def remind(self, order: OrderRecord) -> None:
        """A reminder before a long rental ends, with the order's buttons; once per term."""
        async with speaking_to(self._services.db, order.chat_id):
            reminder = texts.rent_ending(order)
        record = await self._services.messages.add_notice(order, reminder_key(order), reminder, claimed=True)
        if record is not None:
            await self._deliver(record, order)

    async def send(self, message: MessageRecord, order: OrderRecord) -> bool:
        """Claim the row in the database, send it, mark it delivered. False when another sender
        holds it, it was delivered already, or Telegram failed (it stays in the outbox)."""
        claimed = await self._services.messages.claim(message.id, self._services.outbox_lease)
        if claimed is None:
            return False
        return await self._deliver(claimed, order)

    async def _deliver(self, message: MessageRecord, order: OrderRecord) -> bool:
        """Send a row this sender holds (claimed), then mark it delivered."""
        with self.cards.busy():
            return await self._send_claimed(message, order)

    async def _send_claimed(self, message: MessageRecord, order: OrderRecord) -> bool:
        if message.chat_id != order.chat_id or message.order_id != order.id:
            # A row is only ever sent to the chat of its own row.
            logger.error("message %s does not belong to order %s; not sent", message.id, order.id)
            return False
        async with speaking_to(self._services.db, message.chat_id):
            if message.kind == KIND_SMS:
                text = texts.code_message(order, message.code, message.text, message.service_name)
                markup = keyboards.code_message(message.code)
            else:
                text = message.text  # a notice: written in the chat's language when it was stored
                # A reminder carries the order's buttons (Renew / Auto-renewal / Extend).
                is_reminder = message.provider_message_id.startswith(f"{NOTICE_PREFIX}{REMINDER}:")
                markup = keyboards.order_card(order) if is_reminder and not order.status.is_final else None
        try:
            sent = await self._bot.send_message(message.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except (Forbidden, BadRequest) as exc:
            # The chat is gone or blocked us: retrying forever would not help.
            logger.warning("dropping message %s for order %s: %s", message.id, order.id, type(exc).__name__)
            await self._services.messages.mark_delivered(message.id, None)
            return False
        except TelegramError as exc:
            logger.warning("message %s for order %s stays in the outbox: %s", message.id, order.id, type(exc).__name__)
            await self._services.messages.release(message.id)
            return False
        if message.kind == KIND_SMS:
            _count_code(message, order)
        await self._services.messages.mark_delivered(message.id, sent.message_id)
        return True

    async def flush_outbox(self) -> int:
        """Send whatever a restart, a Telegram outage or a dead sender left behind; returns how many."""
        claimed = await self._services.messages.claim_batch(self._services.outbox_lease)
        orders: dict[int, OrderRecord | None] = {}
        sent = 0
        for message in claimed:
            if message.order_id not in orders:
                orders[message.order_id] = await self._services.orders.by_id(message.order_id)
            order = orders[message.order_id]
            if order is not None and await self._deliver(message, order):
                sent += 1
        return sent

    async def show_found_order(self, order: OrderRecord, remote: RemoteOrder, header: Callable[[], str]) -> None:
        """An order the bot learnt of after the fact (a reconciled purchase, a won auction): its
        card under `header` in the chat, then any code that came before the bot knew the order.
        `header` (`texts.reconciled`) is written here, in the chat's language, with the card."""
        async with speaking_to(self._services.db, order.chat_id):
            head = header()
            text, markup = await card_screen(self._services, order)
        try:
            card = await self._bot.send_message(
                order.chat_id, f"{head}\n\n{text}", parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except TelegramError as exc:
            logger.warning("could not show found order %s: %s", order.id, type(exc).__name__)
        else:
            await self.attach_card(order, card.message_id)
        await self.apply(order, remote, set())

    async def attach_card(self, shown: OrderRecord, message_id: int) -> None:
        """The chat now shows `shown` as message `message_id`: that message is the one kept up to
        date. A poll may have stored a code while the card was being sent (when it did not know
        the message yet): then the card is brought up to date at once."""
        await self._services.orders.set_card(shown.id, message_id)
        current = await self._services.orders.by_id(shown.id)
        if current is not None and (current.status != shown.status or await self._services.messages.has_sms(shown.id)):
            await self.update_card(current)

    async def update_card(self, order: OrderRecord) -> None:
        """Edit the message that shows the order. The order is read now, not taken from the caller's
        snapshot: a card attached meanwhile (attach_card writes, then reads the status; this writes
        the status, then reads the card) is never missed by both sides."""
        # Drawn from the order as stored now, not from the caller's snapshot: its status may have
        # moved meanwhile (a code, a tap), and text and buttons must agree.
        order = await self._services.orders.by_id(order.id) or order
        if order.card_message_id is None:
            return
        async with speaking_to(self._services.db, order.chat_id):
            text, markup = await card_screen(self._services, order)
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=order.chat_id,
                message_id=order.card_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                logger.info("order card %s not updated: %s", order.id, exc)
        except TelegramError as exc:
            logger.info("order card %s not updated: %s", order.id, exc)


def _count_code(message: MessageRecord, order: OrderRecord) -> None:
    """A code Telegram accepted, in `/metrics`: counted, and its latency since it was stored."""
    labels = {"provider": order.provider.value, "path": message.source or SOURCE_POLL}
    CODES_DELIVERED.labels(**labels).inc()
    if message.stored_at is not None:
        CODE_LATENCY.labels(**labels).observe((utcnow() - message.stored_at).total_seconds())
