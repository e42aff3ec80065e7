"""One module per provider scenario; the runner drives them all through `Scenario`."""

from __future__ import annotations

from typing import Any

from bench.scenarios.base import Scenario
from bench.scenarios.gotsms import GotSmsScenario
from bench.scenarios.kiwi import KiwiScenario
from bench.scenarios.nonvoip import NonVoipScenario

# Output order; each needs its size in Config.sizes.
SCENARIOS: tuple[type[Scenario[Any]], ...] = (KiwiScenario, NonVoipScenario, GotSmsScenario)

__all__ = ["SCENARIOS", "GotSmsScenario", "KiwiScenario", "NonVoipScenario", "Scenario"]
