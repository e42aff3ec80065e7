"""Free text goes to whatever the chat is waiting for (a credential, or a services filter),
read from the database, so a step survives a restart. An edited message is never taken as an
answer: it gets the menu (and is deleted when it may hold a secret)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers import buy, compare, connect, keyboards, texts
from handlers.common import BuyStep, CompareStep, ConnectStep, chat_id_of, delete_quietly, load_pending_step
from handlers.services import get_services
from handlers.start import unknown_message

logger = logging.getLogger(__name__)


async def text_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Route typed text by the chat's pending step."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    step = await load_pending_step(update, context)
    if isinstance(step, ConnectStep):
        await connect.credential_received(update, context)
    elif connect.looks_like_credential(message.text):
        await connect.credential_outside_a_step(update, context)
    elif isinstance(step, BuyStep):
        await buy.filter_typed(update, context, step)
    elif isinstance(step, CompareStep):
        await compare.name_typed(update, context, step)
    else:
        await unknown_message(update, context)


async def edit_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message (text, caption or media): the menu, since edits change nothing here.
    During /connect, or when it looks like a key, the edited message is deleted first."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    content = message.text or message.caption or ""
    step = await load_pending_step(update, context)
    if isinstance(step, ConnectStep) or connect.looks_like_credential(content):
        await delete_quietly(message)
        logger.info("chat %s: deleted an edited message that may hold a credential", chat.id)
    connected = await get_services(context).credentials.providers_of(chat_id_of(update))
    await chat.send_message(
        texts.edited_message(),
        parse_mode=ParseMode.HTML,
        reply_markup=keyboards.main_menu() if connected else keyboards.connect_first(),
    )
