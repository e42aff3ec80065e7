"""Scale-out benchmark: 10,000 active orders over 1,000 chats on PostgreSQL, polled every 3 s by
4 `python -m bot worker` processes, and the same load on one `python -m bot` for comparison.

    .venv/bin/python -m bench.scale [--orders 10000 --chats 1000 --gotsms-share 0.5 --workers 4
                                     --layouts workers,single --poll-interval 3 --codes-per-second 24]

This process starts a PostgreSQL of the `pgserver` wheel (durable; `--fast-disk` turns fsync off)
and, for each layout, a fresh database, the kiwiSMS and GotSMS simulators and the fake Bot API (all
on 127.0.0.1). It seeds every chat's account and orders (each order bought over the simulator's
HTTP API through the project's client), starts the bot's processes against them, waits until the
workers hold even leases, then makes one SMS arrive per order at a uniformly random moment, at
24 a second on average (under Telegram's 30 messages a second per bot, which the bot keeps to
across all its processes). It prints, per layout: every code exactly once, code latency (SMS
visible at the provider -> sendMessage received; target p99 <= T + 1 s), each account's polls per
tick across all processes together (target 1), the leases per worker, the CPU of each process,
PostgreSQL and the simulators, the CPU each poll cost; then the layouts side by side and an
estimate of what N machines would carry.
"""

from __future__ import annotations

import asyncio

from bench.postgres import bench_postgres
from bench.scale_config import ScaleConfig, parse_args
from bench.scale_report import header, print_comparison, print_estimate, print_layout
from bench.scale_run import LayoutResult, run_layout


async def run(cfg: ScaleConfig) -> int:
    print(header(cfg), flush=True)
    results: list[LayoutResult] = []
    with bench_postgres(durable=cfg.durable) as pg:
        for layout in cfg.layouts:
            print(f"\n.. {layout.title}", flush=True)
            result = await run_layout(cfg, layout, pg)
            print_layout(cfg, result)
            results.append(result)
    print_comparison(cfg, results)
    workers = next((r for r in results if r.layout.leases), None)
    if workers is not None:  # the estimate is of worker machines: from the workers' own costs
        print_estimate(cfg, workers)
    return 0


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv, description=(__doc__ or "").split("\n")[0])
    raise SystemExit(asyncio.run(run(cfg)))


if __name__ == "__main__":
    main()
