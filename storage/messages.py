"""Received SMS and notices: deduplicated per order, and the outbox of what is not yet sent.

Every write says what it wrote with `RETURNING`; the outbox is claimed by compare-and-set with a
lease (`claimed_at`), so two senders — two tasks, a restarted process, a second process — never
send the same row, and a row whose sender died is sent once its lease has run out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from providers.models import IncomingSms
from storage.database import Database, to_db_time, utcnow
from storage.records import MessageRecord, OrderRecord

KIND_SMS = "sms"
SOURCE_POLL = "poll"
SOURCE_CALLBACK = "callback"
KIND_NOTICE = "notice"
NOTICE_PREFIX = "notice:"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_INSERT = (
    "INSERT INTO messages (order_id, chat_id, kind, provider_message_id, code, text, received_at,"
    " service_name, source, stored_at, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (order_id, provider_message_id) DO NOTHING RETURNING *"
)


def oldest_first(messages: Iterable[IncomingSms]) -> list[IncomingSms]:
    """Several SMS found at once go out in the order they were received (unknown times last,
    in the provider's order)."""
    listed = list(messages)
    return sorted(listed, key=lambda m: (m.received_at is None, m.received_at or _EPOCH))


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

    async def add_sms(
        self, order: OrderRecord, messages: Iterable[IncomingSms], *, source: str = SOURCE_POLL,
        claimed: bool = False,
    ) -> list[MessageRecord]:
        """Store what is new, oldest first; returns exactly the rows this call inserted. `source`
        is the path that brought them (poll or callback): the same SMS by the other path is a
        duplicate, since its provider message id is the same. `claimed`: the rows are inserted
        already claimed by the caller (as `claim` would), who sends them at once — one round trip
        instead of two, and no outbox flush takes them meanwhile."""
        stored_at = to_db_time(utcnow())
        rows = [
            (order.id, order.chat_id, KIND_SMS, sms.message_id, sms.code, sms.text,
             to_db_time(sms.received_at or utcnow()), sms.service_name, source, stored_at,
             stored_at if claimed else None)
            for sms in oldest_first(messages)
        ]
        if len(rows) == 1:  # one statement is atomic by itself: no transaction round trips
            return [MessageRecord.from_row(row) for row in await self._db.returning(_INSERT, rows[0])]
        added: list[MessageRecord] = []
        async with self._db.transaction() as tx:
            for params in rows:
                added.extend(MessageRecord.from_row(row) for row in await tx.returning(_INSERT, params))
        return added

    async def add_notice(
        self, order: OrderRecord, key: str, text: str, *, claimed: bool = False
    ) -> MessageRecord | None:
        """A one-off notice ("expired", a reminder) through the outbox; `key` makes it once per
        order. None when this notice was already stored (by anyone). `claimed` as in `add_sms`."""
        now = to_db_time(utcnow())
        rows = await self._db.returning(
            _INSERT,
            (order.id, order.chat_id, KIND_NOTICE, f"{NOTICE_PREFIX}{key}", None, text, now, None,
             None, now, now if claimed else None),
        )
        return MessageRecord.from_row(rows[0]) if rows else None

    async def claim(self, message_id: int, lease: timedelta) -> MessageRecord | None:
        """Take one undelivered row for sending; None if it is delivered or another sender holds it."""
        now = utcnow()
        rows = await self._db.returning(
            "UPDATE messages SET claimed_at = ? WHERE id = ? AND delivered_at IS NULL"
            " AND (claimed_at IS NULL OR claimed_at < ?) RETURNING *",
            (to_db_time(now), message_id, to_db_time(now - lease)),
        )
        return MessageRecord.from_row(rows[0]) if rows else None

    async def claim_batch(self, lease: timedelta, limit: int = 200) -> list[MessageRecord]:
        """Take up to `limit` undelivered rows nobody holds, oldest first.

        On PostgreSQL concurrent callers skip the rows another is claiming (SKIP LOCKED), and the
        outer WHERE repeats the inner one: a row found claimed once its lock is free is left alone."""
        now = utcnow()
        stale = to_db_time(now - lease)
        rows = await self._db.returning(
            "UPDATE messages SET claimed_at = ? WHERE id IN (SELECT id FROM messages"
            " WHERE delivered_at IS NULL AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY id LIMIT ?"
            f"{self._db.dialect.skip_locked})"
            " AND delivered_at IS NULL AND (claimed_at IS NULL OR claimed_at < ?) RETURNING *",
            (to_db_time(now), stale, limit, stale),
        )
        return sorted((MessageRecord.from_row(r) for r in rows), key=lambda m: m.id)

    async def release(self, message_id: int) -> None:
        """Sending failed (Telegram down): the next flush may take it at once."""
        await self._db.execute(
            "UPDATE messages SET claimed_at = NULL WHERE id = ? AND delivered_at IS NULL", (message_id,)
        )

    async def mark_delivered(self, message_id: int, telegram_message_id: int | None) -> None:
        await self._db.execute(
            "UPDATE messages SET delivered_at = ?, telegram_message_id = ? WHERE id = ?",
            (to_db_time(utcnow()), telegram_message_id, message_id),
        )

    async def undelivered_count(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM messages WHERE delivered_at IS NULL")
        return int(row[0]) if row else 0

    async def sms_of(self, order_ids: Sequence[int]) -> dict[int, list[MessageRecord]]:
        """Every stored SMS of these orders, oldest first."""
        found: dict[int, list[MessageRecord]] = defaultdict(list)
        ids = list(order_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await self._db.fetchall(
                "SELECT * FROM messages WHERE kind = ? AND order_id IN"
                f" ({','.join('?' * len(chunk))}) ORDER BY id",
                (KIND_SMS, *chunk),
            )
            for row in rows:
                found[row["order_id"]].append(MessageRecord.from_row(row))
        return found

    async def codes_by_order(self, order_ids: Iterable[int]) -> dict[int, list[str]]:
        """Each order's codes (or SMS text where there is no code), oldest first."""
        return {
            order_id: [m.code or m.text for m in messages]
            for order_id, messages in (await self.sms_of(list(order_ids))).items()
        }

    async def sms_page(self, order_id: int, before_id: int | None, limit: int) -> tuple[list[MessageRecord], bool]:
        """One page of an order's stored SMS, newest first (older than `before_id`), and whether
        there are older ones."""
        rows = await self._db.fetchall(
            "SELECT * FROM messages WHERE order_id = ? AND kind = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (order_id, KIND_SMS, before_id if before_id is not None else 2**63 - 1, limit + 1),
        )
        records = [MessageRecord.from_row(r) for r in rows]
        return records[:limit], len(records) > limit

    async def has_sms(self, order_id: int) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM messages WHERE order_id = ? AND kind = ? LIMIT 1", (order_id, KIND_SMS)
        )
        return row is not None
