"""Shared fixtures: the provider simulator, the fake Bot API server, and the bot running against both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.app import build_application, running
from bot.config import Settings
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.clients.common import simulator_fixture
from tests.fakes.telegram import FakeTelegram
from tests.helpers import Chat
# The storage suite's two databases, SQLite and a PostgreSQL server the tests start themselves.
from tests.storage_backends import postgres_server, postgres_url, storage_db, storage_target  # noqa: F401

ENCRYPTION_KEY = Fernet.generate_key().decode()


tg = simulator_fixture(FakeTelegram, "tg")
kiwi = simulator_fixture(KiwiSimulator, "kiwi")
nonvoip = simulator_fixture(NonVoipSimulator, "nonvoip")
gotsms = simulator_fixture(GotSmsSimulator, "gotsms")


@pytest.fixture
def make_settings(
    tmp_path: Path, tg: FakeTelegram, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": tg.token,
            "encryption_keys": (ENCRYPTION_KEY,),
            "database_path": tmp_path / "data" / "bot.sqlite3",
            "telegram_api_base_url": tg.base_url,
            "kiwi_base_url": kiwi.base_url,
            "nonvoip_base_url": nonvoip.base_url,
            "gotsms_base_url": gotsms.base_url,
            "poll_interval_seconds": 0.2,
            "provider_timeout_seconds": 5.0,
            # The fake Bot API has no flood limit, and tests that push 40 codes into one chat
            # test other things: one a second per chat is tested in test_shared_flood_limits.py.
            "telegram_chat_messages_per_second": 1000.0,
        }
        values.update(overrides)
        return Settings(**values)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[Any]:
    """The real Application, polling the fake Bot API server."""
    app = build_application(settings)
    async with running(app):
        yield app


@pytest.fixture
def chat(tg: FakeTelegram) -> Chat:
    return Chat(tg, 1001)
