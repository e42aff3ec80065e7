"""/buy's "Compare a service": one service at every connected provider and section, cheapest in stock
first, fetched concurrently (through the catalogue cache); each provider's failure on its own line.

An offer's button is the same button a services list shows (`cb.buy_offer`; for GotSMS the cheapest
plan's `cb.buy_plan`), so its tap opens the confirmation card exactly as buying through the lists
does, priced from a fresh catalogue. The typed
name waits in a stored conversation step while the prompt is open; the step ends with the results.
"""

from __future__ import annotations

from decimal import Decimal

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import callbacks as cb
from handlers import keyboards
from handlers.buy import plan_offer
from handlers.buy_list import offers_of, remember_sections, sections_of
from handlers.catalogue_cache import catalogue_cache
from handlers.common import (
    CompareStep, answer, chat_id_of, clear_pending_step, replace_pending_step, save_pending_step, show,
)
from handlers.compare_taps import prompt_data, service_data, tapped_key
from handlers.i18n import _
from handlers.service_names import canonical
from handlers.services import Services, get_services
from handlers.texts import compare as words
from providers.base import PlanCatalogue, ProviderClient
from providers.errors import ProviderError
from providers.models import Action, Offer, Plan, ProviderId
from providers.registry import capabilities_of
from storage.again import AgainStore
from storage.records import PurchaseRecord

logger = logging.getLogger(__name__)

FETCH_TIMEOUT = 8.0  # seconds one provider may take for all its sections
MAX_OFFERS = 10  # buttons on one screen
MAX_RECENT = 4
MAX_QUERY = 64
_REFUNDING = frozenset({Action.CANCEL, Action.REJECT, Action.REFUND})


# -- the comparison -------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One place to buy the service; `plan_id` where the provider sells plans (its cheapest one)."""

    provider: ProviderId
    section: str
    section_title: str
    offer: Offer
    plan_id: str | None = None

    @property
    def in_stock(self) -> bool:
        return self.offer.stock is None or self.offer.stock > 0


@dataclass(frozen=True)
class Comparison:
    offers: list[Found]  # in stock, cheapest first
    sold_out: list[Found]
    failures: dict[ProviderId, str]


def allows(provider: ProviderId, section: str) -> list[str]:
    """What a number bought there allows, from the provider's capabilities."""
    caps = capabilities_of(provider)
    actions = set().union(*caps.actions.get(caps.order_kind(section), {}).values())
    return words.allowed_words(
        reuse=Action.REUSE in actions,
        renew=Action.RENEW in actions or Action.EXTEND in actions or bool(caps.durations_for(section)),
        refund=bool(actions & _REFUNDING) or caps.refunds_unused_expiry,
    )


async def _provider_offers(
    context: ContextTypes.DEFAULT_TYPE, client: ProviderClient, key: str, fresh: bool
) -> tuple[list[Found], BaseException | None]:
    """The service in every section of one provider, and the first section's error, if any (raised
    when nothing was found at all)."""
    sections = await sections_of(context, client)
    remember_sections(context, client.provider, sections)
    results = await asyncio.gather(*(offers_of(context, client, s.id, fresh=fresh) for s in sections),
                                   return_exceptions=True)
    found: list[Found] = []
    first_error: BaseException | None = None
    for section, result in zip(sections, results, strict=True):
        if isinstance(result, BaseException):
            first_error = first_error or result
            continue
        found += [Found(client.provider, section.id, _(section.title), o) for o in result if canonical(o.name) == key]
    if first_error is not None and not found:
        raise first_error
    if isinstance(client, PlanCatalogue) and capabilities_of(client.provider).chooses_plan:
        found = [f for f in await asyncio.gather(*(_cheapest_plan(context, client, f) for f in found)) if f]
    return found, first_error


async def _cheapest_plan(context: ContextTypes.DEFAULT_TYPE, catalogue: PlanCatalogue, found: Found) -> Found | None:
    """A plan-selling provider: the service's cheapest plan there, so one tap opens its card."""

    async def fetch() -> list[Plan]:
        return await catalogue.service_plans(found.offer.service_id, found.section)

    key = (id(catalogue), "plans", found.section, found.offer.service_id)  # shared with /buy's plan list
    plans = await catalogue_cache(context).get(key, catalogue, fetch)
    cheapest = min(plans, key=lambda p: (p.price, p.duration_minutes or 0), default=None)
    if cheapest is None:
        return None
    # The offer's section is the plan's kind ("duration:day"): what an order of it allows depends on it.
    return replace(found, offer=plan_offer(cheapest), plan_id=cheapest.id)


async def compare(
    context: ContextTypes.DEFAULT_TYPE, services: Services, chat_id: int, key: str, fresh: bool = False
) -> Comparison:
    """Every connected provider at once; one that fails or is slow becomes a line of its own."""
    connected = [p for p in await services.credentials.providers_of(chat_id) if p in keyboards.SUPPORTED]
    clients = [c for c in [await services.client_for(chat_id, p) for p in connected] if c is not None]
    results = await asyncio.gather(
        *(asyncio.wait_for(_provider_offers(context, c, key, fresh), FETCH_TIMEOUT) for c in clients),
        return_exceptions=True,
    )
    found: list[Found] = []
    failures: dict[ProviderId, str] = {}
    for client, result in zip(clients, results, strict=True):
        error = result if isinstance(result, BaseException) else result[1]
        if not isinstance(result, BaseException):
            found += result[0]
        if isinstance(error, ProviderError):
            failures[client.provider] = error.user_message
        elif error is not None:
            if not isinstance(error, TimeoutError):
                logger.warning("comparing at %s failed: %s", client.provider.value, type(error).__name__)
            failures[client.provider] = words.unreachable()
    ranked = sorted(found, key=lambda f: (f.offer.price, f.provider.value, f.section_title))
    return Comparison([f for f in ranked if f.in_stock], [f for f in ranked if not f.in_stock], failures)


def offer_button(position: int, found: Found) -> InlineKeyboardButton | None:
    """The list's own button for the offer (a plan's for a plan), so the tap opens its card as there."""
    try:
        if found.plan_id is not None:
            data = cb.buy_plan(found.provider, found.section, found.plan_id)
        else:
            data = cb.buy_offer(found.provider, found.section, found.offer.service_id)
    except (cb.CallbackTooLong, ValueError):
        return None
    label = words.offer_button(position, found.provider, found.section_title, found.offer.price)
    return InlineKeyboardButton(label, callback_data=data)


# -- the screens ------------------------------------------------------------------------------


async def _recent_buttons(services: Services, chat_id: int) -> list[list[InlineKeyboardButton]]:
    """The chat's recently bought services (what "Buy again" reads too), newest first, one per
    service whatever the provider."""
    seen: set[str] = set()
    rows: list[list[InlineKeyboardButton]] = []
    for bought in await AgainStore(services.db).recent_purchases(chat_id):
        key = canonical(bought.service_name)
        data = service_data(key)
        if data is None or key in seen:
            continue
        seen.add(key)
        rows.append([InlineKeyboardButton(f"🔁 {bought.service_name}", callback_data=data)])
        if len(rows) == MAX_RECENT:
            break
    return rows


def _back_rows() -> list[list[InlineKeyboardButton]]:
    return [keyboards.back_row(cb.menu("buy"))]


async def prompt_tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The compare button, or a recent service's button (cmp:<key>)."""
    await answer(update)
    key = tapped_key(update.callback_query.data if update.callback_query else None)
    if key is not None:
        await clear_pending_step(update, context)
        await show_comparison(update, context, key, key)
        return
    services = get_services(context)
    await wait_for_name(update, context)
    recent = await _recent_buttons(services, chat_id_of(update))
    text = words.compare_prompt() + (f"\n\n{words.recent_hint()}" if recent else "")
    await show(update, text, InlineKeyboardMarkup([*recent, *_back_rows()]))


async def wait_for_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """From now on typed text is a service name to compare (until another step or the results)."""
    await save_pending_step(update, context, CompareStep())


async def show_comparison(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, shown_as: str) -> None:
    services = get_services(context)
    chat_id = chat_id_of(update)
    result = await compare(context, services, chat_id, key)
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for position, found in enumerate(result.offers[:MAX_OFFERS], start=1):
        lines.append(words.compared_line(position, found.provider, found.section_title, found.offer,
                                         allows(found.provider, found.offer.section)))
        button = offer_button(position, found)
        if button is not None:
            rows.append([button])
    sold_out = [words.out_of_stock_line(f.provider, f.section_title, f.offer) for f in result.sold_out[:MAX_OFFERS]]
    failures = [words.failure_line(p, reason) for p, reason in result.failures.items()]
    recent = await _recent_buttons(services, chat_id)
    rows += [r for r in recent if r[0].callback_data != service_data(key)]
    rows.append([InlineKeyboardButton(words.compare_button(), callback_data=prompt_data())])
    more = len(result.offers) - MAX_OFFERS
    text = words.comparison(shown_as, lines, more, sold_out, failures)
    await show(update, text, InlineKeyboardMarkup([*rows, *_back_rows()]))


async def name_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, step: CompareStep) -> None:
    """Typed text while /buy or the compare prompt is open: a service name to compare."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    typed = " ".join(message.text[: MAX_QUERY * 4].split())[:MAX_QUERY]
    key = canonical(typed)
    if not key:
        await show(update, words.nothing_typed(), InlineKeyboardMarkup(_back_rows()))
        return
    if not await replace_pending_step(update, context, step, None):
        return  # another update of the chat took the step meanwhile
    await show_comparison(update, context, key, typed)


async def next_best(
    context: ContextTypes.DEFAULT_TYPE, services: Services, chat_id: int, service_name: str,
    skip: Sequence[tuple[ProviderId, str]],
) -> Found | None:
    """The cheapest in-stock offer of the service elsewhere, from a fresh comparison (the fallback
    after an order failed for stock); None when there is none or it cannot be fetched."""
    key = canonical(service_name)
    if not key:
        return None
    result = await compare(context, services, chat_id, key, fresh=True)
    return next((f for f in result.offers if (f.provider, f.section) not in skip), None)


async def with_fallback(
    context: ContextTypes.DEFAULT_TYPE, services: Services, purchase: PurchaseRecord, text: str,
    markup: InlineKeyboardMarkup, cheaper_than: Decimal | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """A failure screen for stock, with "Try <provider> <section> at $X" above its buttons when the
    service is in stock elsewhere (the tap opens that offer's confirmation card, never buys). With
    `cheaper_than` (a price rose above the card), only an offer below that price is one."""
    try:
        found = await next_best(context, services, purchase.chat_id, purchase.service_name,
                                [(purchase.provider, purchase.section)])
    except Exception:  # the failure itself must still be shown
        logger.exception("no fallback offer for purchase %s", purchase.id)
        return text, markup
    if found is None or (cheaper_than is not None and found.offer.price >= cheaper_than):
        return text, markup
    button = offer_button(0, found)
    if button is None:
        return text, markup
    label = words.fallback_button(found.provider, found.section_title, found.offer.price)
    tap = InlineKeyboardButton(label, callback_data=button.callback_data)
    return f"{text}\n\n{words.fallback_note()}", InlineKeyboardMarkup([[tap], *markup.inline_keyboard])
