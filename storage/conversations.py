"""A chat's pending step (/connect, /buy filter, a multi-service selection), kept in the database
so a restart loses no step: a secret typed after a restart is still taken by its step and deleted."""

from __future__ import annotations

import json
from typing import Any

from storage.database import Database, to_db_time, utcnow


def _dump(state: dict[str, Any]) -> str:
    # Canonical text (sorted keys), so compare-and-set can compare the stored text.
    return json.dumps(state, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, chat_id: int) -> dict[str, Any] | None:
        row = await self._db.fetchone("SELECT state FROM conversations WHERE chat_id = ?", (chat_id,))
        if row is None:
            return None
        try:
            state = json.loads(row["state"])
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    async def set(self, chat_id: int, state: dict[str, Any]) -> None:
        await self._db.execute(
            "INSERT INTO conversations (chat_id, state, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (chat_id, _dump(state), to_db_time(utcnow())),
        )

    async def replace(self, chat_id: int, old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
        """Compare-and-set: move from `old` to `new` (None = no step) only if the chat is still
        at `old`; False when another update got there first."""
        now = to_db_time(utcnow())
        if old is None and new is None:
            row = await self._db.fetchone("SELECT 1 FROM conversations WHERE chat_id = ?", (chat_id,))
            return row is None
        if old is None:
            return await self._db.execute(
                "INSERT INTO conversations (chat_id, state, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id) DO NOTHING",
                (chat_id, _dump(new or {}), now),
            ) > 0
        if new is None:
            return await self._db.execute(
                "DELETE FROM conversations WHERE chat_id = ? AND state = ?", (chat_id, _dump(old))
            ) > 0
        return await self._db.execute(
            "UPDATE conversations SET state = ?, updated_at = ? WHERE chat_id = ? AND state = ?",
            (_dump(new), now, chat_id, _dump(old)),
        ) > 0

    async def clear(self, chat_id: int) -> bool:
        """True when there was a step to leave."""
        return await self._db.execute("DELETE FROM conversations WHERE chat_id = ?", (chat_id,)) > 0
