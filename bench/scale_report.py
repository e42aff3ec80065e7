"""The scale benchmark's report: each layout's figures and targets, the layouts side by side, and
what N machines would carry, from the CPU each poll cost."""

from __future__ import annotations

from collections.abc import Sequence

from bench.accounting import exactly_once_lines
from bench.scale_config import TELEGRAM_BOT_RATE, ScaleConfig
from bench.scale_run import BENCHMARK, POSTGRES, LayoutResult
from bench.stats import cadence_lines, latency_line, percentile, verdict

# A machine is planned at this share of its cores, leaving room for bursts and the system.
PLANNED_BUSY = 0.7
MACHINE_CORES = 2
ORDERS_PER_ACCOUNT = 10  # what the estimate assumes (this benchmark's own mix)


def _latencies(result: LayoutResult) -> list[float]:
    return sorted(lat for p in result.providers for lat in p.delivered.latencies)


def _exactly_once(result: LayoutResult) -> bool:
    return all(p.delivered.exactly_once for p in result.providers) and result.unexpected_codes == 0


def header(cfg: ScaleConfig) -> str:
    sizes = ", ".join(f"{provider.value} {size.orders}/{size.chats}"
                      for provider, size in cfg.base.sizes.items() if size.orders)
    disk = "durable (fsync on)" if cfg.durable else "fsync off"
    return (f"== scale benchmark: {cfg.orders} active orders over {cfg.chats} chats ({sizes} orders/chats), "
            f"POLL_INTERVAL_SECONDS={cfg.base.poll_interval:g}, {cfg.codes} SMS (each to another order) over "
            f"{cfg.base.duration:.0f}s "
            f"({cfg.codes_per_second:.1f}/s), PostgreSQL {disk}")


def print_layout(cfg: ScaleConfig, result: LayoutResult) -> None:
    print(f"\n-- {result.layout.title}")
    delivered = ", ".join(f"{p.label} {p.delivered.count}/{p.delivered.expected}" for p in result.providers)
    print(f"codes delivered      {delivered}   (drain waited {result.drain_waited:.1f}s; not injected "
          f"{result.not_injected}; unexpected codes {result.unexpected_codes})")
    for p in result.providers:
        for line in exactly_once_lines(p.label, p.delivered):
            print(line)
    for p in result.providers:
        print(f"{p.label + ' latency (s)':<21}{latency_line(p.delivered.latencies)}")
    print(f"{'all latency (s)':<21}{latency_line(_latencies(result))}")
    seconds = result.cpu.seconds
    for p in result.providers:
        for line in cadence_lines(p.polls, label=p.label, noun="polls", seconds=seconds,
                                  intervals=seconds / cfg.base.poll_interval, accounts=p.accounts):
            print(line)
        print(f"{p.label + ' double polls':<20} {p.close_polls} (an account polled twice within half an "
              f"interval); other requests {p.other_requests}")
    if result.leases_at_start is not None:
        print("accounts leased      at the start " + _counts(result.leases_at_start)
              + "; at the end " + _counts(result.leases_at_end or {}))
    print(f"telegram sends       {result.sends} during the phase; at most {result.max_sends_in_a_second} in any "
          f"second (the bot keeps to {TELEGRAM_BOT_RATE:g}/s, bursts of 10)")
    print_cpu(result)
    if result.warnings:
        print(f"bot log ({len(result.warnings)} lines at WARNING+; last 10):")
        for line in result.warnings[-10:]:
            print("  " + line[:300])
    print()
    print(f"{'target':<46}{'figure':>16}  result")
    lat = _latencies(result)
    p99 = percentile(lat, 99)
    rows = [
        ("every code exactly once",
         f"{sum(p.delivered.count for p in result.providers)}/{sum(p.delivered.expected for p in result.providers)}",
         _exactly_once(result)),
        (f"p99 code latency <= T + 1 = {cfg.latency_target:g} s", f"{p99:.3f} s", p99 <= cfg.latency_target),
    ]
    for p in result.providers:
        rows.append((f"{p.label}: 1 poll per account per tick", f"max {p.polls.max:.3f}",
                     p.polls.within(1.0) and p.other_requests == 0))
    rows.append(("processes exited cleanly", ",".join(str(c) for c in result.exit_codes),
                 all(c == 0 for c in result.exit_codes)))
    for label, figure, ok in rows:
        print(f"{label:<46}{figure:>16}  {verdict(ok)}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(str(n) for _, n in sorted(counts.items())) + f" (= {sum(counts.values())})"


def print_cpu(result: LayoutResult) -> None:
    cpu = result.cpu
    parts = [f"{name} {cpu.share(s):.0%}" for name, s in cpu.groups.items() if name in result.bot_groups]
    print(f"CPU (share of one core over the {cpu.seconds:.0f}s phase)")
    print(f"  bot                {cpu.share(result.bot_cpu):.0%} in all: " + ", ".join(parts))
    print(f"  {POSTGRES:<18} {cpu.share(cpu.groups[POSTGRES]):.0%}")
    print(f"  {'benchmark':<18} {cpu.share(cpu.groups[BENCHMARK]):.0%} (the simulators and the fake Bot API)")
    print(f"  {'anything else':<18} {cpu.share(cpu.unaccounted):.0%}")
    print(f"  machine busy       {cpu.machine_share:.0%} of {cpu.cores} cores")
    if result.polls:
        print(f"  per poll           bot {1000 * result.bot_cpu / result.polls:.2f} ms, {POSTGRES} "
              f"{1000 * cpu.groups[POSTGRES] / result.polls:.2f} ms, simulators + fake Telegram "
              f"{1000 * cpu.groups[BENCHMARK] / result.polls:.2f} ms of CPU ({result.polls} polls, "
              f"{result.polls / cpu.seconds:.0f}/s; the codes they found delivered included)")


def print_comparison(cfg: ScaleConfig, results: Sequence[LayoutResult]) -> None:
    if len(results) < 2:
        return
    print("\n== side by side")
    print(f"{'layout':<12}{'p50':>8}{'p99':>8}{'max':>8}{'polls/acct/tick':>17}{'bot CPU':>9}{'PG CPU':>8}"
          f"{'bench':>7}{'machine':>9}  exactly once")
    for r in results:
        lat = _latencies(r)
        worst = max(p.polls.max for p in r.providers)
        print(f"{r.layout.title:<12}{percentile(lat, 50):>8.3f}{percentile(lat, 99):>8.3f}"
              f"{lat[-1] if lat else float('nan'):>8.3f}{worst:>17.3f}{r.cpu.share(r.bot_cpu):>9.0%}"
              f"{r.cpu.share(r.cpu.groups[POSTGRES]):>8.0%}{r.cpu.share(r.cpu.groups[BENCHMARK]):>7.0%}"
              f"{r.cpu.machine_share:>9.0%}  {'yes' if _exactly_once(r) else 'NO'}")


def print_estimate(cfg: ScaleConfig, result: LayoutResult) -> None:
    """What N machines would carry, from the measured CPU per poll: in production the providers and
    Telegram are not on the machine, and PostgreSQL has its own."""
    if not result.polls:
        return
    bot_per_poll = result.bot_cpu / result.polls
    pg_per_poll = result.cpu.groups[POSTGRES] / result.polls
    interval = cfg.base.poll_interval
    per_machine = MACHINE_CORES * PLANNED_BUSY / bot_per_poll * interval  # accounts at T
    per_pg_core = PLANNED_BUSY / pg_per_poll * interval if pg_per_poll > 0 else float("inf")
    print(f"\n== estimate from the {result.layout.title} run (CPU per poll: bot {1000 * bot_per_poll:.2f} ms, "
          f"{POSTGRES} {1000 * pg_per_poll:.2f} ms)")
    print(f"one {MACHINE_CORES}-core machine of workers at {PLANNED_BUSY:.0%}: ~{per_machine:,.0f} accounts polled "
          f"every {interval:g}s (~{per_machine * ORDERS_PER_ACCOUNT:,.0f} orders at {ORDERS_PER_ACCOUNT} per account)")
    print(f"each {POSTGRES} core at {PLANNED_BUSY:.0%}: ~{per_pg_core:,.0f} accounts")
    for machines in (1, 2, 4, 8):
        print(f"  {machines} worker machine(s), {POSTGRES} on 2 cores: ~{min(machines * per_machine, 2 * per_pg_core):,.0f} accounts")
    print(f"Telegram's {TELEGRAM_BOT_RATE:g} messages a second per bot bounds codes (not accounts): at most "
          f"{TELEGRAM_BOT_RATE * 3600:,.0f} codes an hour, however many machines")
