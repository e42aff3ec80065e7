"""Which worker polls which account: leases in the database, with a heartbeat per worker.

Several `python -m bot worker` processes share the accounts with work. Every tick each worker
heartbeats (`workers`), renews the leases it holds, gives back those above its fair share
(ceil(accounts with work / live workers)) and takes free or expired ones up to it. Every change of
owner is a compare-and-set in one statement: two workers never both hold an account. A worker that
dies stops renewing: its leases run out after `lease` (two poll intervals) and the others take
them; its heartbeat stops counting after the same time, so their shares grow to cover it.
Nothing in memory decides who polls: a worker polls exactly what `balance` returned.

On PostgreSQL the take skips rows another worker is claiming (`FOR UPDATE SKIP LOCKED` in the
claiming UPDATE, `Dialect.skip_locked`); SQLite has one writer at a time and needs no lock clause.
The tables are migration 8's (storage/migrations.py).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from providers.models import ProviderId
from storage.database import Database, Row, to_db_time, utcnow

Account = tuple[int, ProviderId]

# A worker whose heartbeat is older than this many leases is forgotten (its row deleted); until
# then it merely stops counting as live once its heartbeat is older than one lease.
FORGET_AFTER_LEASES = 10
# Missing lease rows are inserted (claimed) this many per statement.
INSERT_CHUNK = 200


def fair_share(accounts: int, live_workers: int) -> int:
    """How many accounts one worker should hold: every account covered, none hoarded."""
    return math.ceil(accounts / max(1, live_workers)) if accounts else 0


def _account(row: Row) -> Account:
    return (int(row["chat_id"]), ProviderId(row["provider"]))


class LeaseStore:
    """One worker's view of the leases: `balance` once per poll tick."""

    def __init__(self, db: Database, worker_id: str, lease: timedelta) -> None:
        self._db = db
        self.worker_id = worker_id
        self.lease = lease
        self._shuffle = random.Random(worker_id)  # workers try missing accounts in different orders

    async def balance(self, wanted: Iterable[Account], now: datetime | None = None) -> frozenset[Account]:
        """Heartbeat, renew, give back extras, take up to the fair share of `wanted` (the accounts
        with work); returns the accounts this worker holds now, all of them in `wanted`."""
        moment = now or utcnow()
        accounts = set(wanted)
        live = await self._heartbeat(moment)
        share = fair_share(len(accounts), live)
        held = await self._renew(moment)
        extras = sorted(held - accounts) + sorted(held & accounts)[share:]
        await self._give_back(extras)
        held = (held & accounts) - set(extras)
        if len(held) < share:
            held |= await self._take(accounts - held, share - len(held), moment)
        return frozenset(held & accounts)

    async def keep(self, now: datetime | None = None) -> None:
        """Heartbeat and renew only, between two `balance` calls far apart (a slow tick): the
        accounts stay this worker's while it is alive, however long its tick takes."""
        moment = now or utcnow()
        await self._beat(moment)
        await self._renew(moment)

    async def resign(self) -> None:
        """A worker stopping in order gives its accounts back at once (a killed one cannot: its
        leases run out instead)."""
        await self._db.execute("DELETE FROM account_leases WHERE owner = ?", (self.worker_id,))
        await self._db.execute("DELETE FROM workers WHERE worker_id = ?", (self.worker_id,))

    async def owners(self, now: datetime | None = None) -> dict[Account, str]:
        """Every lease still running, by account (tests, metrics)."""
        rows = await self._db.fetchall(
            "SELECT chat_id, provider, owner FROM account_leases WHERE lease_until >= ?",
            (to_db_time(now or utcnow()),),
        )
        return {_account(row): str(row["owner"]) for row in rows}

    async def _beat(self, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO workers (worker_id, last_seen) VALUES (?, ?)"
            " ON CONFLICT (worker_id) DO UPDATE SET last_seen = excluded.last_seen",
            (self.worker_id, to_db_time(now)),
        )

    async def _heartbeat(self, now: datetime) -> int:
        """Record this worker as alive; returns how many workers are (this one included)."""
        await self._beat(now)
        forgotten = to_db_time(now - FORGET_AFTER_LEASES * self.lease)
        await self._db.execute("DELETE FROM workers WHERE last_seen < ?", (forgotten,))
        # Leases that ran out that long ago are of accounts nobody needed since (one with work is
        # taken within a tick): a dead worker's leftovers go even when every worker has its share.
        await self._db.execute("DELETE FROM account_leases WHERE lease_until < ?", (forgotten,))
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM workers WHERE last_seen >= ?", (to_db_time(now - self.lease),)
        )
        return max(1, int(row[0]) if row else 1)

    async def _renew(self, now: datetime) -> set[Account]:
        """Extend every lease still ours (one another worker took after it ran out is not)."""
        rows = await self._db.returning(
            "UPDATE account_leases SET lease_until = ? WHERE owner = ? RETURNING chat_id, provider",
            (to_db_time(now + self.lease), self.worker_id),
        )
        return {_account(row) for row in rows}

    async def _give_back(self, accounts: list[Account]) -> None:
        """Free leases of ours: accounts without work, or above the share (for a joining worker)."""
        if accounts:
            await self._db.executemany(
                "DELETE FROM account_leases WHERE owner = ? AND chat_id = ? AND provider = ?",
                [(self.worker_id, chat_id, provider.value) for chat_id, provider in sorted(accounts)],
            )

    async def _take(self, candidates: set[Account], count: int, now: datetime) -> set[Account]:
        """Up to `count` of `candidates`: first those nobody has a lease row for (inserted, which
        only one inserter can do), then expired ones (compare-and-set on the expiry)."""
        rows = await self._db.fetchall("SELECT chat_id, provider, lease_until FROM account_leases")
        expired_at = to_db_time(now)
        leased = {_account(row): str(row["lease_until"]) for row in rows}
        # Leftovers of dead workers for accounts without work any more: nobody would take them.
        stale = sorted(key for key, until in leased.items() if until < expired_at and key not in candidates)
        if stale:
            await self._db.executemany(
                "DELETE FROM account_leases WHERE chat_id = ? AND provider = ? AND lease_until < ?",
                [(chat_id, provider.value, expired_at) for chat_id, provider in stale],
            )
        missing = [key for key in sorted(candidates) if key not in leased]
        self._shuffle.shuffle(missing)  # workers mostly pick different accounts ...
        taken = await self._insert(sorted(missing[:count]), now)  # ... and lock shared ones in one order
        if len(taken) < count and any(leased[key] < expired_at for key in candidates if key in leased):
            taken |= await self._take_expired(count - len(taken), now)
        return taken & candidates

    async def _insert(self, accounts: list[Account], now: datetime) -> set[Account]:
        """Claim accounts nobody has a row for. Two workers inserting the same keys wait for each
        other key by key: every statement that writes several rows writes them in key order
        (`accounts` is sorted; so are the deletes'), so no two can wait in a cycle (a deadlock)."""
        taken: set[Account] = set()
        until = to_db_time(now + self.lease)
        for start in range(0, len(accounts), INSERT_CHUNK):
            chunk = accounts[start : start + INSERT_CHUNK]
            params = [v for chat_id, provider in chunk for v in (chat_id, provider.value, self.worker_id, until)]
            rows = await self._db.returning(
                "INSERT INTO account_leases (chat_id, provider, owner, lease_until) VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(chunk))
                + " ON CONFLICT (chat_id, provider) DO NOTHING RETURNING chat_id, provider",
                params,
            )
            taken |= {_account(row) for row in rows}
        return taken

    async def _take_expired(self, count: int, now: datetime) -> set[Account]:
        """Leases that ran out, claimed in one statement. The outer WHERE repeats the inner one:
        a row renewed or taken by another worker while this statement waited is left alone."""
        expired_at = to_db_time(now)
        rows = await self._db.returning(
            "UPDATE account_leases SET owner = ?, lease_until = ?"
            " WHERE (chat_id, provider) IN (SELECT chat_id, provider FROM account_leases"
            f" WHERE lease_until < ? ORDER BY lease_until LIMIT ?{self._db.dialect.skip_locked})"
            " AND lease_until < ? RETURNING chat_id, provider",
            (self.worker_id, to_db_time(now + self.lease), expired_at, count, expired_at),
        )
        return {_account(row) for row in rows}
