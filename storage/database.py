"""The one storage interface: SQLite (storage/sqlite.py, the default) or PostgreSQL
(storage/postgres.py, `DATABASE_URL`), and the time format both store.

The stores write each statement once, in `?` placeholder style and the SQL both databases speak;
`Database.dialect` says what little differs (storage/sql_dialect.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from storage.sql_dialect import Dialect

if TYPE_CHECKING:
    from storage.chat_turns import ChatTurns

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class DatabaseTooNew(Exception):
    """The database was written by a newer version of the bot."""


class Row(Protocol):
    """A result row: by column name (`row["id"]`) or position (`row[0]`); iterates its values.
    sqlite3.Row and asyncpg.Record are both this."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def from_db_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def db_time(value: str) -> datetime:
    """A NOT NULL time column."""
    return datetime.fromisoformat(value)


class Transaction(ABC):
    """Statements that commit together or not at all (inside `Database.transaction()`)."""

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""

    @abstractmethod
    async def returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """One INSERT/UPDATE/DELETE ... RETURNING: exactly the rows it wrote (maybe none)."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...


class Database(ABC):
    dialect: ClassVar[Dialect]

    @classmethod
    async def open(cls, path: Path | str) -> "Database":
        """The SQLite database at `path` (created with its folder), migrated."""
        from storage.sqlite import SqliteDatabase

        return await SqliteDatabase.connect(path)

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed.

        Never `lastrowid`: after an insert that inserted nothing it names another row. A
        statement that must say what it wrote uses `RETURNING` (`returning`)."""

    @abstractmethod
    async def returning(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one INSERT/UPDATE/DELETE ... RETURNING: exactly the rows it wrote (maybe none)."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Several statements, atomically; use the yielded transaction inside. A row read to be
        written back is read with `SELECT ...{db.dialect.for_update}`."""

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def close(self) -> None: ...

    async def chat_turns(self) -> "ChatTurns":
        """One chat's turn across the processes sharing this database (storage/chat_turns.py);
        its owner closes it before the database. SQLite has one process: no turns to share."""
        from storage.chat_turns import NoChatTurns  # here: that module imports asyncpg, which SQLite never needs

        return NoChatTurns()


# PostgreSQL connections per process (DATABASE_POOL_SIZE): enough for a tick's concurrent account
# polls and the updates in flight; N processes hold N times this many.
DEFAULT_POOL_SIZE = 10


def is_postgres_url(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


async def open_database(*, url: str | None, path: Path | str, pool_size: int = DEFAULT_POOL_SIZE) -> Database:
    """PostgreSQL when `url` is set (DATABASE_URL; `pool_size` connections at most), else SQLite at
    `path` (DATABASE_PATH); migrated either way. Raises DatabaseTooNew for a schema newer than this code."""
    if url:
        if not is_postgres_url(url):
            raise ValueError("the database URL must start with postgresql://")
        from storage.postgres import PostgresDatabase

        return await PostgresDatabase.connect(url, pool_size=pool_size)
    return await Database.open(path)
