"""Per-chat preferences (the `settings` table: one value per chat and key)."""

from __future__ import annotations

from storage.database import Database

TIME_ZONE = "time_zone"
LANGUAGE = "language"  # set at first contact from Telegram's language_code, then by /language


class ChatSettingsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, chat_id: int, key: str) -> str | None:
        row = await self._db.fetchone("SELECT value FROM settings WHERE chat_id = ? AND key = ?", (chat_id, key))
        return None if row is None else str(row["value"])

    async def set(self, chat_id: int, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO settings (chat_id, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id, key) DO UPDATE SET value = excluded.value",
            (chat_id, key, value),
        )
