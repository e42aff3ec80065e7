"""Webhook mode: our web server (bot/web) on 127.0.0.1 takes only updates that carry the secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from telegram.ext import Application

from bot.app import build_application, running
from bot.config import Settings, derive_webhook_secret
from bot.logging_setup import REDACTOR, setup_logging
from bot.web.factory import TELEGRAM_PATH
from bot.web.server import webhook_options
from handlers.services import SERVICES_KEY, Services
from tests.clients.common import free_port
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_webhook import SECRET_HEADER
from tests.helpers import Chat

FORGER_CHAT = 5005


@pytest.fixture
def webhook_settings(make_settings: Callable[..., Settings]) -> Settings:
    port = free_port()
    return make_settings(webhook_url=f"http://127.0.0.1:{port}", webhook_listen="127.0.0.1", webhook_port=port)


def serving_webhook(settings: Settings) -> AbstractAsyncContextManager[Any]:
    """The bot as `python -m bot` runs it with PUBLIC_URL set, inside the test's event loop."""
    return running(build_application(settings), webhook=webhook_options(settings))


def _update(update_id: int, chat_id: int, text: str) -> dict[str, object]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Mallory"}
    message = {"message_id": 1, "from": user, "chat": {"id": chat_id, "type": "private", "first_name": "Mallory"},
               "date": 1_700_000_000, "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
    return {"update_id": update_id, "message": message}


async def _post(settings: Settings, body: dict[str, object], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    url = f"http://127.0.0.1:{settings.webhook_port}{TELEGRAM_PATH}"
    async with httpx.AsyncClient() as http:
        return (await http.post(url, content=json.dumps(body), headers=headers)).status_code


async def _chat_rows(app: Application, chat_id: int) -> int:  # type: ignore[type-arg]
    services: Services = app.bot_data[SERVICES_KEY]
    row = await services.db.fetchone("SELECT COUNT(*) FROM chats WHERE chat_id = ?", (chat_id,))
    return int(row[0]) if row else 0


def test_the_secret_is_derived_from_the_token_when_unset(webhook_settings: Settings) -> None:
    secret = webhook_settings.webhook_secret
    assert secret == derive_webhook_secret(webhook_settings.telegram_bot_token)
    assert secret is not None and len(secret) == 64 and all(c in "0123456789abcdef" for c in secret)
    assert secret in webhook_settings.secrets and secret not in repr(webhook_settings)
    assert derive_webhook_secret("123:other-token") != secret


async def test_forged_updates_get_403_and_change_nothing(
    webhook_settings: Settings, tg: FakeTelegram
) -> None:
    tg.register_chat(FORGER_CHAT)
    tg.register_chat(1001)
    async with serving_webhook(webhook_settings) as app:
        assert tg.webhook_url == f"{webhook_settings.webhook_url}{TELEGRAM_PATH}"
        assert tg.webhook_secret == webhook_settings.webhook_secret
        assert await _post(webhook_settings, _update(900, FORGER_CHAT, "/start"), None) == 403
        assert await _post(webhook_settings, _update(901, FORGER_CHAT, "/start"), "x" * 64) == 403
        forged_with_token = derive_webhook_secret("987654321:AAAnother-bots-token-abcdefghijklmn")
        assert await _post(webhook_settings, _update(902, FORGER_CHAT, "/start"), forged_with_token) == 403
        # A signed update right after shows the forged ones were dropped, not merely delayed.
        assert await _post(webhook_settings, _update(903, 1001, "/start"), webhook_settings.webhook_secret) == 200
        await Chat(tg, 1001).expect("connect a provider")
        assert tg.sent(FORGER_CHAT) == []
        assert await _chat_rows(app, FORGER_CHAT) == 0


async def test_updates_telegram_delivers_with_the_secret_are_handled(
    webhook_settings: Settings, tg: FakeTelegram, chat: Chat
) -> None:
    async with serving_webhook(webhook_settings) as app:
        chat.send("/start")
        await chat.expect("connect a provider")
        chat.press("Connect a provider")
        await chat.expect("Which provider")
        assert await _chat_rows(app, chat.chat_id) == 1
    assert tg.webhook_refusals == []
    assert not tg.calls("getUpdates")  # webhook mode never polls


@pytest.fixture
def debug_logging() -> Iterator[None]:
    """setup_logging at DEBUG, as LOG_LEVEL=DEBUG would, undone afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {n: logging.getLogger(n).level for n in logging.root.manager.loggerDict})
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


async def test_the_webhook_secret_never_reaches_a_log_line(
    webhook_settings: Settings, chat: Chat, capfd: pytest.CaptureFixture[str], debug_logging: None
) -> None:
    setup_logging("DEBUG", webhook_settings.secrets)
    async with serving_webhook(webhook_settings):
        chat.send("/start")
        await chat.expect("connect a provider")
        assert await _post(webhook_settings, _update(990, 1001, "/help"), "wrong-secret") == 403
    output = capfd.readouterr().err
    assert "bot ready" in output  # the log really was captured
    secret = webhook_settings.webhook_secret
    assert secret is not None and secret not in output
    assert REDACTOR.redact(f"x {secret} y") == "x *** y"
