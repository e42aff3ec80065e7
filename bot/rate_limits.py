"""Telegram's flood limits, with a user's own answers kept out of the bulk queue.

PTB's AIORateLimiter holds every request that names a chat to ~30 a second across the bot: right
for what the bot sends on its own (codes, notices, card updates reach many chats at once), but a
screen edited in answer to a user's tap then waits behind everyone else's — with 50 chats tapping,
the answer to a tap took seconds. Telegram asks for at most ~30 messages a second for bulk
notifications and about one a second per chat; a reply to the user's own tap is neither. So a
request made while handling an update, to that update's own chat, skips the bot-wide limit (the
per-chat update order in bot/update_processor.py already paces a chat by its user's taps), and
every request still waits out a RetryAfter (a 429) and is retried, as before.

Several processes (issue 11's roles) share one bot's limits: once the database is open, every
other request that names a chat takes a send slot from the schedule in the database
(storage/send_slots.py: ~30 a second in all, ~1 a second per chat, short bursts) and waits for it,
instead of the per-process limiter. Should the database fail to answer, the per-process limiter
applies, as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextvars import ContextVar
from typing import Any

from telegram.ext import AIORateLimiter, ContextTypes

from storage.send_slots import SendSlots

logger = logging.getLogger(__name__)

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


def chat_of(data: dict[str, Any]) -> int | None:
    try:
        return int(data["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


class ReplyFirstRateLimiter(AIORateLimiter):
    """AIORateLimiter whose bot-wide limit applies to everything but replies to the chat at hand;
    with `share_limits`, the limits are kept in the database for every process of the bot."""

    _slots: SendSlots | None = None

    def share_limits(self, slots: SendSlots) -> None:
        self._slots = slots

    @property
    def slots(self) -> SendSlots | None:
        return self._slots

    async def _wait_for_slot(self, chat_id: int) -> bool:
        """Whether a shared slot was taken (and waited for)."""
        assert self._slots is not None
        try:
            start = await self._slots.reserve(chat_id)
        except Exception:  # the database is the coordinator; without it, this process's limiter
            logger.warning("no shared send slot (database error); limiting in this process only", exc_info=True)
            return False
        delay = start - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        return True

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = chat_of(data)
        if is_reply(data) or (
            chat_id is not None and chat_id > 0 and self._slots is not None and await self._wait_for_slot(chat_id)
        ):
            # Without chat_id PTB's limiter applies only the RetryAfter pause and its retries
            # (`data` decides the limit only; the request itself is args/kwargs).
            data = {key: value for key, value in data.items() if key != "chat_id"}
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


PRUNE_JOB = "prune-send-slots"
PRUNE_SECONDS = 60.0


async def prune_send_slots_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget the send slots of chats idle for a minute (the table stays as small as the active chats)."""
    limiter = context.bot.rate_limiter
    if isinstance(limiter, ReplyFirstRateLimiter) and limiter.slots is not None:
        await limiter.slots.prune()
