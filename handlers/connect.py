"""/connect: choose a provider, send the key (deleted at once), checked by fetching the balance.

The step (which field is next, the non-secret values so far) lives in the database, so a key
typed after a restart is still taken by its step and deleted. A secret is never stored there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers import accounts, callback_setup
from handlers import callbacks as cb
from handlers import keyboards, texts
from handlers.common import (
    ConnectStep,
    answer,
    chat_id_of,
    clear_pending_step,
    delete_quietly,
    load_pending_step,
    replace_pending_step,
    save_pending_step,
    show,
    step_lock,
)
from handlers.i18n import N_, _
from handlers.services import get_services
from providers.errors import AccountSuspended, BadCredentials, ProviderError
from providers.models import ProviderId

logger = logging.getLogger(__name__)

_NOT_YET = N_("{provider} is coming soon.")
_STEP_RETRIES = 5  # compare-and-set attempts when updates of one chat race for the step

# What a value may look like before it is sent anywhere: keys and tokens travel in HTTP
# headers (printable ASCII, no spaces), an email is one address, a password one line.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,512}")
_EMAIL = re.compile(r"[^\s@]{1,64}@[^\s@]{1,190}")
_ONE_LINE = re.compile(r"[^\x00-\x1f\x7f]{1,256}")

# Messages that look like a credential although no /connect step waits for one.
_CREDENTIAL_LIKE = (
    re.compile(r"lsms_[A-Za-z0-9_-]{4,}"),  # kiwiSMS API key: lsms_{prefix}_{secret}
    re.compile(r"\d{1,10}\|[A-Za-z0-9]{20,}"),  # GotSMS (Sanctum) token: id|secret
    re.compile(r"gots_[A-Za-z0-9_-]{8,}"),
    re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}"),  # a Telegram bot token
    re.compile(r"(?=[A-Za-z0-9+/=_-]*[0-9])(?=[A-Za-z0-9+/=_-]*[A-Za-z])[A-Za-z0-9+/=_-]{40,}"),  # base64 / hex
)


@dataclass(frozen=True)
class CredentialField:
    key: str
    prompt: Callable[[], str]  # called when shown: the text is in the chat's language
    secret: bool  # a secret's message is deleted from the chat as soon as it is read
    valid: Callable[[str], bool]


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


# What each provider asks for, one message each, in this order.
FIELDS: dict[ProviderId, tuple[CredentialField, ...]] = {
    ProviderId.KIWI: (CredentialField("api_key", texts.kiwi_ask_key, True, _matches(_HEADER_SAFE)),),
    ProviderId.NONVOIP: (
        CredentialField("email", texts.nonvoip_ask_email, False, _matches(_EMAIL)),
        CredentialField("password", texts.nonvoip_ask_password, True, _matches(_ONE_LINE)),
    ),
    ProviderId.GOTSMS: (CredentialField("token", texts.gotsms_ask_token, True, _matches(_HEADER_SAFE)),),
}


def looks_like_credential(text: str) -> bool:
    """A word of `text` has the shape of an API key or token."""
    return any(p.fullmatch(word) for word in text.split() if len(word) >= 9 for p in _CREDENTIAL_LIKE)


async def connect_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Provider buttons."""
    await clear_pending_step(update, context)
    await answer(update)
    await show(update, texts.choose_provider_connect(), keyboards.connect_providers())


async def provider_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask for the first credential of the chosen provider."""
    chosen = cb.decode(update.callback_query.data if update.callback_query else None)
    if not isinstance(chosen, cb.ConnectProvider):
        await answer(update, texts.outdated_button(), alert=True)
        return
    provider = chosen.provider
    await answer(update)
    if provider not in keyboards.SUPPORTED or provider not in FIELDS:
        await show(update, _(_NOT_YET).format(provider=texts.provider_name(provider)), keyboards.connect_providers())
        return
    await save_pending_step(update, context, ConnectStep(provider))
    await show(update, FIELDS[provider][0].prompt(), keyboards.connect_prompt())


async def credential_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One credential message: a secret is deleted first; after the last one, check them all."""
    chat = update.effective_chat
    assert chat is not None
    # One message of a chat at a time, in order: the email must be taken before the password.
    async with step_lock(chat.id):
        if await callback_setup.take_secret(update, context):  # the kiwiSMS webhook secret's step
            return
        taken = await _take(update, context)
    if taken is not None:
        provider, values, status = taken
        await _check_and_store(update, context, provider, values, status)


async def _take(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[ProviderId, dict[str, str], Message] | None:
    """Move the step on by compare-and-set; the complete set of values when it is the last."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and message.text is not None and chat is not None
    value = message.text.strip()
    deleted = False
    for _attempt in range(_STEP_RETRIES):
        loaded = await load_pending_step(update, context)
        if not isinstance(loaded, ConnectStep):
            break
        fields = FIELDS[loaded.provider]
        known = {k: v for k, v in loaded.values.items() if any(f.key == k and not f.secret for f in fields)}
        field = fields[len(known)] if len(known) < len(fields) else fields[0]
        valid = field.valid(value)
        # A value that is not what a visible field asks for may be the secret typed early.
        if not deleted and (field.secret or not valid or looks_like_credential(value)):
            await delete_quietly(message)  # a failure is logged; the step goes on
            deleted = True
        if not valid:
            await chat.send_message(texts.invalid_credential(loaded.provider, field.key), parse_mode=ParseMode.HTML)
            return None
        values = {**known, field.key: value}
        if len(values) < len(fields):
            # Only non-secret fields come before the last one, so no secret reaches the database.
            if await replace_pending_step(update, context, loaded, ConnectStep(loaded.provider, values)):
                await chat.send_message(fields[len(values)].prompt(), parse_mode=ParseMode.HTML)
                return None
        elif await replace_pending_step(update, context, loaded, ConnectStep(loaded.provider)):
            # A rejected set starts over from the first field.
            status = await chat.send_message(
                f"{texts.checking()}\n{texts.secret_deleted_note()}" if deleted else texts.checking()
            )
            return loaded.provider, values, status
        # Another process moved the step meanwhile: read it again.
    logger.info("chat %s: a credential message arrived after its step ended", chat.id)
    await chat.send_message(texts.step_ended(), parse_mode=ParseMode.HTML)
    return None


async def _check_and_store(
    update: Update, context: ContextTypes.DEFAULT_TYPE, provider: ProviderId, credentials: dict[str, str], status: Message
) -> None:
    services = get_services(context)
    client = services.client_from(provider, credentials)
    try:
        balance = await client.get_balance()
    except (BadCredentials, AccountSuspended) as exc:
        await status.edit_text(texts.connect_failed(provider, exc.user_message), parse_mode=ParseMode.HTML)
        if len(FIELDS[provider]) > 1:  # several fields: ask again from the first one
            await status.reply_text(FIELDS[provider][0].prompt(), parse_mode=ParseMode.HTML)
        return
    except ProviderError as exc:
        await status.edit_text(texts.connect_unchecked(provider, exc.user_message), parse_mode=ParseMode.HTML)
        return
    chat_id = chat_id_of(update)
    await replace_pending_step(update, context, ConnectStep(provider), None)
    store = accounts.store_of(context)
    try:
        decision = await accounts.decide(services, store, chat_id, provider, credentials, client)
    except ProviderError as exc:  # e.g. the provider went down between the two requests
        await status.edit_text(texts.connect_unchecked(provider, exc.user_message), parse_mode=ParseMode.HTML)
        return
    if decision.orphaned:
        # Another account would leave active orders behind: nothing is stored before Yes.
        nonce = accounts.ask_later(context, chat_id, provider, credentials, balance.amount)
        await status.edit_text(
            texts.account_switch_question(provider, len(decision.orphaned)),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboards.account_switch(provider, nonce),
        )
        return
    await accounts.store_connection(
        context.bot, services, store, chat_id, provider, credentials, same_account=decision.same_account
    )
    logger.info("chat %s connected %s", chat_id, provider.value)
    text, markup = await accounts.connected_screen(services, chat_id, provider, balance.amount)
    await status.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def credential_outside_a_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A key pasted with no /connect step waiting: it must not stay in the chat."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and chat is not None
    await delete_quietly(message)
    logger.info("chat %s: deleted a credential-like message outside /connect", chat.id)
    await chat.send_message(texts.credential_outside_step(), parse_mode=ParseMode.HTML)
