"""The bot's one web server (bot/web), end to end over real HTTP on 127.0.0.1: Telegram's webhook,
the providers' hooks, /healthz and /metrics, and how it answers bad input."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import POLLER_JOB, build_application, running
from bot.config import Settings
from bot.web import health
from bot.web.body import HOOK_BODY_LIMIT, TELEGRAM_BODY_LIMIT
from bot.web.factory import TELEGRAM_PATH
from bot.web.server import WebServerError, webhook_options
from handlers.services import SERVICES_KEY, Services
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.kiwi.webhook import SIGNATURE_HEADER
from providers.models import ProviderId
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.clients.common import free_port
from tests.conftest import ENCRYPTION_KEY
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_webhook import SECRET_HEADER
from tests.helpers import Chat, bought_kiwi_rental, bought_nonvoip_order, ticks, until

CHAT_ID = 1001
# In every bad request's body (and in one URL): it must reach no log line and no chat.
MARKER = "ZEBRA-7731-MARKER"


@pytest.fixture
def web_settings(make_settings: Callable[..., Settings]) -> Settings:
    port = free_port()
    return make_settings(webhook_url=f"http://127.0.0.1:{port}", webhook_listen="127.0.0.1", webhook_port=port)


@pytest.fixture
async def app(web_settings: Settings) -> AsyncIterator[Any]:
    """The bot as `python -m bot` runs it with PUBLIC_URL set."""
    async with running(build_application(web_settings), webhook=webhook_options(web_settings)) as app:
        yield app


@pytest.fixture
async def web(web_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_settings.webhook_port}", timeout=10.0) as client:
        yield client


def services_of(app: Any) -> Services:
    return app.bot_data[SERVICES_KEY]


def start_update(update_id: int, chat_id: int = CHAT_ID, **extra: object) -> dict[str, object]:
    """A /start message as Telegram sends it (extra fields ride along in the update)."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Tess"}
    message = {
        "message_id": update_id, "from": user, "chat": {"id": chat_id, "type": "private", "first_name": "Tess"},
        "date": 1_700_000_000, "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": update_id, "message": message, **extra}


def signed(settings: Settings) -> dict[str, str]:
    assert settings.webhook_secret is not None
    return {"Content-Type": "application/json", SECRET_HEADER: settings.webhook_secret}


async def metric(web: httpx.AsyncClient, name: str, **labels: str) -> float:
    """One sample of /metrics (0 when the series does not exist yet)."""
    response = await web.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


async def eventually(web: httpx.AsyncClient, path: str, status: int, timeout: float = 5.0) -> httpx.Response:
    """Until `path` answers `status` (the server's state changes on its own; nothing to await)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await web.get(path)
        if response.status_code == status:
            return response
        if loop.time() > deadline:
            raise AssertionError(f"{path} still answers {response.status_code}: {response.text}")
        await asyncio.sleep(0.05)


# --- Telegram -------------------------------------------------------------------------------------


async def test_an_update_with_the_secret_is_answered_in_the_chat(
    app: Any, web: httpx.AsyncClient, web_settings: Settings, tg: FakeTelegram
) -> None:
    tg.register_chat(CHAT_ID)
    assert tg.webhook_url == f"{web_settings.webhook_url}{TELEGRAM_PATH}"
    response = await web.post(TELEGRAM_PATH, content=json.dumps(start_update(700)), headers=signed(web_settings))
    assert response.status_code == 200
    await Chat(tg, CHAT_ID).expect("connect a provider")


async def test_updates_without_the_right_secret_get_403_and_change_nothing(
    app: Any, web: httpx.AsyncClient, web_settings: Settings, tg: FakeTelegram
) -> None:
    tg.register_chat(CHAT_ID)
    body = json.dumps(start_update(710))
    assert (await web.post(TELEGRAM_PATH, content=body)).status_code == 403
    secret = web_settings.webhook_secret
    assert secret is not None
    for wrong in (b"x" * 64, secret[:-1].encode(), secret.encode() + b"\xff", b"\xff\xfe"):
        response = await web.post(TELEGRAM_PATH, content=body, headers={SECRET_HEADER: wrong})
        assert (response.status_code, response.text) == (403, "forbidden")
    row = await services_of(app).db.fetchone("SELECT COUNT(*) FROM chats WHERE chat_id = ?", (CHAT_ID,))
    assert row is not None and row[0] == 0
    # A signed update right after is answered: the forged ones were dropped, not queued.
    answer = await web.post(TELEGRAM_PATH, content=json.dumps(start_update(711)), headers=signed(web_settings))
    assert answer.status_code == 200
    await Chat(tg, CHAT_ID).expect("connect a provider")
    assert len(tg.sent(CHAT_ID)) == 1


# --- /healthz -------------------------------------------------------------------------------------


async def test_healthz_is_ok_while_the_poller_ticks_and_503_once_it_stopped(
    app: Any, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0.2 s poll interval: "stopped" after 3 intervals, with the floor lowered from 10 s to keep it quick.
    monkeypatch.setattr(health, "STALE_FLOOR_SECONDS", 0.3)
    await ticks(app, 2)
    response = await web.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")
    (job,) = app.job_queue.get_jobs_by_name(POLLER_JOB)
    job.schedule_removal()
    response = await eventually(web, "/healthz", 503)
    assert response.text.startswith("poller: last tick ") and "database" not in response.text


def test_the_poller_counts_as_stopped_after_three_intervals_and_never_within_ten_seconds() -> None:
    assert health.poller_stale_after(0.2) == 10.0
    assert health.poller_stale_after(3.0) == 10.0
    assert health.poller_stale_after(5.0) == 15.0


async def test_healthz_is_503_when_the_database_does_not_answer(app: Any, web: httpx.AsyncClient) -> None:
    await ticks(app, 1)
    (job,) = app.job_queue.get_jobs_by_name(POLLER_JOB)
    job.schedule_removal()  # a poller on a closed database would only log errors
    await services_of(app).db.close()
    response = await web.get("/healthz")
    assert (response.status_code, response.text) == (503, "database: unreachable")


# --- /metrics -------------------------------------------------------------------------------------


async def test_metrics_count_a_delivered_code_and_the_provider_requests(
    app: Any, web: httpx.AsyncClient, tg: FakeTelegram, chat: Chat, kiwi: KiwiSimulator
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi)
    delivered = {"provider": "kiwi", "path": "poll"}
    before = await metric(web, "otpbot_codes_delivered_total", **delivered)
    latencies_before = await metric(web, "otpbot_code_latency_seconds_count", **delivered)
    kiwi.receive_sms(rental.id, "Your code is 246810")
    await chat.expect("246810")
    await until_metric(web, "otpbot_codes_delivered_total", before + 1, **delivered)
    assert await metric(web, "otpbot_code_latency_seconds_count", **delivered) == latencies_before + 1
    assert await metric(web, "otpbot_provider_requests_total", provider="kiwi", kind="ok") > 0
    response = await web.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=")  # the exposition format
    assert "otpbot_outbox_depth " in response.text


async def test_metrics_count_a_code_that_came_by_callback_on_the_callback_path(
    app: Any, web: httpx.AsyncClient, chat: Chat, nonvoip: NonVoipSimulator
) -> None:
    order = await bought_nonvoip_order(chat, nonvoip)
    token = (await services_of(app).hooks.ensure(chat.chat_id, ProviderId.NONVOIP)).token
    delivered = {"provider": "nonvoip", "path": "callback"}
    before = await metric(web, "otpbot_codes_delivered_total", **delivered)
    event = {"event": "incoming_message", "message": {
        "order_id": order.order_id, "number": order.number, "service": order.service, "sender": "8843",
        "sms": "Your Instagram code is 975310", "code": "975310", "type": "str"}}
    response = await web.post(f"/hooks/nonvoip/{token}", content=json.dumps(event))
    assert (response.status_code, response.text) == (200, "accepted")
    await chat.expect("975310")
    await until_metric(web, "otpbot_codes_delivered_total", before + 1, **delivered)


async def until_metric(web: httpx.AsyncClient, name: str, value: float, timeout: float = 5.0, **labels: str) -> None:
    """Until a sample reaches `value` (it is counted once Telegram answered the send)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (current := await metric(web, name, **labels)) < value:
        if loop.time() > deadline:
            raise AssertionError(f"{name} is {current}, expected {value}")
        await asyncio.sleep(0.05)
    assert current == value


# --- bad input ------------------------------------------------------------------------------------


async def raw_request(port: int, head: str) -> tuple[int, str]:
    """Send only a request head (no body) and read the answer: a declared length can lie."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode("latin-1"))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()
    status_line, _, rest = answer.decode("latin-1").partition("\r\n")
    return int(status_line.split()[1]), rest.split("\r\n\r\n", 1)[-1]


async def test_bad_requests_get_a_short_4xx_reach_no_chat_and_log_no_body(
    app: Any, web: httpx.AsyncClient, web_settings: Settings, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    tg.register_chat(CHAT_ID)
    services = services_of(app)
    nonvoip_token = (await services.hooks.ensure(CHAT_ID, ProviderId.NONVOIP)).token
    kiwi_token = (await services.hooks.ensure(CHAT_ID, ProviderId.KIWI)).token
    await services.hooks.set_webhook_secret(CHAT_ID, ProviderId.KIWI, "whsec_0123456789abcdef")
    headers = signed(web_settings)
    oversized_update = json.dumps(start_update(720, padding=MARKER * (TELEGRAM_BODY_LIMIT // len(MARKER) + 1)))
    oversized_hook = MARKER * (HOOK_BODY_LIMIT // len(MARKER) + 1)
    marked = json.dumps({"event": "incoming_message", "message": {"order_id": 1, "sms": MARKER}})

    async def chunks(size: int) -> AsyncIterator[bytes]:
        for _ in range(size // 4096 + 1):
            yield (MARKER * 300)[:4096].encode()

    cases: list[tuple[str, httpx.Response, int, str]] = [
        ("GET /telegram", await web.get(TELEGRAM_PATH), 405, "method not allowed"),
        ("POST /healthz", await web.post("/healthz", content=MARKER), 405, "method not allowed"),
        ("GET hook", await web.get(f"/hooks/kiwi/{kiwi_token}"), 405, "method not allowed"),
        ("big update", await web.post(TELEGRAM_PATH, content=oversized_update, headers=headers),
         413, "body too large"),
        ("big hook", await web.post(f"/hooks/nonvoip/{nonvoip_token}", content=oversized_hook),
         413, "body too large"),
        ("big chunked hook", await web.post(f"/hooks/kiwi/{kiwi_token}", content=chunks(HOOK_BODY_LIMIT + 1)),
         413, "body too large"),
        ("bad JSON update", await web.post(TELEGRAM_PATH, content="{" + MARKER, headers=headers),
         400, "malformed JSON"),
        ("not UTF-8", await web.post(TELEGRAM_PATH, content=b"\xff\xfe" + MARKER.encode(), headers=headers),
         400, "malformed JSON"),
        ("JSON list", await web.post(TELEGRAM_PATH, content=json.dumps([MARKER]), headers=headers), 400,
         "not a Telegram update"),
        ("not an update", await web.post(TELEGRAM_PATH, content=json.dumps({"text": MARKER}), headers=headers), 400,
         "not a Telegram update"),
        ("bad JSON hook", await web.post(f"/hooks/nonvoip/{nonvoip_token}", content="{" + MARKER), 400,
         "unreadable body or unknown event"),
        ("unsigned kiwi", await web.post(f"/hooks/kiwi/{kiwi_token}", content=marked),
         401, "missing or bad signature"),
        ("mis-signed kiwi", await web.post(f"/hooks/kiwi/{kiwi_token}", content=marked,
                                           headers={SIGNATURE_HEADER: "0" * 64}), 401, "missing or bad signature"),
        ("unknown kiwi token", await web.post(f"/hooks/kiwi/{MARKER}", content=marked), 404, "unknown hook"),
        ("unknown nonvoip token", await web.post(f"/hooks/nonvoip/{MARKER}", content=marked), 404, "unknown hook"),
        ("no token", await web.post("/hooks/nonvoip/", content=marked), 404, "not found"),
        ("other provider", await web.post(f"/hooks/gotsms/{MARKER}", content=marked), 404, "not found"),
        ("unknown route", await web.get(f"/{MARKER}"), 404, "not found"),
    ]
    for name, response, status, reason in cases:
        assert (response.status_code, response.text) == (status, reason), name
        assert response.headers["content-type"].startswith("text/plain"), name
    assert cases[0][1].headers["allow"] == "POST"
    # A declared length over the limit is refused before any body is read.
    port = web_settings.webhook_port
    head = (f"POST {TELEGRAM_PATH} HTTP/1.1\r\nHost: x\r\n{SECRET_HEADER}: {web_settings.webhook_secret}\r\n"
            "Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n")
    assert await raw_request(port, head) == (413, "body too large")
    head = f"POST /hooks/kiwi/{kiwi_token} HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n"
    assert await raw_request(port, head) == (413, "body too large")

    # None of it reached the chat: the first answer there is the one to a good update sent now.
    assert (await web.post(TELEGRAM_PATH, content=json.dumps(start_update(730)), headers=headers)).status_code == 200
    await Chat(tg, CHAT_ID).expect("connect a provider")
    assert len(tg.sent(CHAT_ID)) == 1
    # The bot's records; not the test client's (httpx logs URLs at INFO; the bot keeps it at WARNING).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    for secret in (MARKER, nonvoip_token, kiwi_token, web_settings.webhook_secret):
        assert secret not in logged
    for line in ("web telegram: 405 method not allowed", "web telegram: 413 body too large",
                 "web telegram: 400 malformed JSON", "web hooks/nonvoip: 413 body too large",
                 "kiwi hook: 401 missing or bad signature", "nonvoip hook: 404 unknown hook",
                 "web unknown route: 404 not found", "web hooks/kiwi: 405 method not allowed"):
        assert line in logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # nothing crashed


async def test_a_hook_is_handed_to_the_receiver_with_its_token_body_and_signature(
    app: Any, web: httpx.AsyncClient
) -> None:
    class Answer:
        def __init__(self, status: int, reason: str) -> None:
            self.status, self.reason = status, reason

    received: list[tuple[str, ...]] = []

    class Receiver:
        async def kiwi(self, token: str, body: bytes, signature: str | None) -> Answer:
            received.append(("kiwi", token, body.decode(), str(signature)))
            return Answer(200, "accepted")

        async def nonvoip(self, token: str, body: bytes) -> Answer:
            received.append(("nonvoip", token, body.decode()))
            raise RuntimeError(MARKER)  # a receiver that crashes is answered, not raised to uvicorn

    app.bot_data["hook_receiver"] = Receiver()
    response = await web.post("/hooks/kiwi/tok-1", content='{"a": 1}', headers={SIGNATURE_HEADER: "sig"})
    assert (response.status_code, response.text) == (200, "accepted")
    response = await web.post("/hooks/nonvoip/tok-2", content="{}")
    assert (response.status_code, response.text) == (500, "internal error")
    assert received == [("kiwi", "tok-1", '{"a": 1}', "sig"), ("nonvoip", "tok-2", "{}")]


# --- starting and stopping ------------------------------------------------------------------------


async def test_a_port_in_use_stops_start_up_with_one_clear_error(make_settings: Callable[..., Settings]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(webhook_url="https://bot.example", webhook_listen="127.0.0.1", webhook_port=port)
        app = build_application(settings)
        with pytest.raises(WebServerError, match=f"could not listen on 127.0.0.1:{port}"):
            async with running(app, webhook=webhook_options(settings)):
                pass
    assert not app.running


async def test_python_m_bot_serves_the_webhook_and_stops_in_order_on_sigterm(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": tg.base_url, "BOT_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"), "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port), "POLL_INTERVAL_SECONDS": "0.5",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as web:
            await until(lambda: tg.webhook_url != "", "setWebhook", timeout=20)
            await eventually(web, "/healthz", 200, timeout=10)
        chat = Chat(tg, CHAT_ID)
        chat.send("/start")
        await chat.expect("connect a provider")
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "stop signal received" in log and "Traceback" not in log
    assert tg.token not in log
