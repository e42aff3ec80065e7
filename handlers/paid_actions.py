"""Renew, Reuse and Extend cost money: each shows its amount on a card of its own and is placed once
per confirmed tap.

A paid action is a purchase row (`action`, `target_order_id`, `option`): the card's Confirm moves
it *pending* -> *placing* with the same compare-and-set and lease as a new order, so a double tap,
a retried update or a second process performs it once. kiwiSMS renewals carry the purchase's
idempotency key; the others are sent once, and an ambiguous failure is told plainly.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from telegram import Update
from telegram.ext import ContextTypes

from handlers import keyboards, texts
from handlers.card_screen import show_card, show_over_card
from handlers.common import answer, show
from handlers.delivery import Delivery
from handlers.services import Services
from handlers.zones import chat_zone
from providers.base import ProviderClient, Renewable, RentManaging, Reusable
from providers.errors import NotAllowedNow, ProviderError, ProviderUnavailable
from providers.models import Action, OrderStatus, Plan, RemoteOrder
from storage.orders import reported_auto_renew
from storage.records import OrderRecord, PurchaseRecord, PurchaseState

logger = logging.getLogger(__name__)

PAID_ACTIONS = frozenset({Action.RENEW, Action.REUSE, Action.EXTEND})


async def offer(
    update: Update, services: Services, client: ProviderClient, order: OrderRecord, action: Action, option: str | None
) -> None:
    """The card of one paid action: what it does and what it costs; nothing is charged yet."""
    price, what = await _quote(client, order, action, option)
    purchase = await services.purchases.create_action(order, action, option, price, what)
    await answer(update)
    await show_over_card(update, services, order, texts.paid_action_card(order, what, price),
                         keyboards.confirm_paid_action(purchase))


async def _quote(client: ProviderClient, order: OrderRecord, action: Action, option: str | None) -> tuple[Decimal | None, str]:
    """The price where the provider says it (the renewal's own price, the plan's price), and the
    action in words; None = the provider sets the price when it charges."""
    if action is Action.EXTEND and isinstance(client, RentManaging) and option is not None:
        plan = next((p for p in await client.extension_plans(order.remote_id) if p.id == option), None)
        if plan is None:
            raise NotAllowedNow(texts.no_extension())
        return plan.price, texts.extend_what(plan)
    if action is Action.RENEW and option is not None:
        return None, texts.renew_what(option)
    price: Decimal | None = None
    try:  # the service's current price in the order's section, where the catalogue lists it
        offers = await client.list_offers(order.section)
        price = next((o.price for o in offers if order.service in (o.service_id, o.name)), None)
    except ProviderError as exc:
        logger.info("no price for %s of order %s: %s", action.value, order.id, type(exc).__name__)
    return price, texts.reuse_what() if action is Action.REUSE else texts.renew_session_what()


async def place(
    update: Update, context: ContextTypes.DEFAULT_TYPE, services: Services, purchase: PurchaseRecord,
    client: ProviderClient,
) -> None:
    """After Confirm won the compare-and-set: perform the action once and show the order."""
    order = await services.orders.get(purchase.target_order_id or 0, purchase.chat_id)
    if order is None or purchase.action is None:
        await services.purchases.transition(purchase.id, purchase.chat_id, PurchaseState.PLACING, PurchaseState.FAILED, "gone")
        await answer(update)
        await show(update, texts.outdated_button(), keyboards.main_menu())
        return
    delivery: Delivery = context.bot_data["delivery"]
    try:
        # The plan moved to, read before the move (afterwards it is no longer an option).
        target = next((p for p in await _plans(client, order) if p.id == purchase.option), None) \
            if purchase.action is Action.EXTEND else None
        remote = await _perform(client, order, purchase)
    except ProviderUnavailable as exc:
        if exc.may_have_charged:
            await services.purchases.transition(
                purchase.id, purchase.chat_id, PurchaseState.PLACING, PurchaseState.UNKNOWN, exc.user_message
            )
            await services.purchases.mark_notified(purchase.id)
            await answer(update)
            await show(update, texts.purchase_unconfirmed(purchase), keyboards.order_card(order))
            return
        await _failed(update, services, delivery, purchase, order, exc)
        return
    except ProviderError as exc:
        await _failed(update, services, delivery, purchase, order, exc)
        return
    if not await services.purchases.finish_action(purchase):
        await answer(update)
        return  # only a lease that ran out could do this; the outcome was told already
    if remote.order_id != order.remote_id:  # a renewal that is a new order (kiwiSMS)
        await _new_order(update, services, delivery, order, remote, purchase)
        return
    if target is not None:
        await services.orders.update_plan(order.id, section=target.kind, plan=remote.plan or target.duration_label,
                                          price=order.price)
    # Status never goes backwards: an order with codes keeps saying so (a reuse's "waiting for the
    # next SMS" is said by the tap's answer, not by un-receiving the codes it has).
    status = OrderStatus.RECEIVED if order.status is OrderStatus.RECEIVED else remote.status
    if status.is_final:
        status = OrderStatus.WAITING  # renewed or reused: live again
    await services.orders.extend(order.id, paid=_paid(purchase, remote), status=status, expires_at=remote.expires_at)
    await services.orders.set_auto_renew(order.id, reported_auto_renew(remote))  # a monthly plan has one
    updated = await services.orders.get(order.id, order.chat_id) or order
    await show_card(update, services, updated, delivery)
    await answer(update, texts.paid_action_done(purchase.action, updated, await chat_zone(services, order.chat_id)))


async def _perform(client: ProviderClient, order: OrderRecord, purchase: PurchaseRecord) -> RemoteOrder:
    if purchase.action is Action.RENEW and isinstance(client, Renewable):
        return await client.renew(order.remote_id, idempotency_key=purchase.idempotency_key, duration=purchase.option)
    if purchase.action is Action.REUSE and isinstance(client, Reusable):
        return await client.reuse(order.remote_id)
    if purchase.action is Action.EXTEND and isinstance(client, RentManaging) and purchase.option:
        return await client.transition(order.remote_id, purchase.option)
    raise NotAllowedNow(texts.action_not_available())


async def _plans(client: ProviderClient, order: OrderRecord) -> list[Plan]:
    return await client.extension_plans(order.remote_id) if isinstance(client, RentManaging) else []


def _paid(purchase: PurchaseRecord, remote: RemoteOrder) -> Decimal | None:
    """What the action cost: the provider's figure where it gives one, else the card's quote."""
    if remote.price > 0 and purchase.action is not Action.EXTEND:
        return remote.price
    return purchase.quoted_price


async def _new_order(
    update: Update, services: Services, delivery: Delivery, old: OrderRecord, remote: RemoteOrder,
    purchase: PurchaseRecord,
) -> None:
    """The renewal is a new order with its own card; the old card shows the old session's end."""
    new_order = await services.orders.add(old.chat_id, old.provider, remote, old.section)
    if old.duration_minutes is not None:  # the same kind of session: its length in the same words
        await services.orders.set_duration(new_order.id, old.duration_minutes)
        new_order = replace(new_order, duration_minutes=old.duration_minutes)
    if not old.status.is_final:
        await services.orders.update_status(old.id, OrderStatus.COMPLETED)
    refreshed = await services.orders.get(old.id, old.chat_id)
    if refreshed is not None:
        await delivery.update_card(refreshed)
    zone = await chat_zone(services, new_order.chat_id)
    card = await show(update, texts.order_card(new_order, [], zone), keyboards.order_card(new_order))
    if card is not None:
        await delivery.attach_card(new_order, card.message_id)
    assert purchase.action is not None
    await answer(update, texts.paid_action_done(purchase.action, new_order, zone))


async def _failed(
    update: Update, services: Services, delivery: Delivery, purchase: PurchaseRecord, order: OrderRecord,
    exc: ProviderError
) -> None:
    await services.purchases.transition(
        purchase.id, purchase.chat_id, PurchaseState.PLACING, PurchaseState.FAILED, exc.user_message
    )
    await show_card(update, services, order, delivery)
    await answer(update, texts.action_refused(order.provider, exc.user_message), alert=True)


async def back_to_card(update: Update, services: Services, delivery: Delivery, purchase: PurchaseRecord) -> None:
    """Cancel on a paid action's card: nothing is charged; the order's card again."""
    order = await services.orders.get(purchase.target_order_id or 0, purchase.chat_id)
    if order is None:
        await show(update, texts.purchase_dropped(), keyboards.main_menu())
        return
    await show_card(update, services, order, delivery)

