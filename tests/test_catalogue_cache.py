"""The catalogue memory of /buy's screens: lists are remembered briefly, prices never are.

End to end (kiwiSMS simulator, fake Bot API): a price that changes at the provider while the list
is open still shows the remembered list, but the confirmation card is priced from a fresh fetch
and the rental is charged that price. Then `CatalogueCache` on its own.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from handlers.catalogue_cache import CatalogueCache
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, Chat

SERVICES = "/api/v1/services"


def _offer_label(tg: FakeTelegram, chat: Chat, prefix: str) -> str:
    labels = [label for m in tg.messages(chat.chat_id) for label in m.button_labels if label.startswith(prefix)]
    assert labels, f"no button starting with {prefix!r}"
    return labels[-1]


async def test_a_remembered_list_never_prices_the_purchase(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    await chat.connect_kiwi()
    await chat.open_section("kiwiSMS", "USA")
    assert "$0.75" in _offer_label(tg, chat, "WhatsApp")
    fetched = kiwi.request_count("GET", SERVICES)

    kiwi.set_price("187", "wa", Decimal("2.00"))
    chat.send("WhatsApp")  # filtering the open list: the list as fetched a moment ago
    await chat.expect("matching")
    assert "$0.75" in _offer_label(tg, chat, "WhatsApp")
    assert kiwi.request_count("GET", SERVICES) == fetched

    chat.press_starting("WhatsApp")
    card = await chat.expect("Confirm your order")
    assert "Price: $2.00" in card.text  # the card asks the provider again
    assert kiwi.request_count("GET", SERVICES) == fetched + 1
    await chat.confirm_purchase()
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    assert rental.price == Decimal("2.00")


# -- the cache on its own ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Source:
    """A fetch that counts its calls and answers the current value."""

    def __init__(self, value: object = "v1") -> None:
        self.value = value
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.error: Exception | None = None

    async def __call__(self) -> object:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


async def test_a_value_is_reused_until_it_is_older_than_the_ttl() -> None:
    clock, source, owner = Clock(), Source(), object()
    cache = CatalogueCache(ttl=60, clock=clock)
    assert await cache.get("k", owner, source) == "v1"
    source.value = "v2"
    clock.now += 59
    assert await cache.get("k", owner, source) == "v1"
    clock.now += 2
    assert await cache.get("k", owner, source) == "v2"
    assert source.calls == 2


async def test_fresh_always_asks_and_what_it_gets_is_shown_next() -> None:
    source, owner = Source(), object()
    cache = CatalogueCache()
    await cache.get("k", owner, source)
    source.value = "v2"
    assert await cache.get("k", owner, source, fresh=True) == "v2"
    assert await cache.get("k", owner, source) == "v2"
    assert source.calls == 2


async def test_another_account_never_sees_the_value() -> None:
    source, old_client, new_client = Source(), object(), object()
    cache = CatalogueCache()
    await cache.get("k", old_client, source)
    source.value = "v2"
    assert await cache.get("k", new_client, source) == "v2"  # reconnected: a new client


async def test_identical_fetches_at_once_share_one_request() -> None:
    source, owner = Source(), object()
    source.gate = asyncio.Event()
    cache = CatalogueCache()
    waiting = [asyncio.create_task(cache.get("k", owner, source)) for _ in range(5)]
    await asyncio.sleep(0)
    source.gate.set()
    assert await asyncio.gather(*waiting) == ["v1"] * 5
    assert source.calls == 1


async def test_an_error_reaches_everyone_waiting_and_is_not_remembered() -> None:
    source, owner = Source(), object()
    source.gate, source.error = asyncio.Event(), RuntimeError("provider down")
    cache = CatalogueCache()
    waiting = [asyncio.create_task(cache.get("k", owner, source)) for _ in range(2)]
    await asyncio.sleep(0)
    source.gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    source.error = None
    assert await cache.get("k", owner, source) == "v1"
    assert source.calls == 2


async def test_when_the_shared_fetch_is_cancelled_a_waiter_fetches_for_itself() -> None:
    source, owner = Source(), object()
    source.gate = asyncio.Event()
    cache = CatalogueCache()
    first = asyncio.create_task(cache.get("k", owner, source))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get("k", owner, source))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    source.gate.set()
    assert await second == "v1"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_memory_is_bounded_least_recently_used_first() -> None:
    source, owner = Source(), object()
    cache = CatalogueCache(max_entries=2)
    await cache.get("a", owner, source)
    await cache.get("b", owner, source)
    await cache.get("a", owner, source)  # used again: "b" is now the oldest
    await cache.get("c", owner, source)
    assert len(cache) == 2
    calls = source.calls
    await cache.get("a", owner, source)
    assert source.calls == calls
    await cache.get("b", owner, source)
    assert source.calls == calls + 1
