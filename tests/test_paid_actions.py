"""Every paid action on an order shows its amount on a card of its own and is placed once per
confirmed tap, whatever the taps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import BotMessage
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat, ticks


def _data(message: BotMessage, label: str) -> str:
    return next(b["callback_data"] for row in message.buttons for b in row if b.get("text") == label)


async def _double_tap_confirm(chat: Chat, card: BotMessage) -> None:
    """Two taps on the same Confirm (a double tap, or a retried update)."""
    data = _data(card, "Confirm")
    first = chat.tg.press_data(chat.chat_id, card.message_id, data)
    second = chat.tg.press_data(chat.chat_id, card.message_id, data)
    await chat.tg.wait_for_callback_answer(first)
    await chat.tg.wait_for_callback_answer(second)


async def test_a_kiwi_renewal_shows_its_price_and_renews_once_under_a_double_tap(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("10.00"))
    await chat.connect_kiwi()
    await chat.buy("WhatsApp")
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    kiwi.receive_sms(rental.id, "code 123456")
    await chat.expect("🔑 123456")
    await ticks(bot, 2)
    chat.press("Renew")
    card = await chat.expect("Renew: a new session")
    assert f"${rental.price.quantize(Decimal('0.01'))}" in card.text
    assert len(kiwi.rentals_of(KIWI_KEY)) == 1  # nothing bought by the first tap
    await _double_tap_confirm(chat, card)
    await ticks(bot, 2)
    assert len(kiwi.rentals_of(KIWI_KEY)) == 2
    assert kiwi.balance_of(KIWI_KEY) == Decimal("10.00") - 2 * rental.price
    renewed = next(m for m in chat.tg.messages(chat.chat_id) if m.message_id == card.message_id)
    assert "waiting for the SMS" in renewed.text and "Duration: 20 minutes" in renewed.text  # as its first card said


async def test_a_nonvoip_reuse_needs_its_own_confirm_and_charges_once(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    await chat.expect("waiting for the SMS")
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    nonvoip.receive_sms(order.order_id, "Instagram code 565656")
    await chat.expect("🔑 565656")
    await ticks(bot, 2)
    chat.press("Reuse")
    card = await chat.expect("Reuse: wait for one more SMS")
    assert "Price:" in card.text
    assert nonvoip.request_count("/api/reuse") == 0
    await _double_tap_confirm(chat, card)
    await ticks(bot, 2)
    assert nonvoip.request_count("/api/reuse") == 1
    shown = next(m for m in chat.tg.messages(chat.chat_id) if m.message_id == card.message_id)
    assert "code received" in shown.text and "waiting for the SMS" not in shown.text  # never backwards


async def test_a_nonvoip_renewal_says_the_provider_sets_the_price_and_cancel_charges_nothing(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("20.00"))
    await chat.connect_nonvoip()
    await chat.open_nonvoip_confirmation("30-days", "WhatsApp")
    chat.press("Confirm")
    await chat.expect("waiting for the SMS")
    chat.press("Renew")
    await chat.expect("for how long")
    chat.press("Renew 30 days")
    card = await chat.expect("Renew for 30 days")
    assert "price set by the provider" in card.text
    chat.press("Cancel")
    back = await chat.expect("NonVoipUsNumber · WhatsApp")
    assert "Renew" in back.button_labels
    await ticks(bot, 2)
    assert nonvoip.request_count("/api/renew") == 0
    chat.press("Renew")
    await chat.expect("for how long")
    chat.press("Renew 30 days")
    card = await chat.expect("Renew for 30 days")
    await _double_tap_confirm(chat, card)
    await ticks(bot, 2)
    assert nonvoip.request_count("/api/renew") == 1


async def test_gotsms_extend_shows_the_plan_price_and_moves_once(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("100.00"))
    await chat.connect_gotsms()
    await chat.buy_gotsms("Telegram", "1 day")
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    day_price = rent.price
    chat.press("Extend")
    await chat.expect("to a longer plan")
    chat.press_starting("1 month")
    card = await chat.expect("Extend to the 1 month plan")
    assert "Price: <b>$" in card.raw_text or "Price: $" in card.text
    assert gotsms.request_count("POST") == 1  # only the purchase so far
    await _double_tap_confirm(chat, card)
    await ticks(bot, 2)
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    assert rent.plan_id == gotsms.plan_id("Telegram", "month", duration_in_type=1)
    transitions = [r for r in gotsms.requests if r.method == "POST" and r.path.endswith("/transition")]
    assert len(transitions) == 1
    shown = chat.tg.messages(chat.chat_id)[-1]
    assert "Plan: 1 month" in shown.text
    assert f"${rent.price.quantize(Decimal('0.01'))}" in shown.text and rent.price > day_price


async def test_a_code_arriving_while_a_paid_card_is_open_does_not_wipe_it(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("20.00"))
    await chat.connect_nonvoip()
    await chat.buy_nonvoip("1-day", "Telegram")
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    chat.press("Renew")
    await chat.expect("for how long")
    chat.press("Renew 1 day")
    card = await chat.expect("Renew for 1 day")
    nonvoip.receive_sms(order.order_id, "Telegram code 919191")
    await chat.expect("🔑 919191")  # the code comes as its own message
    await ticks(bot, 3)
    screen = next(m for m in chat.tg.messages(chat.chat_id) if m.message_id == card.message_id)
    assert "Renew for 1 day" in screen.text and "Confirm" in screen.button_labels  # still the paid card
    chat.tg.press_button(chat.chat_id, "Cancel", message_id=card.message_id)
    back = await chat.expect("code received")
    assert back.message_id == card.message_id and "919191" in back.text  # the card, up to date
    assert nonvoip.request_count("/api/renew") == 0
