"""/buy's services list: the chat's list step, the catalogue it shows, and the one message it lives in.

The step (`BuyStep`: list, filter, multi-select selection, and the message showing them) is kept
in the database; a tap on a list message that is not the step's message starts that message's
own step, so an old message never acts on a selection it does not show. Fetched catalogues and
section titles are cached in memory only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

import msgspec
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from handlers import keyboards, texts
from handlers.catalogue_cache import catalogue_cache
from handlers.common import (
    BuyStep,
    chat_id_of,
    load_pending_step,
    replace_pending_step,
    show,
    step_lock,
)
from handlers.i18n import N_, _
from handlers.services import Services, get_services
from providers.base import ProviderClient
from providers.errors import ProviderError
from providers.models import Offer, ProviderId, Section
from providers.registry import capabilities_of

logger = logging.getLogger(__name__)

_TITLES_KEY = "section_titles"
_STEP_RETRIES = 5
# Where a section is not itself a country, the country its numbers are in (NonVoipUsNumber's
# US sections); `Offer.country` says it where the provider does (its Country section, GotSMS).
_SECTIONS_ARE_COUNTRIES = frozenset({ProviderId.KIWI})
_HOME_COUNTRY = {ProviderId.NONVOIP: N_("USA")}


def tapped_message_id(update: Update) -> int | None:
    query = update.callback_query
    return query.message.message_id if query is not None and query.message is not None else None


async def client_or_explain(update: Update, services: Services, provider: ProviderId) -> ProviderClient | None:
    client = await services.client_for(chat_id_of(update), provider)
    if client is None:
        await show(update, _("{provider} is not connected.").format(provider=texts.provider_name(provider)),
                   keyboards.connect_providers())
    return client


async def update_step(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    provider: ProviderId,
    section: str,
    change: Callable[[BuyStep], BuyStep | None],
    message_id: int | None = None,
) -> BuyStep:
    """Apply `change` to the chat's list step by compare-and-set (taps of one chat may race).

    The stored step is used when it is this list's, and `message_id` (the tapped message; None
    for typed text) is the message it belongs to; otherwise an empty step of that message is the
    base. `change` returning None keeps the step as it is."""
    step = BuyStep(provider, section, message_id=message_id)
    async with step_lock(chat_id_of(update)):  # in order within this process; CAS across processes
        for _attempt in range(_STEP_RETRIES):
            stored = await load_pending_step(update, context)
            base = stored if belongs_to(stored, provider, section, message_id) else None
            step = base if isinstance(base, BuyStep) else BuyStep(provider, section, message_id=message_id)
            changed = change(step)
            if changed is None or (changed == base and base is not None):
                return step
            if await replace_pending_step(update, context, stored, changed):
                return changed
    logger.warning("chat %s: the /buy step kept changing; using the last one read", chat_id_of(update))
    return step


def belongs_to(stored: object, provider: ProviderId, section: str, message_id: int | None) -> bool:
    """Whether the stored step is the list shown by `message_id` (None: whichever message it is)."""
    if not isinstance(stored, BuyStep) or (stored.provider, stored.section) != (provider, section):
        return False
    return message_id is None or stored.message_id is None or stored.message_id == message_id


def titles(context: ContextTypes.DEFAULT_TYPE) -> dict[tuple[str, str], str]:
    assert context.chat_data is not None
    return context.chat_data.setdefault(_TITLES_KEY, {})


def remember_sections(context: ContextTypes.DEFAULT_TYPE, provider: ProviderId, sections: list[Section]) -> None:
    titles(context).update({(provider.value, s.id): s.title for s in sections})


async def offers_of(
    context: ContextTypes.DEFAULT_TYPE, client: ProviderClient, section: str, fresh: bool = False
) -> list[Offer]:
    """The section's services, remembered a minute so paging does not refetch
    (handlers/catalogue_cache.py), the sold-out ones last (in the provider's order otherwise)."""

    async def fetch() -> list[Offer]:
        return sorted(await client.list_offers(section), key=lambda o: o.stock == 0)

    key = (id(client), "offers", section)  # one client per chat and provider; the entry keeps it
    return await catalogue_cache(context).get(key, client, fetch, fresh=fresh)


async def sections_of(context: ContextTypes.DEFAULT_TYPE, client: ProviderClient) -> list[Section]:
    """The provider's catalogue sections (a request at NonVoipUsNumber), remembered like offers."""
    key = (id(client), "sections")
    return await catalogue_cache(context).get(key, client, client.list_sections)


async def section_title(context: ContextTypes.DEFAULT_TYPE, client: ProviderClient, section: str) -> str:
    """The section's name, from the sections fetched at step 2 (fetched again after a restart)."""
    key = (client.provider.value, section)
    if key not in titles(context):
        try:
            remember_sections(context, client.provider, await client.list_sections())
        except ProviderError:
            return section
    title = titles(context).get(key, section)
    return _(title)  # the provider module's words (N_-marked there), translated


def country_of(provider: ProviderId, title: str, offer: Offer) -> str | None:
    """The country a confirmation card names: the section's (kiwiSMS), the offer's (a
    NonVoipUsNumber Country product, a GotSMS plan), else the provider's only one."""
    if provider in _SECTIONS_ARE_COUNTRIES:
        return title
    country = offer.country or _HOME_COUNTRY.get(provider)
    return _(country) if country else None


def matching(offers: list[Offer], query: str | None) -> list[Offer]:
    if not query:
        return offers
    needle = query.casefold()
    return [o for o in offers if needle in o.name.casefold() or needle == o.service_id.casefold()]


async def render_services(
    update: Update, context: ContextTypes.DEFAULT_TYPE, step: BuyStep, page: int, notice: str | None = None
) -> Message | None:
    """The step's list (filtered, this page) on the step's message; `notice` is a line above it."""
    provider, section, query = step.provider, step.section, step.query
    services = get_services(context)
    client = await client_or_explain(update, services, provider)
    if client is None:
        return None
    try:
        offers = matching(await offers_of(context, client, section), query)
    except ProviderError as exc:
        await show_on_list(update, context, step, texts.provider_error(provider, exc.user_message), keyboards.main_menu())
        return None
    head = f"{notice}\n\n" if notice else ""
    if not offers:
        text = head + texts.no_match().format(query=escape(query or ""))
        return await show_on_list(update, context, step, text, keyboards.no_match(provider, section))
    pages = keyboards.page_count(len(offers))
    page = min(max(page, 0), pages - 1)
    title = await section_title(context, client, section)
    limit = capabilities_of(provider).bundle_limit(section)
    selected = list(step.selected) if limit else None
    markup = keyboards.services(
        provider, section, offers, page, selected,
        filtered=bool(query), price_is_minimum=capabilities_of(provider).chooses_plan,
    )
    text = head + texts.services_page(provider, title, page, pages, query, limit, len(selected or []))
    return await show_on_list(update, context, step, text, markup)


async def show_on_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, step: BuyStep, text: str, markup: InlineKeyboardMarkup
) -> Message | None:
    """Show a screen of /buy in the list's one message: the tapped one, or for typed text the
    message the step remembers (a new one only when that is gone); the step then remembers it."""
    if update.callback_query is not None or step.message_id is None:
        shown = await show(update, text, markup)
    else:
        shown = await _edit_or_send(update, context, step.message_id, text, markup)
    if shown is not None and shown.message_id != step.message_id:
        new_id = shown.message_id
        await update_step(update, context, step.provider, step.section,
                          lambda s: msgspec.structs.replace(s, message_id=new_id))
    return shown


async def _edit_or_send(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message_id: int, text: str, markup: InlineKeyboardMarkup
) -> Message | None:
    chat_id = chat_id_of(update)
    try:
        edited = await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        return edited if isinstance(edited, Message) else None
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return None
        logger.info("the list message is gone (%s); sending the list again", exc)
    return await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
