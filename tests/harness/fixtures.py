"""pytest fixtures of the subprocess tests: import them into a test module to use them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from providers.models import ProviderId
from tests.harness.bot_process import BotEnvironment, BotProcess
from tests.harness.world import World, loopback_world

POLL_INTERVAL = 0.3
PROVIDER_TIMEOUT = 1.0  # the proxy's TIMEOUT fault holds an answer longer than this
HOLD_SECONDS = 1.6


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with loopback_world(hold_seconds=HOLD_SECONDS) as w:
        yield w


@pytest.fixture
async def bot(world: World, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """`python -m bot` against the proxies, started and serving; SIGKILLed at the end."""
    environment = BotEnvironment(
        workdir=tmp_path,
        token=world.tg.token,
        encryption_key=Fernet.generate_key().decode(),
        telegram_api_base_url=world.telegram_proxy.base_url,
        kiwi_base_url=world.proxies[ProviderId.KIWI].base_url,
        nonvoip_base_url=world.proxies[ProviderId.NONVOIP].base_url,
        gotsms_base_url=world.proxies[ProviderId.GOTSMS].base_url,
        poll_interval_seconds=POLL_INTERVAL,
        provider_timeout_seconds=PROVIDER_TIMEOUT,
    )
    process = BotProcess(environment, world.tg)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def fail_with_log(bot: BotProcess, problems: list[str]) -> None:
    """Fail with every problem found, and the bot's log for the lead to read."""
    if problems:
        pytest.fail("\n".join(problems) + f"\n--- bot log (tail) ---\n{bot.log()[-4000:]}")
