"""A user's side of a private chat, on top of the fake Bot API server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import OrderRequest, PlacedOrder, ProviderId
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import BotMessage, FakeTelegram

KIWI_KEY = "lsms_test01_c0ffeec0ffeec0ffee"
NONVOIP_EMAIL = "tess@example.com"
NONVOIP_PASSWORD = "hunter2-Very-Secret"
GOTSMS_TOKEN = "gots_4f1c9a77e2b34d5c8a9b0c1d2e3f4a5b"
# What the bot asks first after each provider's button: under /connect, and under /buy.
CONNECT_PROMPTS = {"kiwiSMS": "API key", "NonVoipUsNumber": "email", "GotSMS": "API token"}
SECTION_PROMPTS = {"kiwiSMS": "choose a country", "NonVoipUsNumber": "choose a section", "GotSMS": "choose a section"}


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

    async def start_connect(self, provider: str) -> BotMessage:
        """/connect, then the provider's button: up to the first credential prompt."""
        self.send("/connect")
        await self.expect("Which provider")
        self.press(provider)
        return await self.expect(CONNECT_PROMPTS[provider])

    async def connect_kiwi(self, key: str = KIWI_KEY) -> BotMessage:
        await self.start_connect("kiwiSMS")
        self.send(key)
        return await self.expect("connected, balance")

    async def connect_nonvoip(self, email: str = NONVOIP_EMAIL, password: str = NONVOIP_PASSWORD) -> BotMessage:
        await self.start_connect("NonVoipUsNumber")
        self.send(email)
        await self.expect("password")
        self.send(password)
        return await self.expect("connected, balance")

    async def connect_gotsms(self, token: str = GOTSMS_TOKEN) -> BotMessage:
        await self.start_connect("GotSMS")
        self.send(token)
        return await self.expect("connected, balance")

    async def open_section(self, provider: str, section: str, expecting: str = "Services") -> BotMessage:
        """/buy, the provider, then the section (a country at kiwiSMS): its first page."""
        self.send("/buy")
        await self.expect("choose a provider")
        self.press(provider)
        await self.expect(SECTION_PROMPTS[provider])
        self.press(section)
        return await self.expect(expecting)

    async def pick_service(self, provider: str, section: str, service_prefix: str) -> None:
        """Search the section for `service_prefix` and tap the first match."""
        await self.open_section(provider, section)
        self.send(service_prefix)
        await self.expect("matching")
        self.press_starting(service_prefix)

    async def confirm_purchase(self) -> BotMessage:
        """Confirm on the open confirmation: the new order's card."""
        self.press("Confirm")
        return await self.expect("waiting for the SMS")

    async def open_confirmation(self, service_prefix: str = "WhatsApp", country: str = "USA") -> BotMessage:
        """kiwiSMS: up to the confirmation of one rental."""
        await self.pick_service("kiwiSMS", country, service_prefix)
        return await self.expect("Confirm your order")

    async def buy(self, service_prefix: str = "WhatsApp", country: str = "USA") -> BotMessage:
        await self.open_confirmation(service_prefix, country)
        return await self.confirm_purchase()

    async def open_nonvoip_confirmation(self, section: str, service_prefix: str) -> BotMessage:
        await self.pick_service("NonVoipUsNumber", section, service_prefix)
        if section == "30-days":  # a multi-select section: the tap selects, Continue goes on
            await self.expect("Selected: 1")
            self.press_starting("Continue with")
        return await self.expect("Confirm your order")

    async def buy_nonvoip(self, section: str = "10-minutes", service_prefix: str = "Instagram") -> BotMessage:
        await self.open_nonvoip_confirmation(section, service_prefix)
        return await self.confirm_purchase()

    async def select_nonvoip_bundle(self, services: Sequence[str]) -> BotMessage:
        """NonVoipUsNumber 30-days: tap each service on the first page; the page with them selected."""
        page = await self.open_section("NonVoipUsNumber", "30-days", expecting="share one number")
        for count, service in enumerate(services, start=1):
            self.press_starting(service)
            page = await self.expect(f"Selected: {count}")
        return page

    async def open_nonvoip_bundle_confirmation(self, services: Sequence[str]) -> BotMessage:
        await self.select_nonvoip_bundle(services)
        self.press_starting(f"Continue with {len(services)}")
        return await self.expect("Confirm your order")

    async def buy_nonvoip_bundle(self, services: Sequence[str]) -> BotMessage:
        await self.open_nonvoip_bundle_confirmation(services)
        return await self.confirm_purchase()

    async def open_gotsms_confirmation(
        self, service: str = "Telegram", plan: str = "1 day", section: str = "Rental plans", country: str = "USA"
    ) -> BotMessage:
        await self.pick_service("GotSMS", section, service)
        await self.expect("Choose a plan")
        self.press_starting(f"{country} · {plan}")  # plans are labelled "country · duration · price"
        return await self.expect("Confirm your order")

    async def buy_gotsms(self, service: str = "Telegram", plan: str = "1 day", section: str = "Rental plans") -> BotMessage:
        await self.open_gotsms_confirmation(service, plan, section)
        return await self.confirm_purchase()

    async def open_order(self, label_prefix: str) -> BotMessage:
        """/orders, then the listed order whose button starts with `label_prefix` ("1. WhatsApp"):
        its card, in place of the list."""
        self.send("/orders")
        await self.expect("Active orders")
        self.press_starting(label_prefix)
        return await self.expect("Order #")

    def auto_renewal_button(self) -> str:
        """The newest auto-renewal toggle's label (it says what a tap will do)."""
        for message in reversed(self.tg.messages(self.chat_id)):
            for label in message.button_labels:
                if "auto-renewal" in label.lower():
                    return label
        raise AssertionError("no auto-renewal button")

    def codes_sent(self, code: str) -> list[BotMessage]:
        """Every message the bot sent here that announces `code` (the code message, not the card)."""
        return [m for m in self.tg.sent(self.chat_id) if m.text.startswith(f"🔑 {code}")]


# An account at the simulator, connected in the chat, one number bought through /buy: the
# provider's record of it (the one order of the account).


async def bought_kiwi_rental(
    chat: Chat, kiwi: KiwiSimulator, service_prefix: str = "WhatsApp", balance: Decimal = Decimal("50.00")
) -> Any:
    kiwi.add_account(KIWI_KEY, balance)
    await chat.connect_kiwi()
    await chat.buy(service_prefix)
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    return rental


async def bought_nonvoip_order(
    chat: Chat, nonvoip: NonVoipSimulator, section: str = "10-minutes", service_prefix: str = "Instagram",
    balance: Decimal = Decimal("50.00"),
) -> Any:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, balance)
    await chat.connect_nonvoip()
    await chat.buy_nonvoip(section, service_prefix)
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    return order


async def bought_gotsms_rent(
    chat: Chat, gotsms: GotSmsSimulator, service: str = "Telegram", plan: str = "1 day",
    balance: Decimal = Decimal("50.00"),
) -> Any:
    gotsms.add_account(GOTSMS_TOKEN, balance)
    await chat.connect_gotsms()
    await chat.buy_gotsms(service, plan)
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    return rent


async def placed_kiwi_orders(app: Any, chat: Chat, count: int, country: str = "187", service: str = "wa") -> None:
    """`count` rentals placed through the chat's own kiwiSMS client (connected first) and recorded
    as the bot records a purchase: many orders without walking /buy for each."""
    services = app.bot_data["services"]
    client = await services.client_for(chat.chat_id, ProviderId.KIWI)
    assert client is not None, "connect kiwiSMS first"
    for _ in range(count):
        placed = await client.place_order(
            OrderRequest(section=country, service_ids=(service,), max_price=Decimal("5"), idempotency_key=uuid.uuid4().hex)
        )
        assert isinstance(placed, PlacedOrder)
        await services.orders.add(chat.chat_id, ProviderId.KIWI, placed.first, country)


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
