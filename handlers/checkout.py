"""Confirm, Accept and Cancel on a confirmation card: at most one order per card.

The purchase record's state is the lock: each tap moves it with a compare-and-set (PENDING ->
PLACING, DECIDING -> PLACING) that also takes a lease, so two taps, two updates in one batch, a
retried update or a second process can never place two orders, and a process killed while placing
leaves a purchase that the poller reconciles (bot/reconcile.py) instead of one stuck forever.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers import callbacks as cb
from handlers import buy, compare, keyboards, paid_actions, texts
from handlers.buy_list import section_title
from handlers.card_screen import card_screen
from handlers.common import answer, chat_id_of, clear_pending_step, show
from handlers.delivery import Delivery
from handlers.i18n import _
from handlers.services import Services, get_services
from providers.base import DecisionAccepting, OrderListing, ProviderClient
from providers.errors import OutOfStock, ProviderError, ProviderUnavailable
from providers.models import PlacedOrder, PremiumBidDecision, PriceChangeDecision
from storage.records import PurchaseRecord, PurchaseState

logger = logging.getLogger(__name__)

Decision = PriceChangeDecision | PremiumBidDecision


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm: place the order once."""
    await _claim_and_place(update, context, PurchaseState.PENDING)


async def accept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept $x / Bid +n%: retry once with the provider's own terms, read from the database."""
    await _claim_and_place(update, context, PurchaseState.DECIDING)


async def drop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancel on a confirmation or decision card: nothing is bought; back to where it came from."""
    services = get_services(context)
    chat_id = chat_id_of(update)
    purchase = await _purchase_of_button(update, services)
    if purchase is None:
        await answer(update, texts.outdated_button(), alert=True)
        return
    for state in (PurchaseState.PENDING, PurchaseState.DECIDING):
        if await services.purchases.transition(purchase.id, chat_id, state, PurchaseState.DROPPED):
            await answer(update, texts.nothing_charged() if purchase.action else None)
            if purchase.action is not None:
                await paid_actions.back_to_card(update, services, context.bot_data["delivery"], purchase)
            else:
                await buy.back_to_list(update, context, purchase, texts.purchase_dropped())
            return
    await answer(update, _why_not(await services.purchases.get(purchase.id, chat_id)))


async def buy_again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Buy again anyway" after an unconfirmed purchase: a fresh confirmation card, never a purchase."""
    services = get_services(context)
    purchase = await _purchase_of_button(update, services)
    if purchase is None or purchase.state != PurchaseState.UNKNOWN:
        await answer(update, texts.outdated_button() if purchase is None else _why_not(purchase), alert=True)
        return
    await answer(update)
    fresh = await services.purchases.copy_as_new(purchase)
    client = await services.client_for(fresh.chat_id, fresh.provider)
    title = await section_title(context, client, fresh.section) if client is not None else fresh.section
    await show(update, texts.confirmation(fresh, title), keyboards.confirm_purchase(fresh))


async def _purchase_of_button(update: Update, services: Services) -> PurchaseRecord | None:
    tap = cb.decode(update.callback_query.data if update.callback_query else None)
    return await services.purchases.get(tap.purchase_id, chat_id_of(update)) if isinstance(tap, cb.PurchaseTap) else None


async def _claim_and_place(update: Update, context: ContextTypes.DEFAULT_TYPE, from_state: str) -> None:
    services = get_services(context)
    chat_id = chat_id_of(update)
    found = await _purchase_of_button(update, services)
    if found is None:
        await answer(update, texts.outdated_button(), alert=True)
        return
    purchase = await services.purchases.claim_for_placing(found.id, chat_id, from_state, services.purchase_lease)
    if purchase is None:
        await answer(update, _why_not(await services.purchases.get(found.id, chat_id)))
        return
    await clear_pending_step(update, context)
    if purchase.action is None:  # a paid action answers the tap with its outcome instead
        await answer(update, texts.placing())
    await show(update, texts.placing())
    client = await services.client_for(chat_id, purchase.provider)
    if client is None:
        await answer(update)
        await services.purchases.transition(purchase.id, chat_id, PurchaseState.PLACING, PurchaseState.FAILED, "not connected")
        await show(update, _("{provider} is not connected.").format(provider=texts.provider_name(purchase.provider)),
                   keyboards.connect_providers())
        return
    if purchase.action is not None:  # renew / reuse / extend of an order
        await paid_actions.place(update, context, services, purchase, client)
        return
    decision = _decision(purchase) if from_state == PurchaseState.DECIDING else None
    await _place(update, context, services, purchase, client, decision)


async def _place(
    update: Update, context: ContextTypes.DEFAULT_TYPE, services: Services, purchase: PurchaseRecord, client: ProviderClient, decision: Decision | None
) -> None:
    chat_id = purchase.chat_id
    request = purchase.order_request()
    try:
        if decision is None:
            outcome = await client.place_order(request)
        elif isinstance(client, DecisionAccepting):
            outcome = await client.accept_decision(request, decision)
        else:
            raise ProviderError(_("This provider does not take such an offer."))
    except ProviderUnavailable as exc:
        if exc.may_have_charged:
            await _unknown(update, services, purchase, client, exc.user_message)
            return
        await _failed(update, services, purchase, exc, context)
        return
    except ProviderError as exc:
        await _failed(update, services, purchase, exc, context)
        return
    except Exception:
        # Unknown outcome: never let the user think nothing happened and buy again.
        logger.exception("purchase %s crashed", purchase.id)
        await _unknown(update, services, purchase, client, "crash")
        return
    if isinstance(outcome, PlacedOrder):
        await _placed(update, context, services, purchase, outcome)
        return
    # The provider asks the user to decide: nothing is retried without their tap.
    await services.purchases.transition(
        purchase.id, chat_id, PurchaseState.PLACING, PurchaseState.DECIDING, decision=_encode(outcome)
    )
    if isinstance(outcome, PriceChangeDecision):
        text = texts.price_change(purchase, outcome)
        markup = keyboards.accept_price(purchase, outcome.available_price)
        # The next-best offer elsewhere, when it costs less than the new price (else it is no alternative).
        text, markup = await compare.with_fallback(
            context, services, purchase, text, markup, cheaper_than=outcome.available_price
        )
        await show(update, text, markup)
    else:
        await show(update, texts.premium_bid(purchase, outcome), keyboards.accept_bid(purchase, outcome.recommended_bid))


async def _placed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, services: Services, purchase: PurchaseRecord,
    placed: PlacedOrder,
) -> None:
    orders = await services.purchases.complete(purchase, placed)
    if orders is None:  # the reconciler adopted it first (this placing outlived its lease)
        await show(update, texts.already_placed(), keyboards.main_menu())
        return
    logger.info("purchase %s placed as order(s) %s", purchase.id, [o.id for o in orders])
    chat = update.effective_chat
    for position, order in enumerate(orders):
        text, markup = await card_screen(services, order)
        # A bundle of several orders on one number: the first card replaces the confirmation.
        if position == 0:
            card = await show(update, text, markup)
        elif chat is not None:
            card = await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            card = None
        if card is not None:
            delivery: Delivery = context.bot_data["delivery"]
            await delivery.attach_card(order, card.message_id)



async def _unknown(
    update: Update, services: Services, purchase: PurchaseRecord, client: ProviderClient, reason: str
) -> None:
    """May have charged: reconciled by the poller where the provider can list orders; otherwise
    the chat is told plainly now, with where to check and a "buy again" that asks first."""
    moved = await services.purchases.transition(
        purchase.id, purchase.chat_id, PurchaseState.PLACING, PurchaseState.UNKNOWN, reason
    )
    if not moved:
        current = await services.purchases.get(purchase.id, purchase.chat_id)
        if current is not None and current.state == PurchaseState.PLACED:
            # Found meanwhile (a won-auction callback, the reconciler): its card is in the chat.
            await show(update, texts.already_placed(), keyboards.main_menu())
            return
    if isinstance(client, OrderListing):
        await show(update, texts.purchase_pending_check(), keyboards.main_menu())
        return
    await services.purchases.mark_notified(purchase.id)
    await show(update, texts.purchase_unconfirmed(purchase), keyboards.buy_again(purchase))


async def _failed(
    update: Update, services: Services, purchase: PurchaseRecord, exc: ProviderError,
    context: ContextTypes.DEFAULT_TYPE | None = None,
) -> None:
    await services.purchases.transition(
        purchase.id, purchase.chat_id, PurchaseState.PLACING, PurchaseState.FAILED, exc.user_message
    )
    text = texts.purchase_failed(purchase.provider, exc.user_message)
    markup = keyboards.main_menu()
    if isinstance(exc, OutOfStock) and context is not None:
        # Sold out here: the next-best offer of the same service, as a button to ITS confirmation card.
        text, markup = await compare.with_fallback(context, services, purchase, text, markup)
    await show(update, text, markup)


def _encode(decision: Decision) -> str:
    if isinstance(decision, PriceChangeDecision):
        return json.dumps(
            {
                "kind": "price",
                "quoted": None if decision.quoted_price is None else str(decision.quoted_price),
                "allowed": None if decision.allowed_price is None else str(decision.allowed_price),
                "available": str(decision.available_price),
            }
        )
    return json.dumps({"kind": "premium", "bid": decision.recommended_bid})


def _decision(purchase: PurchaseRecord) -> Decision | None:
    if not purchase.decision:
        return None
    data = json.loads(purchase.decision)
    if data["kind"] == "premium":
        return PremiumBidDecision(recommended_bid=int(data["bid"]))
    return PriceChangeDecision(
        quoted_price=None if data["quoted"] is None else Decimal(data["quoted"]),
        allowed_price=None if data["allowed"] is None else Decimal(data["allowed"]),
        available_price=Decimal(data["available"]),
    )


def _why_not(purchase: PurchaseRecord | None) -> str:
    state = purchase.state if purchase else None
    if state == PurchaseState.PLACING:
        return texts.already_placing()
    if state == PurchaseState.PLACED:
        return texts.already_placed()
    if state == PurchaseState.UNKNOWN:
        return texts.purchase_being_checked()
    return texts.purchase_closed()
