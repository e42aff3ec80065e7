"""One long-lived aiosqlite connection, WAL mode, migrations at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import MIGRATIONS


class DatabaseTooNew(Exception):
    """The file was written by a newer version of the bot."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def from_db_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def db_time(value: str) -> datetime:
    """A NOT NULL time column."""
    return datetime.fromisoformat(value)


class Database:
    """Every statement runs under one lock: a shared connection must not interleave
    one coroutine's statements into another coroutine's transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> "Database":
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA synchronous=NORMAL")
        db = cls(conn)
        try:
            await db._migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    async def _migrate(self) -> None:
        async with self._conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise DatabaseTooNew(
                f"database schema version {version} is newer than this bot ({len(MIGRATIONS)})"
            )
        for number in range(version, len(MIGRATIONS)):
            # The migration and its version bump commit together or not at all.
            script = f"BEGIN IMMEDIATE;\n{MIGRATIONS[number]}\nPRAGMA user_version={number + 1};\nCOMMIT;"
            try:
                await self._conn.executescript(script)
            except Exception:
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise

    async def schema_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    # Each call below is ONE trip to aiosqlite's thread (`execute_fetchall`): a cursor opened,
    # read and closed from here costs three, ~2.5x the CPU per statement.

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed.

        Never `lastrowid`: after an `INSERT OR IGNORE` that inserted nothing it names another
        row. A statement that must say what it wrote uses `RETURNING` (`returning`)."""
        async with self._lock:
            # The schema has no triggers or cascades: the connection's change counter moves by
            # exactly the rows this statement changed (no other statement runs under the lock).
            before = self._conn.total_changes
            await self._conn.execute_fetchall(sql, params)
            return self._conn.total_changes - before

    async def returning(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """Run one INSERT/UPDATE/DELETE ... RETURNING: exactly the rows it wrote (maybe none)."""
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._lock:
            await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        async with self._lock:
            rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Several statements, atomically; use the yielded connection inside."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")
