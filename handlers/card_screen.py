"""An order's card shown as the current screen, in the chat's time zone."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, Update

from handlers import accounts, keyboards, texts
from handlers.common import show
from handlers.services import Services
from handlers.zones import chat_zone
from providers.models import OrderStatus
from storage.records import OrderRecord

if TYPE_CHECKING:  # delivery renders cards with `card_screen` too
    from handlers.delivery import Delivery


async def card_screen(services: Services, order: OrderRecord) -> tuple[str, InlineKeyboardMarkup]:
    """The card's text (its latest codes, times in the chat's zone) and its buttons."""
    codes = (await services.messages.codes_by_order([order.id])).get(order.id, [])
    if codes and order.status is OrderStatus.WAITING:
        # A code arrived: text and buttons both follow "code received", whatever the snapshot says.
        order = replace(order, status=OrderStatus.RECEIVED)
    zone = await chat_zone(services, order.chat_id)
    gone = await accounts.gone_card(services, order)
    if gone is not None:  # its account is disconnected or replaced: the card says so
        line, markup = gone
        return texts.order_card(order, codes, zone, account_gone=line), markup
    return texts.order_card(order, codes, zone), keyboards.order_card(order)


async def show_card(
    update: Update, services: Services, order: OrderRecord, delivery: Delivery | None = None
) -> None:
    """The card in place of the pressed message (or as a new one). With `delivery`, the message
    that shows it becomes the one the poller keeps up to date."""
    text, markup = await card_screen(services, order)
    shown = await show(update, text, markup)
    if delivery is not None and shown is not None and shown.message_id != order.card_message_id:
        await delivery.attach_card(order, shown.message_id)


async def show_over_card(
    update: Update, services: Services, order: OrderRecord, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """A screen of the order's own (a paid action's card, a question, a list) in place of its card:
    until the card comes back (`show_card` with `delivery`), that message is no longer the card the
    poller keeps up to date, so a code arriving meanwhile does not wipe the screen (the code comes
    as its own message)."""
    shown = await show(update, text, markup)
    if shown is not None:
        await services.orders.detach_card(order.chat_id, shown.message_id)
