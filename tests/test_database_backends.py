"""Both databases behind one interface: migrations numbered once for both dialects, a schema
newer than the code refused, concurrent migrators migrating once, and the compare-and-set claims
holding when separate connections (as separate processes would) race on PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from providers.models import IncomingSms, Offer, OrderStatus, ProviderId, RemoteOrder
from storage.database import Database, DatabaseTooNew, open_database
from storage.messages import MessageStore
from storage.migrations import MIGRATIONS
from storage.orders import OrderStore
from storage.purchases import PurchaseStore
from storage.records import PurchaseState
from tests.storage_backends import StorageTarget

REPO = Path(__file__).resolve().parents[1]

# The shipped SQLite migrations, pinned: an old file must be upgraded exactly as before.
SHIPPED_SQLITE = [
    "34774af9a72ebd7dd7e71c602aba2189d9665dc23e0e102eccf981a08dce8f0f",
    "5508f0f75a573729b2cbf7c8299eecdf6495eb654f2d647eb785c914ef4ad80c",
    "77308ce7cb1962d00a217b8e35a35dbbbe1c02d95aefcbce952a912a8de4836d",
    "db9faa94c80992e1cc9ce0e414879fa5e7b017c52654a46b75828354037236d1",
    "1d4f98e5278b7a002d45d917afd4caaadc50c73faa986f8478642b983d7dfc72",
    "7c39280c4aa6aba3fd07af9f1fb9ec8b2a5ccb70b275b7cff76eb0c622b0682c",
    "7755549cbdeb5e880a49022960a2948113ba4c2f738812ded0c3561b3fab8d60",
]


def _remote(order_id: str = "r1") -> RemoteOrder:
    return RemoteOrder(
        order_id=order_id, phone="+12025550100", service="go", service_name="Google",
        price=Decimal("0.50"), status=OrderStatus.WAITING, expires_at=None,
    )


def test_the_shipped_sqlite_migrations_are_unchanged() -> None:
    assert [hashlib.sha256(m.sqlite.encode()).hexdigest() for m in MIGRATIONS[: len(SHIPPED_SQLITE)]] == SHIPPED_SQLITE


def _sqlite_schema(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
    finally:
        conn.close()


@pytest.mark.parametrize("old_version", range(1, len(MIGRATIONS)))
async def test_an_old_sqlite_file_is_upgraded_to_the_schema_of_a_new_one(tmp_path: Path, old_version: int) -> None:
    fresh = await Database.open(tmp_path / "fresh.sqlite3")
    await fresh.close()
    old = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(old)
    for migration in MIGRATIONS[:old_version]:
        conn.executescript(migration.sqlite)
    conn.execute(f"PRAGMA user_version={old_version}")
    conn.close()
    upgraded = await Database.open(old)
    assert await upgraded.schema_version() == len(MIGRATIONS)
    await upgraded.close()
    assert _sqlite_schema(old) == _sqlite_schema(tmp_path / "fresh.sqlite3")


async def test_both_dialects_build_the_same_tables_and_columns(tmp_path: Path, postgres_url: str) -> None:
    sqlite_db = await Database.open(tmp_path / "bot.sqlite3")
    postgres_db = await open_database(url=postgres_url, path=tmp_path / "unused.sqlite3")
    try:
        tables = [r["name"] for r in await sqlite_db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
        sqlite_columns = {
            table: [r["name"] for r in await sqlite_db.fetchall(f"PRAGMA table_info({table})")]
            for table in tables if table != "sqlite_sequence"
        }
        rows = await postgres_db.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name != 'schema_version' ORDER BY table_name, ordinal_position"
        )
        postgres_columns: dict[str, list[str]] = {}
        for row in rows:
            postgres_columns.setdefault(row["table_name"], []).append(row["column_name"])
        assert postgres_columns == sqlite_columns
        # Text compares in byte order as on SQLite (ISO times!), whatever the server's locale.
        collations = await postgres_db.fetchall(
            "SELECT DISTINCT collation_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type = 'text' AND table_name != 'schema_version'"
        )
        assert [r["collation_name"] for r in collations] == ["C"]
    finally:
        await sqlite_db.close()
        await postgres_db.close()


async def test_a_schema_newer_than_the_code_is_refused(storage_target: StorageTarget) -> None:
    db = await storage_target.open()
    newer = len(MIGRATIONS) + 1
    if storage_target.backend == "sqlite":
        await db.execute(f"PRAGMA user_version={newer}")
    else:
        await db.execute("UPDATE schema_version SET version = ?", (newer,))
    await db.close()
    with pytest.raises(DatabaseTooNew):
        await storage_target.open()


async def _run_migrate(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", cwd=env["HOME"], env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


def _migrate_env(tmp_path: Path, target: StorageTarget) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    env["DATABASE_PATH"] = str(target.path)
    if target.url:
        env["DATABASE_URL"] = target.url
    return env


@pytest.mark.timeout(120)  # two interpreters start from scratch: slow on a loaded 2-core machine
async def test_two_processes_migrating_at_once_migrate_once(tmp_path: Path, storage_target: StorageTarget) -> None:
    """`python -m bot migrate` twice at the same moment: both succeed (a second run of a migration
    would fail on its CREATE TABLE), and the schema is current."""
    env = _migrate_env(tmp_path, storage_target)
    results = await asyncio.gather(_run_migrate(env), _run_migrate(env))
    for code, output in results:
        assert code == 0, output
        assert f"version {len(MIGRATIONS)}" in output
    db = await storage_target.open()
    assert await db.schema_version() == len(MIGRATIONS)
    await db.close()


async def test_migrate_refuses_a_newer_database(tmp_path: Path, storage_target: StorageTarget) -> None:
    db = await storage_target.open()
    if storage_target.backend == "sqlite":
        await db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    else:
        await db.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS) + 1,))
    await db.close()
    code, output = await _run_migrate(_migrate_env(tmp_path, storage_target))
    assert code == 1 and "newer than this bot" in output


async def test_concurrent_openers_in_one_process_migrate_once(postgres_url: str, tmp_path: Path) -> None:
    """Five pools (five sessions, as five processes) opening a fresh database at once."""
    databases = await asyncio.gather(*(open_database(url=postgres_url, path=tmp_path / "x") for _ in range(5)))
    try:
        assert {await db.schema_version() for db in databases} == {len(MIGRATIONS)}
    finally:
        for db in databases:
            await db.close()


async def test_a_failed_migration_leaves_the_version_and_schema_as_they_were(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        from storage.postgres import migrate

        await migrate(conn)
        await conn.execute("UPDATE schema_version SET version = 6")  # 7 again: account_hooks exists
        with pytest.raises(asyncpg.DuplicateTableError):
            await migrate(conn)
        assert await conn.fetchval("SELECT version FROM schema_version") == 6
        assert await conn.fetchval("SELECT count(*) FROM information_schema.columns WHERE column_name = 'stored_at'") == 1
    finally:
        await conn.close()


async def _two_handles(postgres_url: str, tmp_path: Path) -> tuple[Database, Database]:
    one = await open_database(url=postgres_url, path=tmp_path / "x")
    two = await open_database(url=postgres_url, path=tmp_path / "x")
    return one, two


async def test_racing_confirms_on_two_connections_place_a_purchase_once(postgres_url: str, tmp_path: Path) -> None:
    one, two = await _two_handles(postgres_url, tmp_path)
    try:
        offer = Offer(section="187", service_id="go", name="Google", price=Decimal("0.50"), stock=3)
        for _ in range(10):
            purchase = await PurchaseStore(one).create(7, ProviderId.KIWI, (offer,))
            claims = await asyncio.gather(*(
                PurchaseStore(db).claim_for_placing(purchase.id, 7, PurchaseState.PENDING, timedelta(seconds=30))
                for db in (one, two, one, two)
            ))
            assert sum(c is not None for c in claims) == 1
    finally:
        await one.close()
        await two.close()


async def test_racing_outbox_claims_on_two_connections_take_each_row_once(postgres_url: str, tmp_path: Path) -> None:
    one, two = await _two_handles(postgres_url, tmp_path)
    try:
        order = await OrderStore(one).add(7, ProviderId.KIWI, _remote())
        stored = await MessageStore(one).add_sms(
            order, [IncomingSms(message_id=str(i), code=f"{i:06d}", text="") for i in range(60)]
        )
        lease = timedelta(seconds=30)
        single = await asyncio.gather(*(MessageStore(db).claim(stored[0].id, lease) for db in (one, two, one, two)))
        assert sum(s is not None for s in single) == 1
        batches = await asyncio.gather(*(MessageStore(db).claim_batch(lease, limit=20) for db in (one, two) * 3))
        claimed = [m.id for batch in batches for m in batch]
        assert len(claimed) == len(set(claimed))  # no row taken twice
        rest = await MessageStore(two).claim_batch(lease, limit=100)  # whatever a busy moment left
        assert sorted(claimed + [m.id for m in rest]) == [m.id for m in stored[1:]]
    finally:
        await one.close()
        await two.close()


async def test_two_paid_actions_at_once_both_count_in_the_price(postgres_url: str, tmp_path: Path) -> None:
    """`extend` reads the price and writes it back: the row lock makes concurrent ones add up."""
    one, two = await _two_handles(postgres_url, tmp_path)
    try:
        order = await OrderStore(one).add(7, ProviderId.KIWI, _remote())
        await asyncio.gather(*(
            OrderStore(db).extend(order.id, paid=Decimal("0.25"), status=OrderStatus.WAITING, expires_at=None)
            for db in (one, two) * 4
        ))
        stored = await OrderStore(two).by_id(order.id)
        assert stored is not None and stored.price == Decimal("2.50")
    finally:
        await one.close()
        await two.close()
