"""Phone numbers the simulators hand out: seeded (runs repeat) and never the same twice."""

from __future__ import annotations

import random
from collections.abc import Callable

# North American area codes that look real (kiwiSMS and GotSMS numbers).
US_AREAS = ("202", "212", "305", "312", "415", "512", "617", "702", "713", "818")
CA_AREAS = ("416", "604", "514", "403", "613", "780")


class UniqueNumbers:
    """The uniqueness and the seed; what a number looks like is each provider's (`candidate`)."""

    def __init__(self, seed: str) -> None:
        self._rng = random.Random(seed)
        self._issued: set[str] = set()

    def unique(self, candidate: Callable[[random.Random], str], key: Callable[[str], str] = str) -> str:
        """Draw candidates until one whose `key` (e.g. its digits) was not issued yet."""
        while True:
            number = candidate(self._rng)
            if key(number) not in self._issued:
                self._issued.add(key(number))
                return number
