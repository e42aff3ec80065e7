"""Faults: every provider fails most requests for a while, then recovers; every code arrives once.

The bot runs as its own process behind a proxy per provider. During the storm about 70% of the
polling requests fail, each in one of the ways a provider and a network fail: 503 before the
provider saw the request, 502 after it acted (GotSMS has then marked the unread messages read),
a 200 whose JSON is cut in half (also after it acted), 429 with Retry-After, and an answer held
past the bot's timeout (after it acted). Purchases are made before the storm.
"""

from __future__ import annotations

from collections.abc import Callable

from providers.models import ProviderId
from tests.harness.bot_process import BotProcess
from tests.harness.codes import delivery_report, wait_for_codes
from tests.harness.fixtures import POLL_INTERVAL, bot, fail_with_log, world  # noqa: F401 (fixtures)
from tests.harness.proxy import AFTER_ACTING, ALL_FAULTS, Exchange, Fault, LoopbackProxy
from tests.harness.world import ACCEPTS_SECOND_SMS, Account, World, is_purchase

FAILURE_RATE = 0.7
STORM_TIMEOUT = 25.0  # the storm ends once every fault has struck every provider a few times
RECOVERY_TIMEOUT = 15.0


def _polling(provider: ProviderId) -> Callable[[Exchange], bool]:
    buying = is_purchase(provider)
    return lambda e: not buying(e)


def _each_fault_struck(proxy: LoopbackProxy, times: int) -> bool:
    applied = proxy.faults_applied
    return all(applied[fault] >= times for fault in ALL_FAULTS)


def _strike_first_answer_with(proxy: LoopbackProxy, code: str, fault: Fault) -> None:
    """Not left to chance: the first answer that brings this code is lost after the provider acted."""
    proxy.strike_once(lambda e: e.holds(code), fault)


async def test_every_code_arrives_exactly_once_through_a_storm_of_provider_failures(
    world: World, bot: BotProcess
) -> None:
    # Three chats over the three providers; GotSMS with two rents on one account.
    first, second, third = world.new_chat(), world.new_chat(), world.new_chat()
    orders: list[tuple[Account, str]] = []
    for chat, providers in (
        (first, (ProviderId.KIWI, ProviderId.GOTSMS, ProviderId.GOTSMS)),
        (second, (ProviderId.NONVOIP, ProviderId.NONVOIP, ProviderId.GOTSMS)),
        (third, (ProviderId.KIWI, ProviderId.NONVOIP)),
    ):
        accounts: dict[ProviderId, Account] = {}
        for provider in providers:
            if provider not in accounts:
                accounts[provider] = await world.connect(chat, provider)
            orders.append((accounts[provider], await world.buy(accounts[provider])))

    for provider, proxy in world.proxies.items():
        proxy.storm(FAILURE_RATE, matches=_polling(provider), seed=len(provider.value))
    expected: dict[str, int] = {}
    origin: dict[str, str] = {}
    for n, (account, order_id) in enumerate(orders):
        code = world.new_code()
        _strike_first_answer_with(world.proxies[account.provider], code, AFTER_ACTING[n % len(AFTER_ACTING)])
        world.receive_sms(account, order_id, code)
        expected[code] = account.chat.chat_id
        origin[code] = f"{account.provider.value} order {order_id}, first SMS (storm starting)"
    for proxy in world.proxies.values():
        await proxy.wait_for(lambda p=proxy: _each_fault_struck(p, 1), STORM_TIMEOUT, "every fault once")
    # A second SMS, mid-storm, where the order takes one.
    for n, (account, order_id) in enumerate(orders):
        if ACCEPTS_SECOND_SMS[account.provider]:
            code = world.new_code()
            _strike_first_answer_with(world.proxies[account.provider], code, AFTER_ACTING[(n + 1) % len(AFTER_ACTING)])
            world.receive_sms(account, order_id, code)
            expected[code] = account.chat.chat_id
            origin[code] = f"{account.provider.value} order {order_id}, second SMS (mid-storm)"
    for proxy in world.proxies.values():
        await proxy.wait_for(lambda p=proxy: _each_fault_struck(p, 2) and p.strikes_pending == 0, STORM_TIMEOUT,
                             "every fault twice, and the answer with each code lost once")
    for proxy in world.proxies.values():
        proxy.calm()
    faults = {p.value: {f.name: n for f, n in proxy.faults_applied.items()} for p, proxy in world.proxies.items()}

    problems: list[str] = []
    try:
        await wait_for_codes(world.tg, expected, RECOVERY_TIMEOUT)
    except AssertionError as exc:
        problems.append(str(exc))
    await world.settle(POLL_INTERVAL)
    chats = [first.chat_id, second.chat_id, third.chat_id]
    problems += delivery_report(world.tg, expected, chats).problems(origin=origin)
    bought = {(a.provider, a.credential): world.charged_orders(a) for a, _ in orders}
    wanted = {(a.provider, a.credential): sum(1 for b, _ in orders if b is a) for a, _ in orders}
    if bought != wanted:
        problems.append(f"orders at the providers changed: {bought} (bought {wanted})")
    fail_with_log(bot, problems + ([f"faults applied: {faults}"] if problems else []))
