"""Free text goes to whatever the chat is waiting for (a credential, or a services filter),
read from the database, so a step survives a restart."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import buy, connect
from handlers.common import BuyStep, ConnectStep, load_pending_step
from handlers.start import unknown_message


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
    else:
        await unknown_message(update, context)
