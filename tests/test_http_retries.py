"""The shared HTTP layer against a scripted loopback server: which safe requests are retried, and how long it waits."""

from __future__ import annotations

import pytest

from providers.errors import ProviderUnavailable
from providers.http import RetryPolicy
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.scripted import (
    assert_backoff, auth, HANG, _no_secret_in_logs, POLICY, Retrying, retrying, ScriptedServer, SECRET,
    server, SleepRecorder, sleeps, TIMEOUT,
)
from tests.secret_checks import assert_secret_absent

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_safe_get_is_retried_through_500_429_and_a_timeout_until_it_succeeds(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(500, 429, HANG, 200)
    response = await retrying("GET", url, headers=auth(), timeout=TIMEOUT)
    assert response.status_code == 200
    assert len(script.received) == 4
    assert len(sleeps.requested) == 3
    assert_backoff(sleeps.requested, POLICY)


async def test_safe_get_still_failing_returns_the_last_response_after_max_attempts(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(500, 502, 503, 504, 200)
    assert (await retrying("GET", url)).status_code == 504
    assert len(script.received) == POLICY.max_attempts
    assert len(sleeps.requested) == POLICY.max_attempts - 1


async def test_safe_get_timing_out_every_time_raises_unavailable_without_charge(
    server: ScriptedServer, retrying: Retrying
) -> None:
    url, script = server.endpoint(HANG, HANG)
    with pytest.raises(ProviderUnavailable) as info:
        await retrying("GET", url, policy=RetryPolicy(max_attempts=2), headers=auth(), timeout=TIMEOUT)
    assert info.value.may_have_charged is False
    assert info.value.provider == "p"
    assert len(script.received) == 2
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert_secret_absent(info.value, SECRET)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_a_definite_client_error_is_not_retried(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder, status: int
) -> None:
    url, script = server.endpoint(status)
    assert (await retrying("GET", url)).status_code == status
    assert len(script.received) == 1
    assert sleeps.requested == []


async def test_retry_after_seconds_and_ratelimit_reset_are_waited_for_exactly(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(
        (429, {"Retry-After": "2"}),
        (503, {"Retry-After": "1.5"}),
        (429, {"X-RateLimit-Reset": "3"}),  # "seconds from now" form
        200,
    )
    assert (await retrying("GET", url)).status_code == 200
    assert sleeps.requested == [2.0, 1.5, 3.0]
    assert len(script.received) == 4


async def test_ratelimit_reset_on_a_5xx_is_a_quota_not_a_wait(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, _ = server.endpoint((503, {"X-RateLimit-Reset": "60"}), 200)
    assert (await retrying("GET", url)).status_code == 200
    assert_backoff(sleeps.requested, POLICY)


async def test_retry_after_above_the_cap_returns_the_429_at_once(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint((429, {"Retry-After": "60"}), 200)
    response = await retrying("GET", url)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert len(script.received) == 1
    assert sleeps.requested == []
