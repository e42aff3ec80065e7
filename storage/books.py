"""The chat's books: its orders filtered for /history, a summary per provider and month, and the
pages of a CSV export. Read-only queries; one query per need (codes come with their page).

Prices are stored as text: sums are taken in Python with Decimal, never in SQL (floats)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum

from providers.models import OrderStatus, ProviderId
from storage.database import Database, Row, to_db_time, utcnow
from storage.messages import KIND_SMS
from storage.records import OrderRecord

_LIVE = (OrderStatus.WAITING.value, OrderStatus.RECEIVED.value)
EXPORT_BATCH = 500


class Period(StrEnum):
    ALL = "all"
    THIS_MONTH = "month"
    LAST_MONTH = "last"
    LAST_30_DAYS = "30d"


class StatusFilter(StrEnum):
    """What /history lists: finished orders (the default, as before), live ones, one final
    status, or the orders whose money came back."""

    FINISHED = "finished"
    LIVE = "live"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class BookFilter:
    provider: ProviderId | None = None
    period: Period = Period.ALL
    status: StatusFilter = StatusFilter.FINISHED


@dataclass
class MonthTotals:
    """One provider's month: orders placed, SMS received, money spent (orders not refunded) and
    refunded."""

    provider: ProviderId
    month: str  # "YYYY-MM" in the chat's zone
    orders: int = 0
    codes: int = 0
    spent: Decimal = field(default_factory=lambda: Decimal("0"))
    refunded: Decimal = field(default_factory=lambda: Decimal("0"))


@dataclass(frozen=True)
class BookEntry:
    order: OrderRecord
    codes: tuple[str, ...]


def local_month(moment: datetime, zone: tzinfo) -> str:
    """ "YYYY-MM" of an instant as the chat's clock shows it (2026-03-31 23:30 UTC is 2026-04 in Tokyo)."""
    return moment.astimezone(zone).strftime("%Y-%m")


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def period_bounds(
    period: Period, zone: tzinfo = UTC, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """[start, end) of a period in UTC; months begin at midnight in the chat's zone."""
    local_now = (now or utcnow()).astimezone(zone)
    if period is Period.ALL:
        return None, None
    if period is Period.LAST_30_DAYS:
        return local_now.astimezone(UTC) - timedelta(days=30), None
    this_month = _month_start(local_now)
    if period is Period.THIS_MONTH:
        return this_month.astimezone(UTC), None
    last_month = _month_start(this_month - timedelta(days=1))
    return last_month.astimezone(UTC), this_month.astimezone(UTC)


def _where(chat_id: int, book_filter: BookFilter, zone: tzinfo) -> tuple[str, list[object]]:
    clauses, params = ["o.chat_id = ?"], [chat_id]
    if book_filter.provider is not None:
        clauses.append("o.provider = ?")
        params.append(book_filter.provider.value)
    start, end = period_bounds(book_filter.period, zone)
    if start is not None:
        clauses.append("o.created_at >= ?")
        params.append(to_db_time(start))
    if end is not None:
        clauses.append("o.created_at < ?")
        params.append(to_db_time(end))
    status = book_filter.status
    if status is StatusFilter.FINISHED:
        clauses.append("o.status NOT IN (?, ?)")
        params.extend(_LIVE)
    elif status is StatusFilter.LIVE:
        clauses.append("o.status IN (?, ?)")
        params.extend(_LIVE)
    elif status is StatusFilter.REFUNDED:
        clauses.append("o.refunded = 1")
    else:
        clauses.append("o.status = ?")
        params.append(status.value)
    return " AND ".join(clauses), params


# The order's SMS (codes, or the text where there is none), oldest first, joined by a byte no
# SMS text holds (the first parameter): split again in Python.
_UNIT = "\x1f"


def _codes(db: Database) -> str:
    return db.dialect.joined_values(
        "COALESCE(m.code, m.text)", "FROM messages m WHERE m.order_id = o.id AND m.kind = ?", "m.id"
    ) + " AS book_codes"


def _entries(rows: Sequence[Row]) -> list[BookEntry]:
    entries = []
    for row in rows:
        joined: str | None = row["book_codes"]
        codes = tuple(joined.split(_UNIT)) if joined else ()
        entries.append(BookEntry(OrderRecord.from_row(row), codes))
    return entries


class BookStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def page(
        self, chat_id: int, book_filter: BookFilter, offset: int, limit: int, zone: tzinfo = UTC
    ) -> tuple[list[BookEntry], int]:
        """One page of the filtered orders with their codes, newest first, and how many in all."""
        where, params = _where(chat_id, book_filter, zone)
        rows = await self._db.fetchall(
            f"SELECT o.*, {_codes(self._db)} FROM orders o WHERE {where} ORDER BY o.id DESC LIMIT ? OFFSET ?",
            (_UNIT, KIND_SMS, *params, limit, offset),
        )
        total = await self._db.fetchone(f"SELECT COUNT(*) FROM orders o WHERE {where}", params)
        return _entries(rows), int(total[0]) if total else 0

    async def summary(self, chat_id: int, zone: tzinfo = UTC) -> list[MonthTotals]:
        """Per provider and month of the chat's `zone`, newest month first, providers by name.

        SQLite knows no IANA zones, so months are taken here, with zoneinfo (summer time
        included). SQL groups by the minute (every zone's offset is whole minutes) and price text,
        so that only distinct ones travel; the money is summed here, as Decimal."""
        rows = await self._db.fetchall(
            "SELECT o.provider, substr(o.created_at, 1, 16) AS minute, COALESCE(o.refunded, 0) AS back,"
            " o.price, COUNT(*) AS orders, COALESCE(SUM(sms.n), 0) AS codes FROM orders o"
            " LEFT JOIN (SELECT order_id, COUNT(*) AS n FROM messages WHERE kind = ? GROUP BY order_id)"
            " sms ON sms.order_id = o.id WHERE o.chat_id = ? GROUP BY 1, 2, 3, 4",
            (KIND_SMS, chat_id),
        )
        totals: dict[tuple[str, str], MonthTotals] = {}
        for row in rows:
            month = local_month(datetime.fromisoformat(row["minute"]).replace(tzinfo=UTC), zone)
            key = (month, row["provider"])
            month_totals = totals.setdefault(key, MonthTotals(ProviderId(row["provider"]), month))
            amount = Decimal(row["price"]) * row["orders"]
            month_totals.orders += row["orders"]
            month_totals.codes += int(row["codes"])  # PostgreSQL's SUM of counts is a numeric
            if row["back"]:
                month_totals.refunded += amount
            else:
                month_totals.spent += amount
        by_provider = sorted(totals.values(), key=lambda t: t.provider.value)
        return sorted(by_provider, key=lambda t: t.month, reverse=True)  # stable: providers stay in order

    async def has_orders(self, chat_id: int) -> bool:
        row = await self._db.fetchone("SELECT 1 FROM orders WHERE chat_id = ? LIMIT 1", (chat_id,))
        return row is not None

    async def export_batches(self, chat_id: int, batch: int = EXPORT_BATCH) -> AsyncIterator[list[BookEntry]]:
        """Every order of the chat, oldest first, `batch` at a time (keyset paging by id): a
        large history is never held in memory at once."""
        after = 0
        while True:
            rows = await self._db.fetchall(
                f"SELECT o.*, {_codes(self._db)} FROM orders o WHERE o.chat_id = ? AND o.id > ? ORDER BY o.id LIMIT ?",
                (_UNIT, KIND_SMS, chat_id, after, batch),
            )
            if not rows:
                return
            entries = _entries(rows)
            yield entries
            if len(rows) < batch:
                return
            after = entries[-1].order.id
