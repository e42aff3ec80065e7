"""Account leases (storage/leases.py) on SQLite and PostgreSQL: every account with work is held by
exactly one worker, shares are fair, a joining worker gets its share, a dead worker's accounts
are taken over once its leases run out. Time is passed in (`now`): nothing here sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.models import ProviderId
from storage.database import Database, utcnow
from storage.leases import Account, LeaseStore, fair_share
from tests.storage_backends import StorageTarget

LEASE = timedelta(seconds=2)


def accounts(count: int, start: int = 0) -> list[Account]:
    providers = list(ProviderId)
    return [(-1_000_000_000_000 - i, providers[i % len(providers)]) for i in range(start, start + count)]


@pytest.fixture
def db(storage_db: Database) -> Database:
    return storage_db


@pytest.fixture
async def handles(storage_target: StorageTarget) -> AsyncIterator[list[Database]]:
    """Eight connections to one database, as eight worker processes would have."""
    opened = [await storage_target.open() for _ in range(8)]
    try:
        yield opened
    finally:
        for handle in opened:
            await handle.close()


async def test_a_lone_worker_holds_every_account_and_keeps_it_by_renewing(db: Database) -> None:
    work, start = accounts(7), utcnow()
    alone = LeaseStore(db, "w1", LEASE)
    assert await alone.balance(work, now=start) == set(work)
    # Renewed each tick: still its own long after the first lease would have run out.
    for tick in range(1, 6):
        assert await alone.balance(work, now=start + tick * LEASE * 0.9) == set(work)
    later = start + 5 * LEASE * 0.9 + LEASE * 0.5
    assert await alone.owners(now=later) == {key: "w1" for key in work}
    assert await LeaseStore(db, "w2", LEASE).balance(work, now=later) == set()


async def test_an_account_without_work_is_given_back(db: Database) -> None:
    work, now = accounts(3), utcnow()
    worker = LeaseStore(db, "w1", LEASE)
    await worker.balance(work, now=now)
    assert await worker.balance(work[:1], now=now) == {work[0]}
    assert await worker.owners(now=now) == {work[0]: "w1"}


async def test_a_dead_workers_leftover_leases_are_forgotten_even_when_nobody_is_short(db: Database) -> None:
    idle, work, now = accounts(3), accounts(2, start=3), utcnow()
    alive = LeaseStore(db, "w1", LEASE)
    assert await alive.balance(work, now=now) == set(work)
    leftovers = await LeaseStore(db, "dead", LEASE).balance(idle, now=now)  # then killed: never renews
    assert leftovers
    # Its accounts have no work any more, and the live worker holds its full share: nobody takes them.
    later = now + 3 * LEASE
    assert await alive.balance(work, now=later) == set(work)
    assert set(await alive.owners(now=now)) == leftovers | set(work)  # the leftovers are still there
    much_later = now + 12 * LEASE  # their leases ran out (now + LEASE) ten leases before
    assert await alive.balance(work, now=much_later) == set(work)
    assert set(await alive.owners(now=now)) == set(work)  # the leftovers are gone


async def test_a_joining_worker_gets_its_share_once_the_first_gives_back(db: Database) -> None:
    work, now = accounts(10), utcnow()
    first, second = LeaseStore(db, "w1", LEASE), LeaseStore(db, "w2", LEASE)
    assert await first.balance(work, now=now) == set(work)
    assert await second.balance(work, now=now) == set()  # all held: it waits for a give-back
    kept = await first.balance(work, now=now)  # two live workers now: the first keeps its half
    taken = await second.balance(work, now=now)
    assert len(kept) == len(taken) == 5
    assert kept | taken == set(work) and not kept & taken
    # A third joins: 10 / 3 -> at most 4 each, every account still held by exactly one.
    third = LeaseStore(db, "w3", LEASE)
    await third.balance(work, now=now)
    for _ in range(2):  # a round to give back above the share, a round to take
        held = [await w.balance(work, now=now) for w in (first, second, third)]
    assert max(len(h) for h in held) <= fair_share(10, 3) and min(len(h) for h in held) >= 2
    assert set().union(*held) == set(work) and sum(len(h) for h in held) == len(work)


async def test_a_dead_workers_accounts_are_taken_over_once_its_leases_run_out(db: Database) -> None:
    work, now = accounts(10), utcnow()
    doomed, survivor = LeaseStore(db, "doomed", LEASE), LeaseStore(db, "survivor", LEASE)
    await doomed.balance(work, now=now)
    await survivor.balance(work, now=now)
    mine = await doomed.balance(work, now=now)
    assert len(await survivor.balance(work, now=now)) == 5
    # `doomed` is killed here: it renews nothing more. Within its lease nothing moves ...
    assert len(await survivor.balance(work, now=now + LEASE * 0.9)) == 5
    # ... once it ran out, the survivor is the only live worker and takes everything.
    after = now + LEASE + timedelta(milliseconds=10)
    assert await survivor.balance(work, now=after) == set(work)
    assert set((await survivor.owners(now=after)).values()) == {"survivor"}
    # Had `doomed` only stalled, it finds its accounts gone, not shared.
    assert not await doomed.balance(work, now=after) & mine


async def test_a_worker_in_a_slow_tick_keeps_its_accounts_by_renewing_alone(db: Database) -> None:
    work, now = accounts(4), utcnow()
    slow, other = LeaseStore(db, "slow", LEASE), LeaseStore(db, "other", LEASE)
    assert await slow.balance(work, now=now) == set(work)
    # Its tick runs long: only the keeper's renewals happen meanwhile.
    for beat in range(1, 4):
        await slow.keep(now=now + beat * LEASE * 0.9)
    later = now + 3 * LEASE * 0.9 + LEASE * 0.5
    assert await other.balance(work, now=later) == set()  # nothing ran out
    kept = await slow.balance(work, now=later)  # its tick ends: two live workers, half each
    assert len(kept) == 2 and await other.balance(work, now=later) == set(work) - kept


async def test_a_worker_stopping_in_order_hands_over_at_once(db: Database) -> None:
    work, now = accounts(4), utcnow()
    leaving, staying = LeaseStore(db, "leaving", LEASE), LeaseStore(db, "staying", LEASE)
    await leaving.balance(work, now=now)
    await leaving.resign()
    assert await staying.balance(work, now=now) == set(work)


async def test_many_workers_racing_never_hold_one_account_twice(handles: list[Database]) -> None:
    """Eight workers on eight connections claim at once, round after round: first rows nobody
    has (inserted), then, after a dead worker's leases ran out, expired rows (on PostgreSQL
    through SKIP LOCKED). Then the work moves to other accounts, twice: what they hold is given
    back while the others insert. Whatever the interleaving, each account has at most one holder,
    and no two workers' statements wait for each other in a cycle (a deadlock would raise)."""
    workers = [LeaseStore(handle, f"w{i}", LEASE) for i, handle in enumerate(handles)]
    now = utcnow()
    for batch in range(3):
        work = accounts(200, start=1000 * batch)
        dead = LeaseStore(handles[0], f"dead{batch}", LEASE)
        assert await dead.balance(work[:30], now=now)  # its share (all, while it is the only live one)
        now += LEASE + timedelta(milliseconds=10)
        held: list[frozenset[Account]] = []
        for round_number in range(6):
            now += LEASE * 0.3
            held = list(await asyncio.gather(*(w.balance(work, now=now) for w in workers)))
            assert sum(len(h) for h in held) == len(set().union(*held)), f"{batch}/{round_number}: held twice"
            owners = await workers[0].owners(now=now)
            for worker, mine in zip(workers, held, strict=True):
                assert {key for key, owner in owners.items() if owner == worker.worker_id} == mine
        # Settled: every account held, nobody above its share of 200 / 8.
        assert set().union(*held) == set(work)
        assert max(len(h) for h in held) <= fair_share(len(work), 8)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=64))
def test_fair_shares_cover_every_account_and_differ_by_less_than_one_worker(accounts: int, workers: int) -> None:
    share = fair_share(accounts, workers)
    assert share * workers >= accounts
    assert (share - 1) * workers < accounts or share == 0

