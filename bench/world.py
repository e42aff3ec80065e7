"""What every delivery benchmark runs the bot against: the provider simulators and the fake Bot
API, on 127.0.0.1, started together and stopped together (their records stay readable after)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bench.scenarios.base import Scenario
from providers.registry import ProviderEndpoints
from tests.fakes.telegram import FakeTelegram


@dataclass(frozen=True)
class World:
    tg: FakeTelegram
    endpoints: ProviderEndpoints  # every scenario's simulator, for the project's clients


@asynccontextmanager
async def serving(scenarios: Sequence[Scenario[Any]]) -> AsyncIterator[World]:
    """Every scenario's simulator (an idle one too: the bot gets every provider's URL) and the
    fake Bot API, stopped in reverse order on the way out."""
    tg = FakeTelegram()
    started: list[Scenario[Any]] = []
    try:
        for scenario in scenarios:
            await scenario.sim.start()
            started.append(scenario)
        await tg.start()
        yield World(tg, ProviderEndpoints(**{s.provider.value: s.sim.base_url for s in scenarios}))
    finally:
        await tg.stop()
        for scenario in reversed(started):
            await scenario.sim.stop()
