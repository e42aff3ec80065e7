"""The shared HTTP layer against a scripted loopback server: what a purchase may and may not retry."""

from __future__ import annotations

from collections import deque

import httpx
import pytest

from providers.errors import ProviderUnavailable
from providers.http import RetryPolicy, send_with_retry
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.scripted import (
    assert_backoff, auth, HANG, _no_secret_in_logs, POLICY, refused_url, Retrying, retrying,
    ScriptedServer, SECRET, server, SleepRecorder, sleeps, TIMEOUT,
)
from tests.secret_checks import assert_secret_absent

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_purchase_without_key_is_sent_exactly_once_on_an_error_answer(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder, status: int
) -> None:
    url, script = server.endpoint(status, 200)
    response = await retrying("POST", url, headers=auth(), json={"service": 1}, may_charge=True)
    assert response.status_code == status  # the caller maps it (5xx: outcome unknown)
    assert len(script.received) == 1
    assert sleeps.requested == []


async def test_purchase_without_key_is_sent_exactly_once_on_a_timeout(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(HANG, 200)
    with pytest.raises(ProviderUnavailable) as info:
        await retrying("POST", url, headers=auth(), json={"service": 1}, timeout=TIMEOUT, may_charge=True)
    assert info.value.may_have_charged is True
    assert "check your orders" in info.value.user_message
    assert len(script.received) == 1
    assert sleeps.requested == []
    assert_secret_absent(info.value, SECRET)


async def test_purchase_with_key_is_retried_with_the_same_idempotency_key(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder
) -> None:
    url, script = server.endpoint(500, HANG, 409, 201)
    response = await retrying(
        "POST", url, headers=auth(), json={"service": 1}, timeout=TIMEOUT, may_charge=True,
        idempotency_key="order-42",
    )
    assert response.status_code == 201
    assert [r.headers.get("idempotency-key") for r in script.received] == ["order-42"] * 4
    assert {r.body for r in script.received} == {b'{"service":1}'}
    assert len(sleeps.requested) == 3


async def test_purchase_with_key_ambiguous_to_the_end_raises_may_have_charged(
    server: ScriptedServer, retrying: Retrying
) -> None:
    url, script = server.endpoint(HANG, HANG)
    with pytest.raises(ProviderUnavailable) as info:
        await retrying(
            "POST", url, policy=RetryPolicy(max_attempts=2), timeout=TIMEOUT, may_charge=True,
            idempotency_key="order-43",
        )
    assert info.value.may_have_charged is True
    assert len(script.received) == 2


async def test_purchase_with_key_still_5xx_after_max_attempts_returns_the_last_answer(
    server: ScriptedServer, retrying: Retrying
) -> None:
    url, script = server.endpoint(500, 502, 503, 500, 200)
    response = await retrying("POST", url, may_charge=True, idempotency_key="order-44")
    assert response.status_code == 500
    assert len(script.received) == POLICY.max_attempts


async def test_purchase_hitting_a_refused_connection_is_retried_and_did_not_charge(
    retrying: Retrying, sleeps: SleepRecorder, refused_url: str
) -> None:
    policy = RetryPolicy(max_attempts=3)
    with pytest.raises(ProviderUnavailable) as info:
        await retrying("POST", refused_url, policy=policy, headers=auth(), json={"service": 1}, may_charge=True)
    assert info.value.may_have_charged is False
    assert len(sleeps.requested) == policy.max_attempts - 1  # it was retried: nothing was sent
    assert_backoff(sleeps.requested, policy)


async def test_purchase_whose_first_attempt_may_have_charged_stays_may_have_charged(
    sleeps: SleepRecorder,
) -> None:
    # A 500 and then connect errors: a real server cannot stop listening between two attempts.
    answers: deque[httpx.Response] = deque([httpx.Response(500)])

    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.popleft()
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mocked:
        with pytest.raises(ProviderUnavailable) as info:
            await send_with_retry(
                mocked, "POST", "http://provider.test/buy", provider="p", policy=RetryPolicy(max_attempts=3),
                sleep=sleeps, may_charge=True, idempotency_key="order-45",
            )
    assert info.value.may_have_charged is True
    assert len(sleeps.requested) == 2
