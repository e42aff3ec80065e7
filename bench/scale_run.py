"""One layout of the scale benchmark: fresh simulators, fake Bot API and PostgreSQL database, the
orders seeded, the bot's processes started (N workers, or one `python -m bot`), the SMS made to
arrive, then what the providers, Telegram and the CPU counters saw."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bench.accounting import Delivered, delivered, drain, sent_codes
from bench.arrivals import expected_by_scenario, inject, plan_arrivals
from bench.cpu import CpuSplit, own_group, process_group, sample, server_group, split
from bench.postgres import BenchPostgres
from bench.process import BotProcess
from bench.runner import bot_env
from bench.scale_config import Layout, ScaleConfig
from bench.scenarios import SCENARIOS, Scenario
from bench.world import serving
from bench.seeding import seed
from bench.stats import Cadence, cadence, max_in_window
from storage.database import open_database
from storage.leases import LeaseStore, fair_share

POSTGRES = "PostgreSQL"
BENCHMARK = "benchmark (simulators, fake Telegram)"
SENDS = ("sendmessage", "editmessagetext")  # what counts against Telegram's flood limits here


@dataclass(frozen=True)
class ProviderOutcome:
    label: str
    accounts: int
    delivered: Delivered
    polls: Cadence  # the per-account poll requests during the SMS phase, all processes together
    close_polls: int  # two polls of one account less than half an interval apart (double polling)
    other_requests: int  # anything but those polls during the SMS phase


@dataclass(frozen=True)
class LayoutResult:
    layout: Layout
    providers: list[ProviderOutcome]
    cpu: CpuSplit  # over the SMS phase
    bot_groups: list[str]  # the names in cpu.groups that are the bot's own processes
    polls: int  # poll requests during the SMS phase, every provider
    sends: int  # sendMessage + editMessageText during the SMS phase
    max_sends_in_a_second: int
    leases_at_start: dict[str, int] | None  # worker -> accounts it held when the SMS began
    leases_at_end: dict[str, int] | None
    not_injected: int
    drain_waited: float
    unexpected_codes: int
    warnings: list[str]
    exit_codes: list[int]

    @property
    def bot_cpu(self) -> float:
        return sum(self.cpu.groups[name] for name in self.bot_groups)


def _process_name(role: str | None, index: int) -> str:
    return f"{role or 'bot'} {index}"


async def _until(ready: Callable[[], Any], procs: Sequence[BotProcess], what: str, timeout: float) -> float:
    """Until `await ready()` is true, failing as soon as one of the bot's processes exits."""
    start = time.monotonic()
    while not await ready():
        for proc in procs:
            if proc.proc.returncode is not None:
                raise RuntimeError(f"{proc.log_path.stem} exited with {proc.proc.returncode} while waiting for {what}:\n"
                                   + "\n".join(proc.warnings()[-20:]))
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"no {what} after {timeout:.0f}s")
        await asyncio.sleep(0.2)  # the state is in other processes (simulators' logs, the database)
    return time.monotonic() - start


async def _lease_counts(leases: LeaseStore) -> dict[str, int]:
    """Worker -> accounts it holds now."""
    return dict(Counter((await leases.owners()).values()))


def _outcome(scenario: Scenario[Any], codes: dict[str, Any], found: Any, start: float, end: float,
             poll_interval: float) -> ProviderOutcome:
    outcome = delivered({code: t.account.chat_id for code, t in codes.items()}, found,
                        lambda code: scenario.visible_at(codes[code].remote_id))
    times = scenario.poll_times(start, end)
    polls = cadence(times, scenario.account_keys, (end - start) / poll_interval, poll_interval)
    close = sum(1 for gap in polls.gaps if gap < 0.5 * poll_interval)
    return ProviderOutcome(scenario.label, len(scenario.account_keys), outcome, polls, close,
                           scenario.other_requests(start, end))


async def run_layout(cfg: ScaleConfig, layout: Layout, pg: BenchPostgres) -> LayoutResult:
    base = cfg.base
    rng = random.Random(base.seed)
    scenarios = [cls(base.sizes[cls.provider], base) for cls in SCENARIOS]
    active = [s for s in scenarios if s.active]
    async with serving(scenarios) as world:
        tg, endpoints = world.tg, world.endpoints
        url = None if layout.sqlite else pg.fresh_database(f"bench_{layout.slug}")
        with tempfile.TemporaryDirectory(prefix="otp-scale-") as tmp_name:
            tmp = Path(tmp_name)
            sqlite_path = tmp / "bot.sqlite3"  # opened only by the SQLite layout (DATABASE_URL wins)
            fernet_key = Fernet.generate_key().decode()
            for scenario in active:
                t_seed = time.monotonic()
                scenario.targets = await seed(scenario, tg, sqlite_path, fernet_key, endpoints, db_url=url)
                print(f"  seeded {len(scenario.targets)} {scenario.what} over {len(scenario.chat_ids)} chats "
                      f"in {time.monotonic() - t_seed:.1f}s", flush=True)
            env = bot_env(base, tg, scenarios, sqlite_path, fernet_key) | ({"DATABASE_URL": url} if url else {})
            for scenario in scenarios:
                scenario.mark_bot_start()
            procs: list[BotProcess] = []
            exit_codes: list[int] = []
            # The benchmark's own view of the workers' leases: one connection for the whole run.
            observer = await open_database(url=url, path=sqlite_path) if layout.leases and url else None
            leases = LeaseStore(observer, "bench-observer", timedelta(0)) if observer else None
            try:
                for index, role in enumerate(layout.roles, start=1):
                    procs.append(await BotProcess.start(tmp, env, role=role,
                                                        name=_process_name(role, index).replace(" ", "")))
                waited = await _until(_async(lambda: all(s.has_polled() for s in active)), procs,
                                      "first poll", 60.0)
                print(f"  {layout.title}: polling after {waited:.1f}s", flush=True)
                leases_at_start = None
                if leases is not None:
                    accounts = sum(len(s.account_keys) for s in active)
                    share = fair_share(accounts, len(layout.roles))

                    async def settled() -> bool:
                        counts = await _lease_counts(leases)
                        return (sum(counts.values()) == accounts and len(counts) == len(layout.roles)
                                and max(counts.values()) <= share)

                    waited = await _until(settled, procs, "even leases", 30 * base.poll_interval)
                    print(f"  leases even after {waited:.1f}s more", flush=True)
                await asyncio.sleep(base.warmup)  # steady polling before the first SMS
                if leases is not None:
                    leases_at_start = await _lease_counts(leases)
                arrivals = plan_arrivals(active, rng, base.duration, cfg.codes)
                groups = [process_group(_process_name(role, i), [p.pid])
                          for i, (role, p) in enumerate(zip(layout.roles, procs), start=1)]
                groups += [server_group(POSTGRES, pg.pid), own_group(BENCHMARK)]  # idle for SQLite
                cpu_before, start = sample(groups), time.monotonic()
                print(f"  SMS phase: {len(arrivals)} codes over {base.duration:.0f}s", flush=True)
                not_injected = await inject(arrivals, asyncio.get_running_loop().time())
                cpu_after, end = sample(groups), time.monotonic()
                chat_ids = [chat for s in active for chat in s.chat_ids]
                drain_waited = await drain(tg, chat_ids, {a.code for a in arrivals}, base.drain)
                await asyncio.sleep(base.poll_interval * 2)  # a late duplicate would show up here
                leases_at_end = await _lease_counts(leases) if leases is not None else None
            finally:
                for proc in procs:
                    exit_codes.append(await proc.stop())
                if observer is not None:
                    await observer.close()
            warnings = [f"{p.log_path.stem}: {line}" for p in procs for line in p.warnings()]

    found = sent_codes(tg, chat_ids)
    expected = expected_by_scenario(arrivals)
    outcomes = [_outcome(s, expected.get(s, {}), found, start, end, base.poll_interval) for s in active]
    wall_start, wall_end = time.time() - (time.monotonic() - start), time.time() - (time.monotonic() - end)
    send_times = sorted(c.at for c in tg.calls() if c.method.lower() in SENDS and wall_start <= c.at <= wall_end)
    return LayoutResult(
        layout=layout,
        providers=outcomes,
        cpu=split(cpu_before, cpu_after, end - start),
        bot_groups=[g.name for g in groups[: len(procs)]],
        polls=sum(o.polls.requests for o in outcomes),
        sends=len(send_times),
        max_sends_in_a_second=max_in_window(send_times, 1.0),
        leases_at_start=leases_at_start,
        leases_at_end=leases_at_end,
        not_injected=not_injected,
        drain_waited=drain_waited,
        unexpected_codes=len(found.keys() - {a.code for a in arrivals}),
        warnings=warnings,
        exit_codes=exit_codes,
    )


def _async(check: Callable[[], bool]) -> Callable[[], Any]:
    async def ready() -> bool:
        return check()
    return ready
