"""Telegram's flood limits across every process of the bot: a schedule of send slots in the database.

Telegram allows a bot about 30 messages a second in all and about one a second per chat. With
several processes (issue 11's web and worker roles) a limit kept in one process's memory lets
each process send its own 30 a second. So the schedule lives here, one number per scope: the
*theoretical arrival time* of the generic cell rate algorithm (GCRA, the token bucket as one
timestamp). Reserving a send moves the scopes' times forward by one interval in one transaction
that holds their rows, and says when the send may start; several processes reserving at once each
get their own slot, because the database serialises the writers of a row. A scope idle for a while
allows a short burst (`burst` sends at once), as Telegram does.

Times are seconds since the epoch from the caller's clock (processes of one bot run on
NTP-synchronised machines; a few milliseconds of skew shift a slot by as much).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.database import Database

BOT_SCOPE = "bot"  # the table: migration 9 (storage/migrations.py)


@dataclass(frozen=True)
class Rate:
    """`per_second` sends a second on average, `burst` of them at once after a quiet spell."""

    per_second: float
    burst: int = 1

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


BOT_RATE = Rate(per_second=30.0, burst=10)  # Telegram: "about 30 messages a second" in all
CHAT_RATE = Rate(per_second=1.0, burst=3)  # and about one a second in one chat


def chat_scope(chat_id: int) -> str:
    return f"chat:{chat_id}"


class SendSlots:
    """Reservations of send slots, shared by every process on the same database."""

    def __init__(self, db: Database, bot_rate: Rate = BOT_RATE, chat_rate: Rate = CHAT_RATE) -> None:
        self._db = db
        self._bot_rate = bot_rate
        self._chat_rate = chat_rate

    async def reserve(self, chat_id: int | None, now: float | None = None) -> float:
        """Reserve the next send (to `chat_id`, or none) under both limits; returns the epoch second
        at which it may start (`now` when it may go at once).

        One transaction reads both scopes' times with their rows locked (the bot's row first for
        every caller, so two reservations never wait on each other in a cycle), takes the start
        both allow, and moves both times on from that start: the sends' real times conform to
        both rates even when one limit holds a message back past the other's slot."""
        scopes = {BOT_SCOPE: self._bot_rate}
        if chat_id is not None:
            scopes[chat_scope(chat_id)] = self._chat_rate
        names = sorted(scopes)  # "bot" < "chat:…": one lock order for everyone
        marks = ", ".join("?" for _ in names)
        async with self._db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO send_slots (scope, next_at) VALUES {', '.join('(?, 0)' for _ in names)}"
                " ON CONFLICT (scope) DO NOTHING",
                names,
            )
            rows = await tx.fetchall(
                f"SELECT scope, next_at FROM send_slots WHERE scope IN ({marks}) ORDER BY scope"
                f"{self._db.dialect.for_update}",
                names,
            )
            arrival = {str(row["scope"]): float(row["next_at"]) for row in rows}
            # Read once the rows are ours: a reservation that waited for another process's lock
            # must not get a start already past (its send would then leave late, bunched up
            # with the next ones, and the sends Telegram sees would be denser than the rate).
            now = time.time() if now is None else now
            start = max(
                now, *(arrival[name] - (rate.burst - 1) * rate.interval for name, rate in scopes.items())
            )
            for name, rate in scopes.items():
                await tx.execute(
                    "UPDATE send_slots SET next_at = ? WHERE scope = ?", (max(arrival[name], start) + rate.interval, name)
                )
        return start

    async def prune(self, now: float | None = None, idle_seconds: float = 60.0) -> int:
        """Forget chats idle for `idle_seconds` (their next send gets a full burst anyway)."""
        now = time.time() if now is None else now
        return await self._db.execute(
            "DELETE FROM send_slots WHERE scope <> ? AND next_at < ?", (BOT_SCOPE, now - idle_seconds)
        )
