"""PostgreSQL: an asyncpg connection pool, migrations under an advisory lock at start-up.

The stores' SQL is written once in `?` style (storage/sql_dialect.py turns it into `$n`). asyncpg
Records answer `row["col"]` and `row[0]` like SQLite's rows. Several processes may share one
database: concurrent statements are PostgreSQL's business (row locks), not a lock of ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from storage.chat_turns import ChatTurns, PostgresChatTurns
from storage.database import DEFAULT_POOL_SIZE, Database, DatabaseTooNew, Row, Transaction
from storage.migrations import MIGRATIONS
from storage.sql_dialect import POSTGRES, numbered_placeholders

# pg_advisory_lock key held while migrating: two processes starting at once migrate once (the
# second waits, then finds the schema current). Any fixed 64-bit number; this one spells "otp-mig".
MIGRATION_LOCK_KEY = 0x6F74702D6D6967


def _changed(status: str) -> int:
    """Rows a statement changed, from its command tag ("UPDATE 3", "INSERT 0 1", "DELETE 0")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection goes through on its way back to the pool, after asyncpg has rolled back
    any open transaction. asyncpg's default also sends `RESET ALL; UNLISTEN *; CLOSE ALL;
    SELECT pg_advisory_unlock_all()`: a round trip after every statement (measured: 6 % of a
    worker's CPU, and PostgreSQL's work doubled). The stores leave no session state behind — no
    SET, LISTEN or cursor, and the migration lock is released by its holder — so there is none to
    reset."""


def _sql(sql: str) -> str:
    return numbered_placeholders(sql)


class PostgresTransaction(Transaction):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _changed(await self._conn.execute(_sql(sql), *params))

    async def returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.fetch(_sql(sql), *params))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.fetch(_sql(sql), *params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = await self._conn.fetchrow(_sql(sql), *params)
        return row


class PostgresDatabase(Database):
    dialect = POSTGRES

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._url = url  # for the chat turns' own connection; never in a repr or a log line

    def __repr__(self) -> str:
        return "PostgresDatabase(***)"  # the URL may carry a password

    @classmethod
    async def connect(cls, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> "PostgresDatabase":
        pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size, reset=_keep_session)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, url)

    async def schema_version(self) -> int:
        return await _version(self._pool)

    async def close(self) -> None:
        await self._pool.close()

    async def chat_turns(self) -> ChatTurns:
        """Advisory locks per chat on a connection of their own, outside the pool."""
        turns = PostgresChatTurns(self._url)
        await turns.connect()
        return turns

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _changed(await self._pool.execute(_sql(sql), *params))

    async def returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._pool.fetch(_sql(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._pool.executemany(_sql(sql), list(rows))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._pool.fetch(_sql(sql), *params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = await self._pool.fetchrow(_sql(sql), *params)
        return row

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PostgresTransaction(conn)


async def _version(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    version = await conn.fetchval("SELECT version FROM schema_version")
    return int(version) if version is not None else 0


async def migrate(conn: asyncpg.Connection) -> None:
    """Bring the schema to the latest version: each migration and its version bump in one
    transaction, all of it under the advisory lock. Refuses a schema newer than the code."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        # Under the lock: CREATE TABLE IF NOT EXISTS is not safe against a concurrent one.
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        await conn.execute(
            "INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version)"
        )
        version = await _version(conn)
        if version > len(MIGRATIONS):
            raise DatabaseTooNew(
                f"database schema version {version} is newer than this bot ({len(MIGRATIONS)})"
            )
        for number in range(version, len(MIGRATIONS)):
            async with conn.transaction():
                await conn.execute(MIGRATIONS[number].postgres)  # no parameters: a whole script
                await conn.execute("UPDATE schema_version SET version = $1", number + 1)
    finally:
        if not conn.is_closed():  # a lost connection has released its session lock already
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
