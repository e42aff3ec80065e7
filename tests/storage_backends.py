"""The storage suite runs on both databases: SQLite files and a real PostgreSQL server.

The server is the `pgserver` wheel's PostgreSQL (bundled binaries; run as root, it runs them as a
`pgserver` system user it creates), started once per test session and shared by the xdist workers
(pgserver counts its users in the data directory and stops the server when the last one leaves). Each test gets a database of its own (CREATE DATABASE from the empty template: a few
milliseconds with durability off, which a throwaway test server does not need).

Fixtures (conftest imports them): `postgres_server`, `storage_target` (parametrized: "sqlite",
"postgres"; `.open()` gives another handle on the same database, as a second process would) and
`storage_db` (one open handle).
"""

from __future__ import annotations

import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from storage.database import Database, open_database

BACKENDS = ["sqlite", "postgres"]


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"


@dataclass(frozen=True)
class StorageTarget:
    """Where a test's database lives: a SQLite file, or a PostgreSQL database (url set)."""

    backend: str
    path: Path
    url: str | None = None

    async def open(self) -> Database:
        return await open_database(url=self.url, path=self.path)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[PostgresServer]:
    base = tmp_path_factory.getbasetemp()
    session = base if worker_id == "master" else base.parent  # pytest-N: one per run, for all workers
    # Not under pytest's temp root: running as root, pgserver runs PostgreSQL as its own user, who
    # must traverse the path, and every pytest start makes its temp root private again (0700).
    pgdata = Path(tempfile.gettempdir()) / "otp-rental-bot-postgres" / session.name
    pgdata.parent.mkdir(mode=0o755, exist_ok=True)
    with warnings.catch_warnings():  # pgserver asks platformdirs for XDG_RUNTIME_DIR, unset here
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        # Deleted (and stopped) when the last worker using it leaves.
        server = pgserver.get_server(pgdata, cleanup_mode="delete")
    # A throwaway server: durability costs time and buys nothing here.
    server.psql("ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off;"
                " ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();")
    host = server.get_uri().split("host=", 1)[1]
    try:
        yield PostgresServer(host)
    finally:
        server.cleanup()


async def _admin(server: PostgresServer, statement: str) -> None:
    conn = await asyncpg.connect(server.url())
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh, empty database for this test."""
    name = f"t_{uuid.uuid4().hex}"
    await _admin(postgres_server, f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield postgres_server.url(name)
    finally:
        await _admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def storage_target(request: pytest.FixtureRequest, tmp_path: Path) -> StorageTarget:
    path = tmp_path / "bot.sqlite3"
    if request.param == "sqlite":
        return StorageTarget("sqlite", path)
    # Asked for only here: a SQLite-only run never starts the server.
    return StorageTarget("postgres", path, request.getfixturevalue("postgres_url"))


@pytest.fixture
async def storage_db(storage_target: StorageTarget) -> AsyncIterator[Database]:
    db = await storage_target.open()
    try:
        yield db
    finally:
        await db.close()
