"""When each order's one SMS arrives (a uniformly random moment), and making it arrive."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.scenarios.base import Scenario, Target


@dataclass(frozen=True)
class Arrival:
    offset: float  # seconds after the SMS phase starts
    scenario: Scenario[Any]
    target: Target
    code: str  # six digits, distinct across every scenario (a code identifies its order)


def plan_arrivals(scenarios: Sequence[Scenario[Any]], rng: random.Random, duration: float,
                  count: int | None = None) -> list[Arrival]:
    """One SMS per order, or for `count` orders drawn at random."""
    targets = [(s, t) for s in scenarios for t in s.targets]
    if count is not None and count < len(targets):
        targets = rng.sample(targets, count)
    codes = rng.sample(range(100_000, 1_000_000), len(targets))
    arrivals = [Arrival(rng.uniform(0, duration), s, t, f"{c:06d}") for (s, t), c in zip(targets, codes)]
    return sorted(arrivals, key=lambda a: a.offset)


async def inject(arrivals: Sequence[Arrival], t0: float) -> int:
    """Make each SMS visible at its moment (loop time t0 + offset); returns how many could not be."""
    loop = asyncio.get_running_loop()
    failed = 0
    for arrival in arrivals:
        delay = t0 + arrival.offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # a timed schedule: there is no event to await
        try:
            arrival.scenario.receive_sms(arrival.target.remote_id, arrival.code)
        except ValueError as exc:
            failed += 1
            print(f"  ! SMS for {arrival.scenario.label} order {arrival.target.remote_id} not injected: {exc}",
                  file=sys.stderr)
    return failed


def expected_by_scenario(arrivals: Sequence[Arrival]) -> dict[Scenario[Any], dict[str, Target]]:
    """scenario -> code -> the order it was sent to."""
    expected: dict[Scenario[Any], dict[str, Target]] = {}
    for arrival in arrivals:
        expected.setdefault(arrival.scenario, {})[arrival.code] = arrival.target
    return expected
