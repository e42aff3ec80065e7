"""/connect: choose a provider, send the key (deleted at once), checked by fetching the balance."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.services import get_services
from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import answer, chat_id_of, clear_awaiting, set_awaiting, show
from providers.errors import AccountSuspended, BadCredentials, ProviderError
from providers.models import ProviderId

logger = logging.getLogger(__name__)

KIND_CONNECT = "connect"
_ASK: dict[ProviderId, str] = {ProviderId.KIWI: texts.KIWI_ASK_KEY}
_NOT_YET = "{provider} is coming soon; for now you can connect kiwiSMS."


async def connect_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Provider buttons."""
    clear_awaiting(context)
    await answer(update)
    await show(update, texts.CHOOSE_PROVIDER_CONNECT, keyboards.connect_providers())


async def provider_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for the first credential of the chosen provider."""
    parts = cb.parse(update.callback_query.data if update.callback_query else None)
    try:
        provider = ProviderId(parts[1])
    except (IndexError, ValueError):
        await answer(update, texts.OUTDATED_BUTTON, alert=True)
        return
    await answer(update)
    if provider not in keyboards.SUPPORTED:
        await show(update, _NOT_YET.format(provider=texts.provider_name(provider)), keyboards.connect_providers())
        return
    set_awaiting(context, kind=KIND_CONNECT, provider=provider.value)
    await show(update, _ASK[provider])


async def credential_received(update: Update, context: ContextTypes.DEFAULT_TYPE, provider: ProviderId) -> None:
    """Delete the secret from the chat first, then check it against the provider."""
    message = update.effective_message
    assert message is not None and message.text is not None
    secret = message.text.strip()
    try:
        await message.delete()
    except TelegramError as exc:
        logger.warning("could not delete a credential message: %s", type(exc).__name__)
    chat = update.effective_chat
    assert chat is not None
    status = await chat.send_message(f"{texts.CHECKING}\n{texts.SECRET_DELETED_NOTE}")
    credentials = {"api_key": secret}
    services = get_services(context)
    try:
        balance = await services.client_from(provider, credentials).get_balance()
    except (BadCredentials, AccountSuspended) as exc:
        await status.edit_text(texts.connect_failed(provider, exc.user_message), parse_mode=ParseMode.HTML)
        return
    except ProviderError as exc:
        await status.edit_text(texts.connect_unchecked(provider, exc.user_message), parse_mode=ParseMode.HTML)
        return
    await services.credentials.save(chat_id_of(update), provider, credentials)
    services.forget_client(chat_id_of(update), provider)
    clear_awaiting(context)
    logger.info("chat %s connected %s", chat.id, provider.value)
    await status.edit_text(
        texts.connected(provider, balance.amount), parse_mode=ParseMode.HTML, reply_markup=keyboards.main_menu()
    )
