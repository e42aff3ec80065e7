"""Small helpers every screen uses."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

logger = logging.getLogger(__name__)

AWAITING_KEY = "awaiting"


async def show(
    update: Update,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Edit the pressed button's message in place, or answer a command with a new message."""
    query = update.callback_query
    if query is not None and query.message is not None and isinstance(query.message, Message):
        try:
            result = await query.message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return result if isinstance(result, Message) else query.message
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return query.message
            raise
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
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:  # "query is too old": the user still sees the edited message
        logger.debug("callback answer failed: %s", exc)


def chat_id_of(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


def set_awaiting(context: ContextTypes.DEFAULT_TYPE, **state: Any) -> None:
    assert context.chat_data is not None
    context.chat_data[AWAITING_KEY] = state


def get_awaiting(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
    if context.chat_data is None:
        return None
    return context.chat_data.get(AWAITING_KEY)


def clear_awaiting(context: ContextTypes.DEFAULT_TYPE) -> bool:
    if context.chat_data is None:
        return False
    return context.chat_data.pop(AWAITING_KEY, None) is not None
