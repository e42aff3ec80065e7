"""Runs before every handler: private chats only, and only allowed users."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from handlers.services import get_services
from handlers import chat_language, i18n, keyboards, texts
from handlers.common import answer
from handlers.connect import credential_outside_a_step, looks_like_credential

logger = logging.getLogger(__name__)
_REFUSED_KEY = "refused_users"
_REMEMBERED_KEY = "remembered_chats"
_REMEMBERED_MAX = 100_000  # then the set starts again: a repeated INSERT OR IGNORE is harmless


async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates from groups and from users outside ALLOWED_USER_IDS; set the chat's language
    for every handler after this one."""
    i18n.set_language(chat_language.telegram_language(update))  # until the chat's own is read
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        message = update.effective_message
        if update.callback_query is not None:
            await answer(update, texts.private_only(), alert=True)
        elif message is not None and message.text and message.text.startswith("/"):
            # Commands only: the group's other chatter is none of the bot's business.
            link = keyboards.open_private_chat(context.bot.username)
            await message.reply_text(texts.private_chat_only(link is not None), reply_markup=link)
        raise ApplicationHandlerStop
    user = update.effective_user
    if chat is not None and user is not None and user.id != chat.id:
        # In a private chat the chat is the user: anything else is a forged or foreign button.
        await answer(update, texts.foreign_button(), alert=True)
        raise ApplicationHandlerStop
    services = get_services(context)
    allowed = services.allowed_user_ids
    if allowed and (user is None or user.id not in allowed):
        refused: set[int] = context.bot_data.setdefault(_REFUSED_KEY, set())
        user_id = user.id if user else 0
        if user_id not in refused:
            refused.add(user_id)
            if update.callback_query is not None:
                await answer(update, texts.not_allowed(), alert=True)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(texts.not_allowed())
        elif update.callback_query is not None:
            await answer(update)
        logger.info("refused user %s", user_id)
        raise ApplicationHandlerStop
    if chat is not None:
        await _remember_once(context, chat.id, user.id if user else None)
    await chat_language.for_update(services.db, update)
    message = update.message or update.edited_message  # a typed or edited command, never a button's message
    if message is not None and message.text and message.text.startswith("/") and looks_like_credential(message.text):
        # A key pasted after a command: commands never take credentials, so it must not stay.
        await credential_outside_a_step(update, context)
        raise ApplicationHandlerStop


async def _remember_once(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int | None) -> None:
    """Record the chat the first time this process sees it, not on every update: the row only
    says the chat exists (INSERT OR IGNORE), and a write per tap queued behind every other one."""
    remembered: set[int] = context.bot_data.setdefault(_REMEMBERED_KEY, set())
    if chat_id in remembered:
        return
    await get_services(context).chats.remember(chat_id, user_id)
    if len(remembered) >= _REMEMBERED_MAX:
        remembered.clear()
    remembered.add(chat_id)
