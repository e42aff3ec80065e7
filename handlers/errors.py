"""Last line of defence: log (redacted) and tell the chat something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import texts

logger = logging.getLogger(__name__)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Never crash, never go silent."""
    logger.error("unhandled error: %s", type(context.error).__name__, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.INTERNAL_ERROR[:190], show_alert=True)
        else:
            await update.effective_chat.send_message(texts.INTERNAL_ERROR)
    except TelegramError:
        logger.warning("could not tell the chat about the error")
