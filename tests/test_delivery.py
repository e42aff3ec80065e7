"""Delivery: codes arrive once across restarts and outages; ended orders are announced once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.config import Settings
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.conftest import ENCRYPTION_KEY
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, bought_kiwi_rental, Chat, ticks, until

ROOT = Path(__file__).resolve().parents[1]


async def test_an_expired_order_is_announced_once_with_its_refund(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp", balance=Decimal("10.00"))
    kiwi.expire(rental.id)
    notice = await chat.expect("expired without a code")
    assert "refunded by the provider" in notice.text
    card = await chat.expect("⌛ expired")
    assert card.button_labels == ["« My orders"]  # no action left; Back to the orders list
    await ticks(bot, 4)
    assert sum("expired without a code" in m.text for m in chat.tg.sent(chat.chat_id)) == 1


async def test_a_telegram_outage_delays_a_code_but_never_loses_it(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp")
    tg.set_down(True)
    kiwi.receive_sms(rental.id, "code 313131")
    await ticks(bot, 5)  # several poll ticks fail to send
    assert chat.codes_sent("313131") == []
    since = tg.seq()
    tg.set_down(False)
    await chat.expect("🔑 313131", since=since)
    await ticks(bot, 4)
    assert len(chat.codes_sent("313131")) == 1


async def test_a_provider_outage_delays_a_code_but_never_loses_it(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp")
    kiwi.fail_next("GET", "/api/v1/rentals", 503, {"error": "down", "code": "PROVIDER_ERROR"}, times=6)
    kiwi.receive_sms(rental.id, "code 414141")
    await chat.expect("🔑 414141")
    await ticks(bot, 3)
    assert len(chat.codes_sent("414141")) == 1


async def test_one_list_request_per_account_per_tick(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("20.00"))
    await chat.connect_kiwi()
    for service in ("WhatsApp", "Telegram", "Facebook"):
        await chat.buy(service)
    start = len(kiwi.requests)
    await ticks(bot, 5)
    window = kiwi.requests[start:]
    lists = [r for r in window if r.method == "GET" and r.path == "/api/v1/rentals"]
    per_rental = [r for r in window if r.method == "GET" and r.path.startswith("/api/v1/rentals/")]
    assert 3 <= len(lists) <= 7  # ~5 ticks of 0.2 s, one request each, for three rentals
    assert per_rental == []


def _bot_env(settings: Settings, log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_", "KIWI_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        TELEGRAM_BOT_TOKEN=settings.telegram_bot_token,
        BOT_ENCRYPTION_KEY=ENCRYPTION_KEY,
        DATABASE_PATH=str(settings.database_path),
        TELEGRAM_API_BASE_URL=settings.telegram_api_base_url,
        KIWI_BASE_URL=settings.kiwi_base_url,
        POLL_INTERVAL_SECONDS="0.2",
        LOG_LEVEL=log_level,
    )
    return env


async def _start_bot(settings: Settings, tmp: Path, log_level: str = "DEBUG") -> tuple[asyncio.subprocess.Process, Path]:
    log = tmp / f"bot-{len(list(tmp.glob('bot-*.log')))}.log"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp, env=_bot_env(settings, log_level),
        stdout=log.open("wb"), stderr=asyncio.subprocess.STDOUT,
    )
    return process, log


async def _stop_bot(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=20)


async def test_the_bot_process_restarted_still_delivers_the_code_once(
    tg: FakeTelegram, kiwi: KiwiSimulator, settings: Settings, tmp_path: Path
) -> None:
    kiwi.add_account(KIWI_KEY)
    chat = Chat(tg, 1001)
    process, first_log = await _start_bot(settings, tmp_path)
    try:
        await chat.connect_kiwi()
        await chat.buy("WhatsApp")
    finally:
        await _stop_bot(process)
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    kiwi.receive_sms(rental.id, "Your code is 565656")  # arrives while the bot is down
    process, second_log = await _start_bot(settings, tmp_path)
    try:
        await chat.expect("🔑 565656", timeout=20)
        polls = kiwi.request_count("GET", "/api/v1/rentals")
        await until(lambda: kiwi.request_count("GET", "/api/v1/rentals") >= polls + 5, "five more polls")
    finally:
        await _stop_bot(process)
    assert len(chat.codes_sent("565656")) == 1
    # Even at DEBUG, no secret reaches the log.
    logs = first_log.read_bytes() + second_log.read_bytes()
    assert b"getUpdates" in logs or b"DEBUG" in logs  # the log was really written at DEBUG
    for secret in (KIWI_KEY, settings.telegram_bot_token, ENCRYPTION_KEY):
        assert secret.encode() not in logs, secret


async def test_a_key_revoked_at_the_provider_is_reported_once_and_polling_stops(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await chat.buy("WhatsApp")
    kiwi.fail_next("GET", "/api/v1/rentals", 401, {"error": "Invalid API key", "code": "UNAUTHORIZED"})
    notice = await chat.expect("no longer accepts")
    assert "/connect" in notice.text
    await ticks(bot, 3)
    polls = kiwi.request_count("GET", "/api/v1/rentals")
    await ticks(bot, 3)
    assert kiwi.request_count("GET", "/api/v1/rentals") == polls  # stopped
    assert sum("no longer accepts" in m.text for m in chat.tg.sent(chat.chat_id)) == 1
    await chat.connect_kiwi()  # connecting again resumes polling
    await ticks(bot, 3)
    assert kiwi.request_count("GET", "/api/v1/rentals") > polls
    assert sum("no longer accepts" in m.text for m in chat.tg.sent(chat.chat_id)) == 1
