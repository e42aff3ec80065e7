"""Confirm, Accept and Cancel on a confirmation card: at most one order per card.

The purchase record's state is the lock: each tap moves it with a compare-and-set
(PENDING -> PLACING, DECIDING -> PLACING), so two taps, two updates in one batch or a
retried update can never place two orders.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from telegram import Update
from telegram.ext import ContextTypes

from handlers.services import Services, get_services
from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import answer, chat_id_of, clear_awaiting, show
from providers.base import ProviderClient
from providers.errors import ProviderError, ProviderUnavailable
from providers.models import Offer, PremiumBidDecision, PriceChangeDecision, RemoteOrder
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
    """Cancel on a confirmation or decision card: nothing is bought."""
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    services = get_services(context)
    chat_id = chat_id_of(update)
    purchase = await services.purchases.get(parts[2], chat_id) if len(parts) == 3 else None
    if purchase is None:
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    for state in (PurchaseState.PENDING, PurchaseState.DECIDING):
        if await services.purchases.transition(purchase.id, chat_id, state, PurchaseState.DROPPED):
            await answer(update)
            await show(update, texts.PURCHASE_DROPPED, keyboards.main_menu())
            return
    await answer(update, _why_not(await services.purchases.get(purchase.id, chat_id)))


async def _claim_and_place(update: Update, context: ContextTypes.DEFAULT_TYPE, from_state: str) -> None:
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    services = get_services(context)
    chat_id = chat_id_of(update)
    purchase = await services.purchases.get(parts[2], chat_id) if len(parts) == 3 else None
    if purchase is None:
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    if not await services.purchases.transition(purchase.id, chat_id, from_state, PurchaseState.PLACING):
        await answer(update, _why_not(await services.purchases.get(purchase.id, chat_id)))
        return
    clear_awaiting(context)
    await answer(update, texts.PLACING)
    await show(update, texts.PLACING)
    client = await services.client_for(chat_id, purchase.provider)
    if client is None:
        await services.purchases.transition(purchase.id, chat_id, PurchaseState.PLACING, PurchaseState.FAILED, "not connected")
        await show(update, f"{texts.provider_name(purchase.provider)} is not connected.", keyboards.connect_providers())
        return
    decision = _decision(purchase) if from_state == PurchaseState.DECIDING else None
    await _place(update, services, purchase, client, decision)


async def _place(
    update: Update, services: Services, purchase: PurchaseRecord, client: ProviderClient, decision: Decision | None
) -> None:
    offer = Offer(
        section=purchase.section,
        service=purchase.service,
        name=purchase.service_name,
        price=purchase.price,
        stock=purchase.stock,
        duration_minutes=purchase.duration_minutes,
    )
    chat_id = purchase.chat_id
    try:
        if decision is None:
            # max_price: never pay more than the card showed (where the provider supports it).
            outcome = await client.place_order(offer, idempotency_key=purchase.idempotency_key, max_price=purchase.price)
        else:
            outcome = await client.accept_decision(offer, decision)
    except ProviderUnavailable as exc:
        if exc.may_have_charged:
            await services.purchases.transition(purchase.id, chat_id, PurchaseState.PLACING, PurchaseState.UNKNOWN, exc.user_message)
            await show(update, texts.AMBIGUOUS_PURCHASE, keyboards.main_menu())
            return
        await _failed(update, services, purchase, exc)
        return
    except ProviderError as exc:
        await _failed(update, services, purchase, exc)
        return
    except Exception:
        # Unknown outcome: never let the user think nothing happened and buy again.
        logger.exception("purchase %s crashed", purchase.id)
        await services.purchases.transition(purchase.id, chat_id, PurchaseState.PLACING, PurchaseState.UNKNOWN, "crash")
        await show(update, texts.AMBIGUOUS_PURCHASE, keyboards.main_menu())
        return
    if isinstance(outcome, RemoteOrder):
        order = await services.purchases.complete(purchase, outcome)
        logger.info("purchase %s placed as order %s", purchase.id, order.id)
        card = await show(update, texts.order_card(order, []), keyboards.order_card(order))
        if card is not None:
            await services.orders.set_card(order.id, card.message_id)
        return
    # The provider asks the user to decide: nothing is retried without their tap.
    await services.purchases.transition(
        purchase.id, chat_id, PurchaseState.PLACING, PurchaseState.DECIDING, decision=_encode(outcome)
    )
    if isinstance(outcome, PriceChangeDecision):
        await show(update, texts.price_change(purchase, outcome), keyboards.accept_price(purchase, outcome.available_price))
    else:
        await show(update, texts.premium_bid(purchase, outcome), keyboards.accept_bid(purchase, outcome.recommended_bid))


async def _failed(update: Update, services: Services, purchase: PurchaseRecord, exc: ProviderError) -> None:
    await services.purchases.transition(
        purchase.id, purchase.chat_id, PurchaseState.PLACING, PurchaseState.FAILED, exc.user_message
    )
    await show(update, texts.purchase_failed(purchase.provider, exc.user_message), keyboards.main_menu())


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
        return texts.ALREADY_PLACING
    if state == PurchaseState.PLACED:
        return texts.ALREADY_PLACED
    if state == PurchaseState.UNKNOWN:
        return "This order's outcome is being checked; see /orders."
    return texts.PURCHASE_CLOSED
