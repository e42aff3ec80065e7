"""/orders and the order card's buttons: Cancel, Done, Renew, Refresh."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers.delivery import Delivery
from handlers.services import Services, get_services
from handlers import callbacks as cb
from handlers import keyboards, paid_actions, rent_actions, texts
from handlers.common import answer, chat_id_of, clear_pending_step, show
from handlers.paid_actions import PAID_ACTIONS
from handlers.rent_actions import RENT_ACTIONS
from providers.base import Activatable, Cancellable, Finishable, ProviderClient, Rejectable
from providers.errors import NotAllowedNow, ProviderError
from providers.registry import capabilities_of
from providers.models import Action, RemoteOrder
from storage.records import OrderRecord

logger = logging.getLogger(__name__)

_DONE_ANSWERS: dict[Action, str] = {
    Action.CANCEL: "Cancelled.",
    Action.REJECT: "Rejected.",
    Action.DONE: "Marked as done.",
    Action.ACTIVATE: "Activated.",
    Action.REFRESH: "Updated.",
}


async def orders_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every active order as its own card."""
    await clear_pending_step(update, context)
    await answer(update)
    services = get_services(context)
    orders = await services.orders.active_for_chat(chat_id_of(update))
    if not orders:
        await show(update, texts.NO_ACTIVE_ORDERS, keyboards.main_menu())
        return
    codes = await services.messages.codes_by_order(o.id for o in orders)
    chat = update.effective_chat
    assert chat is not None
    for order in orders:
        card = await chat.send_message(
            texts.order_card(order, codes.get(order.id, [])),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboards.order_card(order),
        )
        # The newest card is the one the poller keeps up to date.
        await services.orders.set_card(order.id, card.message_id)


async def order_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One action on one order of this chat."""
    tap = cb.decode(update.callback_query.data if update.callback_query else None)
    services = get_services(context)
    if not isinstance(tap, cb.OrderTap):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    action, option = tap.action, tap.option
    order = await services.orders.get(tap.order_id, chat_id_of(update))
    if order is None:
        await answer(update, texts.NOT_YOUR_ORDER, alert=True)
        return
    capabilities = capabilities_of(order.provider)
    if action not in capabilities.order_actions(order.status, order.section):
        await answer(update, texts.ORDER_FINISHED if order.status.is_final else texts.ACTION_NOT_AVAILABLE, alert=True)
        await _show_card(update, services, order)
        return
    durations = capabilities.durations_for(order.section)
    if action is Action.RENEW and durations and option not in durations:
        # Providers that renew for a chosen duration: offer the durations first.
        await answer(update)
        await show(update, texts.choose_renewal(order), keyboards.renew_durations(order, durations))
        return
    # No lock in memory: whatever the poller does meanwhile, every SMS is stored once (database
    # dedup) and a final status never changes, so an action and a poll may run side by side.
    if action in PAID_ACTIONS and (action is not Action.EXTEND or option is not None):
        await _offer_paid(update, services, order, action, option)
    elif action in RENT_ACTIONS:
        await rent_actions.perform(update, context, services, order, action, option)
    else:
        await _perform(update, context, services, order, action, option)


async def _perform(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    services: Services,
    order: OrderRecord,
    action: Action,
    option: str | None,
) -> None:
    client = await services.client_for(order.chat_id, order.provider)
    if client is None:
        await answer(update, f"{texts.provider_name(order.provider)} is not connected; /connect it first.", alert=True)
        return
    delivery: Delivery = context.bot_data["delivery"]
    note = _DONE_ANSWERS[action]
    try:
        if action is Action.REFRESH:
            order = await delivery.apply(order, await client.get_order(order.remote_id))
        elif action is Action.ACTIVATE and isinstance(client, Activatable):
            window = await client.activate(order.remote_id)
            note = texts.activation(window)
        else:
            # The user asked for it: no "cancelled on the provider's side" notice.
            order = await delivery.apply(order, await _finish(client, action, order.remote_id), announce_end=False)
            if action in (Action.CANCEL, Action.REJECT) and order.refunded:
                note = f"{note[:-1]} — refunded."
    except ProviderError as exc:
        await answer(update, exc.user_message[:190], alert=True)
        return
    await _show_card(update, services, order)
    # Answered last, so the answer means the whole action (card included) is finished.
    await answer(update, note, alert=action is Action.ACTIVATE)


async def _offer_paid(
    update: Update, services: Services, order: OrderRecord, action: Action, option: str | None
) -> None:
    """Renew / Reuse / Extend to a plan: a card with the amount first; Confirm performs it."""
    client = await services.client_for(order.chat_id, order.provider)
    if client is None:
        await answer(update, f"{texts.provider_name(order.provider)} is not connected; /connect it first.", alert=True)
        return
    try:
        await paid_actions.offer(update, services, client, order, action, option)
    except ProviderError as exc:
        await answer(update, exc.user_message[:190], alert=True)


async def _finish(client: ProviderClient, action: Action, remote_id: str) -> RemoteOrder:
    """Cancel, Reject or Done, through the ability that does it."""
    if action is Action.CANCEL and isinstance(client, Cancellable):
        return await client.cancel(remote_id)
    if action is Action.REJECT and isinstance(client, Rejectable):
        return await client.reject(remote_id)
    if action is Action.DONE and isinstance(client, Finishable):
        return await client.done(remote_id)
    raise NotAllowedNow(texts.ACTION_NOT_AVAILABLE)


async def _show_card(update: Update, services: Services, order: OrderRecord) -> None:
    codes = (await services.messages.codes_by_order([order.id])).get(order.id, [])
    await show(update, texts.order_card(order, codes), keyboards.order_card(order))
