"""/orders as one message (a paged list, each order opening its card in place), the card's facts
and buttons, and a refused question that gives the card back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import BotMessage
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, Chat, bought_gotsms_rent, placed_kiwi_orders, ticks


def _message(chat: Chat, message_id: int) -> BotMessage:
    return next(m for m in chat.tg.messages(chat.chat_id) if m.message_id == message_id)


async def test_orders_is_one_paged_message_whose_orders_open_their_cards_in_place(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("100.00"))
    await chat.connect_kiwi()
    await placed_kiwi_orders(bot, chat, 8)
    before = len(chat.tg.sent(chat.chat_id))
    chat.send("/orders")
    first = await chat.expect("Active orders: 8")
    assert len(chat.tg.sent(chat.chat_id)) == before + 1  # one message, not a card per order
    assert "(page 1/2)" in first.text and "WhatsApp" in first.text and "waiting for the SMS" in first.text
    assert "min left" in first.text
    assert [label[:2] for label in first.button_labels[:6]] == ["1.", "2.", "3.", "4.", "5.", "6."]
    assert first.button_labels[6:] == ["1/2", "▶", "« Back", "☰ Menu"]

    chat.press("▶")
    second = await chat.expect("(page 2/2)")
    assert second.message_id == first.message_id
    assert [label[:2] for label in second.button_labels[:2]] == ["7.", "8."]
    assert second.button_labels[2:] == ["◀", "2/2", "« Back", "☰ Menu"]

    chat.press_starting("8.")  # the oldest order (the list is newest first)
    card = await chat.expect("Order #")
    assert card.message_id == first.message_id
    assert "Ends:" in card.text and "UTC" in card.text and "Time left:" in card.text
    assert card.button_labels == ["Cancel", "Refresh", "« My orders"]
    assert len(chat.tg.sent(chat.chat_id)) == before + 1

    # The card opened from the list is the one the poller keeps up to date.
    oldest = kiwi.rentals_of(KIWI_KEY)[0]
    kiwi.receive_sms(oldest.id, "WhatsApp code 424242")
    await chat.expect("🔑 424242")
    await ticks(bot, 2)
    assert "424242" in _message(chat, card.message_id).text
    assert "code received" in _message(chat, card.message_id).text

    # Back to the list, in place; the poller no longer turns that message into the card.
    chat.press("« My orders")
    back = await chat.expect("Active orders: 8")
    assert back.message_id == first.message_id
    kiwi.receive_sms(oldest.id, "WhatsApp code 515151")
    await chat.expect("🔑 515151")
    await ticks(bot, 2)
    assert _message(chat, first.message_id).text.startswith("Active orders")


async def test_every_orders_button_is_answered_and_the_menu_is_one_tap_away(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await placed_kiwi_orders(bot, chat, 1)
    chat.send("/orders")
    listing = await chat.expect("Active orders: 1")
    assert "1/1" not in listing.button_labels  # one page: no pager
    opened = chat.press_starting("1.")
    await chat.tg.wait_for_callback_answer(opened)
    back = chat.press("« My orders")
    await chat.tg.wait_for_callback_answer(back)
    await chat.expect("Active orders: 1")
    menu = chat.press("☰ Menu")
    await chat.tg.wait_for_callback_answer(menu)
    shown = await chat.expect("Hi")
    assert shown.message_id == listing.message_id and "My orders" in shown.button_labels
    # Another chat's order (a forged button) opens nothing.
    forged = chat.tg.press_data(chat.chat_id, listing.message_id, "ov:999999")
    assert "not in this chat" in (await chat.tg.wait_for_callback_answer(forged))["text"]


async def test_the_card_shows_its_plan_what_was_paid_and_when_it_ends(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 month", balance=Decimal("100.00"))
    card = await chat.open_order("1. Telegram")
    assert "Plan: 1 month" in card.text
    assert f"Paid so far: ${rent.price.quantize(Decimal('0.01'))}" in card.text
    ends = rent.active_till
    assert f"Ends: {ends:%b} {ends.day}, {ends.year}, {ends:%H:%M} UTC" in card.text
    assert "Time left: 29 d" in card.text or "Time left: 30 d" in card.text


async def test_auto_renewal_state_is_on_the_card_and_the_button_says_what_it_will_do(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 month", balance=Decimal("100.00"))
    on = await chat.tg.wait_for_callback_answer(chat.press(chat.auto_renewal_button()))
    assert "ON" in on["text"] and gotsms.rent(rent.id).auto_renew is True
    card = chat.tg.messages(chat.chat_id)[-1]
    assert "Auto-renewal: on" in card.text and "Turn auto-renewal off" in card.button_labels
    await chat.tg.wait_for_callback_answer(chat.press("Turn auto-renewal off"))
    card = chat.tg.messages(chat.chat_id)[-1]
    assert "Auto-renewal: off" in card.text and "Turn auto-renewal on" in card.button_labels
    assert gotsms.rent(rent.id).auto_renew is False


async def test_auto_renewal_is_read_from_the_provider_at_purchase_and_on_refresh(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 month", balance=Decimal("100.00"))
    card = chat.tg.messages(chat.chat_id)[-1]
    assert "Auto-renewal: off" in card.text and "Turn auto-renewal on" in card.button_labels
    gotsms.rent(rent.id).auto_renew = True  # turned on at the provider's website
    await chat.tg.wait_for_callback_answer(chat.press("Refresh"))
    card = chat.tg.messages(chat.chat_id)[-1]
    assert "Auto-renewal: on" in card.text and "Turn auto-renewal off" in card.button_labels


async def test_a_refused_refund_takes_the_question_off_the_screen(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day")
    gotsms.receive_sms(rent.id, "code 9090")
    await chat.expect("🔑 9090")
    chat.press("Refund")
    question = await chat.expect("provider decides")
    refused = await chat.tg.wait_for_callback_answer(chat.press("Yes, refund"))
    assert refused.get("show_alert") and "already received SMS" in refused["text"]
    screen = _message(chat, question.message_id)
    assert "provider decides" not in screen.text and "Order #" in screen.text
    assert "Refund" in screen.button_labels and "Yes, refund" not in screen.button_labels
    assert gotsms.balance_of(GOTSMS_TOKEN) == Decimal("50.00") - rent.price  # nothing came back
