"""Free text goes to whatever the chat is waiting for: a credential, or a services filter."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import buy, connect
from handlers.common import get_awaiting
from handlers.start import unknown_message
from providers.models import ProviderId


async def text_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Route typed text by the chat's pending input."""
    state = get_awaiting(context)
    kind = state.get("kind") if state else None
    if state is not None and kind == connect.KIND_CONNECT:
        await connect.credential_received(update, context, ProviderId(state["provider"]), state)
    elif state is not None and kind == buy.KIND_FILTER:
        await buy.filter_typed(update, context, state)
    else:
        await unknown_message(update, context)
