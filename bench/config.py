"""The benchmark's command line: one size option pair per provider scenario, plus the clock."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from providers.models import ProviderId


@dataclass(frozen=True)
class ScenarioSize:
    orders: int  # live orders (rentals / orders / rents), one SMS each; 0 = the scenario is off
    chats: int  # chats over which they are spread, one provider account each


@dataclass(frozen=True)
class SizeOption:
    """How one scenario's size is spelled on the command line."""

    provider: ProviderId
    orders_flag: str
    chats_flag: str
    orders_default: int
    chats_default: int
    orders_help: str
    chats_help: str
    max_orders: int  # keeps each scenario's chat ids inside its own range


SIZE_OPTIONS: tuple[SizeOption, ...] = (
    SizeOption(ProviderId.KIWI, "--rentals", "--chats", 1000, 100,
               "N live kiwiSMS rentals (one SMS each); 0 = none", "M chats, one kiwiSMS account each", 900_000),
    SizeOption(ProviderId.NONVOIP, "--nonvoip-orders", "--nonvoip-chats", 200, 20,
               "K live NonVoipUsNumber 10-minutes orders (one SMS each); 0 = none",
               "J more chats, one NonVoipUsNumber account each", 100_000),
    SizeOption(ProviderId.GOTSMS, "--gotsms-rents", "--gotsms-chats", 200, 20,
               "G live GotSMS daily rents (one SMS each); 0 = none",
               "H more chats, one GotSMS account (API token) each", 100_000),
)


@dataclass(frozen=True)
class Config:
    sizes: dict[ProviderId, ScenarioSize]
    poll_interval: float
    duration: float
    warmup: float
    drain: float
    seed: int
    profile: str | None = None  # cProfile the bot into this file (call counts; inflates its CPU)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def parse_args(argv: list[str] | None = None, description: str = "") -> Config:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=description)
    for option in SIZE_OPTIONS:
        parser.add_argument(option.orders_flag, type=int, default=option.orders_default, help=option.orders_help)
        parser.add_argument(option.chats_flag, type=int, default=option.chats_default, help=option.chats_help)
    parser.add_argument("--poll-interval", type=float, default=1.0, help="POLL_INTERVAL_SECONDS of the bot")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds over which SMS arrive")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of polling before the first SMS")
    parser.add_argument("--drain", type=float, default=15.0, help="max seconds to wait for late codes")
    parser.add_argument("--seed", type=int, default=1, help="random seed (arrival moments, codes)")
    parser.add_argument("--profile", default=None, metavar="PATH",
                        help="run the bot under cProfile, stats written to PATH (its CPU figures are then inflated)")
    args = vars(parser.parse_args(argv))
    sizes: dict[ProviderId, ScenarioSize] = {}
    for option in SIZE_OPTIONS:
        orders, chats = args[_dest(option.orders_flag)], args[_dest(option.chats_flag)]
        if not 0 <= orders <= option.max_orders or (orders > 0 and not 1 <= chats <= orders):
            parser.error(f"need 1 <= {option.chats_flag[2:]} <= {option.orders_flag[2:]} <= {option.max_orders} "
                         f"(or {option.orders_flag[2:]} 0)")
        sizes[option.provider] = ScenarioSize(orders, chats if orders else 0)
    if not any(size.orders for size in sizes.values()):
        parser.error("nothing to measure: every scenario has 0 orders")
    if args["duration"] <= 0 or args["poll_interval"] < 0.05:
        parser.error("duration must be > 0 and poll-interval >= 0.05")
    return Config(sizes, args["poll_interval"], args["duration"], args["warmup"], args["drain"], args["seed"],
                  args["profile"])
