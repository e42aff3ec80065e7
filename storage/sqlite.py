"""SQLite: one long-lived aiosqlite connection, WAL mode, migrations at start-up."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.database import Database, DatabaseTooNew, Row, Transaction
from storage.migrations import MIGRATIONS
from storage.sql_dialect import SQLITE


def statements(script: str) -> list[str]:
    """A script's statements, split where SQLite itself says a statement is complete (a `;` in a
    literal or comment does not end one)."""
    found: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        found.append(pending.strip())
    return [s for s in found if s != ";"]


async def _changed(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> int:
    # The schema has no triggers or cascades: the connection's change counter moves by exactly
    # the rows this statement changed (no other statement runs on the connection meanwhile).
    before = conn.total_changes
    await conn.execute_fetchall(sql, params)
    return conn.total_changes - before


class SqliteTransaction(Transaction):
    """Statements inside `SqliteDatabase.transaction()`: the database's lock is already held."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await _changed(self._conn, sql, params)

    async def returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return next(iter(await self._conn.execute_fetchall(sql, params)), None)


class SqliteDatabase(Database):
    """Every statement runs under one lock: a shared connection must not interleave
    one coroutine's statements into another coroutine's transaction."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path | str) -> "SqliteDatabase":
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
        """Each migration and its version bump commit together or not at all. The version is
        read inside the write transaction: of two processes opening the file at once, the second
        waits and then finds the migration done (executescript would commit before it runs, so a
        script is run statement by statement instead, the same statements in the same order)."""
        while True:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                async with self._conn.execute("PRAGMA user_version") as cur:
                    row = await cur.fetchone()
                version = int(row[0]) if row else 0
                if version > len(MIGRATIONS):
                    raise DatabaseTooNew(
                        f"database schema version {version} is newer than this bot ({len(MIGRATIONS)})"
                    )
                if version == len(MIGRATIONS):
                    await self._conn.execute("COMMIT")
                    return
                for statement in statements(MIGRATIONS[version].sqlite):
                    await self._conn.execute(statement)
                await self._conn.execute(f"PRAGMA user_version={version + 1}")
                await self._conn.execute("COMMIT")
            except BaseException:
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
        async with self._lock:
            return await _changed(self._conn, sql, params)

    async def returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._lock:
            await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._lock:
            rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")
