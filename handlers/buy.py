"""/buy: provider → section → services (paged, filterable by typed text) → confirmation → one order.

The open list, its filter and a multi-service selection are the chat's step in the database
(`BuyStep`); only fetched catalogues and section titles are cached in memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from html import escape

from telegram import Message, Update
from telegram.ext import ContextTypes

from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import (
    BuyStep,
    answer,
    chat_id_of,
    clear_pending_step,
    load_pending_step,
    replace_pending_step,
    show,
    step_lock,
)
from handlers.services import Services, get_services
from providers.base import PlanCatalogue, ProviderClient
from providers.errors import ProviderError
from providers.models import Offer, Plan, ProviderId, Section
from providers.registry import capabilities_of

logger = logging.getLogger(__name__)

_CATALOGUE_TTL = 60.0  # seconds a fetched service list is reused while paging
_CATALOGUE_KEY = "catalogue"
_TITLES_KEY = "section_titles"
MAX_QUERY = 64  # characters of a typed filter that are used (and echoed back)
_STEP_RETRIES = 5
_GONE_SERVICE = "This service is no longer available. Choose another:"
_GONE_SERVICES = "Some of those services are no longer available. Choose again:"
_GONE_PLAN = "This plan is no longer offered. Use /buy to choose again."


async def buy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 1: the connected providers."""
    await clear_pending_step(update, context)
    await answer(update)
    services = get_services(context)
    connected = [p for p in await services.credentials.providers_of(chat_id_of(update)) if p in keyboards.SUPPORTED]
    if not connected:
        await show(update, texts.NO_PROVIDERS, keyboards.connect_providers())
        return
    await show(update, texts.CHOOSE_PROVIDER_BUY, keyboards.buy_providers(connected))


async def _client_or_explain(update: Update, services: Services, provider: ProviderId) -> ProviderClient | None:
    client = await services.client_for(chat_id_of(update), provider)
    if client is None:
        await answer(update)
        await show(update, f"{texts.provider_name(provider)} is not connected.", keyboards.connect_providers())
    return client


def _tap(update: Update) -> cb.Callback:
    return cb.decode(update.callback_query.data if update.callback_query else None)


def _supported(provider: ProviderId) -> bool:
    return provider in keyboards.SUPPORTED


async def provider_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 2: the provider's catalogue sections; a new walk starts with nothing selected."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuyProvider) or not _supported(tap.provider):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    await clear_pending_step(update, context)
    services = get_services(context)
    client = await _client_or_explain(update, services, tap.provider)
    if client is None:
        return
    await answer(update)
    try:
        sections = await client.list_sections()
    except ProviderError as exc:
        await show(update, texts.provider_error(tap.provider, exc.user_message), keyboards.main_menu())
        return
    _titles(context).update({(tap.provider.value, s.id): s.title for s in sections})
    await show(update, texts.choose_section(tap.provider), keyboards.sections(tap.provider, sections))


async def page_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 3: one page of services, filtered by what the user typed, if anything."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuyPage) or not _supported(tap.provider):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    await answer(update)
    step = await _update_step(update, context, tap.provider, tap.section, lambda s: s)
    await _render_services(update, context, step, tap.page)


async def filter_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, step: BuyStep) -> None:
    """Typed text while a services list is open: show the matching services (a new list message)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    query = " ".join(message.text.split())[:MAX_QUERY] or None
    updated = await _update_step(
        update, context, step.provider, step.section, lambda s: BuyStep(s.provider, s.section, query, None, s.selected)
    )
    await _render_services(update, context, updated, 0)


async def _update_step(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    provider: ProviderId,
    section: str,
    change: Callable[[BuyStep], BuyStep | None],
) -> BuyStep:
    """Apply `change` to the chat's list step by compare-and-set (taps of one chat may race);
    a step of another list, or none, starts from an empty one. `change` returning None keeps it."""
    step = BuyStep(provider, section)
    async with step_lock(chat_id_of(update)):  # in order within this process; CAS across processes
        for _ in range(_STEP_RETRIES):
            stored = await load_pending_step(update, context)
            matching = isinstance(stored, BuyStep) and (stored.provider, stored.section) == (provider, section)
            base = stored if matching and isinstance(stored, BuyStep) else None
            step = base or BuyStep(provider, section)
            changed = change(step)
            if changed is None or (changed == base and base is not None):
                return step
            if await replace_pending_step(update, context, stored, changed):
                return changed
    logger.warning("chat %s: the /buy step kept changing; using the last one read", chat_id_of(update))
    return step


def _titles(context: ContextTypes.DEFAULT_TYPE) -> dict[tuple[str, str], str]:
    assert context.chat_data is not None
    return context.chat_data.setdefault(_TITLES_KEY, {})


async def _offers(context: ContextTypes.DEFAULT_TYPE, client: ProviderClient, section: str, fresh: bool = False) -> list[Offer]:
    """The section's services, reused for a minute so paging does not refetch (memory only)."""
    assert context.chat_data is not None
    cache: dict[tuple[str, str], tuple[float, list[Offer]]] = context.chat_data.setdefault(_CATALOGUE_KEY, {})
    key = (client.provider.value, section)
    hit = cache.get(key)
    if hit and not fresh and time.monotonic() - hit[0] < _CATALOGUE_TTL:
        return hit[1]
    offers = await client.list_offers(section)
    cache[key] = (time.monotonic(), offers)
    return offers


async def _section_title(context: ContextTypes.DEFAULT_TYPE, client: ProviderClient, section: str) -> str:
    """The section's name, from the sections fetched at step 2 (fetched again after a restart)."""
    titles = _titles(context)
    key = (client.provider.value, section)
    if key not in titles:
        try:
            sections: list[Section] = await client.list_sections()
        except ProviderError:
            return section
        titles.update({(client.provider.value, s.id): s.title for s in sections})
    return titles.get(key, section)


async def _render_services(update: Update, context: ContextTypes.DEFAULT_TYPE, step: BuyStep, page: int) -> Message | None:
    provider, section, query = step.provider, step.section, step.query
    services = get_services(context)
    client = await _client_or_explain(update, services, provider)
    if client is None:
        return None
    try:
        offers = await _offers(context, client, section)
    except ProviderError as exc:
        await show(update, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return None
    if query:
        needle = query.casefold()
        offers = [o for o in offers if needle in o.name.casefold() or needle == o.service_id.casefold()]
        if not offers:
            return await show(update, texts.NO_MATCH.format(query=escape(query)))
    pages = keyboards.page_count(len(offers))
    page = min(max(page, 0), pages - 1)
    title = await _section_title(context, client, section)
    limit = capabilities_of(provider).bundle_limit(section)
    selected = list(step.selected) if limit else None
    return await show(
        update,
        texts.services_page(provider, title, page, pages, query, limit, len(selected or [])),
        keyboards.services(provider, section, offers, page, selected),
    )


async def offer_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 4: the confirmation card, priced from a fresh catalogue (never from callback data)."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuyOffer) or not _supported(tap.provider):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    provider, section = tap.provider, tap.section
    services = get_services(context)
    client = await _client_or_explain(update, services, provider)
    if client is None:
        return
    await answer(update)
    try:
        offers = await _offers(context, client, section, fresh=True)
    except ProviderError as exc:
        await show(update, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return
    offer = next((o for o in offers if o.service_id == tap.service_id), None)
    if offer is None or offer.stock == 0:
        await show(update, _GONE_SERVICE, keyboards.services(provider, section, offers, 0))
        return
    if capabilities_of(provider).chooses_plan and isinstance(client, PlanCatalogue):
        await _show_plans(update, client, provider, section, offer)
        return
    purchase = await services.purchases.create(chat_id_of(update), provider, (offer,))
    title = await _section_title(context, client, section)
    await show(update, texts.confirmation(purchase, title), keyboards.confirm_purchase(purchase))


async def _show_plans(update: Update, catalogue: PlanCatalogue, provider: ProviderId, section: str, offer: Offer) -> None:
    """GotSMS: the service's plans of this billing type, with price, duration and renewal price."""
    try:
        found = await catalogue.service_plans(offer.service_id, section)
    except ProviderError as exc:
        await show(update, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return
    await show(update, texts.choose_plan(provider, offer.name), keyboards.plans(provider, section, found))


def plan_offer(plan: Plan) -> Offer:
    """A GotSMS plan as the offer a purchase records; the order keeps its plan's kind as its
    section, because which buttons its card shows depends on it."""
    return Offer(
        section=plan.kind,
        service_id=plan.service_id,
        name=f"{plan.service_name} · {plan.duration_label}",
        price=plan.price,
        stock=None,
        duration_minutes=plan.duration_minutes,
        plan_id=plan.id,
        country=plan.country,
    )


async def plan_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """GotSMS: the confirmation card for one plan, priced from a fresh plan list."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuyPlan) or not _supported(tap.provider) or not capabilities_of(tap.provider).chooses_plan:
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    provider, section = tap.provider, tap.section
    services = get_services(context)
    client = await _client_or_explain(update, services, provider)
    if client is None:
        return
    await answer(update)
    if not isinstance(client, PlanCatalogue):
        await show(update, _GONE_PLAN, keyboards.main_menu())
        return
    try:
        found = await client.section_plans(section)
    except ProviderError as exc:
        await show(update, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return
    plan = next((p for p in found if p.id == tap.plan_id), None)
    if plan is None:
        await show(update, _GONE_PLAN, keyboards.main_menu())
        return
    purchase = await services.purchases.create(chat_id_of(update), provider, (plan_offer(plan),))
    title = await _section_title(context, client, section)
    await show(update, texts.confirmation(purchase, title), keyboards.confirm_purchase(purchase))


async def service_toggled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Multi-select (NonVoipUsNumber 30-days): tap a service to add or remove it."""
    tap = _tap(update)
    limit = capabilities_of(tap.provider).bundle_limit(tap.section) if isinstance(tap, cb.BuyToggle) else 0
    if not isinstance(tap, cb.BuyToggle) or not _supported(tap.provider) or not limit:
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    too_many = False

    def toggle(step: BuyStep) -> BuyStep | None:
        nonlocal too_many
        selected = list(step.selected)
        if tap.service_id in selected:
            selected.remove(tap.service_id)
        elif len(selected) >= limit:
            too_many = True
            return None
        else:
            selected.append(tap.service_id)
        return BuyStep(step.provider, step.section, step.query, None, tuple(selected))

    step = await _update_step(update, context, tap.provider, tap.section, toggle)
    if too_many:
        await answer(update, texts.TOO_MANY_SERVICES.format(limit=limit), alert=True)
        return
    await answer(update)
    await _render_services(update, context, step, tap.page)


async def selection_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Continue with the selected services: one confirmation card for one number."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuySelectionDone) or not _supported(tap.provider):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    provider, section = tap.provider, tap.section
    if not capabilities_of(provider).bundle_limit(section):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    stored = await load_pending_step(update, context)
    selected = list(stored.selected) if isinstance(stored, BuyStep) and (stored.provider, stored.section) == (provider, section) else []
    if not selected:
        await answer(update, texts.NOTHING_SELECTED, alert=True)
        return
    services = get_services(context)
    client = await _client_or_explain(update, services, provider)
    if client is None:
        return
    await answer(update)
    try:
        offers = {o.service_id: o for o in await _offers(context, client, section, fresh=True)}
    except ProviderError as exc:
        await show(update, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return
    chosen = [offers[s] for s in selected if s in offers and offers[s].stock != 0]
    await _update_step(update, context, provider, section, lambda s: BuyStep(s.provider, s.section, s.query))
    if len(chosen) != len(selected):
        await show(update, _GONE_SERVICES, keyboards.services(provider, section, list(offers.values()), 0, []))
        return
    purchase = await services.purchases.create(chat_id_of(update), provider, tuple(chosen))
    title = await _section_title(context, client, section)
    await show(update, texts.confirmation(purchase, title), keyboards.confirm_purchase(purchase))
