"""/buy: provider → section → services (paged, filterable by typed text) → confirmation → one order.

Every screen has Back (the previous step) and Menu; all of them live in one message, which a
typed filter edits too (handlers/buy_list.py keeps the list's step and message).
"""

from __future__ import annotations

import msgspec
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.again_buttons import with_again
from handlers.buy_list import (
    belongs_to,
    client_or_explain,
    country_of,
    offers_of,
    remember_sections,
    render_services,
    section_title,
    sections_of,
    tapped_message_id,
    update_step,
)
from handlers.catalogue_cache import catalogue_cache
from handlers.common import (
    BuyStep, CompareStep, answer, chat_id_of, clear_pending_step, load_pending_step, save_pending_step, show,
)
from handlers.i18n import N_, _
from handlers.services import Services, get_services
from providers.base import PlanCatalogue
from providers.errors import ProviderError
from providers.models import Offer, Plan, ProviderId
from providers.registry import capabilities_of
from storage.records import PurchaseRecord

MAX_QUERY = 64  # characters of a typed filter that are used (and echoed back)
# Marked here, translated where shown (in the chat's language).
_GONE_SERVICE = N_("This service is no longer available. Choose another:")
_GONE_SERVICES = N_("Some of those services are no longer available. Choose again:")
_GONE_PLAN = N_("This plan is no longer offered. Choose another:")
_NO_PLANS = N_("This service has no plans right now.")


async def buy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 1: the connected providers."""
    await clear_pending_step(update, context)
    await answer(update)
    services = get_services(context)
    connected = [p for p in await services.credentials.providers_of(chat_id_of(update)) if p in keyboards.SUPPORTED]
    if not connected:
        await show(update, texts.no_providers(), keyboards.connect_providers())
        return
    markup = await with_again(services, chat_id_of(update), keyboards.buy_providers(connected), first=False)
    # Before the screen: a name typed the moment it shows is compared.
    await save_pending_step(update, context, CompareStep())
    await show(update, texts.choose_provider_buy(), markup)


def _tap(update: Update) -> cb.Callback:
    return cb.decode(update.callback_query.data if update.callback_query else None)


def _supported(provider: ProviderId) -> bool:
    return provider in keyboards.SUPPORTED


async def _outdated(update: Update) -> None:
    await answer(update, texts.outdated_button(), alert=True)


async def provider_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 2: the provider's catalogue sections; a new walk starts with nothing selected."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuyProvider) or not _supported(tap.provider):
        await _outdated(update)
        return
    await clear_pending_step(update, context)
    await answer(update)
    client = await client_or_explain(update, get_services(context), tap.provider)
    if client is None:
        return
    try:
        sections = await sections_of(context, client)
    except ProviderError as exc:
        await _provider_failed(update, tap.provider, exc, cb.menu("buy"))
        return
    remember_sections(context, tap.provider, sections)
    await show(update, texts.choose_section(tap.provider), keyboards.sections(tap.provider, sections))


async def _provider_failed(update: Update, provider: ProviderId, exc: ProviderError, back_data: str) -> None:
    markup = InlineKeyboardMarkup([keyboards.back_row(back_data)])
    await show(update, texts.provider_error(provider, exc.user_message), markup)


async def page_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 3: one page of services, filtered by what the user typed, if anything (Clear filter
    is the page no list reaches)."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuyPage) or not _supported(tap.provider):
        await _outdated(update)
        return
    await answer(update)
    clearing = tap.page == keyboards.CLEAR_FILTER_PAGE

    def unfiltered(step: BuyStep) -> BuyStep | None:
        return msgspec.structs.replace(step, query=None) if clearing else step

    step = await update_step(update, context, tap.provider, tap.section, unfiltered, tapped_message_id(update))
    await render_services(update, context, step, 0 if clearing else tap.page)


async def filter_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, step: BuyStep) -> None:
    """Typed text while a services list is open: the list's message shows the matching services."""
    message = update.effective_message
    assert message is not None and message.text is not None
    query = " ".join(message.text[: MAX_QUERY * 4].split())[:MAX_QUERY] or None
    updated = await update_step(
        update, context, step.provider, step.section, lambda s: msgspec.structs.replace(s, query=query)
    )
    await render_services(update, context, updated, 0)


async def offer_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Step 4: the confirmation card, priced from a fresh catalogue (never from callback data);
    a sold-out service answers so and the list stays."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuyOffer) or not _supported(tap.provider):
        await _outdated(update)
        return
    provider, section = tap.provider, tap.section
    services = get_services(context)
    client = await client_or_explain(update, services, provider)
    if client is None:
        await answer(update)
        return
    try:
        offers = await offers_of(context, client, section, fresh=True)
    except ProviderError as exc:
        await answer(update)
        await _provider_failed(update, provider, exc, cb.buy_page(provider, section, 0))
        return
    offer = next((o for o in offers if o.service_id == tap.service_id), None)
    if offer is not None and offer.stock == 0:
        await answer(update, texts.sold_out())
        await _refresh_list(update, context, provider, section)
        return
    await answer(update)
    if offer is None:
        await _refresh_list(update, context, provider, section, _(_GONE_SERVICE))
        return
    if capabilities_of(provider).chooses_plan and isinstance(client, PlanCatalogue):
        await show_plans(update, context, client, provider, section, offer.service_id, offer.name)
        return
    title = await section_title(context, client, section)
    await _show_card(update, services, provider, (offer,), title, country_of(provider, title, offer))


async def _refresh_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, provider: ProviderId, section: str, notice: str | None = None
) -> None:
    """The tapped list again, as the fresh catalogue has it (a sold-out mark may be new)."""
    step = await update_step(update, context, provider, section, lambda s: s, tapped_message_id(update))
    await render_services(update, context, step, 0, notice)


async def _show_card(
    update: Update, services: Services, provider: ProviderId, offers: tuple[Offer, ...], title: str, country: str | None
) -> None:
    purchase = await services.purchases.create(chat_id_of(update), provider, offers)
    await show(update, texts.confirmation(purchase, title, country), keyboards.confirm_purchase(purchase))


async def show_confirmation(
    update: Update, services: Services, provider: ProviderId, offers: tuple[Offer, ...], title: str, country: str | None
) -> None:
    """A new purchase for `offers` (priced by the caller from a fresh catalogue) and its
    confirmation card: the lists' card, also opened by "Buy again" (handlers/buy_again.py)."""
    await _show_card(update, services, provider, offers, title, country)


def sorted_plans(plans: list[Plan]) -> list[Plan]:
    """By country, then duration, then price (SMS-billed plans' duration is their SMS window)."""
    return sorted(plans, key=lambda p: (p.country.casefold(), p.duration_minutes or 0, p.price))


async def show_plans(
    update: Update, context: ContextTypes.DEFAULT_TYPE, catalogue: PlanCatalogue, provider: ProviderId,
    section: str, service_id: str, name: str, notice: str | None = None,
) -> None:
    """GotSMS: the service's plans of this billing type, with country, duration, price and renewal
    (remembered briefly like the services list; a plan's tap prices it from a fresh list)."""

    async def fetch() -> list[Plan]:
        return await catalogue.service_plans(service_id, section)

    try:
        key = (id(catalogue), "plans", section, service_id)
        found = sorted_plans(await catalogue_cache(context).get(key, catalogue, fetch))
    except ProviderError as exc:
        await _provider_failed(update, provider, exc, cb.buy_page(provider, section, 0))
        return
    text = texts.choose_plan(provider, name) if found else _(_NO_PLANS)
    await show(update, f"{notice}\n\n{text}" if notice else text, keyboards.plans(provider, section, found))


def plan_offer(plan: Plan) -> Offer:
    """A GotSMS plan as the offer a purchase records; the order keeps its plan's kind as its
    section, because which buttons its card shows depends on it."""
    return Offer(
        section=plan.kind,
        service_id=plan.service_id,
        name=plan.service_name,
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
        await _outdated(update)
        return
    provider, section = tap.provider, tap.section
    services = get_services(context)
    await answer(update)
    client = await client_or_explain(update, services, provider)
    if client is None:
        return
    if not isinstance(client, PlanCatalogue):
        await show(update, _(_GONE_PLAN), keyboards.main_menu())
        return
    try:
        found = await client.section_plans(section)
    except ProviderError as exc:
        await _provider_failed(update, provider, exc, cb.buy_page(provider, section, 0))
        return
    plan = next((p for p in found if p.id == tap.plan_id), None)
    if plan is None:
        await _refresh_list(update, context, provider, section, _(_GONE_PLAN))
        return
    title = await section_title(context, client, section)
    await _show_card(update, services, provider, (plan_offer(plan),), title, plan.country)


async def service_toggled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Multi-select (NonVoipUsNumber 30-days): tap a service to add or remove it."""
    tap = _tap(update)
    limit = capabilities_of(tap.provider).bundle_limit(tap.section) if isinstance(tap, cb.BuyToggle) else 0
    if not isinstance(tap, cb.BuyToggle) or not _supported(tap.provider) or not limit:
        await _outdated(update)
        return
    message_id = tapped_message_id(update)
    stored = await load_pending_step(update, context)
    here = belongs_to(stored, tap.provider, tap.section, message_id)
    refusal: str | None = None
    if not (here and isinstance(stored, BuyStep) and tap.service_id in stored.selected):
        refusal = await _why_not_selectable(update, context, tap.provider, tap.section, tap.service_id)

    def toggle(step: BuyStep) -> BuyStep | None:
        nonlocal refusal
        selected = list(step.selected)
        if tap.service_id in selected:
            selected.remove(tap.service_id)
        elif refusal is not None:
            return None
        elif len(selected) >= limit:
            refusal = texts.too_many_services().format(limit=limit)
            return None
        else:
            selected.append(tap.service_id)
        return msgspec.structs.replace(step, selected=tuple(selected))

    restarted = not here and _selected_on_screen(update) > 0
    step = await update_step(update, context, tap.provider, tap.section, toggle, message_id)
    if refusal is not None:
        await answer(update, refusal, alert=True)
        return
    # An old list whose selection was not kept: say so, rather than silently counting from zero.
    await answer(update, texts.selection_restarted().format(count=len(step.selected)) if restarted else None)
    await render_services(update, context, step, tap.page)


async def _selected_here(update: Update, context: ContextTypes.DEFAULT_TYPE, provider: ProviderId, section: str) -> tuple[str, ...]:
    stored = await load_pending_step(update, context)
    here = belongs_to(stored, provider, section, tapped_message_id(update))
    return stored.selected if here and isinstance(stored, BuyStep) else ()


async def _why_not_selectable(
    update: Update, context: ContextTypes.DEFAULT_TYPE, provider: ProviderId, section: str, service_id: str
) -> str | None:
    """A sold-out service cannot be added to a selection (it would fail at Continue)."""
    client = await get_services(context).client_for(chat_id_of(update), provider)
    if client is None:
        return None  # the list's render says the provider is not connected
    try:
        offers = await offers_of(context, client, section)
    except ProviderError:
        return None
    offer = next((o for o in offers if o.service_id == service_id), None)
    return texts.sold_out() if offer is not None and offer.stock == 0 else None


def _selected_on_screen(update: Update) -> int:
    """How many services the tapped message shows as selected (its ✅ buttons)."""
    query = update.callback_query
    markup = getattr(query.message, "reply_markup", None) if query is not None else None  # none when inaccessible
    if not isinstance(markup, InlineKeyboardMarkup):
        return 0
    return sum(1 for row in markup.inline_keyboard for b in row if b.text.startswith("✅ "))


async def selection_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Continue with the selected services: one confirmation card for one number."""
    tap = _tap(update)
    if not isinstance(tap, cb.BuySelectionDone) or not _supported(tap.provider):
        await _outdated(update)
        return
    provider, section = tap.provider, tap.section
    if not capabilities_of(provider).bundle_limit(section):
        await _outdated(update)
        return
    selected = list(await _selected_here(update, context, provider, section))
    if not selected:
        stale = _selected_on_screen(update) > 0  # the message shows a selection that was not kept
        await answer(update, texts.stale_selection() if stale else texts.nothing_selected(), alert=True)
        if stale:
            await _refresh_list(update, context, provider, section)
        return
    services = get_services(context)
    await answer(update)
    client = await client_or_explain(update, services, provider)
    if client is None:
        return
    try:
        by_id = {o.service_id: o for o in await offers_of(context, client, section, fresh=True)}
    except ProviderError as exc:
        await _provider_failed(update, provider, exc, cb.buy_page(provider, section, 0))
        return
    chosen = [by_id[s] for s in selected if s in by_id and by_id[s].stock != 0]
    step = await update_step(update, context, provider, section,
                             lambda s: msgspec.structs.replace(s, selected=()), tapped_message_id(update))
    if len(chosen) != len(selected):
        await render_services(update, context, step, 0, _(_GONE_SERVICES))
        return
    title = await section_title(context, client, section)
    await _show_card(update, services, provider, tuple(chosen), title, country_of(provider, title, chosen[0]))


async def back_to_list(update: Update, context: ContextTypes.DEFAULT_TYPE, purchase: PurchaseRecord, notice: str) -> None:
    """Cancel on a confirmation card: the list it came from (a GotSMS service's plans), with `notice`."""
    provider = purchase.provider
    client = await get_services(context).client_for(chat_id_of(update), provider)
    if client is None:
        await show(update, notice, keyboards.main_menu())
        return
    if capabilities_of(provider).chooses_plan and isinstance(client, PlanCatalogue):
        section = purchase.section.partition(":")[0]  # a plan's kind is "billing_type:duration_type"
        service_id = purchase.service_ids[0] if purchase.service_ids else purchase.service
        await show_plans(update, context, client, provider, section, service_id, purchase.service_name, notice)
        return
    step = await update_step(update, context, provider, purchase.section, lambda s: s, tapped_message_id(update))
    await render_services(update, context, step, 0, notice)

