"""Chats the bot has served."""

from __future__ import annotations

from storage.database import Database, to_db_time, utcnow


class ChatStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def remember(self, chat_id: int, user_id: int | None) -> None:
        await self._db.execute(
            "INSERT INTO chats (chat_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT (chat_id) DO NOTHING",
            (chat_id, user_id, to_db_time(utcnow())),
        )

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM chats")
        return int(row[0]) if row else 0
