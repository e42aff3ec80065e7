"""/buy: provider → section → services (paged, filterable by typed text) → confirmation → one order."""

from __future__ import annotations

import logging
import time
from html import escape

from telegram import Message, Update
from telegram.ext import ContextTypes

from handlers.services import Services, get_services
from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import answer, chat_id_of, clear_awaiting, get_awaiting, set_awaiting, show
from providers.base import ProviderClient
from providers.capabilities import bundle, chooses_plan, multi_select_limit
from providers.errors import ProviderError
from providers.models import Offer, ProviderId, Section

logger = logging.getLogger(__name__)

KIND_FILTER = "buy_filter"
_CATALOGUE_TTL = 60.0  # seconds a fetched service list is reused while paging
_CATALOGUE_KEY = "catalogue"
_TITLES_KEY = "section_titles"
_SELECTION_KEY = "selection"


async def buy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 1: the connected providers."""
    clear_awaiting(context)
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


async def provider_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 2: the provider's catalogue sections."""
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    provider = _provider(parts, 2)
    if provider is None:
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    clear_awaiting(context)
    services = get_services(context)
    client = await _client_or_explain(update, services, provider)
    if client is None:
        return
    await answer(update)
    try:
        sections = await client.list_sections()
    except ProviderError as exc:
        await show(update, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return
    assert context.chat_data is not None
    context.chat_data.setdefault(_TITLES_KEY, {}).update({(provider.value, s.id): s.title for s in sections})
    context.chat_data.pop(_SELECTION_KEY, None)  # a new walk through the catalogue starts unselected
    await show(update, texts.choose_section(provider), keyboards.sections(provider, sections))


async def page_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 3: one page of services, filtered by what the user typed, if anything."""
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    provider = _provider(parts, 2)
    if provider is None or len(parts) != 5 or not parts[4].isdigit():
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    section, page = parts[3], int(parts[4])
    awaiting = get_awaiting(context) or {}
    query = (
        awaiting.get("query")
        if awaiting.get("kind") == KIND_FILTER and awaiting.get("provider") == provider.value and awaiting.get("section") == section
        else None
    )
    await answer(update)
    message = await _render_services(update, context, provider, section, page, query)
    if message is not None:
        set_awaiting(context, kind=KIND_FILTER, provider=provider.value, section=section,
                     message_id=message.message_id, query=query)


async def filter_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, state: dict[str, object]) -> None:
    """Typed text while a services list is open: show the matching services (a new list message)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    provider = ProviderId(str(state["provider"]))
    section = str(state["section"])
    query = message.text.strip()
    shown = await _render_services(update, context, provider, section, 0, query)
    if shown is not None:
        set_awaiting(context, kind=KIND_FILTER, provider=provider.value, section=section,
                     message_id=shown.message_id, query=query)


async def _offers(context: ContextTypes.DEFAULT_TYPE, client: ProviderClient, section: str, fresh: bool = False) -> list[Offer]:
    """The section's services, reused for a minute so paging does not refetch."""
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
    """The section's name, from the sections fetched at step 2 (fetched again only if forgotten)."""
    assert context.chat_data is not None
    titles: dict[tuple[str, str], str] = context.chat_data.setdefault(_TITLES_KEY, {})
    key = (client.provider.value, section)
    if key not in titles:
        try:
            sections: list[Section] = await client.list_sections()
        except ProviderError:
            return section
        titles.update({(client.provider.value, s.id): s.title for s in sections})
    return titles.get(key, section)


async def _render_services(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    provider: ProviderId,
    section: str,
    page: int,
    query: str | None,
) -> Message | None:
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
        offers = [o for o in offers if needle in o.name.casefold() or needle == o.service.casefold()]
        if not offers:
            return await show(update, texts.NO_MATCH.format(query=escape(query)))
    pages = keyboards.page_count(len(offers))
    page = min(max(page, 0), pages - 1)
    title = await _section_title(context, client, section)
    limit = multi_select_limit(provider, section)
    selected = _selection(context, provider, section) if limit else None
    return await show(
        update,
        texts.services_page(provider, title, page, pages, query, limit, len(selected or [])),
        keyboards.services(provider, section, offers, page, selected),
    )


async def offer_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 4: the confirmation card, priced from a fresh catalogue (never from callback data)."""
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    provider = _provider(parts, 2)
    if provider is None or len(parts) != 5:
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    section, service = parts[3], parts[4]
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
    offer = next((o for o in offers if o.service == service), None)
    if offer is None or offer.stock == 0:
        await show(update, "This service is no longer available. Choose another:", keyboards.services(provider, section, offers, 0))
        return
    if chooses_plan(provider):
        await _show_plans(update, client, section, offer)
        return
    purchase = await services.purchases.create(chat_id_of(update), provider, offer)
    title = await _section_title(context, client, section)
    await show(update, texts.confirmation(purchase, title), keyboards.confirm_purchase(purchase))


async def _show_plans(update: Update, client: ProviderClient, section: str, offer: Offer) -> None:
    """GotSMS: the service's plans of this billing type, with price, duration and renewal price."""
    try:
        found = await client.plans(service_id=offer.service, billing_type=section)  # type: ignore[attr-defined]
    except ProviderError as exc:
        await show(update, texts.provider_error(client.provider, exc.user_message), keyboards.main_menu())
        return
    await show(update, texts.choose_plan(client.provider, offer.name), keyboards.plans(client.provider, section, found))


async def plan_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """GotSMS: the confirmation card for one plan, priced from a fresh plan list."""
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    provider = _provider(parts, 2)
    if provider is None or len(parts) != 5 or not chooses_plan(provider):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    section, plan_id = parts[3], parts[4]
    services = get_services(context)
    client = await _client_or_explain(update, services, provider)
    if client is None:
        return
    await answer(update)
    try:
        found = await client.plans(billing_type=section)  # type: ignore[attr-defined]
    except ProviderError as exc:
        await show(update, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return
    plan = next((p for p in found if p.id == plan_id), None)
    if plan is None:
        await show(update, "This plan is no longer offered. Use /buy to choose again.", keyboards.main_menu())
        return
    offer = Offer(
        # The order keeps its plan's kind: which buttons its card shows depends on it.
        section=f"{plan.billing_type}:{plan.duration_type}",
        service=plan.id,
        name=f"{plan.service_name} · {plan.duration_label}",
        price=plan.price,
        stock=None,
        duration_minutes=plan.duration_minutes,
    )
    purchase = await services.purchases.create(chat_id_of(update), provider, offer)
    title = await _section_title(context, client, section)
    await show(update, texts.confirmation(purchase, title), keyboards.confirm_purchase(purchase))


def _selection(context: ContextTypes.DEFAULT_TYPE, provider: ProviderId, section: str) -> list[str]:
    assert context.chat_data is not None
    selections: dict[tuple[str, str], list[str]] = context.chat_data.setdefault(_SELECTION_KEY, {})
    return selections.setdefault((provider.value, section), [])


async def service_toggled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Multi-select (NonVoipUsNumber 30-days): tap a service to add or remove it."""
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    provider = _provider(parts, 2)
    if provider is None or len(parts) != 6 or not parts[5].isdigit() or not multi_select_limit(provider, parts[3]):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    section, service, page = parts[3], parts[4], int(parts[5])
    limit = multi_select_limit(provider, section)
    selected = _selection(context, provider, section)
    if service in selected:
        selected.remove(service)
    elif len(selected) >= limit:
        await answer(update, texts.TOO_MANY_SERVICES.format(limit=limit), alert=True)
        return
    else:
        selected.append(service)
    await answer(update)
    awaiting = get_awaiting(context) or {}
    query = awaiting.get("query") if awaiting.get("kind") == KIND_FILTER and awaiting.get("section") == section else None
    await _render_services(update, context, provider, section, page, query)


async def selection_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Continue with the selected services: one confirmation card for one number."""
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    provider = _provider(parts, 2)
    if provider is None or len(parts) != 4 or not multi_select_limit(provider, parts[3]):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    section = parts[3]
    selected = list(_selection(context, provider, section))
    if not selected:
        await answer(update, texts.NOTHING_SELECTED, alert=True)
        return
    services = get_services(context)
    client = await _client_or_explain(update, services, provider)
    if client is None:
        return
    await answer(update)
    try:
        offers = {o.service: o for o in await _offers(context, client, section, fresh=True)}
    except ProviderError as exc:
        await show(update, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return
    chosen = [offers[s] for s in selected if s in offers and offers[s].stock != 0]
    if len(chosen) != len(selected):
        await show(update, "Some of those services are no longer available. Choose again:",
                   keyboards.services(provider, section, list(offers.values()), 0, []))
        _selection(context, provider, section).clear()
        return
    purchase = await services.purchases.create(chat_id_of(update), provider, bundle(chosen))
    _selection(context, provider, section).clear()
    title = await _section_title(context, client, section)
    await show(update, texts.confirmation(purchase, title), keyboards.confirm_purchase(purchase))


def _provider(parts: list[str], index: int) -> ProviderId | None:
    try:
        provider = ProviderId(parts[index])
    except (IndexError, ValueError):
        return None
    return provider if provider in keyboards.SUPPORTED else None


