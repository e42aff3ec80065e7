"""The shared HTTP layer against a scripted loopback server: credentials it cannot send, and no credential anywhere."""

from __future__ import annotations

import json as jsonlib
from typing import Any

import httpx
import pytest

from providers.errors import BadCredentials, ProviderUnavailable
from providers.http import RetryPolicy, TransportFailure, send
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.scripted import (
    auth, HANG, _no_secret_in_logs, refused_url, Retrying, retrying, ScriptedServer, SECRET, server,
    SleepRecorder, sleeps, TIMEOUT, UNSENDABLE,
)
from tests.secret_checks import assert_secret_absent

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(
    "credential",
    [f"{SECRET}\u2013x", f"{SECRET}\u043a", f"{SECRET}\u00e9", f"{SECRET}\n", f" {SECRET}", f"{SECRET}\x00"],
    ids=["typographic-dash", "cyrillic", "latin-1", "newline", "leading-space", "nul"],
)
@pytest.mark.parametrize("may_charge", [False, True])
async def test_unsendable_credential_is_bad_credentials_and_nothing_reaches_the_server(
    server: ScriptedServer, retrying: Retrying, sleeps: SleepRecorder, credential: str, may_charge: bool
) -> None:
    url, script = server.endpoint(200)
    with pytest.raises(BadCredentials) as info:
        await retrying("POST", url, headers={"X-API-Key": credential}, may_charge=may_charge)
    assert UNSENDABLE in info.value.user_message
    assert info.value.provider == "p"
    assert_secret_absent(info.value, SECRET)
    assert script.received == []
    assert sleeps.requested == []


async def test_send_refuses_an_unsendable_credential_too(server: ScriptedServer, http: httpx.AsyncClient) -> None:
    url, script = server.endpoint(200)
    with pytest.raises(BadCredentials) as info:
        await send(http, "GET", url, provider="p", headers={"Authorization": f"Bearer {SECRET}\u2014"})
    assert UNSENDABLE in info.value.user_message
    assert_secret_absent(info.value, SECRET)
    assert script.received == []


async def test_non_ascii_in_query_and_json_body_reaches_the_server_intact(
    server: ScriptedServer, http: httpx.AsyncClient
) -> None:
    url, script = server.endpoint(200)
    text = "ключ\u2013café"
    response = await send(http, "POST", url, provider="p", params={"q": text}, json={"name": text})
    assert response.status_code == 200
    assert script.received[0].query == {"q": text}
    assert jsonlib.loads(script.received[0].body) == {"name": text}


async def test_transport_failure_carries_no_httpx_exception(server: ScriptedServer, http: httpx.AsyncClient) -> None:
    url, _ = server.endpoint(HANG)
    with pytest.raises(TransportFailure) as info:
        await send(
            http, "POST", url, provider="p", headers=auth(), params={"key": SECRET},
            json={"password": SECRET}, timeout=TIMEOUT,
        )
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert info.value.kind == "ReadTimeout"
    assert info.value.reached_provider is True
    assert_secret_absent(info.value, SECRET)


async def test_no_log_line_on_any_path_carries_the_secret(
    server: ScriptedServer, http: httpx.AsyncClient, retrying: Retrying, refused_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets: dict[str, Any] = {"headers": auth(), "params": {"api_key": SECRET}, "json": {"password": SECRET}}
    url, _ = server.endpoint(500, (429, {"Retry-After": "1"}), HANG, 200)
    await retrying("POST", url, timeout=TIMEOUT, **secrets)
    with pytest.raises(ProviderUnavailable):
        await retrying("POST", refused_url, policy=RetryPolicy(max_attempts=2), may_charge=True, **secrets)
    with pytest.raises(BadCredentials):
        await send(http, "GET", url, provider="p", headers={"X-API-Key": SECRET + "\u2013"})
    # Every path logged (retries, failures, successes, the refusal): the check below has teeth.
    messages = [record.getMessage() for record in caplog.records if record.name.startswith("providers")]
    assert any("retry" in message for message in messages)
    assert any("ConnectError" in message for message in messages)
    assert any("ReadTimeout" in message for message in messages)
    assert any("-> 200" in message for message in messages)
    assert any("X-API-Key" in message and "not sent" in message for message in messages)
    assert all(SECRET not in message for message in messages)
