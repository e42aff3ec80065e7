"""Order-card actions of long rentals (GotSMS): Wake up, Auto-renewal, Extend, Refund, Messages."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.card_screen import show_card, show_over_card
from handlers.delivery import Delivery
from handlers.services import Services
from handlers import keyboards, texts
from handlers.common import answer
from handlers.i18n import _, pgettext
from handlers.zones import chat_zone, short_time
from providers.base import RentManaging
from providers.errors import ProviderError
from providers.models import Action
from storage.records import OrderRecord

RENT_ACTIONS = frozenset({Action.WAKE_UP, Action.AUTO_RENEW, Action.EXTEND, Action.REFUND, Action.MESSAGES})
MESSAGES_PAGE = 5
_YES = "yes"


async def perform(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    services: Services,
    order: OrderRecord,
    action: Action,
    option: str | None,
) -> None:
    client = await services.client_for(order.chat_id, order.provider)
    if action is Action.MESSAGES and not isinstance(client, RentManaging):
        # The provider keeps no message list (or is disconnected): the SMS the bot stored.
        await _stored_messages(update, services, order, option)
        return
    if client is None:
        await answer(update, _("{provider} is not connected; /connect it first.").format(
            provider=texts.provider_name(order.provider)), alert=True)
        return
    if not isinstance(client, RentManaging):
        await answer(update, texts.action_not_available(), alert=True)
        return
    delivery: Delivery = context.bot_data["delivery"]
    try:
        if action is Action.WAKE_UP:
            message = await client.wake_up(order.remote_id)
            status = await client.number_status(order.remote_id)
            await answer(update, texts.woken(message, status, await chat_zone(services, order.chat_id)), alert=True)
        elif action is Action.AUTO_RENEW:
            await _toggle_auto_renewal(update, services, delivery, client, order)
        elif action is Action.EXTEND:
            await _extend(update, services, client, order)
        elif action is Action.REFUND:
            await _refund(update, services, delivery, client, order, option)
        elif action is Action.MESSAGES:
            await _messages(update, services, client, order, option)
    except ProviderError as exc:
        # A question answered by an alert (a refused refund) leaves the screen: the card comes back.
        await show_card(update, services, await services.orders.get(order.id, order.chat_id) or order, delivery)
        await answer(update, texts.action_refused(order.provider, exc.user_message), alert=True)


async def _toggle_auto_renewal(
    update: Update, services: Services, delivery: Delivery, client: RentManaging, order: OrderRecord
) -> None:
    """Flip it at the provider; the card then says the state its answer gave, and the button
    what a tap will do next."""
    enabled = await client.toggle_auto_renewal(order.remote_id)
    await services.orders.set_auto_renew(order.id, enabled)
    await show_card(update, services, await services.orders.get(order.id, order.chat_id) or order, delivery)
    await answer(update, texts.auto_renewal(enabled))


async def _extend(update: Update, services: Services, client: RentManaging, order: OrderRecord) -> None:
    """The longer plans the rent can move to, each with its price; a tap opens its Confirm card."""
    targets = [(texts.plan_label(p), p.id) for p in await client.extension_plans(order.remote_id)]
    if not targets:
        await answer(update, texts.no_extension(), alert=True)
        return
    await answer(update)
    await show_over_card(update, services, order, texts.choose_extension(order),
                         keyboards.order_options(order, Action.EXTEND, targets))


async def _refund(
    update: Update, services: Services, delivery: Delivery, client: RentManaging, order: OrderRecord,
    option: str | None,
) -> None:
    """Asks first; the provider decides whether a refund is allowed and says why not."""
    if option != _YES:
        await answer(update)
        await show_over_card(update, services, order, texts.refund_question(order),
                             keyboards.order_options(order, Action.REFUND, [(_("Yes, refund"), _YES)]))
        return
    remote = await client.refund(order.remote_id)
    updated = await delivery.apply(order, remote, announce_end=False)
    await show_card(update, services, updated, delivery)
    await answer(update, _("Refunded.") if updated.refunded else _("Refund requested."))


async def _messages(
    update: Update, services: Services, client: RentManaging, order: OrderRecord, before_id: str | None
) -> None:
    """The number's recent SMS, newest first, with Older to page back."""
    page = await client.number_messages(order.remote_id, limit=MESSAGES_PAGE, before_id=before_id)
    zone = await chat_zone(services, order.chat_id)
    await answer(update)
    lines = [
        f"{short_time(m.received_at, zone) if m.received_at else ''} {texts.escaped_clip(m.text, 600)}".strip()
        for m in page.messages
    ]
    options = [(pgettext("button", "Older ▶"), page.next_before_id)] if page.next_before_id else []
    await show_over_card(update, services, order, texts.number_messages(order, lines, before_id is not None, zone),
               keyboards.order_options(order, Action.MESSAGES, options))


async def _stored_messages(update: Update, services: Services, order: OrderRecord, before: str | None) -> None:
    """Every SMS the bot stored for the order, newest first, a page at a time (the card shows
    only the latest codes)."""
    before_id = int(before) if before is not None and before.isdigit() else None
    page, more = await services.messages.sms_page(order.id, before_id, MESSAGES_PAGE)
    zone = await chat_zone(services, order.chat_id)
    await answer(update)
    lines = [
        f"{short_time(m.received_at, zone)} {texts.escaped_clip(m.text or m.code or '', 600)}".strip()
        for m in page
    ]
    options = [(pgettext("button", "Older ▶"), str(page[-1].id))] if more and page else []
    await show_over_card(update, services, order, texts.number_messages(order, lines, before_id is not None, zone),
               keyboards.order_options(order, Action.MESSAGES, options))
