"""/orders (one message: a paged list of active orders, each opening its card in place) and the
order card's buttons: Cancel, Done, Renew, Refresh."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from handlers.card_screen import show_card, show_over_card
from handlers.delivery import Delivery
from handlers.services import Services, get_services
from handlers import callbacks as cb
from handlers import accounts, keyboards, paid_actions, rent_actions, screen_taps as taps, screen_texts, texts
from handlers.common import answer, chat_id_of, clear_pending_step, show
from handlers.i18n import N_, _
from handlers.zones import chat_zone
from handlers.paid_actions import PAID_ACTIONS
from handlers.rent_actions import RENT_ACTIONS
from providers.base import Activatable, Cancellable, Finishable, ProviderClient, Rejectable
from providers.errors import NotAllowedNow, ProviderError
from providers.registry import capabilities_of
from providers.models import Action, RemoteOrder
from storage.orders import reported_auto_renew
from storage.records import OrderRecord

ORDERS_PAGE_SIZE = 6
logger = logging.getLogger(__name__)

# English (marked for extraction), said with `_()` when the action is done.
_DONE_ANSWERS: dict[Action, str] = {
    Action.CANCEL: N_("Cancelled."),
    Action.REJECT: N_("Rejected."),
    Action.DONE: N_("Marked as done."),
    Action.ACTIVATE: N_("Activated."),
    Action.REFRESH: N_("Updated."),
}
_REFUNDED_ANSWERS: dict[Action, str] = {
    Action.CANCEL: N_("Cancelled — refunded."),
    Action.REJECT: N_("Rejected — refunded."),
}


def _not_connected(order: OrderRecord) -> str:
    return _("{provider} is not connected; /connect it first.").format(provider=texts.provider_name(order.provider))


async def orders_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One page of active orders, newest first: /orders, My orders, ◀ ▶ and a card's Back."""
    await clear_pending_step(update, context)
    tap = taps.decode(update.callback_query.data if update.callback_query else None)
    page = tap.page if isinstance(tap, taps.OrdersPage) else 0
    await answer(update)
    services = get_services(context)
    chat_id = chat_id_of(update)
    pressed = update.callback_query.message if update.callback_query else None
    if pressed is not None:
        # The list replaces what the message showed: if that was a card, the poller must not
        # turn it back into one.
        await services.orders.detach_card(chat_id, pressed.message_id)
    orders = list(reversed(await services.orders.active_for_chat(chat_id)))
    if not orders:
        await show(update, texts.no_active_orders(), keyboards.main_menu())
        return
    pages = keyboards.page_count_for(len(orders), ORDERS_PAGE_SIZE)
    page = min(page, pages - 1)  # an outdated ▶ past the end: the last page
    first = page * ORDERS_PAGE_SIZE
    shown = orders[first : first + ORDERS_PAGE_SIZE]
    await show(
        update,
        screen_texts.orders_list(shown, first, len(orders), page, pages),
        keyboards.orders_list(shown, first, page, pages),
    )


async def open_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An order of the list: its card in place of the list, kept up to date from then on."""
    tap = taps.decode(update.callback_query.data if update.callback_query else None)
    if not isinstance(tap, taps.OpenCard):
        await answer(update, texts.outdated_button(), alert=True)
        return
    services = get_services(context)
    order = await services.orders.get(tap.order_id, chat_id_of(update))
    if order is None:
        await answer(update, texts.not_your_order(), alert=True)
        return
    await show_card(update, services, order, context.bot_data["delivery"])
    await answer(update)


async def order_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One action on one order of this chat."""
    tap = cb.decode(update.callback_query.data if update.callback_query else None)
    services = get_services(context)
    if not isinstance(tap, cb.OrderTap):
        await answer(update, texts.outdated_button(), alert=True)
        return
    action, option = tap.action, tap.option
    order = await services.orders.get(tap.order_id, chat_id_of(update))
    if order is None:
        await answer(update, texts.not_your_order(), alert=True)
        return
    if action is not Action.MESSAGES and (gone := await accounts.account_gone_line(services, order)) is not None:
        # Its account is disconnected or replaced: acting would use another account's client.
        await answer(update, gone[:190], alert=True)
        return
    capabilities = capabilities_of(order.provider)
    if action not in capabilities.order_actions(order.status, order.section):
        await show_card(update, services, order, context.bot_data["delivery"])
        await answer(update, texts.order_finished() if order.status.is_final else texts.action_not_available(), alert=True)
        return
    durations = capabilities.durations_for(order.section)
    if action is Action.RENEW and durations and option not in durations:
        # Providers that renew for a chosen duration: offer the durations first.
        await answer(update)
        await show_over_card(update, services, order, texts.choose_renewal(order), keyboards.renew_durations(order, durations))
        return
    # No lock in memory: whatever the poller does meanwhile, every SMS is stored once (database
    # dedup) and a final status never changes, so an action and a poll may run side by side.
    if action in PAID_ACTIONS and (action is not Action.EXTEND or option is not None):
        await _offer_paid(update, context, services, order, action, option)
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
        await answer(update, _not_connected(order), alert=True)
        return
    delivery: Delivery = context.bot_data["delivery"]
    note = _(_DONE_ANSWERS[action])
    try:
        if action is Action.REFRESH:
            remote = await client.get_order(order.remote_id)
            await services.orders.set_auto_renew(order.id, reported_auto_renew(remote))
            order = await delivery.apply(order, remote)
        elif action is Action.ACTIVATE and isinstance(client, Activatable):
            window = await client.activate(order.remote_id)
            note = texts.activation(window, await chat_zone(services, order.chat_id))
        else:
            # The user asked for it: no "cancelled on the provider's side" notice.
            order = await delivery.apply(order, await finish_order(client, action, order.remote_id), announce_end=False)
            if action in (Action.CANCEL, Action.REJECT) and order.refunded:
                note = _(_REFUNDED_ANSWERS[action])
    except ProviderError as exc:
        # The card comes back (whatever question was on the screen), then the reason.
        await show_card(update, services, await services.orders.get(order.id, order.chat_id) or order, delivery)
        await answer(update, texts.action_refused(order.provider, exc.user_message), alert=True)
        return
    await show_card(update, services, await services.orders.get(order.id, order.chat_id) or order, delivery)
    # Answered last, so the answer means the whole action (card included) is finished.
    await answer(update, note, alert=action is Action.ACTIVATE)


async def _offer_paid(
    update: Update, context: ContextTypes.DEFAULT_TYPE, services: Services, order: OrderRecord, action: Action,
    option: str | None,
) -> None:
    """Renew / Reuse / Extend to a plan: a card with the amount first; Confirm performs it."""
    client = await services.client_for(order.chat_id, order.provider)
    if client is None:
        await answer(update, _not_connected(order), alert=True)
        return
    try:
        await paid_actions.offer(update, services, client, order, action, option)
    except ProviderError as exc:
        await show_card(update, services, order, context.bot_data["delivery"])
        await answer(update, texts.action_refused(order.provider, exc.user_message), alert=True)


async def finish_order(client: ProviderClient, action: Action, remote_id: str) -> RemoteOrder:
    """Cancel, Reject or Done, through the ability that does it (the buttons and auto-cancel)."""
    if action is Action.CANCEL and isinstance(client, Cancellable):
        return await client.cancel(remote_id)
    if action is Action.REJECT and isinstance(client, Rejectable):
        return await client.reject(remote_id)
    if action is Action.DONE and isinstance(client, Finishable):
        return await client.done(remote_id)
    raise NotAllowedNow(texts.action_not_available())

