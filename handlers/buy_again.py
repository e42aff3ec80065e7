""""Buy again": the chat's last few distinct services as buttons on /start and /buy; a tap prices
the service from the provider's catalogue now and opens a fresh confirmation card, the same card
(and the same purchase) as buying through the lists.

The button carries an order id only (never a price): the order must be this chat's, and what it
was bought as (provider, section, service ids) is read from its purchase.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import buy, keyboards, texts
from handlers import callbacks as cb
from handlers.buy_list import client_or_explain, country_of, offers_of, section_title
from handlers.again_buttons import decode
from handlers.common import answer, chat_id_of, show
from handlers.services import get_services
from handlers.texts import again as again_texts
from providers.base import PlanCatalogue
from providers.errors import ProviderError
from providers.registry import capabilities_of
from storage.again import AgainStore


def _back() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([keyboards.back_row(cb.menu("buy"))])


async def again_tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A "Buy again" button: today's offer from the provider, then its confirmation card."""
    order_id = decode(update.callback_query.data if update.callback_query else None)
    services = get_services(context)
    chat_id = chat_id_of(update)
    bought = None if order_id is None else await AgainStore(services.db).purchase_of_order(order_id, chat_id)
    if bought is None or bought.provider not in keyboards.SUPPORTED or not bought.service_ids:
        # Another chat's order (forged data) finds nothing here: nothing of it is shown.
        await answer(update, texts.outdated_button(), alert=True)
        return
    await answer(update)
    client = await client_or_explain(update, services, bought.provider)
    if client is None:
        return
    if capabilities_of(bought.provider).chooses_plan and isinstance(client, PlanCatalogue):
        # GotSMS: the service's plans as the lists show them; a plan's tap prices it afresh.
        section = bought.section.partition(":")[0]
        await buy.show_plans(update, context, client, bought.provider, section, bought.service_ids[0], bought.service_name)
        return
    try:
        offers = {o.service_id: o for o in await offers_of(context, client, bought.section, fresh=True)}
    except ProviderError as exc:
        await show(update, texts.provider_error(bought.provider, exc.user_message), _back())
        return
    chosen = [offers.get(service_id) for service_id in bought.service_ids]
    available = [o for o in chosen if o is not None]
    if len(available) != len(chosen):
        await show(update, again_texts.again_gone(), _back())
        return
    if any(o.stock == 0 for o in available):
        await show(update, again_texts.again_sold_out(), _back())
        return
    title = await section_title(context, client, bought.section)
    country = country_of(bought.provider, title, available[0])
    await buy.show_confirmation(update, services, bought.provider, tuple(available), title, country)
