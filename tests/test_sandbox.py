"""`python -m bot sandbox`: every flow with demo credentials and no money."""

from __future__ import annotations

import asyncio
import re
import os
import signal
import sys
from pathlib import Path
from typing import Any

from bot.app import build_application, running
from tests.fakes.telegram import FakeTelegram
from tests.helpers import Chat, ticks

ROOT = Path(__file__).resolve().parents[1]


async def test_demo_key_connects_with_50_dollars_and_a_code_arrives(make_settings: Any, tg: FakeTelegram) -> None:
    settings = make_settings(kiwi_base_url="http://127.0.0.1:9")  # replaced by the sandbox's own simulator
    async with running(build_application(settings, sandbox=True, sandbox_sms_delay=0.3)):
        chat = Chat(tg, 1001)
        connected = await chat.connect_kiwi("demo")
        assert "balance $50.00" in connected.text
        await chat.buy("WhatsApp")
        code = await chat.expect("🔑")
        assert re.match(r"🔑 \d{6}\n", code.text)


async def test_demo_nonvoip_credentials_connect_and_a_code_arrives(make_settings: Any, tg: FakeTelegram) -> None:
    settings = make_settings(nonvoip_base_url="http://127.0.0.1:9/manager")  # replaced by the sandbox's
    async with running(build_application(settings, sandbox=True, sandbox_sms_delay=0.3)):
        chat = Chat(tg, 1001)
        connected = await chat.connect_nonvoip("demo@example.com", "anything")
        assert "balance $50.00" in connected.text
        await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
        chat.press("Confirm")
        await chat.expect("waiting for the SMS")
        await chat.expect("🔑")


async def test_demo_gotsms_token_connects_and_a_code_arrives(make_settings: Any, tg: FakeTelegram) -> None:
    settings = make_settings(gotsms_base_url="http://127.0.0.1:9")  # replaced by the sandbox's
    async with running(build_application(settings, sandbox=True, sandbox_sms_delay=0.3)):
        chat = Chat(tg, 1001)
        connected = await chat.connect_gotsms("demo-token")
        assert "balance $50.00" in connected.text
        await chat.buy_gotsms("Telegram", "1 day")
        code = await chat.expect("🔑")
        assert "verification code" in code.text


async def test_sandbox_command_starts_with_only_a_bot_token_and_says_what_to_send_first(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    production = tmp_path / "production.sqlite3"
    production.write_bytes(b"not the sandbox's")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_", "KIWI_", "DATABASE_"))}
    env.update(
        PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_BASE_URL=tg.base_url,
        DATABASE_PATH=str(production),  # e.g. from .env: the sandbox must never use (or reset) it
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sandbox", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        assert "Open your bot in Telegram" in first and f"https://t.me/{tg.bot_username}" in first
        assert "send /connect" in first and "demo" in first
        chat = Chat(tg, 1001)
        connected = await chat.connect_kiwi("demo-person")
        assert "balance $50.00" in connected.text
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=20)
    assert (tmp_path / "data" / "sandbox.sqlite3").exists()
    assert production.read_bytes() == b"not the sandbox's"


async def test_a_restarted_sandbox_starts_empty_with_its_simulators(make_settings: Any, tg: FakeTelegram) -> None:
    """The simulators forget everything at a stop, so the bot's sandbox database is reset at start:
    no order the simulators no longer know, so no false "expired" notice and no order stuck waiting."""
    settings = make_settings(kiwi_base_url="http://127.0.0.1:9")  # replaced by the sandbox's own simulator
    chat = Chat(tg, 1001)
    async with running(build_application(settings, sandbox=True, sandbox_sms_delay=60)):
        await chat.connect_kiwi("demo")
        await chat.buy("WhatsApp")  # its code would come in a minute: the sandbox stops before
    restarted_at = tg.seq()
    async with running(build_application(settings, sandbox=True, sandbox_sms_delay=0.3)) as app:
        await ticks(app, 3)  # the poller has had its chance to find (and announce) old orders
        chat.send("/orders")
        await chat.expect("no active orders")
        chat.send("/balance")
        await chat.expect("No provider is connected")
        await chat.connect_kiwi("demo")  # the printed first step works again
        await chat.buy("WhatsApp")
        await chat.expect("🔑")
        await ticks(app, 2)
    notices = [m.text for m in tg.messages(chat.chat_id) if m.seq > restarted_at and ("⌛" in m.text or "expired" in m.text)]
    assert not notices, notices
