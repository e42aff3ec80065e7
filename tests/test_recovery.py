"""Lost answers: codes marked read in an answer that never arrived, purchases of unknown outcome.

Each test breaks one promise on purpose through the simulators' fault knobs (a request the provider
processed whose answer is then lost), with the real Application against the fake Bot API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from handlers import texts
from providers.gotsms.simulator.models import LostAnswer
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, bought_gotsms_rent, Chat, ticks

UNREAD = "/api/messages/unread"


@pytest.mark.parametrize("how", list(LostAnswer))
async def test_gotsms_codes_marked_read_in_a_lost_answer_still_arrive_once(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat, how: LostAnswer
) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day", balance=Decimal("30.00"))
    gotsms.lose_answer_next("GET", UNREAD, how)  # the provider marks the SMS read, the answer is lost
    gotsms.receive_sms(rent.id, "Telegram code 90210")
    gotsms.receive_sms(rent.id, "Telegram code 90211")
    await chat.expect("🔑 90211")
    await ticks(bot, 4)
    assert len(chat.codes_sent("90210")) == 1 and len(chat.codes_sent("90211")) == 1
    first, second = (m for m in chat.tg.sent(chat.chat_id) if m.text.startswith("🔑 9021"))
    assert first.text.startswith("🔑 90210") and second.text.startswith("🔑 90211")  # oldest first


async def test_gotsms_recovery_reads_rent_messages_only_after_a_lost_answer(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day", balance=Decimal("30.00"))
    gotsms.receive_sms(rent.id, "Telegram code 31337")
    await chat.expect("🔑 31337")
    await ticks(bot, 3)
    unread_before = gotsms.request_count("GET", UNREAD)
    others_before = gotsms.request_count("GET") - unread_before
    await ticks(bot, 4)
    # The normal case: one unread request per tick, nothing per rent.
    assert gotsms.request_count("GET") - gotsms.request_count("GET", UNREAD) == others_before
    assert gotsms.request_count("GET", UNREAD) > unread_before


async def test_a_gotsms_rent_bought_in_a_lost_answer_is_adopted_with_its_card(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("30.00"))
    await chat.connect_gotsms()
    gotsms.lose_answer_next("POST", "/api/rents", LostAnswer.SERVER_ERROR)
    confirmation = await chat.open_gotsms_confirmation("Telegram", "1 day")
    chat.press("Confirm")
    await chat.expect("do not buy it again")
    adopted = await chat.expect("did go through")
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    assert "Wake up" in adopted.button_labels
    gotsms.receive_sms(rent.id, "Telegram code 55667")
    await chat.expect("🔑 55667")
    # A tap on the old Confirm (its data replayed) buys nothing more.
    confirm_data = _button_data(confirmation.buttons, "Confirm")
    answer = await chat.tg.wait_for_callback_answer(chat.tg.press_data(chat.chat_id, confirmation.message_id, confirm_data))
    assert "already" in answer.get("text", "").lower()
    await ticks(bot, 2)
    assert len(gotsms.rents_of(GOTSMS_TOKEN)) == 1


def _button_data(rows: list[list[dict[str, Any]]], label: str) -> str:
    return next(b["callback_data"] for row in rows for b in row if b.get("text") == label)


async def test_a_kiwi_rental_whose_every_answer_was_lost_is_adopted_not_bought_twice(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("10.00"))
    await chat.connect_kiwi()
    await chat.open_confirmation("WhatsApp")
    kiwi.fail_after_next("POST", "/api/v1/rent", 503, {"error": "down", "code": "PROVIDER_ERROR"}, times=10)
    chat.press("Confirm")
    await chat.expect("do not buy it again")
    adopted = await chat.expect("did go through")
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    assert texts.phone(rental.phone) in adopted.text
    assert kiwi.balance_of(KIWI_KEY) == Decimal("10.00") - rental.price
    kiwi.receive_sms(rental.id, "code 828282")
    await chat.expect("🔑 828282")


async def test_a_nonvoip_purchase_of_unknown_outcome_is_told_plainly_and_buying_again_asks_first(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    nonvoip.lose_answer_next("/api/order", 500)
    chat.press("Confirm")
    told = await chat.expect("may have been charged")
    assert "Buy again anyway…" in told.button_labels
    assert len(nonvoip.orders_of(NONVOIP_EMAIL)) == 1  # it was charged
    await ticks(bot, 3)
    assert sum("may have been charged" in m.text for m in chat.tg.sent(chat.chat_id)) <= 1  # said once
    chat.press("Buy again anyway…")
    again = await chat.expect("Confirm your order")
    assert len(nonvoip.orders_of(NONVOIP_EMAIL)) == 1  # nothing bought without its own Confirm
    chat.tg.press_button(chat.chat_id, "Confirm", message_id=again.message_id)
    await chat.expect("waiting for the SMS")
    assert len(nonvoip.orders_of(NONVOIP_EMAIL)) == 2
