"""A chat's step lives in the database: a restart loses no /connect or /buy step, and a key
never stays in the chat, whether a step waits for it or not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.app import build_application, running
from bot.config import Settings
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat


@asynccontextmanager
async def bot_run(settings: Settings) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """One process lifetime of the bot: start, serve, stop (its memory is gone afterwards)."""
    async with running(build_application(settings)) as app:
        yield app


def _database_bytes(path: Path) -> bytes:
    """The SQLite file with its WAL: everything the bot wrote to disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_a_key_typed_after_a_restart_is_taken_by_its_step_and_deleted(
    settings: Settings, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    async with bot_run(settings):
        await chat.start_connect("kiwiSMS")
    async with bot_run(settings):
        typed = chat.send(KIWI_KEY)
        await chat.expect("connected, balance $50.00")
        assert chat.tg.is_deleted(chat.chat_id, typed["message_id"])
        chat.send("/balance")
        await chat.expect("$50.00")


async def test_the_email_survives_a_restart_and_the_password_never_reaches_the_disk(
    settings: Settings, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    async with bot_run(settings):
        await chat.start_connect("NonVoipUsNumber")
        email = chat.send(NONVOIP_EMAIL)
        await chat.expect("password")
    async with bot_run(settings):
        password = chat.send(NONVOIP_PASSWORD)
        await chat.expect("connected, balance")
    assert chat.tg.is_deleted(chat.chat_id, password["message_id"])
    assert not chat.tg.is_deleted(chat.chat_id, email["message_id"])  # not a secret: it stays
    assert NONVOIP_PASSWORD.encode() not in _database_bytes(settings.database_path)


async def test_cancel_after_a_restart_leaves_the_step(settings: Settings, kiwi: KiwiSimulator, chat: Chat) -> None:
    async with bot_run(settings):
        await chat.start_connect("kiwiSMS")
    async with bot_run(settings):
        chat.send("/cancel")
        await chat.expect("Cancelled")
        chat.send("/cancel")
        await chat.expect("nothing to cancel")
    assert kiwi.request_count("GET", "/api/v1/balance") == 0


async def test_email_and_password_sent_together_are_each_taken_once(
    bot: Application, nonvoip: NonVoipSimulator, tg: FakeTelegram, chat: Chat  # type: ignore[type-arg]
) -> None:
    """Two messages of one step handled concurrently: the second is the password, and deleted."""
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    await chat.start_connect("NonVoipUsNumber")
    with tg.batch():
        email = chat.send(NONVOIP_EMAIL)
        password = chat.send(NONVOIP_PASSWORD)
    await chat.expect("connected, balance")
    assert tg.is_deleted(chat.chat_id, password["message_id"])
    assert not tg.is_deleted(chat.chat_id, email["message_id"])


async def test_a_malformed_key_is_deleted_and_asked_again_without_calling_the_provider(
    bot: Application, kiwi: KiwiSimulator, chat: Chat  # type: ignore[type-arg]
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.start_connect("kiwiSMS")
    for bad in (f"{KIWI_KEY}\nsecond line", "lsms_" + "é" * 30, "k" * 5000):
        typed = chat.send(bad)
        await chat.expect("does not look like a kiwiSMS API key")
        assert chat.tg.is_deleted(chat.chat_id, typed["message_id"])
    assert kiwi.request_count("GET", "/api/v1/balance") == 0
    chat.send(KIWI_KEY)
    await chat.expect("connected, balance")


@pytest.mark.parametrize(
    "pasted",
    [
        KIWI_KEY,
        "my key is lsms_live01_9f8e7d6c5b4a39281706",
        "12|AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",  # a GotSMS API token
        "4f1c9a77e2b34d5c8a9b0c1d2e3f4a5b6c7d8e9f0a1b",  # 44 hex characters
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # a bot token
        "/start lsms_live01_9f8e7d6c5b4a39281706",  # a command with a key as its argument
    ],
)
async def test_a_credential_outside_any_step_is_deleted_with_a_hint(
    bot: Application, kiwi: KiwiSimulator, chat: Chat, pasted: str  # type: ignore[type-arg]
) -> None:
    typed = chat.send(pasted)
    hint = await chat.expect("deleted it")
    assert "/connect" in hint.text and len(hint.text.splitlines()) == 1
    assert chat.tg.is_deleted(chat.chat_id, typed["message_id"])
    assert kiwi.request_count() == 0


@pytest.mark.parametrize("text", ["hello there", "https://example.com/" + "a1" * 30, "x" * 38 + "1"])  # 39: shorter than a key
async def test_ordinary_text_is_not_deleted(bot: Application, chat: Chat, text: str) -> None:  # type: ignore[type-arg]
    typed = chat.send(text)
    await chat.expect("did not understand")
    assert not chat.tg.is_deleted(chat.chat_id, typed["message_id"])


async def test_the_services_filter_survives_a_restart(
    settings: Settings, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    async with bot_run(settings):
        await chat.connect_kiwi()
        await chat.open_section("kiwiSMS", "UK")
    async with bot_run(settings):
        chat.send("whats")
        shown = await chat.expect("matching “whats”")
        assert "UK" in shown.text
        assert [b for b in shown.button_labels if "$" in b] and all(
            "whatsapp" in b.lower() for b in shown.button_labels if "$" in b
        )


async def test_a_multi_service_selection_survives_a_restart(
    make_settings: Callable[..., Settings], nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    settings = make_settings()
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    async with bot_run(settings):
        await chat.connect_nonvoip()
        page = await chat.open_section("NonVoipUsNumber", "30-days", expecting="Selected: 0")
        first = next(label for label in page.button_labels if "$" in label)
        chat.press(first)
        await chat.expect("Selected: 1")
    async with bot_run(settings):
        page = chat.tg.messages(chat.chat_id)[-1]
        second = next(label for label in page.button_labels if "$" in label and not label.startswith("✅"))
        chat.press(second)
        both = await chat.expect("Selected: 2")
        assert sum(label.startswith("✅") for label in both.button_labels) == 2
