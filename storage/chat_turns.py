"""One chat's turn across processes: at most one update of a chat is handled at a time, whichever
`python -m bot web` process took it.

Within a process, bot/update_processor.py already runs one chat's updates one after another; two
quick updates of one chat that the load balancer sends to two processes would still run at once.
`ChatTurns.turn(chat_id)` closes that gap:

* `NoChatTurns` (SQLite, or one process): nothing to agree with; the in-process line is enough.
* `PostgresChatTurns`: a PostgreSQL session advisory lock per chat, on ONE connection of its own
  per process (never one of the stores' pool: a handler's own queries never wait behind it). A
  session holds any number of such locks at once, and PostgreSQL frees them all when the session
  ends: a killed process loses nothing and blocks no chat.

The turn never raises and never hangs a chat: with the database away, or another process holding
the chat for longer than `WAIT_BOUND_SECONDS`, the update is handled anyway (the conversation
step's compare-and-set still keeps the state consistent; only the order is no longer certain).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg

logger = logging.getLogger(__name__)

# The two-int4 form of the advisory lock keys: PostgreSQL keeps it apart from the one-bigint form
# (storage/postgres.py's MIGRATION_LOCK_KEY), so the two can never collide. This first key says
# "a chat's turn" ("OTPC"); the second is the chat id folded to 32 bits.
CHAT_LOCK_CLASS = 0x4F545043
FIRST_PAUSE_SECONDS = 0.005
LONGEST_PAUSE_SECONDS = 0.05
WAIT_BOUND_SECONDS = 30.0  # a handler this long is stuck: go on rather than hold the chat forever
CONNECT_TIMEOUT_SECONDS = 5.0
STATEMENT_TIMEOUT_SECONDS = 5.0
RECONNECT_PAUSE_SECONDS = 1.0  # after a failed connect, turns go on unlocked this long before the next try
# What a lost or unreachable database raises (a turn never raises: it goes on unlocked).
_DATABASE_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
                    asyncpg.InternalClientError)


def chat_lock_key(chat_id: int) -> int:
    """The chat id (up to 52 bits, negative for groups) folded into a signed int4. Two chats
    that share a key only wait for each other's turn across processes: harmless."""
    folded = (chat_id ^ (chat_id >> 32)) & 0xFFFFFFFF
    return folded - (1 << 32) if folded >= 1 << 31 else folded


class ChatTurns(ABC):
    """`async with turns.turn(chat_id):` this chat's turn across every process."""

    @abstractmethod
    def turn(self, chat_id: int) -> AbstractAsyncContextManager[None]: ...

    @property
    def waiting(self) -> int:
        """Turns now waiting for another process to leave its chat."""
        return 0

    async def close(self) -> None:
        """Free what the turns hold (a connection); turns taken later go on unlocked."""


class NoChatTurns(ChatTurns):
    """One process: the in-process line is the whole story."""

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        yield


class _Unavailable(Exception):
    """No session to lock with (the database is away, or the turns are closed)."""


class PostgresChatTurns(ChatTurns):
    """Session advisory locks on one connection of this process's own, opened from `url`, and
    opened again at the next turn after it was lost."""

    def __init__(self, url: str, *, wait_bound: float = WAIT_BOUND_SECONDS) -> None:
        self._url = url  # may carry a password: never in a repr or a log line
        self._wait_bound = wait_bound
        self._conn: asyncpg.Connection | None = None
        # asyncpg refuses two statements at once on one connection; each here takes well under a
        # millisecond, so the process's turns simply take turns at the connection.
        self._statements = asyncio.Lock()
        self._reconnect_at = 0.0
        self._outage_logged = False
        self._closed = False
        self._waiting = 0
        self._pending: set[asyncio.Task[None]] = set()  # unlocks under way (close() waits for them)

    def __repr__(self) -> str:
        return "PostgresChatTurns(***)"

    @property
    def waiting(self) -> int:
        return self._waiting

    async def connect(self) -> None:
        """Open the session now (start-up fails early on a wrong URL, as the pool would)."""
        async with self._statements:
            self._conn = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_SECONDS)

    async def close(self) -> None:
        self._closed = True
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        async with self._statements:
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close(timeout=STATEMENT_TIMEOUT_SECONDS)  # the session ends: its locks go

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        key = chat_lock_key(chat_id)
        holder = await self._take(key)
        try:
            yield
        finally:
            if holder is not None:
                # Shielded: a turn cancelled now must not leave its chat locked for the process's life.
                await asyncio.shield(self._spawn_unlock(holder, key))

    async def _take(self, key: int) -> asyncpg.Connection | None:
        """The session that now holds `key`; None: go on without it (bound reached, no database)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_bound
        pause = FIRST_PAUSE_SECONDS
        waiting = False
        try:
            while True:
                try:
                    holder = await self._try_lock(key)
                except _Unavailable:
                    return None
                if holder is not None:
                    return holder
                if loop.time() >= deadline:
                    logger.warning("a chat's turn was still held by another process after %.0fs; "
                                   "handling its update anyway", self._wait_bound)
                    return None
                if not waiting:
                    waiting = True
                    self._waiting += 1
                # No event crosses processes to tell us the other one left: ask again, soon at
                # first (most handlers end within milliseconds), then at most every 50 ms.
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
        finally:
            if waiting:
                self._waiting -= 1

    async def _try_lock(self, key: int) -> asyncpg.Connection | None:
        attempt = asyncio.ensure_future(self._try_lock_statement(key))
        try:
            # Shielded: cancelled while PostgreSQL takes the lock, we could not know we hold it.
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            attempt.add_done_callback(lambda done: self._unlock_if_taken(done, key))
            raise

    def _unlock_if_taken(self, attempt: asyncio.Future[asyncpg.Connection | None], key: int) -> None:
        if not attempt.cancelled() and attempt.exception() is None and (holder := attempt.result()) is not None:
            self._spawn_unlock(holder, key)

    def _spawn_unlock(self, holder: asyncpg.Connection, key: int) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._unlock(holder, key))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def _unlock(self, holder: asyncpg.Connection, key: int) -> None:
        async with self._statements:
            if holder is not self._conn or holder.is_closed():
                return  # that session has ended: PostgreSQL freed its locks with it
            try:
                await holder.fetchval("SELECT pg_advisory_unlock($1, $2)", CHAT_LOCK_CLASS, key,
                                      timeout=STATEMENT_TIMEOUT_SECONDS)
            except _DATABASE_ERRORS:
                self._drop()  # and with the session its locks: the next turn opens another

    async def _try_lock_statement(self, key: int) -> asyncpg.Connection | None:
        """The session if it took the lock, None if another session holds it."""
        async with self._statements:
            # A session can die while idle (a server restart, idle_session_timeout, a firewall):
            # the first failure opens a new one at once; a second means the database is away.
            failure: BaseException | None = None
            for _ in range(2):
                conn = await self._session()
                try:
                    taken = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", CHAT_LOCK_CLASS, key,
                                                timeout=STATEMENT_TIMEOUT_SECONDS)
                except _DATABASE_ERRORS as exc:
                    self._drop()
                    failure = exc
                    continue
                return conn if taken else None
            assert failure is not None
            self._log_outage(failure)
            raise _Unavailable

    async def _session(self) -> asyncpg.Connection:
        """The open session, opened again if it was lost (called under `_statements`)."""
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._conn = None
        loop = asyncio.get_running_loop()
        if self._closed or loop.time() < self._reconnect_at:
            raise _Unavailable
        try:
            self._conn = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_SECONDS)
        except _DATABASE_ERRORS as exc:
            self._reconnect_at = loop.time() + RECONNECT_PAUSE_SECONDS
            self._log_outage(exc)
            raise _Unavailable from None
        if self._outage_logged:
            logger.info("chat turns across processes work again")
            self._outage_logged = False
        return self._conn

    def _drop(self) -> None:
        """The session failed a statement: end it (its locks go with it); the next one is opened anew."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    def _log_outage(self, exc: BaseException) -> None:
        if not self._outage_logged:
            self._outage_logged = True
            # The type only: an exception's text may carry the URL.
            logger.warning("chat turns across processes unavailable (%s); updates go on without them",
                           type(exc).__name__)
