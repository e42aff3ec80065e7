"""Instant codes: each account's provider callbacks, set up from the chat (PUBLIC_URL only).

NonVoipUsNumber takes its callback URL through the API (`save_url`): it is registered whenever the
account connects, and the chat is told whether the provider took it. kiwiSMS keeps its webhook in
its dashboard, which only the person can change: the chat is shown the URL to paste there and then
sends the webhook secret kiwiSMS signs with. That message is the chat's next text (a step in the
database, like a key at /connect), deleted from the chat as soon as it is read and stored sealed
(storage/hooks.py). Without a public URL nothing here is offered: codes arrive by polling.

The sandbox has no kiwiSMS dashboard: `python -m bot sandbox` puts the in-process simulator in
`bot_data[SANDBOX_DASHBOARD_KEY]` (a `WebhookDashboard`), so saving the secret points the
simulator at the bot too. Nothing here imports a simulator.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from telegram import Bot, Chat, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import hook_taps, keyboards, texts
from handlers.common import (
    ConnectStep,
    PendingStep,
    answer,
    chat_id_of,
    clear_pending_step,
    delete_quietly,
    load_pending_step,
    replace_pending_step,
    save_pending_step,
    show,
)
from handlers.services import Services, get_services
from providers.base import CallbackRegistering
from providers.errors import ProviderError
from providers.models import ProviderId

logger = logging.getLogger(__name__)

SANDBOX_DASHBOARD_KEY = "sandbox_kiwi_dashboard"
# Providers whose webhook is set in their dashboard by the person (with a signing secret).
_DASHBOARD_WEBHOOK = frozenset({ProviderId.KIWI})
# The secret step is a /connect step of the account (so a restart, /cancel, an edited message and
# the step lock treat it like a key); these values mark it. Neither is a secret.
_FIELD = "field"
_SECRET_FIELD = "webhook_secret"
_SCREEN = "screen"
# A signing secret travels in no header, but it is one word: printable ASCII without spaces.
_SECRET_SHAPE = re.compile(r"[\x21-\x7e]{8,512}")


@runtime_checkable
class WebhookDashboard(Protocol):
    """Where a kiwiSMS account's webhook URL and secret are set (the sandbox's simulator)."""

    def configure_webhook(self, api_key: str, url: str | None, secret: str | None) -> bool:
        """Point the account's webhook at `url`, signed with `secret` (None: none); False for an
        unknown account."""


# -- after /connect ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """The provider's answer to the account's callback URL."""

    provider: ProviderId
    refusal: str | None = None  # the provider's reason, None when it took the URL

    def line(self) -> str:
        if self.refusal is None:
            return texts.instant_codes_on(self.provider)
        return texts.instant_codes_refused(self.provider, self.refusal)


async def after_connect(services: Services, chat_id: int, provider: ProviderId) -> tuple[str | None, ProviderId | None]:
    """What the success screen adds: a line about instant codes, and the provider whose set-up
    button it shows. NonVoipUsNumber's URL is registered here (again, on a reconnect)."""
    if services.public_url is None:
        return None, None
    if provider in _DASHBOARD_WEBHOOK:
        hook = await services.hooks.get(chat_id, provider)
        if hook is not None and hook.webhook_secret is not None:  # the same account again: still on
            return texts.instant_codes_on(provider), None
        return texts.kiwi_offer(), provider
    registration = await register(services, chat_id, provider)
    return (None if registration is None else registration.line()), None


async def register(services: Services, chat_id: int, provider: ProviderId) -> Registration | None:
    """Give the provider the account's callback URL; None when there is none to give (no public
    URL, or a provider without callbacks). The hook keeps its token across reconnects, so the URL
    saved is the same one."""
    client = await services.client_for(chat_id, provider)
    if services.public_url is None or not isinstance(client, CallbackRegistering):
        return None
    hook = await services.hooks.ensure(chat_id, provider)
    url = services.hook_url(provider, hook.token)
    assert url is not None
    try:
        await client.save_url(url)
    except ProviderError as exc:
        await services.hooks.mark_registered(chat_id, provider, False)
        logger.info("chat %s: %s refused the callback URL (%s)", chat_id, provider.value, type(exc).__name__)
        return Registration(provider, exc.user_message)
    await services.hooks.mark_registered(chat_id, provider, True)
    logger.info("chat %s: %s callback URL registered", chat_id, provider.value)
    return Registration(provider)


async def forget(services: Services, chat_id: int, provider: ProviderId) -> None:
    """Disconnect, or another account: the old URL stops working (a new one gets a new token)."""
    await services.hooks.delete(chat_id, provider)


# -- /providers -------------------------------------------------------------------------------


async def providers_screen(
    services: Services, chat_id: int, lines: list[tuple[ProviderId, str]]
) -> tuple[str, InlineKeyboardMarkup]:
    """Each connected account with its balance and how its codes arrive, and the buttons."""
    states = {p: await _codes_state(services, chat_id, p) for p, _ in lines}
    offered = [p for p, (_, offer) in states.items() if offer]
    text = texts.providers_overview(lines, {p: words for p, (words, _) in states.items()})
    return text, keyboards.providers_list([p for p, _ in lines], offered)


async def _codes_state(services: Services, chat_id: int, provider: ProviderId) -> tuple[str, bool]:
    """The account's state in words, and whether its set-up button is offered."""
    if provider not in _DASHBOARD_WEBHOOK and not isinstance(
        await services.client_for(chat_id, provider), CallbackRegistering
    ):
        return texts.state_polling_only(), False
    if services.public_url is None:
        return texts.state_no_public_url(), False
    hook = await services.hooks.get(chat_id, provider)
    dashboard = provider in _DASHBOARD_WEBHOOK
    if hook is None or hook.registered_at is None:
        refused = hook is not None and not dashboard
        return (texts.state_refused(provider) if refused else texts.state_off()), True
    return (texts.state_on() if hook.active else texts.state_lagging()), dashboard


# -- the buttons ------------------------------------------------------------------------------


async def hook_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Set up instant codes (kiwiSMS: URL and secret; NonVoipUsNumber: register the URL again),
    or turn kiwiSMS's off."""
    tap = hook_taps.decode(update.callback_query.data if update.callback_query else None)
    dashboard = tap is not None and tap.provider in _DASHBOARD_WEBHOOK
    if tap is None or (tap.step == "off" and not dashboard):
        await answer(update, texts.outdated_button(), alert=True)
        return
    await answer(update)
    services = get_services(context)
    chat_id = chat_id_of(update)
    await clear_pending_step(update, context)  # a secret step left open ends here (or starts again)
    if services.public_url is None:
        await show(update, texts.no_public_url(), keyboards.back_to_providers())
        return
    if tap.provider not in await services.credentials.providers_of(chat_id):
        await show(update, texts.not_connected().format(provider=texts.provider_name(tap.provider)),
                   keyboards.back_to_providers())
        return
    if not dashboard:
        registration = await register(services, chat_id, tap.provider)
        line = texts.polling_only().format(provider=texts.provider_name(tap.provider))
        await show(update, line if registration is None else registration.line(), keyboards.back_to_providers())
        return
    if tap.step == "off":
        await services.hooks.set_webhook_secret(chat_id, tap.provider, None)
        await _tell_dashboard(context, services, chat_id, tap.provider, None, None)
        logger.info("chat %s: %s instant codes turned off", chat_id, tap.provider.value)
        await show(update, texts.kiwi_off(), keyboards.back_to_providers())
        return
    hook = await services.hooks.ensure(chat_id, tap.provider)
    url = services.hook_url(tap.provider, hook.token)
    assert url is not None
    on = hook.webhook_secret is not None
    screen = await show(update, texts.kiwi_setup(url, on), keyboards.instant_codes_setup(tap.provider, on))
    await save_pending_step(update, context, secret_step(tap.provider, screen.message_id if screen else None))


# -- the secret step --------------------------------------------------------------------------


def secret_step(provider: ProviderId, screen_id: int | None) -> ConnectStep:
    values = {_FIELD: _SECRET_FIELD}
    if screen_id is not None:
        values[_SCREEN] = str(screen_id)
    return ConnectStep(provider, values)


def is_secret_step(step: PendingStep | None) -> bool:
    return isinstance(step, ConnectStep) and step.values.get(_FIELD) == _SECRET_FIELD


async def take_secret(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """The chat's text while the secret step waits: deleted at once, stored sealed, the set-up
    screen says instant codes are on. False (nothing done) when no secret step waits.
    The caller holds the chat's step lock."""
    step = await load_pending_step(update, context)
    if not isinstance(step, ConnectStep) or not is_secret_step(step):
        return False
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and message.text is not None and chat is not None
    deleted = await delete_quietly(message)  # first: whatever it holds, it must not stay in the chat
    note = texts.secret_deleted() if deleted else texts.secret_not_deleted()
    value = message.text.strip()
    if not _SECRET_SHAPE.fullmatch(value):
        await chat.send_message(texts.invalid_secret() if deleted else f"{texts.invalid_secret()}\n{note}",
                                parse_mode=ParseMode.HTML)
        return True
    if not await replace_pending_step(update, context, step, None):
        logger.info("chat %s: a webhook secret arrived after its step ended", chat.id)
        await chat.send_message(texts.step_ended(), parse_mode=ParseMode.HTML)
        return True
    text = await _store_secret(context, get_services(context), chat.id, step.provider, value)
    screen = step.values.get(_SCREEN)
    await _edit_or_send(context.bot, chat, int(screen) if screen and screen.isdigit() else None, f"{text}\n{note}",
                        keyboards.back_to_providers())
    return True


async def _store_secret(
    context: ContextTypes.DEFAULT_TYPE, services: Services, chat_id: int, provider: ProviderId, secret: str
) -> str:
    if services.public_url is None:
        return texts.no_public_url()
    if provider not in await services.credentials.providers_of(chat_id):
        return texts.not_connected().format(provider=texts.provider_name(provider))
    hook = await services.hooks.set_webhook_secret(chat_id, provider, secret)
    await _tell_dashboard(context, services, chat_id, provider, services.hook_url(provider, hook.token), secret)
    logger.info("chat %s: %s webhook secret stored", chat_id, provider.value)
    return texts.kiwi_on()


async def _tell_dashboard(
    context: ContextTypes.DEFAULT_TYPE, services: Services, chat_id: int, provider: ProviderId,
    url: str | None, secret: str | None,
) -> None:
    """Sandbox only: what the person would do in the kiwiSMS dashboard."""
    dashboard = context.bot_data.get(SANDBOX_DASHBOARD_KEY)
    if not isinstance(dashboard, WebhookDashboard):
        return
    credentials = await services.credentials.load(chat_id, provider)
    api_key = (credentials or {}).get("api_key")
    if api_key and not dashboard.configure_webhook(api_key, url, secret):
        logger.info("chat %s: the sandbox has no such %s account", chat_id, provider.value)


async def _edit_or_send(bot: Bot, chat: Chat, message_id: int | None, text: str, markup: InlineKeyboardMarkup) -> None:
    """The set-up screen becomes the answer; a new message when it is gone."""
    if message_id is not None:
        try:
            await bot.edit_message_text(
                text, chat_id=chat.id, message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            return
        except TelegramError as exc:
            logger.info("chat %s: set-up screen not edited (%s); sending a new one", chat.id, type(exc).__name__)
    await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)
