"""Accounts whose mark-as-read feed (GotSMS unread messages) may have lost an answer.

Before the bot asks for unread messages — which the provider marks read as it returns them — it
records the moment; only once every returned message is stored does it clear the record. A record
left behind (a failed, truncated or malformed answer, a kill -9 in between) tells the next poll to
read the account's orders' own message lists from that moment, so nothing marked read is lost.
"""

from __future__ import annotations

from datetime import datetime

from providers.models import ProviderId
from storage.database import Database, from_db_time, to_db_time, utcnow


class FeedRecoveryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def pending_since(self, chat_id: int, provider: ProviderId) -> datetime | None:
        row = await self._db.fetchone(
            "SELECT since FROM feed_recovery WHERE chat_id = ? AND provider = ?", (chat_id, provider.value)
        )
        return None if row is None else from_db_time(row["since"])

    async def begin(self, chat_id: int, provider: ProviderId) -> datetime | None:
        """About to read the feed; an earlier unfinished read keeps its (earlier) moment, which is
        returned (None when there was none): `pending_since` and the record in one statement."""
        now = to_db_time(utcnow())
        rows = await self._db.returning(
            "INSERT INTO feed_recovery (chat_id, provider, since) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id, provider) DO UPDATE SET since = feed_recovery.since RETURNING since",
            (chat_id, provider.value, now),
        )
        since = rows[0]["since"] if rows else None
        return None if since is None or since == now else from_db_time(since)

    async def finish(self, chat_id: int, provider: ProviderId, since: datetime | None = None) -> None:
        """Everything the feed returned (or recovery found) is stored. With `since`, only a record
        not newer than it is cleared: a read begun meanwhile keeps its own."""
        if since is None:
            await self._db.execute(
                "DELETE FROM feed_recovery WHERE chat_id = ? AND provider = ?", (chat_id, provider.value)
            )
        else:
            await self._db.execute(
                "DELETE FROM feed_recovery WHERE chat_id = ? AND provider = ? AND since <= ?",
                (chat_id, provider.value, to_db_time(since)),
            )
