"""A per-account request budget, so per-order polling stays under a provider's rate limit."""

from __future__ import annotations

import time
from collections.abc import Callable


class RequestBudget:
    """Token bucket: `rate_per_minute` requests, bursting to at most one poll interval's worth.

    Why not a fixed sleep: an account with 3 orders should be polled every tick, one with 3,000
    as fast as its limit allows, round-robin; and a 429 must pause the account, not the poller.
    """

    def __init__(self, rate_per_minute: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = max(1.0, burst)
        self._clock = clock
        self._tokens = self._burst
        self._updated = clock()
        self._blocked_until = 0.0

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        return now

    def take(self, wanted: int) -> int:
        """How many requests may go now (at most `wanted`); they are spent."""
        now = self._refill()
        if now < self._blocked_until:
            return 0
        granted = min(wanted, int(self._tokens))
        self._tokens -= granted
        return granted

    def refund(self, count: int) -> None:
        """Requests taken but not sent."""
        self._tokens = min(self._burst, self._tokens + count)

    def block(self, seconds: float) -> None:
        """The provider said 429: nothing for this account until `seconds` have passed."""
        self._refill()
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)
        self._tokens = 0.0
