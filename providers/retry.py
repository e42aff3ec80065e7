"""When a provider request may be retried, and how long to wait first.

`may_retry` is THE rule (one predicate for every provider): transport failures, 429 and 5xx
are retried for a request that cannot charge; a request that may charge is retried only
with its idempotency key (the provider then replays the first outcome instead of charging
again), or when it provably never reached the provider (a connect error). `providers.http`
wires it into tenacity; nothing else decides.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from datetime import UTC

import httpx

from providers.parsing import when


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts and how long between them; tests shrink the delays."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 4.0
    retry_after_cap: float = 5.0  # a longer Retry-After is not waited for: the caller gets the 429

    @classmethod
    def for_client(cls, retry_delay: float, max_attempts: int) -> RetryPolicy:
        """The clients' two knobs: at least one attempt; backoff from `retry_delay` up to 8 times it."""
        return cls(max_attempts=max(1, max_attempts), base_delay=retry_delay,
                   max_delay=max(retry_delay * 8, retry_delay))

    def backoff(self, retry_number: int) -> float:
        """Capped exponential backoff with jitter (retry_number counts from 1)."""
        delay = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        # "Equal jitter": never zero (so we do back off) but spread so callers don't sync up.
        return delay / 2 + random.uniform(0, delay / 2)


@dataclass(frozen=True)
class Attempt:
    """What one attempt came to, as far as the retry rule needs to know."""

    status: int | None  # the response's status; None when the attempt failed in transport
    # False only when no byte of the request can have reached the provider (connect error).
    reached_provider: bool = True
    # A transport failure that may go away by itself (not e.g. an unsupported URL).
    transient: bool = True
    # Seconds the provider asked us to wait (Retry-After / X-RateLimit-Reset), if it said.
    requested_wait: float | None = None

    @property
    def may_have_charged(self) -> bool:
        """Whether a purchase sent in this attempt may have gone through: the answer is unknown."""
        if self.status is None:
            return self.reached_provider
        # 409 is "the same Idempotency-Key is still being processed"; 5xx is "outcome unknown".
        return self.status >= 500 or self.status == 409


def may_retry(
    attempt: Attempt, *, policy: RetryPolicy, may_charge: bool, has_idempotency_key: bool
) -> bool:
    """THE retry rule: may the request that came to `attempt` be sent again?

    Never a request that may charge without its idempotency key, unless it never reached
    the provider. A 409 is retried only with a key: it then means "your first attempt is
    still being processed" (IETF idempotency-key draft) and a retry gets its outcome.
    A provider asking for a longer wait than `policy.retry_after_cap` is not waited for.
    """
    if attempt.status is None:
        if not attempt.transient:
            return False
        if not attempt.reached_provider:
            return True  # nothing was sent, so nothing can have been bought
        return not may_charge or has_idempotency_key
    if attempt.requested_wait is not None and attempt.requested_wait > policy.retry_after_cap:
        return False
    if attempt.status == 409:
        return has_idempotency_key
    if attempt.status == 429 or attempt.status >= 500:
        return not may_charge or has_idempotency_key
    return False


def delay_before_retry(attempt: Attempt, policy: RetryPolicy, retry_number: int) -> float:
    """The provider's requested wait when it stated one, else capped backoff with jitter."""
    if attempt.requested_wait is not None:
        return attempt.requested_wait
    return policy.backoff(retry_number)


def requested_wait(response: httpx.Response, *, now: float | None = None) -> float | None:
    """The wait a response asks for before a retry: `Retry-After` on any status, and
    `X-RateLimit-Reset` on a 429 only (on a 5xx it describes a quota, not this failure)."""
    if response.status_code == 429:
        return parse_retry_after(response, now=now)
    return _retry_after_header(response, time.time() if now is None else now)


def parse_retry_after(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else `X-RateLimit-Reset`
    (epoch seconds, seconds from now, or an ISO 8601 time).

    Never negative, never raises: a value that cannot be read is None.
    """
    now = time.time() if now is None else now
    seconds = _retry_after_header(response, now)
    if seconds is not None:
        return seconds
    reset = response.headers.get("x-ratelimit-reset")
    if not reset:
        return None
    reset_at = _finite(reset)
    if reset_at is None:
        moment = when(reset)  # an ISO 8601 time (NonVoipUsNumber documents this form)
        if moment is None:
            return None
        return max(0.0, moment.timestamp() - now)
    # Some APIs send epoch seconds, others "seconds from now": epoch values are huge.
    return max(0.0, reset_at - now) if reset_at > 1e9 else max(0.0, reset_at)


def _retry_after_header(response: httpx.Response, now: float) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    seconds = _finite(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC of unknown origin; never local time
        when = when.replace(tzinfo=UTC)
    try:
        return max(0.0, when.timestamp() - now)
    except (OverflowError, OSError, ValueError):
        return None


def _finite(value: str) -> float | None:
    """A finite float, or None ("nan" and "inf" parse as floats but are no delay)."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None
