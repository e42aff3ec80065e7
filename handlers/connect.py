"""/connect: choose a provider, send the key (deleted at once), checked by fetching the balance."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers.services import get_services
from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import answer, chat_id_of, clear_awaiting, set_awaiting, show
from providers.errors import AccountSuspended, BadCredentials, ProviderError
from providers.models import ProviderId

logger = logging.getLogger(__name__)

KIND_CONNECT = "connect"
_NOT_YET = "{provider} is coming soon."


@dataclass(frozen=True)
class CredentialField:
    key: str
    prompt: str
    secret: bool  # a secret's message is deleted from the chat as soon as it is read


# What each provider asks for, one message each, in this order.
FIELDS: dict[ProviderId, tuple[CredentialField, ...]] = {
    ProviderId.KIWI: (CredentialField("api_key", texts.KIWI_ASK_KEY, secret=True),),
    ProviderId.NONVOIP: (
        CredentialField("email", texts.NONVOIP_ASK_EMAIL, secret=False),
        CredentialField("password", texts.NONVOIP_ASK_PASSWORD, secret=True),
    ),
    ProviderId.GOTSMS: (CredentialField("token", texts.GOTSMS_ASK_TOKEN, secret=True),),
}


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
    if provider not in keyboards.SUPPORTED or provider not in FIELDS:
        await show(update, _NOT_YET.format(provider=texts.provider_name(provider)), keyboards.connect_providers())
        return
    set_awaiting(context, kind=KIND_CONNECT, provider=provider.value, values={})
    await show(update, FIELDS[provider][0].prompt)


async def credential_received(
    update: Update, context: ContextTypes.DEFAULT_TYPE, provider: ProviderId, state: dict[str, Any]
) -> None:
    """One credential message: a secret is deleted first; after the last one, check them all."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and message.text is not None and chat is not None
    values: dict[str, str] = dict(state.get("values") or {})
    fields = FIELDS[provider]
    field = fields[len(values)]
    values[field.key] = message.text.strip()
    if field.secret:
        try:
            await message.delete()
        except TelegramError as exc:
            logger.warning("could not delete a credential message: %s", type(exc).__name__)
    if len(values) < len(fields):
        # Only non-secret fields come before the last one, so no secret waits in memory.
        set_awaiting(context, kind=KIND_CONNECT, provider=provider.value, values=values)
        await chat.send_message(fields[len(values)].prompt, parse_mode=ParseMode.HTML)
        return
    # A rejected set starts over from the first field.
    set_awaiting(context, kind=KIND_CONNECT, provider=provider.value, values={})
    status = await chat.send_message(f"{texts.CHECKING}\n{texts.SECRET_DELETED_NOTE}")
    await _check_and_store(update, context, provider, values, status)


async def _check_and_store(
    update: Update, context: ContextTypes.DEFAULT_TYPE, provider: ProviderId, credentials: dict[str, str], status: Message
) -> None:
    services = get_services(context)
    try:
        balance = await services.client_from(provider, credentials).get_balance()
    except (BadCredentials, AccountSuspended) as exc:
        await status.edit_text(texts.connect_failed(provider, exc.user_message), parse_mode=ParseMode.HTML)
        if len(FIELDS[provider]) > 1:  # several fields: ask again from the first one
            await status.reply_text(FIELDS[provider][0].prompt, parse_mode=ParseMode.HTML)
        return
    except ProviderError as exc:
        await status.edit_text(texts.connect_unchecked(provider, exc.user_message), parse_mode=ParseMode.HTML)
        return
    await services.credentials.save(chat_id_of(update), provider, credentials)
    services.forget_client(chat_id_of(update), provider)
    clear_awaiting(context)
    logger.info("chat %s connected %s", chat_id_of(update), provider.value)
    await status.edit_text(
        texts.connected(provider, balance.amount), parse_mode=ParseMode.HTML, reply_markup=keyboards.main_menu()
    )
