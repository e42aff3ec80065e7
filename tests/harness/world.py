"""Everything around the bot on loopback: the three simulators, a proxy in front of each (and of the
fake Bot API), and the chats that connect accounts and buy numbers through the bot's own screens.

Orders are bought through the bot (not seeded into its database), so these tests do not depend on
the storage API, which is being rewritten; they depend only on the chat flows in tests/helpers.py.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import ProviderId
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import FakeTelegram
from tests.harness.proxy import Exchange, LoopbackProxy
from tests.helpers import Chat

NONVOIP_SECTION, NONVOIP_SERVICE = "10-minutes", "Instagram"
KIWI_SERVICE, KIWI_COUNTRY = "WhatsApp", "USA"
GOTSMS_SERVICE, GOTSMS_PLAN = "Telegram", "1 day"
# The request that charges money, per provider (path at the proxy, which keeps NonVoip's /manager).
PURCHASE_PATHS: dict[ProviderId, str] = {
    ProviderId.KIWI: "/api/v1/rentals",
    ProviderId.NONVOIP: "/api/order",
    ProviderId.GOTSMS: "/api/rents",
}
# One SMS per NonVoipUsNumber 10-minutes order (the order completes with it); the others take more.
ACCEPTS_SECOND_SMS: dict[ProviderId, bool] = {ProviderId.KIWI: True, ProviderId.NONVOIP: False, ProviderId.GOTSMS: True}


def is_purchase(provider: ProviderId) -> Callable[[Exchange], bool]:
    path = PURCHASE_PATHS[provider]
    return lambda e: e.method == "POST" and e.path.endswith(path)


@dataclass
class Account:
    """One provider account of one chat, as the simulator and the bot know it."""

    provider: ProviderId
    chat: Chat
    credential: str  # kiwi API key, NonVoip email, GotSMS token
    password: str = ""

    def order_ids(self, world: "World") -> list[str]:
        """The account's orders at the provider, oldest first."""
        if self.provider is ProviderId.KIWI:
            return [r.id for r in world.kiwi.rentals_of(self.credential)]
        if self.provider is ProviderId.NONVOIP:
            return [str(o.order_id) for o in world.nonvoip.orders_of(self.credential)]
        return [r.id for r in world.gotsms.rents_of(self.credential)]

    def phone_of(self, world: "World", order_id: str) -> str:
        if self.provider is ProviderId.KIWI:
            return world.kiwi.rental(order_id).phone
        if self.provider is ProviderId.NONVOIP:
            return str(world.nonvoip.order(order_id).number)
        return world.gotsms.rent(order_id).phone


@dataclass
class World:
    tg: FakeTelegram
    kiwi: KiwiSimulator
    nonvoip: NonVoipSimulator
    gotsms: GotSmsSimulator
    proxies: dict[ProviderId, LoopbackProxy]
    telegram_proxy: LoopbackProxy
    _chat_ids: itertools.count = field(default_factory=lambda: itertools.count(2001))
    _codes: itertools.count = field(default_factory=lambda: itertools.count(314_159))

    def new_chat(self) -> Chat:
        chat = Chat(self.tg, next(self._chat_ids))
        self.tg.register_chat(chat.chat_id)
        return chat

    def new_code(self) -> str:
        """Distinct six-digit codes (a step that no phone number or price would share by chance)."""
        return str(next(self._codes) * 7 % 900_000 + 100_000)

    async def connect(self, chat: Chat, provider: ProviderId, balance: Decimal = Decimal("100.00")) -> Account:
        """A fresh account at the simulator, connected through /connect."""
        tag = uuid.uuid4().hex[:12]
        if provider is ProviderId.KIWI:
            account = Account(provider, chat, f"lsms_t{tag}_{uuid.uuid4().hex[:16]}")
            self.kiwi.add_account(account.credential, balance)
            await chat.connect_kiwi(account.credential)
        elif provider is ProviderId.NONVOIP:
            account = Account(provider, chat, f"t{tag}@example.com", uuid.uuid4().hex)
            self.nonvoip.add_account(account.credential, account.password, balance)
            await chat.connect_nonvoip(account.credential, account.password)
        else:
            account = Account(provider, chat, f"gots_{tag}{uuid.uuid4().hex}")
            self.gotsms.add_account(account.credential, balance)
            await chat.connect_gotsms(account.credential)
        return account

    async def open_confirmation(self, account: Account) -> None:
        chat = account.chat
        if account.provider is ProviderId.KIWI:
            await chat.open_confirmation(KIWI_SERVICE, KIWI_COUNTRY)
        elif account.provider is ProviderId.NONVOIP:
            await chat.open_nonvoip_confirmation(NONVOIP_SECTION, NONVOIP_SERVICE)
        else:
            await chat.open_gotsms_confirmation(GOTSMS_SERVICE, GOTSMS_PLAN)

    async def buy(self, account: Account) -> str:
        """Buy one number through /buy; returns the provider's order id."""
        before = set(account.order_ids(self))
        await self.open_confirmation(account)
        await account.chat.confirm_purchase()
        (new,) = [o for o in account.order_ids(self) if o not in before]
        return new

    def receive_sms(self, account: Account, order_id: str, code: str) -> None:
        """An SMS with `code` becomes visible at the provider."""
        if account.provider is ProviderId.KIWI:
            self.kiwi.receive_sms(order_id, f"Your WhatsApp code is {code}", code=code)
        elif account.provider is ProviderId.NONVOIP:
            self.nonvoip.receive_sms(order_id, f"Your Instagram verification code is {code}", pin=code)
        else:
            self.gotsms.receive_sms(order_id, f"Your Telegram code is {code}", code=code)

    def charged_orders(self, account: Account) -> int:
        return len(account.order_ids(self))

    def polls(self, provider: ProviderId) -> int:
        """Requests the provider has answered so far (through its proxy)."""
        return self.proxies[provider].count(lambda e: e.upstream_status is not None)

    async def settle(self, poll_interval: float, rounds: int = 3) -> None:
        """A window for late duplicates: until every provider in use has answered `rounds` more
        requests (the poller went round), or ~`rounds` poll intervals when nothing is polled."""
        window = rounds * poll_interval * 2 + 0.5
        for provider, proxy in self.proxies.items():
            if proxy.count() == 0:
                continue  # never used in this test
            target = self.polls(provider) + rounds
            try:
                await proxy.wait_for(lambda p=provider, t=target: self.polls(p) >= t, window)
            except AssertionError:
                pass  # nothing left to poll there: the window is over all the same


@asynccontextmanager
async def loopback_world(*, hold_seconds: float = 2.0) -> AsyncIterator[World]:
    """Simulators, fake Bot API and a proxy in front of each, all on 127.0.0.1."""
    tg = FakeTelegram()
    kiwi = KiwiSimulator(rental_minutes=60.0)
    nonvoip = NonVoipSimulator()
    gotsms = GotSmsSimulator()
    for server in (tg, kiwi, nonvoip, gotsms):
        await server.start()
    proxies = {
        ProviderId.KIWI: LoopbackProxy(kiwi.base_url, hold_seconds=hold_seconds),
        ProviderId.NONVOIP: LoopbackProxy(nonvoip.base_url, hold_seconds=hold_seconds),
        ProviderId.GOTSMS: LoopbackProxy(gotsms.base_url, hold_seconds=hold_seconds),
    }
    telegram_proxy = LoopbackProxy(tg.base_url)
    for proxy in (*proxies.values(), telegram_proxy):
        await proxy.start()
    try:
        yield World(tg, kiwi, nonvoip, gotsms, proxies, telegram_proxy)
    finally:
        for proxy in (*proxies.values(), telegram_proxy):
            await proxy.stop()
        for server in (gotsms, nonvoip, kiwi, tg):
            await server.stop()
