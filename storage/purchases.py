"""Purchases: the confirmation card's record, which makes one tap buy exactly once."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from providers.models import Offer, ProviderId, RemoteOrder
from storage.database import Database, to_db_time, utcnow
from storage.orders import INSERT_ORDER, order_values
from storage.records import OrderRecord, PurchaseRecord, PurchaseState


class PurchaseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, chat_id: int, provider: ProviderId, offer: Offer) -> PurchaseRecord:
        """A confirmation card: the offer as priced now, with the idempotency key its purchase will use."""
        purchase_id = secrets.token_urlsafe(9)
        now = to_db_time(utcnow())
        await self._db.execute(
            "INSERT INTO purchases (id, chat_id, provider, section, service, service_name, price,"
            " stock, duration_minutes, idempotency_key, state, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                purchase_id,
                chat_id,
                provider.value,
                offer.section,
                offer.service,
                offer.name,
                str(offer.price),
                offer.stock,
                offer.duration_minutes,
                str(uuid.uuid4()),
                PurchaseState.PENDING,
                now,
                now,
            ),
        )
        record = await self.get(purchase_id, chat_id)
        assert record is not None
        return record

    async def get(self, purchase_id: str, chat_id: int) -> PurchaseRecord | None:
        row = await self._db.fetchone(
            "SELECT * FROM purchases WHERE id = ? AND chat_id = ?", (purchase_id, chat_id)
        )
        return None if row is None else PurchaseRecord.from_row(row)

    async def unresolved(self, max_age_hours: int = 24) -> list[PurchaseRecord]:
        """Purchases whose outcome is unknown (they may have charged), for reconciliation."""
        rows = await self._db.fetchall(
            "SELECT * FROM purchases WHERE state = ? AND created_at >= ? ORDER BY created_at",
            (PurchaseState.UNKNOWN, to_db_time(utcnow() - timedelta(hours=max_age_hours))),
        )
        return [PurchaseRecord.from_row(r) for r in rows]

    async def transition(
        self,
        purchase_id: str,
        chat_id: int,
        from_state: str,
        to_state: str,
        error: str | None = None,
        decision: str | None = None,
    ) -> bool:
        """Atomic compare-and-set: of two taps on Confirm, exactly one wins PENDING -> PLACING."""
        count = await self._db.execute(
            "UPDATE purchases SET state = ?, error = COALESCE(?, error), decision = COALESCE(?, decision),"
            " updated_at = ? WHERE id = ? AND chat_id = ? AND state = ?",
            (to_state, error, decision, to_db_time(utcnow()), purchase_id, chat_id, from_state),
        )
        return count > 0

    async def complete(self, purchase: PurchaseRecord, remote: RemoteOrder) -> OrderRecord:
        """Record the order and mark the purchase placed, in one transaction."""
        now = to_db_time(utcnow())
        async with self._db.transaction() as conn:
            await conn.execute(
                INSERT_ORDER, order_values(purchase.chat_id, purchase.provider, remote, purchase.section) + (now, now)
            )
            async with conn.execute(
                "SELECT * FROM orders WHERE chat_id = ? AND provider = ? AND remote_id = ?",
                (purchase.chat_id, purchase.provider.value, remote.order_id),
            ) as cur:
                row = await cur.fetchone()
            assert row is not None
            order = OrderRecord.from_row(row)
            await conn.execute(
                "UPDATE purchases SET state = ?, order_id = ?, updated_at = ? WHERE id = ?",
                (PurchaseState.PLACED, order.id, now, purchase.id),
            )
        return order
