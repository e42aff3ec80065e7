"""Provider credentials per chat, sealed with Fernet."""

from __future__ import annotations

from providers.models import ProviderId
from storage.crypto import SecretBox
from storage.database import Database, to_db_time, utcnow


class CredentialStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self._db = db
        self._box = box

    async def save(self, chat_id: int, provider: ProviderId, secret: dict[str, str]) -> None:
        """Insert or replace: connecting again replaces the credentials."""
        now = to_db_time(utcnow())
        await self._db.execute(
            "INSERT INTO credentials (chat_id, provider, sealed, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (chat_id, provider) DO UPDATE SET sealed = excluded.sealed,"
            " updated_at = excluded.updated_at",
            (chat_id, provider.value, self._box.seal(secret), now, now),
        )
        await self._clear_rejected(chat_id, provider)

    async def mark_rejected(self, chat_id: int, provider: ProviderId) -> bool:
        """The provider refused these credentials while polling: stop until they are replaced.
        True for the one caller that marked them first (it tells the chat; two workers whose
        polls of the account overlapped while its lease moved must not both)."""
        rows = await self._db.returning(
            "INSERT INTO settings (chat_id, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id, key) DO NOTHING RETURNING chat_id",
            (chat_id, f"rejected:{provider.value}", to_db_time(utcnow())),
        )
        return bool(rows)

    async def rejected(self) -> set[tuple[int, ProviderId]]:
        rows = await self._db.fetchall("SELECT chat_id, key FROM settings WHERE key LIKE 'rejected:%'")
        known = {p.value for p in ProviderId}
        return {
            (row["chat_id"], ProviderId(row["key"].split(":", 1)[1]))
            for row in rows
            if row["key"].split(":", 1)[1] in known
        }

    async def _clear_rejected(self, chat_id: int, provider: ProviderId) -> None:
        await self._db.execute(
            "DELETE FROM settings WHERE chat_id = ? AND key = ?", (chat_id, f"rejected:{provider.value}")
        )

    async def load(self, chat_id: int, provider: ProviderId) -> dict[str, str] | None:
        row = await self._db.fetchone(
            "SELECT sealed FROM credentials WHERE chat_id = ? AND provider = ?",
            (chat_id, provider.value),
        )
        return None if row is None else self._box.open(row["sealed"])

    async def providers_of(self, chat_id: int) -> list[ProviderId]:
        rows = await self._db.fetchall(
            "SELECT provider FROM credentials WHERE chat_id = ? ORDER BY provider", (chat_id,)
        )
        known = {p.value for p in ProviderId}
        return [ProviderId(r["provider"]) for r in rows if r["provider"] in known]

    async def delete(self, chat_id: int, provider: ProviderId) -> bool:
        count = await self._db.execute(
            "DELETE FROM credentials WHERE chat_id = ? AND provider = ?", (chat_id, provider.value)
        )
        await self._clear_rejected(chat_id, provider)
        return count > 0

    async def rotate_all(self) -> int:
        """Re-encrypt every stored credential with the first key; returns how many."""
        rows = await self._db.fetchall("SELECT chat_id, provider, sealed FROM credentials")
        async with self._db.transaction() as tx:
            for row in rows:
                await tx.execute(
                    "UPDATE credentials SET sealed = ? WHERE chat_id = ? AND provider = ?",
                    (self._box.rotate(row["sealed"]), row["chat_id"], row["provider"]),
                )
        return len(rows)
