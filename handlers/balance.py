"""/balance and /providers: every connected provider's balance, fetched concurrently."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from handlers.services import Services, get_services
from handlers import callbacks as cb
from handlers import accounts, callback_setup, keyboards, texts
from handlers.common import answer, chat_id_of, clear_pending_step, show
from handlers.i18n import _
from providers.errors import ProviderError
from providers.models import ProviderId


async def _balance_line(services: Services, chat_id: int, provider: ProviderId) -> str:
    """One provider's line; its failure stays on its own line."""
    try:
        client = await services.client_for(chat_id, provider)
        if client is None:
            return _("not connected")
        balance = await client.get_balance()
    except ProviderError as exc:
        return f"⚠️ {exc.user_message}"
    except Exception:  # an unsupported or broken client must not hide the others
        return _("⚠️ not available in this version")
    return texts.money(balance.amount)


async def _lines(services: Services, chat_id: int) -> list[tuple[ProviderId, str]]:
    providers = await services.credentials.providers_of(chat_id)
    values = await asyncio.gather(*(_balance_line(services, chat_id, p) for p in providers))
    return list(zip(providers, values))


async def balance_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """All connected providers' balances."""
    await answer(update)
    lines = await _lines(get_services(context), chat_id_of(update))
    if not lines:
        await show(update, texts.no_providers(), keyboards.connect_providers())
        return
    await show(update, texts.balances(lines), keyboards.main_menu())


async def providers_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Connected providers with balance and a Disconnect button each."""
    await clear_pending_step(update, context)
    await answer(update)
    lines = await _lines(get_services(context), chat_id_of(update))
    if not lines:
        await show(update, texts.no_providers(), keyboards.connect_providers())
        return
    await show(update, *await callback_setup.providers_screen(get_services(context), chat_id_of(update), lines))


async def disconnect_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask to confirm (saying what happens to active orders), then remove the credentials; the
    orders and history stay, their cards say the account is gone."""
    tap = cb.decode(update.callback_query.data if update.callback_query else None)
    if not isinstance(tap, cb.Disconnect):
        await answer(update, texts.outdated_button(), alert=True)
        return
    if tap.step == "no" or tap.provider is None:  # Back: the providers list again
        await providers_command(update, context)
        return
    provider = tap.provider
    services = get_services(context)
    chat_id = chat_id_of(update)
    store = accounts.store_of(context)
    if tap.step == "ask":
        await answer(update)
        active = await accounts.followed_orders(services, store, chat_id, provider)
        await show(update, texts.disconnect_question(provider, len(active)), keyboards.disconnect_confirm(provider))
        return
    active = await accounts.followed_orders(services, store, chat_id, provider)
    removed = await services.credentials.delete(chat_id, provider)
    services.forget_client(chat_id, provider)
    await callback_setup.forget(services, chat_id, provider)  # the old callback URL stops working
    await answer(update, None if removed else _("It was not connected."))
    await show(update, texts.disconnected().format(provider=texts.provider_name(provider)), keyboards.after_disconnect())
    if removed and active:
        await accounts.redraw_cards(context.bot, services, active, disconnected=True)
