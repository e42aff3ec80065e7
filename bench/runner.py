"""The run: start the simulators and the fake Bot API, seed every scenario, start the bot, make the
SMS arrive, stop everything, then ask each scenario for its figures and print the report."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bench.accounting import Sends, delivered, drain, sent_codes
from bench.callback_setup import CallbackOptions, callback_rows, enable_callbacks, stored_sources, wait_listening
from bench.arrivals import Arrival, expected_by_scenario, inject, plan_arrivals
from bench.config import Config
from bench.process import BotProcess, self_cpu_seconds
from bench.report import RunFacts, ScenarioResult, print_report
from bench.scenarios import SCENARIOS, Scenario
from bench.world import serving
from bench.scenarios.base import Phase, Target
from bench.seeding import seed
from tests.fakes.telegram import FakeTelegram


@dataclass(frozen=True)
class SmsPhase:
    arrivals: list[Arrival]
    start: float  # time.monotonic()
    end: float
    not_injected: int
    drain_waited: float
    bot_cpu: float | None  # CPU seconds over the phase, to see which process is busy
    own_cpu: float


def bot_env(cfg: Config, tg: FakeTelegram, scenarios: list[Scenario[Any]], db_path: Path,
            fernet_key: str) -> dict[str, str]:
    env = {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "BOT_ENCRYPTION_KEY": fernet_key,
        "DATABASE_PATH": str(db_path),
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "POLL_INTERVAL_SECONDS": str(cfg.poll_interval),
        "LOG_LEVEL": "WARNING",
    }
    env.update({s.env_var: s.sim.base_url for s in scenarios})  # every provider on loopback, even an idle one
    return env


async def sms_phase(cfg: Config, rng: random.Random, active: list[Scenario[Any]], tg: FakeTelegram,
                    bot: BotProcess) -> SmsPhase:
    arrivals = plan_arrivals(active, rng, cfg.duration)
    t0 = asyncio.get_running_loop().time() + cfg.warmup
    start = time.monotonic() + cfg.warmup
    bot_cpu_0, own_cpu_0 = bot.cpu_seconds(), self_cpu_seconds()
    not_injected = await inject(arrivals, t0)
    end = time.monotonic()
    bot_cpu_1, own_cpu_1 = bot.cpu_seconds(), self_cpu_seconds()
    chat_ids = [chat for s in active for chat in s.chat_ids]
    waited = await drain(tg, chat_ids, {a.code for a in arrivals}, cfg.drain)
    await asyncio.sleep(cfg.poll_interval * 2)  # a late duplicate would show up here
    bot_cpu = bot_cpu_1 - bot_cpu_0 if bot_cpu_0 is not None and bot_cpu_1 is not None else None
    return SmsPhase(arrivals, start, end, not_injected, waited, bot_cpu, own_cpu_1 - own_cpu_0)


def _visible_at(scenario: Scenario[Any], expected: dict[str, Target]) -> Callable[[str], float]:
    """code -> when its SMS became visible at the provider."""
    return lambda code: scenario.visible_at(expected[code].remote_id)


def scenario_results(active: list[Scenario[Any]], phase: SmsPhase, found: Sends,
                     measured: Phase) -> list[ScenarioResult]:
    """Each scenario's exactly-once accounting and its own figures, in the scenarios' order."""
    expected = expected_by_scenario(phase.arrivals)
    results = []
    for scenario in active:
        codes = expected.get(scenario, {})
        outcome = delivered({code: t.account.chat_id for code, t in codes.items()}, found,
                            _visible_at(scenario, codes))
        results.append(ScenarioResult(scenario, outcome, scenario.figures(measured, outcome)))
    return results


async def run(cfg: Config, callbacks: CallbackOptions | None = None) -> int:
    rng = random.Random(cfg.seed)
    scenarios = [cls(cfg.sizes[cls.provider], cfg) for cls in SCENARIOS]
    active = [s for s in scenarios if s.active]
    async with serving(scenarios) as world:
        tg, endpoints = world.tg, world.endpoints
        with tempfile.TemporaryDirectory(prefix="otp-bench-") as tmp_name:
            tmp = Path(tmp_name)
            db_path = tmp / "bot.sqlite3"
            fernet_key = Fernet.generate_key().decode()
            for scenario in active:
                t_seed = time.monotonic()
                scenario.targets = await seed(scenario, tg, db_path, fernet_key, endpoints)
                print(f"seeded {len(scenario.targets)} {scenario.what} over {len(scenario.chat_ids)} chats/accounts "
                      f"in {time.monotonic() - t_seed:.1f}s {scenario.seed_note()}".rstrip())
            env = bot_env(cfg, tg, scenarios, db_path, fernet_key)
            if callbacks is not None:
                hooked = await enable_callbacks(active, db_path, fernet_key, endpoints, callbacks)
                print(f"callbacks set up for {hooked} accounts -> {callbacks.public_url}/hooks/...; "
                      f"safety-net polling every {callbacks.safety_poll:g}s")
                env.update(callbacks.env())
            for scenario in scenarios:
                scenario.mark_bot_start()
            bot = await BotProcess.start(tmp, env, cfg.profile)
            try:
                waited = await bot.wait_until(lambda: all(s.has_polled() for s in active))
                if callbacks is not None:
                    await wait_listening(callbacks, bot)
                print(f"bot pid {bot.pid} polling after {waited:.2f}s")
                phase = await sms_phase(cfg, rng, active, tg, bot)
                bot.read_peak()
            finally:
                exit_code = await bot.stop()
            bot_end = time.monotonic()
            warnings = bot.warnings()
            sources = await stored_sources(db_path) if callbacks is not None else None

    found = sent_codes(tg, [chat for s in active for chat in s.chat_ids])
    results = scenario_results(active, phase, found, Phase(phase.start, phase.end, cfg.poll_interval, bot_end))
    if sources is not None:
        for result in results:
            provider = result.scenario.provider.value
            by_path = {source: n for (p, source), n in sources.items() if p == provider}
            result.figures.details.append(
                f"{result.scenario.label} SMS stored by  " + ", ".join(f"{k}: {v}" for k, v in sorted(by_path.items()))
                + "  (the first path to store a code; the other path's copy was refused as a duplicate)")
            if result.scenario.provider.value in ("kiwi", "nonvoip"):
                result.figures.targets.extend(callback_rows(result.scenario.label, result.delivered))
    print_report(cfg, results, RunFacts(
        not_injected=phase.not_injected,
        drain_waited=phase.drain_waited,
        unexpected_codes=len(found.keys() - {a.code for a in phase.arrivals}),
        telegram_calls=Counter(c.method for c in tg.calls()),
        vm_hwm_mb=bot.vm_hwm_kb / 1024 if bot.vm_hwm_kb is not None else None,
        sampled_rss_mb=bot.peak_rss_kb / 1024,
        peak_rss_mb=bot.peak_rss_mb,
        phase_seconds=phase.end - phase.start + cfg.warmup,
        bot_cpu=phase.bot_cpu,
        own_cpu=phase.own_cpu,
        exit_code=exit_code,
        bot_warnings=warnings,
    ))
    return 0
