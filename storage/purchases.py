"""Purchases: the confirmation card's record, which makes one tap buy exactly once.

Every move of a purchase is a compare-and-set on its state. *placing* carries a lease: a process
killed while placing leaves a purchase whose lease runs out, which then becomes *unknown* and is
reconciled against the provider instead of staying stuck.
"""

from __future__ import annotations

import json
from dataclasses import replace
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from providers.models import Action, Offer, PlacedOrder, ProviderId
from storage.database import Database, to_db_time, utcnow
from storage.orders import INSERT_ORDER, order_values
from storage.records import OrderRecord, PurchaseRecord, PurchaseState

# Purchases of unknown outcome are looked for this long; after that nobody will find them.
RECONCILE_FOR = timedelta(hours=24)


class PurchaseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, chat_id: int, provider: ProviderId, offers: Sequence[Offer]) -> PurchaseRecord:
        """A confirmation card: one offer, or several services on one number (a bundle), priced
        now, with the idempotency key its purchase will use."""
        if not offers:
            raise ValueError("a purchase needs at least one offer")
        first = offers[0]
        stocks = [o.stock for o in offers if o.stock is not None]
        now = to_db_time(utcnow())
        rows = await self._db.returning(
            "INSERT INTO purchases (id, chat_id, provider, section, service, service_name, price,"
            " stock, duration_minutes, idempotency_key, state, created_at, updated_at, service_ids, plan_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (
                secrets.token_urlsafe(9),
                chat_id,
                provider.value,
                first.section,
                ",".join(o.service_id for o in offers),  # legacy column, kept readable
                " + ".join(o.name for o in offers),
                str(sum((o.price for o in offers), Decimal("0"))),
                min(stocks) if stocks else None,
                first.duration_minutes,
                str(uuid.uuid4()),
                PurchaseState.PENDING,
                now,
                now,
                json.dumps([o.service_id for o in offers]),
                first.plan_id,
            ),
        )
        return PurchaseRecord.from_row(rows[0])

    async def copy_as_new(self, purchase: PurchaseRecord) -> PurchaseRecord:
        """"Buy again anyway": a fresh card (new id and idempotency key) for the same thing."""
        now = to_db_time(utcnow())
        rows = await self._db.returning(
            "INSERT INTO purchases (id, chat_id, provider, section, service, service_name, price,"
            " stock, duration_minutes, idempotency_key, state, created_at, updated_at, service_ids, plan_id)"
            " SELECT ?, chat_id, provider, section, service, service_name, price, stock, duration_minutes,"
            " ?, ?, ?, ?, service_ids, plan_id FROM purchases WHERE id = ? AND chat_id = ? RETURNING *",
            (
                secrets.token_urlsafe(9),
                str(uuid.uuid4()),
                PurchaseState.PENDING,
                now,
                now,
                purchase.id,
                purchase.chat_id,
            ),
        )
        return PurchaseRecord.from_row(rows[0])

    async def create_action(
        self, order: OrderRecord, action: Action, option: str | None, price: Decimal | None, name: str
    ) -> PurchaseRecord:
        """A card for a paid action on an order (renew, reuse, extend): what it costs where the
        provider says (else `price_known` is false), confirmed by its own tap."""
        now = to_db_time(utcnow())
        rows = await self._db.returning(
            "INSERT INTO purchases (id, chat_id, provider, section, service, service_name, price,"
            " stock, duration_minutes, idempotency_key, state, created_at, updated_at, service_ids,"
            " action, target_order_id, option, price_known)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (
                secrets.token_urlsafe(9),
                order.chat_id,
                order.provider.value,
                order.section,
                order.service,
                name,
                str(price if price is not None else Decimal("0")),
                str(uuid.uuid4()),
                PurchaseState.PENDING,
                now,
                now,
                json.dumps([order.service]),
                action.value,
                order.id,
                option,
                int(price is not None),
            ),
        )
        return PurchaseRecord.from_row(rows[0])

    async def finish_action(self, purchase: PurchaseRecord) -> bool:
        """A paid action went through: *placing* -> *placed*, once."""
        count = await self._db.execute(
            "UPDATE purchases SET state = ?, order_id = target_order_id, updated_at = ? WHERE id = ? AND state = ?",
            (PurchaseState.PLACED, to_db_time(utcnow()), purchase.id, PurchaseState.PLACING),
        )
        return count > 0

    async def get(self, purchase_id: str, chat_id: int) -> PurchaseRecord | None:
        row = await self._db.fetchone(
            "SELECT * FROM purchases WHERE id = ? AND chat_id = ?", (purchase_id, chat_id)
        )
        return None if row is None else PurchaseRecord.from_row(row)

    async def claim_for_placing(
        self, purchase_id: str, chat_id: int, from_state: str, lease: timedelta
    ) -> PurchaseRecord | None:
        """Of two taps on Confirm (or Accept), exactly one gets the purchase, with a lease."""
        now = utcnow()
        rows = await self._db.returning(
            "UPDATE purchases SET state = ?, lease_until = ?, updated_at = ?"
            " WHERE id = ? AND chat_id = ? AND state = ? RETURNING *",
            (PurchaseState.PLACING, to_db_time(now + lease), to_db_time(now), purchase_id, chat_id, from_state),
        )
        return PurchaseRecord.from_row(rows[0]) if rows else None

    async def expire_stale_placing(self) -> list[PurchaseRecord]:
        """Purchases whose placing outlived its lease (the process died meanwhile): now *unknown*."""
        now = to_db_time(utcnow())
        rows = await self._db.returning(
            "UPDATE purchases SET state = ?, error = 'interrupted', updated_at = ?"
            " WHERE state = ? AND lease_until IS NOT NULL AND lease_until < ? RETURNING *",
            (PurchaseState.UNKNOWN, now, PurchaseState.PLACING, now),
        )
        return [PurchaseRecord.from_row(r) for r in rows]

    async def unresolved(self) -> list[PurchaseRecord]:
        """New orders whose outcome is unknown (they may have charged), for reconciliation.
        (A paid action of unknown outcome is told to the chat at once: nothing can find it.)"""
        rows = await self._db.fetchall(
            "SELECT * FROM purchases WHERE state = ? AND action IS NULL AND created_at >= ? ORDER BY created_at",
            (PurchaseState.UNKNOWN, to_db_time(utcnow() - RECONCILE_FOR)),
        )
        return [PurchaseRecord.from_row(r) for r in rows]

    async def outcome_pending(self, chat_id: int, provider: ProviderId) -> list[PurchaseRecord]:
        """The account's new-order purchases still *placing* or *unknown*, oldest first: what a
        provider's late news of an order (a won auction) may be the outcome of."""
        rows = await self._db.fetchall(
            "SELECT * FROM purchases WHERE chat_id = ? AND provider = ? AND state IN (?, ?) AND action IS NULL"
            " AND created_at >= ? ORDER BY created_at",
            (chat_id, provider.value, PurchaseState.PLACING, PurchaseState.UNKNOWN,
             to_db_time(utcnow() - RECONCILE_FOR)),
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
        """Atomic compare-and-set from one state to another."""
        count = await self._db.execute(
            "UPDATE purchases SET state = ?, error = COALESCE(?, error), decision = COALESCE(?, decision),"
            " updated_at = ? WHERE id = ? AND chat_id = ? AND state = ?",
            (to_state, error, decision, to_db_time(utcnow()), purchase_id, chat_id, from_state),
        )
        return count > 0

    async def mark_notified(self, purchase_id: str) -> bool:
        """The chat was told this purchase could not be found; True only the first time."""
        count = await self._db.execute(
            "UPDATE purchases SET notified_at = ? WHERE id = ? AND notified_at IS NULL",
            (to_db_time(utcnow()), purchase_id),
        )
        return count > 0

    async def unmark_notified(self, purchase_id: str) -> None:
        """Telling the chat failed: tell it next time."""
        await self._db.execute("UPDATE purchases SET notified_at = NULL WHERE id = ?", (purchase_id,))

    async def complete(self, purchase: PurchaseRecord, placed: PlacedOrder) -> list[OrderRecord] | None:
        """Record the order(s) and mark the purchase placed, in one transaction.

        Only from *placing* or *unknown*: of the placing task and the reconciler (which may both
        find the same order after a lease ran out), exactly one records it; the other gets None.
        """
        now = to_db_time(utcnow())
        async with self._db.transaction() as tx:
            if not await tx.returning(
                "UPDATE purchases SET state = ?, updated_at = ? WHERE id = ? AND state IN (?, ?) RETURNING id",
                (PurchaseState.PLACED, now, purchase.id, PurchaseState.PLACING, PurchaseState.UNKNOWN),
            ):
                return None
            orders: list[OrderRecord] = []
            for remote in placed.orders:
                await tx.execute(
                    INSERT_ORDER,
                    order_values(purchase.chat_id, purchase.provider, remote, purchase.section) + (now, now),
                )
                row = await tx.fetchone(
                    "SELECT * FROM orders WHERE chat_id = ? AND provider = ? AND remote_id = ?",
                    (purchase.chat_id, purchase.provider.value, remote.order_id),
                )
                if row is not None:
                    orders.append(OrderRecord.from_row(row))
            await tx.execute(
                "UPDATE purchases SET order_id = ? WHERE id = ?",
                (orders[0].id if orders else None, purchase.id),
            )
            for order in orders:  # the card says the length in the confirmation card's words
                await tx.execute(
                    "UPDATE orders SET duration_minutes = ? WHERE id = ? AND duration_minutes IS NULL",
                    (purchase.duration_minutes, order.id),
                )
            orders = [replace(o, duration_minutes=o.duration_minutes or purchase.duration_minutes) for o in orders]
        return orders
