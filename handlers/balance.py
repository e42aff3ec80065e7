"""/balance and /providers: every connected provider's balance, fetched concurrently."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from handlers.services import Services, get_services
from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import answer, chat_id_of, clear_pending_step, show
from providers.errors import ProviderError
from providers.models import ProviderId


async def _balance_line(services: Services, chat_id: int, provider: ProviderId) -> str:
    """One provider's line; its failure stays on its own line."""
    try:
        client = await services.client_for(chat_id, provider)
        if client is None:
            return "not connected"
        balance = await client.get_balance()
    except ProviderError as exc:
        return f"⚠️ {exc.user_message}"
    except Exception:  # an unsupported or broken client must not hide the others
        return "⚠️ not available in this version"
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
        await show(update, texts.NO_PROVIDERS, keyboards.connect_providers())
        return
    await show(update, texts.balances(lines), keyboards.main_menu())


async def providers_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Connected providers with balance and a Disconnect button each."""
    await clear_pending_step(update, context)
    await answer(update)
    lines = await _lines(get_services(context), chat_id_of(update))
    if not lines:
        await show(update, texts.NO_PROVIDERS, keyboards.connect_providers())
        return
    await show(update, texts.providers_overview(lines), keyboards.providers_list([p for p, _ in lines]))


async def disconnect_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask to confirm, then remove the credentials (orders and history stay)."""
    tap = cb.decode(update.callback_query.data if update.callback_query else None)
    if not isinstance(tap, cb.Disconnect):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    if tap.step == "no" or tap.provider is None:
        await answer(update)
        await show(update, texts.DISCONNECT_KEPT, keyboards.main_menu())
        return
    provider = tap.provider
    if tap.step == "ask":
        await answer(update)
        await show(update, texts.disconnect_question(provider), keyboards.disconnect_confirm(provider))
        return
    services = get_services(context)
    chat_id = chat_id_of(update)
    removed = await services.credentials.delete(chat_id, provider)
    services.forget_client(chat_id, provider)
    await answer(update, None if removed else "It was not connected.")
    await show(update, texts.DISCONNECTED.format(provider=texts.provider_name(provider)), keyboards.main_menu())
