"""Last line of defence: log (redacted) and tell the chat something went wrong.

Reaching it is a bug: bad input (junk buttons, deleted messages, odd text) is handled where it
arrives. Tests count `UNHANDLED_UPDATE_ERROR` log lines to prove it is never reached.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import texts

logger = logging.getLogger(__name__)

UNHANDLED_UPDATE_ERROR = "unhandled error in an update: %s"
UNHANDLED_JOB_ERROR = "unhandled error outside an update: %s"


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Never crash, never go silent."""
    if not isinstance(update, Update):
        logger.error(UNHANDLED_JOB_ERROR, type(context.error).__name__, exc_info=context.error)
        return
    logger.error(UNHANDLED_UPDATE_ERROR, type(context.error).__name__, exc_info=context.error)
    if update.effective_chat is None:
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.internal_error()[:190], show_alert=True)
        else:
            await update.effective_chat.send_message(texts.internal_error())
    except TelegramError:
        logger.warning("could not tell the chat about the error")
