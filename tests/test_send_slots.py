"""Telegram's flood limits held in the database, on SQLite and PostgreSQL: a burst, then one
message a second per chat and thirty a second in all, whichever process (handle) reserves."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict

from storage.database import Database
from storage.send_slots import BOT_RATE, CHAT_RATE, SendSlots
from tests.storage_backends import StorageTarget

NOW = 1_900_000_000.0


def most_in_any_window(starts: list[float], width: float) -> int:
    """The most starts within any half-open window [x, x + width); a millisecond is taken off
    the width, as sums of 1/30 s land a hair before the next whole second."""
    width -= 1e-3
    ordered = sorted(starts)
    best, left = 0, 0
    for right, start in enumerate(ordered):
        while start - ordered[left] >= width:
            left += 1
        best = max(best, right - left + 1)
    return best


async def test_one_chat_gets_a_burst_then_one_a_second(storage_db: Database) -> None:
    slots = SendSlots(storage_db)
    starts = [await slots.reserve(42, now=NOW) for _ in range(6)]
    assert starts == [NOW, NOW, NOW, NOW + 1, NOW + 2, NOW + 3]
    # Quiet for a while: the burst is back.
    later = NOW + 60
    assert [await slots.reserve(42, now=later) for _ in range(3)] == [later, later, later]


async def test_many_chats_share_thirty_a_second_in_all(storage_db: Database) -> None:
    slots = SendSlots(storage_db)
    starts = [await slots.reserve(chat, now=NOW) for chat in range(1, 121)]
    assert starts[: BOT_RATE.burst] == [NOW] * BOT_RATE.burst
    assert most_in_any_window(starts, 1.0) <= BOT_RATE.per_second + BOT_RATE.burst - 1
    # 120 messages at 30 a second (after the burst of 5) take just under 4 seconds, not longer.
    assert max(starts) - NOW < (120 - BOT_RATE.burst + 1) / BOT_RATE.per_second + 1e-6


async def test_messages_held_back_by_their_chat_do_not_leave_together(storage_db: Database) -> None:
    """Forty chats each with a backlog: the sends a second later are still spread at 30 a second."""
    slots = SendSlots(storage_db)
    starts = []
    for _ in range(CHAT_RATE.burst + 1):
        for chat in range(1, 41):
            starts.append(await slots.reserve(chat, now=NOW))
    assert most_in_any_window(starts, 1.0) <= BOT_RATE.per_second + BOT_RATE.burst - 1
    per_chat: dict[int, list[float]] = defaultdict(list)
    for position, start in enumerate(starts):
        per_chat[position % 40 + 1].append(start)
    assert all(most_in_any_window(times, 1.0) <= CHAT_RATE.burst for times in per_chat.values())


async def test_three_processes_reserving_at_once_never_exceed_the_limits(storage_target: StorageTarget) -> None:
    handles = [await storage_target.open() for _ in range(3)]
    try:
        rng = random.Random(7)
        # All at one moment (a burst of codes reaching three processes): the order in which the
        # database takes them is the race.
        jobs = [(handles[i % 3], rng.randrange(1, 15), NOW) for i in range(150)]

        async def reserve(db: Database, chat: int, now: float) -> tuple[int, float]:
            return chat, await SendSlots(db).reserve(chat, now=now)

        results = await asyncio.gather(*(reserve(*job) for job in jobs))
    finally:
        for handle in handles:
            await handle.close()
    starts = [start for _, start in results]
    assert most_in_any_window(starts, 1.0) <= BOT_RATE.per_second + BOT_RATE.burst - 1
    by_chat: dict[int, list[float]] = defaultdict(list)
    for chat, start in results:
        by_chat[chat].append(start)
    assert all(most_in_any_window(times, 1.0) <= CHAT_RATE.burst for times in by_chat.values())
    # Every reservation got a slot of its own: none lost to a race.
    assert sum(Counter(chat for chat, _ in results).values()) == 150


async def test_idle_chats_are_forgotten_and_the_bot_row_is_kept(storage_db: Database) -> None:
    slots = SendSlots(storage_db)
    await slots.reserve(1, now=NOW)
    await slots.reserve(2, now=NOW + 100)
    assert await slots.prune(now=NOW + 120, idle_seconds=60) == 1
    rows = await storage_db.fetchall("SELECT scope FROM send_slots ORDER BY scope")
    assert [row["scope"] for row in rows] == ["bot", "chat:2"]
