"""Accounts and orders stay together: which account an order was bought with, whether it is still
connected, and the question before a change would leave active orders without their account.

Telling accounts apart: a keyed fingerprint of the credential naming the account (kiwiSMS key,
NonVoipUsNumber email, GotSMS token; storage/accounts.py). A new key of the same account has
another fingerprint, so before asking, the new credentials are shown one of the active orders:
the provider finding it means the same account (its own answer beats any local guess).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal

from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import account_callbacks as account_cb
from handlers import callback_setup
from handlers import keyboards, texts
from handlers.common import answer, chat_id_of, show
from handlers.services import Services, get_services
from handlers.zones import chat_zone
from providers.base import ProviderClient
from providers.errors import ProviderError
from providers.models import ProviderId
from storage.accounts import AccountStore, fingerprint_key, read_account
from storage.records import OrderRecord

logger = logging.getLogger(__name__)

_STORE_KEY = "account_store"
_PENDING_KEY = "pending_account_switches"
# The new credentials wait for Yes in memory only (an unconfirmed secret is never written to disk);
# after this, or a restart, the question has expired and /connect starts again.
PENDING_SECONDS = 600.0
_PROBED_ORDERS = 3  # active orders shown to the new credentials before deciding they are another account

# What names the account in each provider's credentials.
_IDENTITY_FIELD: dict[ProviderId, str] = {
    ProviderId.KIWI: "api_key",
    ProviderId.NONVOIP: "email",
    ProviderId.GOTSMS: "token",
}


def identity_of(provider: ProviderId, credentials: dict[str, str]) -> str:
    value = credentials.get(_IDENTITY_FIELD[provider], "").strip()
    return value.lower() if provider is ProviderId.NONVOIP else value  # an email's case does not matter


def account_store(services: Services, bot: Bot, cache: dict[str, object]) -> AccountStore:
    """One store per application, keyed by the bot token (a secret that is not in the database)."""
    store = cache.get(_STORE_KEY)
    if not isinstance(store, AccountStore):
        store = AccountStore(services.db, fingerprint_key(bot.token))
        cache[_STORE_KEY] = store
    return store


def store_of(context: ContextTypes.DEFAULT_TYPE) -> AccountStore:
    return account_store(get_services(context), context.bot, context.bot_data)


async def followed_orders(services: Services, store: AccountStore, chat_id: int, provider: ProviderId) -> list[OrderRecord]:
    """Active orders of the chat bought with the account remembered for `provider` (connected or not)."""
    record = await store.get(chat_id, provider)
    return [
        o
        for o in await services.orders.active_for_chat(chat_id)
        if o.provider is provider and (record is None or o.created_at >= record.since)
    ]


async def account_gone_line(services: Services, order: OrderRecord) -> str | None:
    """The card's line saying why the order is not followed; None while its account is connected."""
    if order.status.is_final:
        return None
    if await services.credentials.load(order.chat_id, order.provider) is None:
        return texts.account_gone_line(order.provider, disconnected=True)
    record = await read_account(services.db, order.chat_id, order.provider)
    if record is not None and order.created_at < record.since:
        return texts.account_gone_line(order.provider, disconnected=False)
    return None


async def gone_card(services: Services, order: OrderRecord) -> tuple[str, InlineKeyboardMarkup] | None:
    """For every screen that draws an order card: the account-gone line (texts.order_card's
    `account_gone`) and the buttons that say so; None while the order's account is connected."""
    line = await account_gone_line(services, order)
    if line is None:
        return None
    disconnected = await services.credentials.load(order.chat_id, order.provider) is None
    return line, keyboards.account_gone(order, disconnected)


async def redraw_cards(bot: Bot, services: Services, orders: list[OrderRecord], *, disconnected: bool | None) -> None:
    """Edit the live cards of `orders`: with the account-gone line and buttons, or (None) as usual again."""
    codes = await services.messages.codes_by_order(o.id for o in orders)
    for order in orders:
        if order.card_message_id is None:
            continue
        gone = None if disconnected is None else texts.account_gone_line(order.provider, disconnected)
        markup = keyboards.order_card(order) if gone is None else keyboards.account_gone(order, bool(disconnected))
        text = texts.order_card(order, codes.get(order.id, []), await chat_zone(services, order.chat_id), account_gone=gone)
        try:
            await bot.edit_message_text(
                text, chat_id=order.chat_id, message_id=order.card_message_id, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except TelegramError as exc:  # a deleted or unchanged card: /orders shows it again
            logger.info("order %s: card not redrawn: %s", order.id, type(exc).__name__)


# -- connecting: the same account, or another one? ------------------------------------------


@dataclass
class _PendingSwitch:
    nonce: str
    credentials: dict[str, str] = field(repr=False)
    balance: Decimal
    deadline: float


@dataclass(frozen=True)
class ConnectDecision:
    same_account: bool
    orphaned: list[OrderRecord]  # active orders another account would leave behind (ask first)


async def decide(
    services: Services, store: AccountStore, chat_id: int, provider: ProviderId,
    credentials: dict[str, str], client: ProviderClient,
) -> ConnectDecision:
    live = await followed_orders(services, store, chat_id, provider)
    record = await store.get(chat_id, provider)
    identity = identity_of(provider, credentials)
    if record is not None and hmac.compare_digest(record.fingerprint, store.fingerprint(provider, identity)):
        return ConnectDecision(True, [])
    stored = await services.credentials.load(chat_id, provider)
    if stored is not None and hmac.compare_digest(identity_of(provider, stored).encode(), identity.encode()):
        return ConnectDecision(True, [])  # connected before fingerprints were kept
    if not live:
        return ConnectDecision(False, [])  # another (or a first) account; nothing is left behind
    if await _sees_any(client, live[:_PROBED_ORDERS]):
        return ConnectDecision(True, [])  # e.g. a new key of the same account
    return ConnectDecision(False, live)


async def _sees_any(client: ProviderClient, orders: list[OrderRecord]) -> bool:
    """The provider shows one of the orders, with its number, to these credentials. An answer
    without the number proves nothing (NonVoipUsNumber answers an unknown order id as ended)."""
    for order in orders:
        try:
            remote = await client.get_order(order.remote_id)
        except ProviderError:
            continue
        if _digits(remote.phone) and _digits(remote.phone) == _digits(order.phone):
            return True
    return False


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


async def store_connection(
    bot: Bot, services: Services, store: AccountStore, chat_id: int, provider: ProviderId,
    credentials: dict[str, str], *, same_account: bool,
) -> None:
    """Save the credentials and the account; cards of orders this account follows again are redrawn."""
    before = await followed_orders(services, store, chat_id, provider)
    was_connected = await services.credentials.load(chat_id, provider) is not None
    await services.credentials.save(chat_id, provider, credentials)
    services.forget_client(chat_id, provider)
    if not same_account:  # another account's callbacks must not reach this one: a new URL
        await callback_setup.forget(services, chat_id, provider)
    await store.remember(chat_id, provider, store.fingerprint(provider, identity_of(provider, credentials)),
                         new_account=not same_account)
    if same_account and not was_connected and before:
        await redraw_cards(bot, services, before, disconnected=None)
    elif not same_account and before:
        await redraw_cards(bot, services, before, disconnected=False)


async def connected_screen(
    services: Services, chat_id: int, provider: ProviderId, balance: Decimal
) -> tuple[str, InlineKeyboardMarkup]:
    """"Connected, balance $X", with the account's instant codes (registered now where the provider
    takes a URL, offered where the person sets them up)."""
    line, setup = await callback_setup.after_connect(services, chat_id, provider)
    text = texts.connected(provider, balance)
    return (text if line is None else f"{text}\n{line}"), keyboards.connected_screen(setup)


def ask_later(context: ContextTypes.DEFAULT_TYPE, chat_id: int, provider: ProviderId,
              credentials: dict[str, str], balance: Decimal) -> str:
    """Hold the new credentials until Yes; returns the question's nonce."""
    pending: dict[tuple[int, ProviderId], _PendingSwitch] = context.bot_data.setdefault(_PENDING_KEY, {})
    now = time.monotonic()
    for key in [k for k, v in pending.items() if v.deadline < now]:
        del pending[key]
    nonce = secrets.token_urlsafe(9)
    pending[(chat_id, provider)] = _PendingSwitch(nonce, credentials, balance, now + PENDING_SECONDS)
    return nonce


async def account_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes / No on "connect another account?", and the "account gone" button of an order."""
    tap = account_cb.decode(update.callback_query.data if update.callback_query else None)
    if isinstance(tap, account_cb.GoneTap):
        await answer(update, texts.account_gone_line(tap.provider, disconnected=False), alert=True)
        return
    if tap is None:
        await answer(update, texts.outdated_button(), alert=True)
        return
    chat_id = chat_id_of(update)
    pending: dict[tuple[int, ProviderId], _PendingSwitch] = context.bot_data.setdefault(_PENDING_KEY, {})
    waiting = pending.get((chat_id, tap.provider))
    current = waiting is not None and waiting.nonce == tap.nonce and waiting.deadline >= time.monotonic()
    if tap.step == "no" or not current:
        if current:
            del pending[(chat_id, tap.provider)]
        await answer(update)
        text = texts.account_switch_kept(tap.provider) if tap.step == "no" else texts.account_switch_expired()
        await show(update, text, keyboards.main_menu())
        return
    assert waiting is not None
    del pending[(chat_id, tap.provider)]
    await answer(update)
    services = get_services(context)
    await store_connection(context.bot, services, store_of(context), chat_id, tap.provider, waiting.credentials,
                           same_account=False)
    logger.info("chat %s connected another %s account", chat_id, tap.provider.value)
    await show(update, *await connected_screen(services, chat_id, tap.provider, waiting.balance))
