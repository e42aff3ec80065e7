"""The PostgreSQL pool: DATABASE_POOL_SIZE connections at most, and a connection handed back
without asyncpg's per-statement session reset still carries nothing over to the next statement."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from storage.database import open_database


async def test_a_process_opens_no_more_connections_than_its_pool_size(postgres_url: str, tmp_path: Path) -> None:
    db = await open_database(url=postgres_url, path=tmp_path / "unused.sqlite3", pool_size=3)
    try:
        backends = await asyncio.gather(*(db.fetchone("SELECT pg_backend_pid(), pg_sleep(0.05)") for _ in range(12)))
        assert len({row[0] for row in backends if row is not None}) == 3
    finally:
        await db.close()


async def test_a_failed_transaction_leaves_nothing_open_for_the_next_statement(postgres_url: str, tmp_path: Path) -> None:
    db = await open_database(url=postgres_url, path=tmp_path / "unused.sqlite3", pool_size=1)
    try:
        await db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        with pytest.raises(asyncpg.UniqueViolationError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (n) VALUES (1)")
                await tx.execute("INSERT INTO t (n) VALUES (1)")
        # The one connection went back to the pool after the failure rolled back; what it does next
        # is committed at once, not left inside a transaction: another session sees it.
        await db.execute("INSERT INTO t (n) VALUES (2)")
        other = await asyncpg.connect(postgres_url)
        try:
            assert await other.fetchval("SELECT array_agg(n) FROM t") == [2]
        finally:
            await other.close()
    finally:
        await db.close()
