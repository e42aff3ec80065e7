"""Concurrency: a user's taps race the poller while SMS arrive; every code still comes once.

In-process: the real Application against the fake Bot API and the simulators (conftest `bot`,
poll interval 0.2 s; chats handled concurrently, one chat's updates in order). GotSMS: two rents of one account, while SMS
land on both, the user taps Refresh, Wake up and Messages on both cards (each tap reads the rent's
messages or status while the poller reads, and marks read, the account's unread feed). kiwiSMS and
NonVoipUsNumber: Refresh on every card while their codes arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import BotMessage, FakeTelegram
from tests.harness.codes import delivery_report, wait_for_codes
from tests.harness.waiting import eventually
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat

ROUNDS = 4
GOTSMS_ROUNDS = 8  # the race with the unread feed is narrow: more rounds, more chances to lose one
CODE_TIMEOUT = 10.0
POLLS_TO_SETTLE = 4


def _buttons(card: BotMessage, *labels: str) -> list[tuple[int, str]]:
    """(message id, callback data) of each labelled button on the card, as the user saw it."""
    data = {b["text"]: b["callback_data"] for row in card.buttons for b in row if "callback_data" in b}
    missing = [label for label in labels if label not in data]
    assert not missing, f"card #{card.message_id} lacks {missing}: {card.button_labels}"
    return [(card.message_id, data[label]) for label in labels]


async def _tap_all(tg: FakeTelegram, chat: Chat, taps: list[tuple[int, str]]) -> None:
    """Every tap in one getUpdates batch (one chat's in order, while the poller runs); wait until each
    is answered."""
    with tg.batch():
        queries = [tg.callback_update_for_foreign_message(chat.chat_id, chat.chat_id, mid, data) for mid, data in taps]
    for query in queries:
        await tg.wait_for_callback_answer(query, timeout=CODE_TIMEOUT)


async def _settle(request_count: Callable[[], int]) -> None:
    """A window for late duplicates: the poller goes round a few more times (seen at the simulator)."""
    target = request_count() + POLLS_TO_SETTLE
    await eventually(lambda: request_count() >= target, timeout=5.0)


async def test_taps_on_two_gotsms_rents_of_one_account_race_the_poller_and_each_code_comes_once(
    bot: Any, tg: FakeTelegram, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("50.00"))
    await chat.connect_gotsms()
    first_card = await chat.buy_gotsms("Telegram", "1 day")
    second_card = await chat.buy_gotsms("Telegram", "1 day")
    first_rent, second_rent = gotsms.rents_of(GOTSMS_TOKEN)
    taps = _buttons(first_card, "Refresh", "Wake up", "Messages") + _buttons(second_card, "Messages", "Refresh", "Wake up")

    expected: dict[str, int] = {}
    for n in range(GOTSMS_ROUNDS):
        for rent in (first_rent, second_rent):
            code = f"{7100 + 10 * n + (rent is second_rent)}{n % 10}"
            gotsms.receive_sms(rent.id, f"Telegram code {code}", code=code)
            expected[code] = chat.chat_id
        await _tap_all(tg, chat, taps + taps)

    await wait_for_codes(tg, expected, CODE_TIMEOUT)
    await _settle(lambda: gotsms.request_count("GET", "/api/messages/unread"))
    assert delivery_report(tg, expected, [chat.chat_id]).problems() == []


async def test_refresh_taps_race_the_poller_on_kiwi_and_nonvoip_orders_and_each_code_comes_once(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("50.00"))
    await chat.connect_kiwi()
    await chat.connect_nonvoip()
    cards = [await chat.buy("WhatsApp"), await chat.buy("WhatsApp")]
    for _ in range(2):
        await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
        chat.press("Confirm")
        cards.append(await chat.expect("waiting for the SMS"))
    taps = [tap for card in cards for tap in _buttons(card, "Refresh")]
    rentals = kiwi.rentals_of(KIWI_KEY)
    nv_orders = nonvoip.orders_of(NONVOIP_EMAIL)

    expected: dict[str, int] = {}
    for n in range(ROUNDS):
        for i, rental in enumerate(rentals):  # a kiwiSMS rental takes SMS after SMS
            code = f"52{n}{i}81"
            kiwi.receive_sms(rental.id, f"WhatsApp code {code}", code=code)
            expected[code] = chat.chat_id
        if n < len(nv_orders):  # a 10-minutes NonVoipUsNumber order takes one
            code = f"63{n}942"
            nonvoip.receive_sms(nv_orders[n].order_id, f"Instagram code {code}", pin=code)
            expected[code] = chat.chat_id
        await _tap_all(tg, chat, taps + taps)

    await wait_for_codes(tg, expected, CODE_TIMEOUT)
    await _settle(lambda: kiwi.request_count("GET", "/api/v1/rentals"))
    assert delivery_report(tg, expected, [chat.chat_id]).problems() == []
