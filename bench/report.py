"""The printed report: the shared lines, each scenario's figures, then the targets table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.accounting import Delivered, exactly_once_lines
from bench.config import Config
from bench.scenarios.base import Figures, Scenario, TargetRow
from bench.stats import latency_line, verdict

TARGET_RSS_MB = 120.0  # the bot's peak RSS (stated for N=1000, M=100)
BOT_LOG_TAIL = 10
TARGET_BOT_CPU = 0.60  # share of one core, stated for the default mix at POLL_INTERVAL_SECONDS=1
SKIPPED_TICK = "maximum number of running instances reached"  # APScheduler: a tick still running


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario[Any]
    delivered: Delivered
    figures: Figures


@dataclass(frozen=True)
class RunFacts:
    """What the runner measured outside any one provider."""

    not_injected: int
    drain_waited: float
    unexpected_codes: int  # codes sent that no scenario injected
    telegram_calls: Counter[str]
    vm_hwm_mb: float | None
    sampled_rss_mb: float
    peak_rss_mb: float
    phase_seconds: float  # SMS phase + warm-up, what the CPU shares are of
    bot_cpu: float | None
    own_cpu: float
    exit_code: int
    bot_warnings: list[str]


def _header(cfg: Config, results: Sequence[ScenarioResult]) -> str:
    sizes = "; ".join(f"{r.scenario.size.orders} {r.scenario.what}, {r.scenario.size.chats} chats" for r in results)
    return (f"== delivery benchmark: {sizes}; POLL_INTERVAL_SECONDS={cfg.poll_interval:g}, "
            f"SMS over {cfg.duration:g}s (+{cfg.warmup:g}s warm-up)")



def _target_line(row: TargetRow) -> str:
    return f"{row.label:<42}{row.figure:>16}  {verdict(row.ok):<4}  {row.note}".rstrip()


def _exactly_once_row(r: ScenarioResult) -> TargetRow:
    d = r.delivered
    return TargetRow(f"every {r.scenario.label} code exactly once", f"{d.count}/{d.expected}", d.exactly_once)


def print_report(cfg: Config, results: Sequence[ScenarioResult], facts: RunFacts) -> None:
    print()
    print(_header(cfg, results))
    print("codes delivered      "
          + ", ".join(f"{r.scenario.label} {r.delivered.count} / {r.delivered.expected}" for r in results)
          + f"   (drain waited {facts.drain_waited:.1f}s; SMS not injected: {facts.not_injected}; "
          f"unexpected codes: {facts.unexpected_codes})")
    for r in results:
        for line in exactly_once_lines(r.scenario.label, r.delivered):
            print(line)
    for r in results:
        print(f"{r.scenario.label + ' latency (s)':<21}{latency_line(r.delivered.latencies)}")
        for line in r.figures.latency_notes:
            print(line)
    for r in results:
        for line in r.figures.details:
            print(line)
    print("telegram calls       " + ", ".join(f"{m}: {n}" for m, n in facts.telegram_calls.most_common()))
    hwm = f"{facts.vm_hwm_mb:.1f} MB" if facts.vm_hwm_mb is not None else "n/a"
    print(f"bot peak RSS         VmHWM={hwm}  max sampled VmRSS={facts.sampled_rss_mb:.1f} MB")
    if facts.bot_cpu is not None:
        span = facts.phase_seconds
        print(f"CPU during SMS phase bot {facts.bot_cpu:.1f}s ({facts.bot_cpu / span:.0%} of a core), "
              f"benchmark process (simulators + fake Telegram) {facts.own_cpu:.1f}s "
              f"({facts.own_cpu / span:.0%}) over {span:.1f}s")
    print(f"bot exit code        {facts.exit_code}")
    if facts.bot_warnings:
        print(f"bot log ({len(facts.bot_warnings)} lines at WARNING+; last {BOT_LOG_TAIL}):")
        for line in facts.bot_warnings[-BOT_LOG_TAIL:]:
            print("  " + line[:300])

    print()
    print(f"{'target':<42}{'figure':>16}  result")
    rows = [row for r in results for row in (*r.figures.targets, _exactly_once_row(r))]
    rows.append(TargetRow(f"peak RSS <= {TARGET_RSS_MB:.0f} MB", f"{facts.peak_rss_mb:.1f} MB",
                          facts.peak_rss_mb <= TARGET_RSS_MB))
    if facts.bot_cpu is not None:
        share = facts.bot_cpu / facts.phase_seconds
        rows.append(TargetRow(f"bot CPU < {TARGET_BOT_CPU:.0%} of a core", f"{share:.0%}", share < TARGET_BOT_CPU,
                              "(during the SMS phase; other load on the machine counts too)"))
    skipped = sum(SKIPPED_TICK in line for line in facts.bot_warnings)
    rows.append(TargetRow("no skipped poll tick", f"{skipped:d}", skipped == 0, "(APScheduler's skipped runs)"))
    for row in rows:
        print(_target_line(row))
    for r in results:
        for line in r.figures.footnotes:
            print(line)
