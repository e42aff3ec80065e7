"""The scale benchmark's command line: the load, the layouts to run it on, the clock."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.config import Config, ScenarioSize
from providers.models import ProviderId

TELEGRAM_BOT_RATE = 30.0  # messages a second Telegram takes from one bot (the bot's default limit)


@dataclass(frozen=True)
class Layout:
    """How the bot runs: `roles` is one `python -m bot <role>` per process (None: `python -m bot`),
    on the benchmark's PostgreSQL or, `sqlite`, on a SQLite file (the default deployment)."""

    slug: str
    title: str
    roles: tuple[str | None, ...]
    sqlite: bool = False

    @property
    def leases(self) -> bool:
        return any(role == "worker" for role in self.roles)


def workers_layout(count: int) -> Layout:
    return Layout("workers", f"{count} workers", ("worker",) * count)


SINGLE = Layout("single", "1 process", (None,))
SQLITE = Layout("sqlite", "1 on SQLite", (None,), sqlite=True)


@dataclass(frozen=True)
class ScaleConfig:
    base: Config  # sizes per provider, poll interval, SMS duration, warm-up, drain, seed
    layouts: tuple[Layout, ...]
    codes: int  # SMS in the phase, each to another order
    codes_per_second: float
    durable: bool

    @property
    def orders(self) -> int:
        return sum(size.orders for size in self.base.sizes.values())

    @property
    def chats(self) -> int:
        return sum(size.chats for size in self.base.sizes.values())

    @property
    def latency_target(self) -> float:
        """p99 code latency: one poll interval to be seen, one second to reach the chat."""
        return self.base.poll_interval + 1.0


def _split(total: int, gotsms_share: float) -> tuple[int, int]:
    gotsms = round(total * gotsms_share)
    return total - gotsms, gotsms


def parse_args(argv: list[str] | None = None, description: str = "") -> ScaleConfig:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=description)
    parser.add_argument("--orders", type=int, default=10_000, help="live orders, one SMS each")
    parser.add_argument("--chats", type=int, default=1_000, help="chats, one provider account each")
    parser.add_argument("--gotsms-share", type=float, default=0.5,
                        help="share of the chats (and orders) on GotSMS; the rest on kiwiSMS")
    parser.add_argument("--workers", type=int, default=4, help="`python -m bot worker` processes")
    parser.add_argument("--layouts", default="workers,single",
                        help="comma-separated: workers (N workers), single (one `python -m bot`), sqlite "
                             "(one `python -m bot` on SQLite)")
    parser.add_argument("--poll-interval", type=float, default=3.0, help="POLL_INTERVAL_SECONDS (T)")
    parser.add_argument("--codes", type=int, default=None,
                        help="SMS to send, each to another order (default: one per order)")
    parser.add_argument("--codes-per-second", type=float, default=0.8 * TELEGRAM_BOT_RATE,
                        help="mean arrival rate of the SMS; the phase lasts codes / rate seconds. Kept "
                             "under Telegram's 30 messages a second per bot, which the bot keeps to")
    parser.add_argument("--duration", type=float, default=None, help="seconds over which SMS arrive "
                        "(default: codes / codes-per-second)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of polling before the first SMS "
                        "(default: two poll intervals)")
    parser.add_argument("--drain", type=float, default=30.0, help="max seconds to wait for late codes")
    parser.add_argument("--seed", type=int, default=1, help="random seed (arrival moments, codes)")
    parser.add_argument("--fast-disk", action="store_true",
                        help="PostgreSQL with fsync and synchronous_commit off (default: durable)")
    args = parser.parse_args(argv)
    if not 1 <= args.chats <= args.orders or not 0 <= args.gotsms_share <= 1:
        parser.error("need 1 <= chats <= orders and 0 <= gotsms-share <= 1")
    if args.workers < 1 or args.poll_interval < 0.5 or args.codes_per_second <= 0:
        parser.error("need workers >= 1, poll-interval >= 0.5, codes-per-second > 0")
    layouts: list[Layout] = []
    for name in (n.strip() for n in args.layouts.split(",") if n.strip()):
        if name == "workers":
            layouts.append(workers_layout(args.workers))
        elif name == "single":
            layouts.append(SINGLE)
        elif name == "sqlite":
            layouts.append(SQLITE)
        else:
            parser.error(f"unknown layout {name!r} (workers, single, sqlite)")
    kiwi_chats, gotsms_chats = _split(args.chats, args.gotsms_share)
    kiwi_orders, gotsms_orders = _split(args.orders, args.gotsms_share)
    if (kiwi_orders and not 1 <= kiwi_chats <= kiwi_orders) or (gotsms_orders and not 1 <= gotsms_chats <= gotsms_orders):
        parser.error("each provider needs 1 <= chats <= orders")
    sizes = {
        ProviderId.KIWI: ScenarioSize(kiwi_orders, kiwi_chats if kiwi_orders else 0),
        ProviderId.NONVOIP: ScenarioSize(0, 0),
        ProviderId.GOTSMS: ScenarioSize(gotsms_orders, gotsms_chats if gotsms_orders else 0),
    }
    codes = args.orders if args.codes is None else args.codes
    if not 1 <= codes <= args.orders:
        parser.error("need 1 <= codes <= orders")
    duration = args.duration if args.duration is not None else codes / args.codes_per_second
    warmup = args.warmup if args.warmup is not None else 2 * args.poll_interval
    base = Config(sizes, args.poll_interval, duration, warmup, args.drain, args.seed)
    return ScaleConfig(base, tuple(layouts), codes, codes / duration, not args.fast_disk)
