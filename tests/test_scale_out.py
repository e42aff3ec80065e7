"""Scaled out on PostgreSQL: two `python -m bot web` processes behind a round-robin balancer and
three `python -m bot worker` processes, against the fake Bot API and the kiwiSMS simulator.

What a user must see: a conversation goes on whichever web process takes the next update; every
code reaches its chat exactly once; a worker killed with SIGKILL while it holds accounts loses
nothing: its accounts pass to the other workers once its leases run out (two poll intervals),
and the codes that arrive after the kill come through them.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from providers.models import ProviderId
from storage.database import Database, open_database, to_db_time, utcnow
from tests.harness.bot_process import BotEnvironment
from tests.harness.codes import code_sends, delivery_report, sent_before, wait_for_codes
from tests.harness.fixtures import world  # noqa: F401 (fixture)
from tests.harness.role_process import RoleProcess, wait_healthy
from tests.harness.round_robin import RoundRobinProxy
from tests.harness.world import Account, World

POLL_INTERVAL = 0.3
LEASE_SECONDS = 2 * POLL_INTERVAL  # bot/roles.py: LEASE_INTERVALS poll intervals
WORKERS = 3
ACCOUNTS = 6
# A code that arrives after the kill reaches its chat within this: the dead worker's leases run
# out, a live worker's next tick takes the account, its next poll finds the code; plus slack for
# five processes, PostgreSQL and the simulators sharing two cores.
TAKEOVER_BOUND = LEASE_SECONDS + 3 * POLL_INTERVAL + 2.5
CODE_TIMEOUT = 10.0


@dataclass
class Cluster:
    webs: list[RoleProcess]
    workers: list[RoleProcess]
    balancer: RoundRobinProxy
    db: Database  # the test's own handle on the shared database

    async def lease_owners(self) -> dict[tuple[int, ProviderId], RoleProcess]:
        """Running leases, by account, as the worker process holding each."""
        by_pid = {worker.pid: worker for worker in self.workers}
        rows = await self.db.fetchall(
            "SELECT chat_id, provider, owner FROM account_leases WHERE lease_until >= ?", (to_db_time(utcnow()),)
        )
        # A worker id is "host:pid:random" (bot/roles.py).
        return {
            (int(row["chat_id"]), ProviderId(row["provider"])): by_pid[int(str(row["owner"]).split(":")[1])]
            for row in rows
        }

    def problems(self) -> list[str]:
        return [why for process in (*self.webs, *self.workers) if process.killed_at is None
                and (why := process.exited()) is not None]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log()[-2000:]}" for p in (*self.webs, *self.workers))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until(probe: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Until the async `probe()` holds (the database has no event to await)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def cluster(world: World, postgres_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    db = await open_database(url=postgres_url, path=tmp_path / "unused.sqlite3")  # migrated here, once
    environment = BotEnvironment(
        workdir=tmp_path, token=world.tg.token, encryption_key=Fernet.generate_key().decode(),
        telegram_api_base_url=world.telegram_proxy.base_url,
        kiwi_base_url=world.proxies[ProviderId.KIWI].base_url,
        nonvoip_base_url=world.proxies[ProviderId.NONVOIP].base_url,
        gotsms_base_url=world.proxies[ProviderId.GOTSMS].base_url,
        poll_interval_seconds=POLL_INTERVAL, provider_timeout_seconds=1.0,
    )
    shared = {"DATABASE_URL": postgres_url}
    ports = [_free_port(), _free_port()]
    balancer = RoundRobinProxy([f"http://127.0.0.1:{port}" for port in ports])
    await balancer.start()
    webs = [
        RoleProcess("web", f"web{i}", environment, shared | {
            "PUBLIC_URL": balancer.url, "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port)})
        for i, port in enumerate(ports)
    ]
    workers = [RoleProcess("worker", f"worker{i}", environment, dict(shared)) for i in range(WORKERS)]
    cluster = Cluster(webs, workers, balancer, db)
    try:
        for process in (*webs, *workers):
            await process.start()
        for web, port in zip(webs, ports, strict=True):
            await wait_healthy(web, f"http://127.0.0.1:{port}")

        async def all_heartbeating() -> bool:
            if problems := cluster.problems():
                raise AssertionError("\n".join(problems))
            row = await db.fetchone("SELECT COUNT(*) FROM workers")
            return bool(row and int(row[0]) == WORKERS)

        await _until(all_heartbeating, 20.0, "three workers heartbeating")
        yield cluster
    finally:
        for process in (*webs, *workers):
            await process.stop()
        await balancer.stop()
        await db.close()


async def test_two_web_processes_and_three_workers_deliver_every_code_once_through_a_worker_kill(
    world: World, cluster: Cluster
) -> None:
    tg, started = world.tg, time.monotonic()
    chats = [world.new_chat() for _ in range(ACCOUNTS)]

    # A conversation started on one web process goes on on the other: the balancer alternates,
    # so /connect, the provider's button and the typed key each land on the other process.
    posts_before = len(cluster.balancer.routed)
    accounts: list[Account] = [await world.connect(chats[0], ProviderId.KIWI)]
    handled_by = [r.upstream for r in cluster.balancer.routed[posts_before:] if r.path.startswith("/telegram")]
    assert len(handled_by) >= 3 and all(a != b for a, b in zip(handled_by, handled_by[1:])), handled_by
    accounts += [await world.connect(chat, ProviderId.KIWI) for chat in chats[1:]]
    orders = [await world.buy(account) for account in accounts]
    keys = [(account.chat.chat_id, ProviderId.KIWI) for account in accounts]

    # The workers share the accounts: each holds its fair share, none twice (the key is unique).
    async def shared_fairly() -> bool:
        owners = await cluster.lease_owners()
        return set(owners) == set(keys) and {len([a for a, w in owners.items() if w is worker])
                                             for worker in cluster.workers} == {ACCOUNTS // WORKERS}

    await _until(shared_fairly, 10.0, "six accounts leased two to each worker")

    # A code arrives once.
    expected: dict[str, int] = {}
    first_code = world.new_code()
    expected[first_code] = chats[0].chat_id
    world.receive_sms(accounts[0], orders[0], first_code)
    await wait_for_codes(tg, {first_code: chats[0].chat_id}, CODE_TIMEOUT)

    # A worker is killed with SIGKILL the moment a poll of its own brings it a code.
    owners = await cluster.lease_owners()
    victim = owners[keys[1]]
    victims_accounts = [i for i, key in enumerate(keys) if owners[key] is victim]
    in_flight = world.new_code()
    expected[in_flight] = chats[1].chat_id
    world.proxies[ProviderId.KIWI].kill_when(lambda e: e.holds(in_flight), victim.kill)
    world.receive_sms(accounts[1], orders[1], in_flight)
    await _until(lambda: _dead(victim), 10.0, "the victim killed by the answer with its code")
    killed_at = victim.killed_at
    assert killed_at is not None

    # After the kill a code arrives on every account, the dead worker's included.
    arrived_at = time.time()
    late = {i: world.new_code() for i in range(ACCOUNTS)}
    for i, code in late.items():
        expected[code] = chats[i].chat_id
        world.receive_sms(accounts[i], orders[i], code)
    await wait_for_codes(tg, expected, CODE_TIMEOUT)

    problems = cluster.problems()
    if tg.calls("getUpdates"):
        problems.append("a process asked Telegram for updates: web processes take them by webhook, workers never")
    sends = code_sends(tg, [chat.chat_id for chat in chats])
    for i in victims_accounts:
        took = min(at for _, at in sends[late[i]]) - arrived_at
        if took > TAKEOVER_BOUND:
            problems.append(f"code of the dead worker's account {i} took {took:.2f}s (bound {TAKEOVER_BOUND:.2f}s)")
    owners = await cluster.lease_owners()
    if victim in owners.values() or set(owners) != set(keys):
        problems.append(f"leases after the kill: {sorted((k, w.name) for k, w in owners.items())}")

    # A window for late duplicates: every live worker has polled again a few times.
    await world.settle(POLL_INTERVAL, rounds=3 * (WORKERS - 1))
    # Only a message Telegram accepted before the kill could be sent again (the at-least-once
    # gap): the kill comes before the victim could even send the code it just read.
    report = delivery_report(tg, expected, [chat.chat_id for chat in chats])
    problems += report.problems(repeatable=sent_before(tg, expected, killed_at), max_repeated_messages=1)
    problems += [f"charged {world.charged_orders(a)} orders for one purchase" for a in accounts
                 if world.charged_orders(a) != 1]
    if problems:
        pytest.fail("\n".join(problems) + "\n" + cluster.logs())
    assert time.monotonic() - started < 40, "the scale-out test is meant to stay fast"


async def _dead(process: RoleProcess) -> bool:
    return process.killed_at is not None and not process.alive
