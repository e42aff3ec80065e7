"""Small helpers every screen uses: show a screen, answer a button, and the chat's pending step."""

from __future__ import annotations

import asyncio
import logging
import weakref

import msgspec
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from handlers.services import get_services
from providers.models import ProviderId

logger = logging.getLogger(__name__)

# Telegram's answers when the pressed button's message cannot be edited any more: deleted,
# too old, or never the bot's. The user still gets the screen, as a new message.
_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid", "message not found")


async def show(
    update: Update,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Edit the pressed button's message in place, or send a new message (a command, or a
    button on a message that is deleted or inaccessible)."""
    query = update.callback_query
    # A deleted or too old message arrives inaccessible (PTB still types it as Message, date 0).
    if query is not None and isinstance(query.message, Message) and query.message.is_accessible:
        try:
            result = await query.message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return result if isinstance(result, Message) else query.message
        except BadRequest as exc:
            reason = str(exc).lower()
            if "not modified" in reason:
                return query.message
            if not any(gone in reason for gone in _GONE):
                raise
            logger.info("screen message gone (%s); sending a new one", exc)
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer the callback query (once); harmless when there is none or it is too old."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text[:200] if text else text, show_alert=alert)
    except BadRequest as exc:  # "query is too old": the user still sees the edited message
        logger.debug("callback answer failed: %s", exc)


async def delete_quietly(message: Message) -> bool:
    """Delete a user's message (a secret); False when Telegram refuses (too old, already gone)."""
    try:
        return await message.delete()
    except (BadRequest, Forbidden) as exc:
        logger.warning("could not delete a message: %s", type(exc).__name__)
        return False


def chat_id_of(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


# -- the chat's pending step, kept in the database (services.conversations) -----------------


class ConnectStep(msgspec.Struct, frozen=True, tag="connect"):
    """/connect: which provider, and the non-secret values typed so far (never a secret)."""

    provider: ProviderId
    values: dict[str, str] = {}


class BuyStep(msgspec.Struct, frozen=True, tag="buy"):
    """/buy: the open services list, its typed filter, and the multi-select selection."""

    provider: ProviderId
    section: str
    query: str | None = None
    message_id: int | None = None
    selected: tuple[str, ...] = ()


class CompareStep(msgspec.Struct, frozen=True, tag="compare"):
    """/buy's first screen or its compare prompt: typed text is a service name to compare."""


PendingStep = ConnectStep | BuyStep | CompareStep


async def load_pending_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> PendingStep | None:
    """The chat's step, as the database has it; a row this code cannot read counts as none."""
    state = await get_services(context).conversations.get(chat_id_of(update))
    return _decode(state)


async def save_pending_step(update: Update, context: ContextTypes.DEFAULT_TYPE, step: PendingStep) -> None:
    await get_services(context).conversations.set(chat_id_of(update), msgspec.to_builtins(step))


async def replace_pending_step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, old: PendingStep | None, new: PendingStep | None
) -> bool:
    """Compare-and-set: False when another update changed the step since `old` was read
    (two quick messages in one /connect must not both be taken as the email)."""
    return await get_services(context).conversations.replace(
        chat_id_of(update),
        None if old is None else msgspec.to_builtins(old),
        None if new is None else msgspec.to_builtins(new),
    )


async def clear_pending_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Leave the chat's step; True when there was one."""
    return await get_services(context).conversations.clear(chat_id_of(update))


_STEP_LOCKS: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def step_lock(chat_id: int) -> asyncio.Lock:
    """Serialises one chat's step updates in this process, in arrival order (updates run
    concurrently); across processes the compare-and-set in the database still decides."""
    lock = _STEP_LOCKS.get(chat_id)
    if lock is None:
        lock = asyncio.Lock()
        _STEP_LOCKS[chat_id] = lock
    return lock


def _decode(state: object) -> PendingStep | None:
    if state is None:
        return None
    try:
        return msgspec.convert(state, PendingStep)  # type: ignore[arg-type]
    except msgspec.ValidationError:
        logger.warning("ignoring an unreadable conversation step")
        return None
