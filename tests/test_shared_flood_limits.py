"""Telegram's flood limits hold across processes: two worker processes on one database, both
notifying at once, stay within ~1 message a second per chat and ~30 a second in all, as the fake
Bot API saw the requests arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.app import build_application
from bot.roles import Role, running_worker
from bot.config import Settings
from storage.send_slots import BOT_RATE, CHAT_RATE
from tests.fakes.telegram import FakeTelegram
from tests.test_send_slots import most_in_any_window


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Telegram's real per-chat limit (the other tests lift it: the fake Bot API has none)."""
    return make_settings(telegram_chat_messages_per_second=CHAT_RATE.per_second)


async def _notify(app: Any, chat_ids: list[int], label: str) -> None:
    # Outside any update: what the poller's codes and notices are.
    await asyncio.gather(*(app.bot.send_message(chat, f"{label} {n}") for n, chat in enumerate(chat_ids)))


@asynccontextmanager
async def two_workers(settings: Settings) -> AsyncIterator[tuple[Any, Any]]:
    """Two worker processes' Applications on one database."""
    first, second = build_application(settings, role=Role.WORKER), build_application(settings, role=Role.WORKER)
    async with running_worker(first), running_worker(second):
        yield first, second


async def test_two_processes_notifying_one_chat_keep_its_pace(tg: FakeTelegram, settings: Settings) -> None:
    for chat in (1001, 1002):
        tg.register_chat(chat)
    async with two_workers(settings) as (first, second):
        await asyncio.gather(_notify(first, [1001] * 5, "first"), _notify(second, [1001] * 5, "second"))
    sent = [call.at for call in tg.calls("sendMessage") if call.params.get("chat_id") == 1001]
    assert len(sent) == 10
    # 0.9 s windows: the requests' own trip to the server may shift a slot by some milliseconds.
    assert most_in_any_window(sent, 0.9) <= CHAT_RATE.burst
    assert max(sent) - min(sent) >= (10 - CHAT_RATE.burst) / CHAT_RATE.per_second - 0.2


async def test_two_processes_notifying_many_chats_share_thirty_a_second(tg: FakeTelegram, settings: Settings) -> None:
    chats = list(range(2001, 2041))
    for chat in chats:
        tg.register_chat(chat)
    async with two_workers(settings) as (first, second):
        await asyncio.gather(_notify(first, chats, "a"), _notify(second, chats, "b"))
    sent = [call.at for call in tg.calls("sendMessage") if int(call.params.get("chat_id", 0)) in chats]
    assert len(sent) == 80
    assert most_in_any_window(sent, 0.9) <= BOT_RATE.per_second + BOT_RATE.burst - 1
    assert max(sent) - min(sent) >= (80 - BOT_RATE.burst) / BOT_RATE.per_second - 0.2
