"""A user's side of a private chat, on top of the fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.fakes.telegram import BotMessage, FakeTelegram

KIWI_KEY = "lsms_test01_c0ffeec0ffeec0ffee"
NONVOIP_EMAIL = "tess@example.com"
NONVOIP_PASSWORD = "hunter2-Very-Secret"
GOTSMS_TOKEN = "gots_4f1c9a77e2b34d5c8a9b0c1d2e3f4a5b"


class Chat:
    def __init__(self, tg: FakeTelegram, chat_id: int) -> None:
        self.tg = tg
        self.chat_id = chat_id

    def send(self, text: str) -> dict:
        return self.tg.user_sends(self.chat_id, text)

    def press(self, label: str) -> str:
        return self.tg.press_button(self.chat_id, label)

    def press_starting(self, prefix: str) -> str:
        """Press the newest button whose label starts with `prefix` (offer labels carry prices)."""
        for message in reversed(self.tg.messages(self.chat_id)):
            for label in message.button_labels:
                if label.startswith(prefix):
                    return self.tg.press_button(self.chat_id, label, message_id=message.message_id)
        raise AssertionError(f"no button starting with {prefix!r}")

    async def expect(self, contains: str, timeout: float = 10.0, since: int | None = None) -> BotMessage:
        return await self.tg.wait_for_text(self.chat_id, contains, timeout=timeout, since=since)

    async def connect_kiwi(self, key: str = KIWI_KEY) -> BotMessage:
        self.send("/connect")
        await self.expect("Which provider")
        self.press("kiwiSMS")
        await self.expect("API key")
        self.send(key)
        return await self.expect("connected, balance")

    async def connect_nonvoip(self, email: str = NONVOIP_EMAIL, password: str = NONVOIP_PASSWORD) -> BotMessage:
        self.send("/connect")
        await self.expect("Which provider")
        self.press("NonVoipUsNumber")
        await self.expect("email")
        self.send(email)
        await self.expect("password")
        self.send(password)
        return await self.expect("connected, balance")

    async def open_nonvoip_confirmation(self, section: str, service_prefix: str) -> BotMessage:
        self.send("/buy")
        await self.expect("choose a provider")
        self.press("NonVoipUsNumber")
        await self.expect("choose a section")
        self.press(section)
        await self.expect("Services")
        self.send(service_prefix)
        await self.expect("matching")
        self.press_starting(service_prefix)
        if section == "30-days":  # a multi-select section: the tap selects, Continue goes on
            await self.expect("Selected: 1")
            self.press_starting("Continue with")
        return await self.expect("Confirm your order")

    async def connect_gotsms(self, token: str = GOTSMS_TOKEN) -> BotMessage:
        self.send("/connect")
        await self.expect("Which provider")
        self.press("GotSMS")
        await self.expect("API token")
        self.send(token)
        return await self.expect("connected, balance")

    async def buy_gotsms(self, service: str = "Telegram", plan: str = "1 day", section: str = "Rental plans") -> BotMessage:
        self.send("/buy")
        await self.expect("choose a provider")
        self.press("GotSMS")
        await self.expect("choose a section")
        self.press(section)
        await self.expect("Services")
        self.send(service)
        await self.expect("matching")
        self.press_starting(service)
        await self.expect("Choose a plan")
        self.press_starting(plan)
        await self.expect("Confirm your order")
        self.press("Confirm")
        return await self.expect("waiting for the SMS")

    async def open_confirmation(self, service_prefix: str = "WhatsApp", country: str = "USA") -> BotMessage:
        self.send("/buy")
        await self.expect("choose a provider")
        self.press("kiwiSMS")
        await self.expect("choose a country")
        self.press(country)
        await self.expect("Services")
        self.send(service_prefix)
        await self.expect("matching")
        self.press_starting(service_prefix)
        return await self.expect("Confirm your order")

    async def buy(self, service_prefix: str = "WhatsApp", country: str = "USA") -> BotMessage:
        await self.open_confirmation(service_prefix, country)
        self.press("Confirm")
        return await self.expect("waiting for the SMS")

    def codes_sent(self, code: str) -> list[BotMessage]:
        """Every message the bot sent here that announces `code` (the code message, not the card)."""
        return [m for m in self.tg.sent(self.chat_id) if m.text.startswith(f"🔑 {code}")]


async def ticks(app: Any, count: int = 3, timeout: float = 10.0) -> None:
    """Until `count` more poll ticks of the running Application have finished (each ends with an
    outbox flush): the event a test waits on instead of sleeping."""
    await app.bot_data["poller"].wait_ticks(count, timeout)


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Until a condition on the test's side holds (a simulator's request log, a bot process's
    effect): for a bot in another process, which has no event to await."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
