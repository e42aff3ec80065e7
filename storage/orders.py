"""Orders and their lifecycle."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from providers.models import OrderStatus, ProviderId, RemoteOrder
from storage.database import Database, Row, to_db_time, utcnow
from storage.records import OrderRecord

_LIVE = (OrderStatus.WAITING.value, OrderStatus.RECEIVED.value)
_CHATS_PER_QUERY = 500  # chat ids in one IN (...): far below both databases' parameter limits


class OrderStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Live orders as last read, by id, with the row they were built from: the poller reads
        # every live order each tick, and an unchanged row (nearly all) reuses its record instead
        # of parsing prices and times again. Records are immutable; a row that differs in any
        # column is built anew, so this never serves anything but what the database holds.
        self._live_records: dict[int, tuple[tuple[object, ...], OrderRecord]] = {}

    async def add(self, chat_id: int, provider: ProviderId, remote: RemoteOrder, section: str = "") -> OrderRecord:
        """Record an order the provider confirmed; the same remote id twice yields the first row."""
        now = to_db_time(utcnow())
        await self._db.execute(INSERT_ORDER, order_values(chat_id, provider, remote, section) + (now, now))
        record = await self.by_remote_id(chat_id, provider, remote.order_id)
        if record is None:  # only a concurrent delete could do this; orders are never deleted
            raise LookupError(f"order {remote.order_id} vanished after insert")
        return record

    async def add_new(
        self, chat_id: int, provider: ProviderId, remote: RemoteOrder, section: str = ""
    ) -> OrderRecord | None:
        """Record an order found outside a purchase (a won auction); None when the account has it
        already: of two callbacks for one order, exactly one inserts it."""
        now = to_db_time(utcnow())
        rows = await self._db.returning(
            f"{INSERT_ORDER} RETURNING *", order_values(chat_id, provider, remote, section) + (now, now)
        )
        return OrderRecord.from_row(rows[0]) if rows else None

    async def by_remote_id(self, chat_id: int, provider: ProviderId, remote_id: str) -> OrderRecord | None:
        row = await self._db.fetchone(
            "SELECT * FROM orders WHERE chat_id = ? AND provider = ? AND remote_id = ?",
            (chat_id, provider.value, remote_id),
        )
        return None if row is None else OrderRecord.from_row(row)

    async def by_id(self, order_id: int) -> OrderRecord | None:
        """Internal use only (poller, outbox); handlers use `get`, which checks the chat."""
        row = await self._db.fetchone("SELECT * FROM orders WHERE id = ?", (order_id,))
        return None if row is None else OrderRecord.from_row(row)

    async def get(self, order_id: int, chat_id: int) -> OrderRecord | None:
        """An order of this chat only: another chat's order id finds nothing."""
        row = await self._db.fetchone(
            "SELECT * FROM orders WHERE id = ? AND chat_id = ?", (order_id, chat_id)
        )
        return None if row is None else OrderRecord.from_row(row)

    async def active_for_chat(self, chat_id: int) -> list[OrderRecord]:
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE chat_id = ? AND status IN (?, ?) ORDER BY id",
            (chat_id, *_LIVE),
        )
        return [OrderRecord.from_row(r) for r in rows]

    async def all_active(self) -> list[OrderRecord]:
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE status IN (?, ?) ORDER BY id", _LIVE
        )
        return self._live(rows)

    async def live_accounts(self) -> set[tuple[int, ProviderId]]:
        """The accounts with a live order: what workers share out before reading any order."""
        rows = await self._db.fetchall("SELECT DISTINCT chat_id, provider FROM orders WHERE status IN (?, ?)", _LIVE)
        return {(int(r["chat_id"]), ProviderId(r["provider"])) for r in rows}

    async def active_of(self, accounts: Iterable[tuple[int, ProviderId]]) -> list[OrderRecord]:
        """The live orders of these accounts only (a worker's leased ones), oldest first."""
        wanted = set(accounts)
        chats = sorted({chat_id for chat_id, _ in wanted})
        rows: list[Row] = []
        for start in range(0, len(chats), _CHATS_PER_QUERY):
            chunk = chats[start : start + _CHATS_PER_QUERY]
            rows += await self._db.fetchall(
                f"SELECT * FROM orders WHERE status IN (?, ?) AND chat_id IN ({','.join('?' * len(chunk))})",
                (*_LIVE, *chunk),
            )
        rows = [r for r in rows if (int(r["chat_id"]), ProviderId(r["provider"])) in wanted]
        return self._live(sorted(rows, key=lambda r: int(r["id"])))

    def _live(self, rows: Sequence[Row]) -> list[OrderRecord]:
        """Records of live order rows, reusing those of unchanged rows (see `_live_records`)."""
        previous, current = self._live_records, {}
        records = []
        for row in rows:
            values = tuple(row)
            cached = previous.get(row["id"])
            record = cached[1] if cached is not None and cached[0] == values else OrderRecord.from_row(row)
            current[record.id] = (values, record)
            records.append(record)
        self._live_records = current
        return records

    async def history(self, chat_id: int, offset: int, limit: int) -> tuple[list[OrderRecord], int]:
        """Finished orders, newest first, and how many there are in all."""
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE chat_id = ? AND status NOT IN (?, ?)"
            " ORDER BY id DESC LIMIT ? OFFSET ?",
            (chat_id, *_LIVE, limit, offset),
        )
        total = await self._db.fetchone(
            "SELECT COUNT(*) FROM orders WHERE chat_id = ? AND status NOT IN (?, ?)",
            (chat_id, *_LIVE),
        )
        return [OrderRecord.from_row(r) for r in rows], int(total[0]) if total else 0

    async def update_status(
        self,
        order_id: int,
        status: OrderStatus,
        *,
        refunded: bool | None = None,
        expires_at: datetime | None = None,
    ) -> bool:
        """Update a live order; False when it was already final (a final state never changes).

        So a move to a final state returns True exactly once: the caller tells the chat then.
        """
        now = to_db_time(utcnow())
        count = await self._db.execute(
            "UPDATE orders SET status = ?, refunded = COALESCE(?, refunded),"
            " expires_at = COALESCE(?, expires_at), updated_at = ?, finished_at = ?"
            " WHERE id = ? AND status IN (?, ?)",
            (
                status.value,
                None if refunded is None else int(refunded),
                to_db_time(expires_at),
                now,
                now if status.is_final else None,
                order_id,
                *_LIVE,
            ),
        )
        return count > 0

    async def update_plan(self, order_id: int, *, section: str, plan: str, price: Decimal) -> None:
        """The order moved to another plan (GotSMS Extend): its kind, its plan in words, what it
        has cost so far."""
        await self._db.execute(
            "UPDATE orders SET section = ?, plan = ?, price = ?, updated_at = ? WHERE id = ?",
            (section, plan, str(price), to_db_time(utcnow()), order_id),
        )

    async def extend(self, order_id: int, *, paid: Decimal | None, status: OrderStatus, expires_at: datetime | None) -> None:
        """A paid action went through: what it cost is added to what the order has cost so far,
        the order is live again (a reuse waits for the next SMS) and ends when the provider says.
        One transaction: the price is read and written under a lock (SQLite's write lock, a row
        lock on PostgreSQL), so two actions at once both count."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(f"SELECT price FROM orders WHERE id = ?{self._db.dialect.for_update}", (order_id,))
            if row is None:
                return
            price = Decimal(row["price"]) + (paid or Decimal("0"))
            await tx.execute(
                "UPDATE orders SET price = ?, status = ?, expires_at = COALESCE(?, expires_at),"
                " finished_at = NULL, updated_at = ? WHERE id = ?",
                (str(price), status.value, to_db_time(expires_at), to_db_time(utcnow()), order_id),
            )

    async def remote_ids_since(self, chat_id: int, provider: ProviderId, since: datetime) -> set[str]:
        """Provider order ids this account's orders have had since `since` (reconciliation)."""
        rows = await self._db.fetchall(
            "SELECT remote_id FROM orders WHERE chat_id = ? AND provider = ? AND created_at >= ?",
            (chat_id, provider.value, to_db_time(since)),
        )
        return {r["remote_id"] for r in rows}

    async def ended_since(self, chat_id: int, provider: ProviderId, since: datetime) -> list[OrderRecord]:
        """Orders of the account that became final at or after `since` (feed recovery)."""
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE chat_id = ? AND provider = ? AND status NOT IN (?, ?)"
            " AND finished_at >= ? ORDER BY id",
            (chat_id, provider.value, *_LIVE, to_db_time(since)),
        )
        return [OrderRecord.from_row(r) for r in rows]

    async def set_card(self, order_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE orders SET card_message_id = ? WHERE id = ?", (message_id, order_id)
        )

    async def set_duration(self, order_id: int, minutes: int | None) -> None:
        """A renewal that is a new order keeps its predecessor's length (the card's Duration)."""
        await self._db.execute("UPDATE orders SET duration_minutes = ? WHERE id = ?", (minutes, order_id))

    async def detach_card(self, chat_id: int, message_id: int) -> None:
        """Message `message_id` now shows something else (the orders list): no order's card is
        kept up to date there any more."""
        await self._db.execute(
            "UPDATE orders SET card_message_id = NULL WHERE chat_id = ? AND card_message_id = ?",
            (chat_id, message_id),
        )

    async def set_auto_renew(self, order_id: int, enabled: bool | None) -> None:
        """The auto-renewal state the provider reported; None (it did not say) keeps what is known."""
        if enabled is None:
            return
        await self._db.execute(
            "UPDATE orders SET auto_renew = ?, updated_at = ? WHERE id = ?",
            (int(enabled), to_db_time(utcnow()), order_id),
        )


INSERT_ORDER = (
    "INSERT INTO orders (chat_id, provider, remote_id, phone, service, service_name,"
    " price, status, refunded, expires_at, section, plan, auto_renew, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, chat_id, remote_id) DO NOTHING"
)


def order_values(chat_id: int, provider: ProviderId, remote: RemoteOrder, section: str) -> tuple[object, ...]:
    return (
        chat_id,
        provider.value,
        remote.order_id,
        remote.phone,
        remote.service,
        remote.service_name,
        str(remote.price),
        remote.status.value,
        None if remote.refunded is None else int(remote.refunded),
        to_db_time(remote.expires_at),
        section,
        remote.plan,
        None if (enabled := reported_auto_renew(remote)) is None else int(enabled),
    )


def reported_auto_renew(remote: RemoteOrder) -> bool | None:
    """Auto-renewal as the provider reported it with the order; None where it says nothing."""
    return remote.auto_renew
