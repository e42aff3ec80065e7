"""Code-delivery benchmark: N live kiwiSMS rentals over M chats, K NonVoipUsNumber orders over J chats
and G GotSMS rents over H chats, the bot as a separate process.

    .venv/bin/python -m bench.delivery [--rentals 1000 --chats 100 --nonvoip-orders 200 --nonvoip-chats 20
                                        --gotsms-rents 200 --gotsms-chats 20
                                        --poll-interval 1 --duration 60]

This process runs the three provider simulators and the fake Bot API server (all on 127.0.0.1),
seeds the bot's database as if the chats had connected and bought their numbers earlier (each order
placed over the simulator's HTTP API through the project's client), starts `python -m bot` against
them, makes one SMS arrive per order at a uniformly random moment, and prints per provider: code
latency (SMS visible at the provider -> sendMessage received), exactly-once delivery, the provider's
request figures (kiwiSMS list GETs per account per tick; NonVoipUsNumber getsms per minute per account
against the documented 500/min and the 429s; GotSMS unread GETs per account per tick and any other
request), and the bot's peak RSS, each next to its target. `--<provider orders> 0` leaves a provider out.

Layout: bench/runner.py (the run), bench/scenarios/ (one module per provider: seeding, SMS injection,
its figures), bench/seeding.py and bench/arrivals.py (the one seeding / injection shape),
bench/process.py (the bot process, RSS, CPU), bench/accounting.py (exactly-once), bench/stats.py.
"""

from __future__ import annotations

import asyncio

from bench.config import parse_args
from bench.runner import run


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv, description=(__doc__ or "").split("\n")[0])
    raise SystemExit(asyncio.run(run(cfg)))


if __name__ == "__main__":
    main()
