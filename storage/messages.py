"""Received SMS and notices: deduplicated per order, and the outbox of what is not yet sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from providers.models import IncomingSms
from storage.database import Database, to_db_time, utcnow
from storage.records import MessageRecord, OrderRecord

KIND_SMS = "sms"
KIND_NOTICE = "notice"


class MessageStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def known_ids(self, order_ids: Iterable[int]) -> dict[int, set[str]]:
        """Provider message ids already stored, per order: one query for a whole poll tick."""
        ids = list(order_ids)
        known: dict[int, set[str]] = defaultdict(set)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await self._db.fetchall(
                "SELECT order_id, provider_message_id FROM messages WHERE order_id IN"
                f" ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                known[row["order_id"]].add(row["provider_message_id"])
        return known

    async def add_sms(self, order: OrderRecord, messages: Iterable[IncomingSms]) -> list[MessageRecord]:
        """Store what is new; returns only the rows this call inserted (so only one caller sends them)."""
        added: list[MessageRecord] = []
        async with self._db.transaction() as conn:
            for sms in messages:
                cur = await conn.execute(
                    "INSERT OR IGNORE INTO messages (order_id, chat_id, kind, provider_message_id,"
                    " code, text, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        order.id,
                        order.chat_id,
                        KIND_SMS,
                        sms.message_id,
                        sms.code,
                        sms.text,
                        to_db_time(sms.received_at or utcnow()),
                    ),
                )
                if cur.rowcount:
                    async with conn.execute(
                        "SELECT * FROM messages WHERE id = ?", (cur.lastrowid,)
                    ) as sel:
                        row = await sel.fetchone()
                    assert row is not None
                    added.append(MessageRecord.from_row(row))
        return added

    async def add_notice(self, order: OrderRecord, key: str, text: str) -> MessageRecord | None:
        """A one-off notice (e.g. "expired") through the outbox; `key` makes it once per order."""
        message_id = await self._db.execute(
            "INSERT OR IGNORE INTO messages (order_id, chat_id, kind, provider_message_id, text,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?)",
            (order.id, order.chat_id, KIND_NOTICE, f"notice:{key}", text, to_db_time(utcnow())),
        )
        if not message_id:
            return None
        row = await self._db.fetchone("SELECT * FROM messages WHERE id = ?", (message_id,))
        return None if row is None else MessageRecord.from_row(row)

    async def undelivered(self, limit: int = 200) -> list[MessageRecord]:
        rows = await self._db.fetchall(
            "SELECT * FROM messages WHERE delivered_at IS NULL ORDER BY id LIMIT ?", (limit,)
        )
        return [MessageRecord.from_row(r) for r in rows]

    async def is_delivered(self, message_id: int) -> bool:
        row = await self._db.fetchone("SELECT delivered_at FROM messages WHERE id = ?", (message_id,))
        return row is None or row["delivered_at"] is not None

    async def mark_delivered(self, message_id: int, telegram_message_id: int | None) -> None:
        await self._db.execute(
            "UPDATE messages SET delivered_at = ?, telegram_message_id = ? WHERE id = ?",
            (to_db_time(utcnow()), telegram_message_id, message_id),
        )

    async def codes_by_order(self, order_ids: Iterable[int]) -> dict[int, list[str]]:
        ids = list(order_ids)
        codes: dict[int, list[str]] = defaultdict(list)
        if not ids:
            return codes
        rows = await self._db.fetchall(
            "SELECT order_id, code, text FROM messages WHERE kind = ? AND order_id IN"
            f" ({','.join('?' * len(ids))}) ORDER BY id",
            (KIND_SMS, *ids),
        )
        for row in rows:
            codes[row["order_id"]].append(row["code"] or row["text"])
        return codes
