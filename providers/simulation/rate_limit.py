"""The simulators' rate limit: a sliding 60 s window per bucket (an account, else the client)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


def epoch_seconds(moment: float) -> str:
    """X-RateLimit-Reset as whole epoch seconds (kiwiSMS)."""
    return str(math.ceil(moment))


@dataclass(frozen=True)
class RateCheck:
    allowed: bool
    headers: dict[str, str]  # X-RateLimit-*: empty when there is no limit
    retry_after: int  # whole seconds until a slot frees (at least 1), 0 when unlimited


_UNLIMITED = RateCheck(True, {}, 0)


class RateLimiter:
    """`per_minute` requests per bucket in any 60 s; None = unlimited. `reset` formats the epoch
    time at which the oldest counted request leaves the window (the providers differ)."""

    WINDOW = 60.0

    def __init__(self, per_minute: int | None = None, reset: Callable[[float], str] = epoch_seconds) -> None:
        self.per_minute = per_minute
        self._reset = reset
        self._hits: dict[str, deque[float]] = {}

    def set(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._hits.clear()  # a new limit starts with a fresh window, so tests are predictable

    def check(self, bucket: str) -> RateCheck:
        """Whether this request may pass; an allowed request is counted."""
        limit = self.per_minute
        if limit is None:
            return _UNLIMITED
        now = time.monotonic()
        hits = self._hits.get(bucket)
        if hits is None:
            hits = self._hits[bucket] = deque()
        horizon = now - self.WINDOW
        while hits and hits[0] <= horizon:
            hits.popleft()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        until_free = hits[0] + self.WINDOW - now if hits else self.WINDOW
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - len(hits))),
            "X-RateLimit-Reset": self._reset(time.time() + until_free),
        }
        return RateCheck(allowed, headers, max(1, math.ceil(until_free)))
