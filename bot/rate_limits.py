"""Telegram's flood limits, with a user's own answers kept out of the bulk queue.

PTB's AIORateLimiter holds every request that names a chat to ~30 a second across the bot: right
for what the bot sends on its own (codes, notices, card updates reach many chats at once), but a
screen edited in answer to a user's tap then waits behind everyone else's — with 50 chats tapping,
the answer to a tap took seconds. Telegram asks for at most ~30 messages a second for bulk
notifications and about one a second per chat; a reply to the user's own tap is neither. So a
request made while handling an update, to that update's own chat, skips the bot-wide limit (the
per-chat update order in bot/update_processor.py already paces a chat by its user's taps), and
every request still waits out a RetryAfter (a 429) and is retried, as before.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from telegram.ext import AIORateLimiter

# The chat whose update the current task is handling (set by the update processor; None in jobs).
ANSWERING_CHAT: ContextVar[int | None] = ContextVar("answering_chat", default=None)


def is_reply(data: dict[str, Any]) -> bool:
    """Whether a request goes to the chat whose update is being handled (a private chat)."""
    chat = ANSWERING_CHAT.get()
    if chat is None or chat < 0:  # groups keep Telegram's per-group limit
        return False
    try:
        return int(data.get("chat_id")) == chat  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


class ReplyFirstRateLimiter(AIORateLimiter):
    """AIORateLimiter whose bot-wide limit applies to everything but replies to the chat at hand."""

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if is_reply(data):
            # Without chat_id PTB's limiter applies only the RetryAfter pause and its retries
            # (`data` decides the limit only; the request itself is args/kwargs).
            data = {key: value for key, value in data.items() if key != "chat_id"}
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
