"""What the chat says is true: refunds, expiry, bundles, reminders, long cards, plans after Extend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from storage.database import to_db_time
from tests.helpers import (
    GOTSMS_TOKEN, NONVOIP_EMAIL, NONVOIP_PASSWORD, bought_gotsms_rent, bought_nonvoip_order, Chat, ticks,
)


async def test_a_nonvoip_order_that_expires_without_a_code_is_announced_refunded(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    order = await bought_nonvoip_order(chat, nonvoip, "10-minutes", "Instagram", balance=Decimal("10.00"))
    nonvoip.expire(order.order_id)
    notice = await chat.expect("expired without a code")
    assert "refunded by the provider" in notice.text


async def test_a_long_number_that_got_a_code_then_expired_says_so(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    order = await bought_nonvoip_order(chat, nonvoip, "1-day", "Telegram", balance=Decimal("10.00"))
    nonvoip.receive_sms(order.order_id, "Telegram code 73737")
    await chat.expect("🔑 73737")
    nonvoip.expire(order.order_id)
    notice = await chat.expect("expired after its code")
    assert "without a code" not in notice.text and "refunded by the provider" not in notice.text


async def test_each_sms_of_a_bundle_arrives_under_its_own_service(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("20.00"))
    await chat.connect_nonvoip()
    await chat.buy_nonvoip_bundle(["WhatsApp", "Telegram"])
    await ticks(bot, 2)
    orders = nonvoip.orders_of(NONVOIP_EMAIL)
    by_service = {o.service: o for o in orders} if len(orders) > 1 else None
    if by_service is not None:  # one order per service, one number
        assert len({o.number for o in orders}) == 1
        nonvoip.receive_sms(by_service["WhatsApp"].order_id, "WhatsApp code 11111")
        nonvoip.receive_sms(by_service["Telegram"].order_id, "Telegram code 22222")
    else:  # one order for the bundle: each SMS names its service
        nonvoip.receive_sms(orders[0].order_id, "WhatsApp code 11111", service="WhatsApp")
        nonvoip.receive_sms(orders[0].order_id, "Telegram code 22222", service="Telegram")
    whatsapp = await chat.expect("🔑 11111")
    telegram = await chat.expect("🔑 22222")
    assert "Service: WhatsApp" in whatsapp.text and "Service: Telegram" in telegram.text


async def test_a_long_rental_is_reminded_once_per_term_and_again_after_renewal(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat, monkeypatch: Any
) -> None:
    from bot import poller

    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("20.00"))
    await chat.connect_nonvoip()
    await chat.buy_nonvoip("1-day", "Telegram")
    services = bot.bot_data["services"]
    (order,) = await services.orders.active_for_chat(chat.chat_id)
    assert order.expires_at is not None
    # The poller's clock moves to an hour before the day's term ends.
    monkeypatch.setattr(poller, "utcnow", lambda: order.expires_at - timedelta(hours=1))
    reminder = await chat.expect("Renew it to keep the number")
    assert "Renew" in reminder.button_labels
    await ticks(bot, 4)
    assert sum("Renew it to keep" in m.text for m in chat.tg.sent(chat.chat_id)) == 1
    chat.press("Renew")
    await chat.expect("for how long")
    chat.press("Renew 1 day")
    await chat.expect("Renew for 1 day")
    renewed = await chat.tg.wait_for_callback_answer(chat.press("Confirm"))
    assert "Renewed" in renewed["text"]
    (renewed_order,) = await services.orders.active_for_chat(chat.chat_id)
    assert renewed_order.expires_at is not None and renewed_order.expires_at > order.expires_at
    # The new term nears its end too.
    monkeypatch.setattr(poller, "utcnow", lambda: renewed_order.expires_at - timedelta(hours=1))
    await chat.expect("Renew it to keep the number", since=chat.tg.seq())
    await ticks(bot, 4)
    assert sum("Renew it to keep" in m.text for m in chat.tg.sent(chat.chat_id)) == 2


async def test_a_refunded_gotsms_rent_stays_refunded(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("30.00"))
    await chat.connect_gotsms()
    await chat.buy_gotsms("Telegram", "1 day")
    chat.press("Refund")
    await chat.expect("refund")
    chat.press("Yes, refund")
    card = await chat.expect("cancelled — refunded")
    assert "Refresh" not in card.button_labels
    await ticks(bot, 4)
    chat.send("/history")
    history = await chat.expect("History")
    assert "refunded" in history.text and "done" not in history.text


async def test_the_order_card_stays_within_telegram_limits_with_many_sms(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 month", balance=Decimal("100.00"))
    filler = "x" * 400
    for index in range(40):
        gotsms.receive_sms(rent.id, f"Telegram code {10000 + index} {filler}")
    await chat.expect("🔑 10039", timeout=20)
    card = await chat.open_order("1. Telegram")
    assert "and 35 more" in card.text
    assert len(card.raw_text) <= 4096
    for code in ("10035", "10039"):
        assert code in card.text


async def test_extend_shows_the_new_plan_and_price(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day", balance=Decimal("100.00"))
    day_price = rent.price
    chat.press("Extend")
    await chat.expect("to a longer plan")
    chat.press_starting("1 month")
    await chat.expect("Extend to the 1 month plan")
    await chat.tg.wait_for_callback_answer(chat.press("Confirm"))
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    card = chat.tg.messages(chat.chat_id)[-1]
    assert "Plan: 1 month" in card.text
    assert f"${rent.price.quantize(Decimal('0.01'))}" in card.text and rent.price > day_price


async def test_every_stored_sms_of_a_long_number_is_in_messages_a_page_at_a_time(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    order = await bought_nonvoip_order(chat, nonvoip, "1-day", "Telegram", balance=Decimal("10.00"))
    for index in range(7):
        nonvoip.receive_sms(order.order_id, f"Telegram code {40000 + index}")
        await chat.expect(f"🔑 {40000 + index}")
    await ticks(bot, 2)
    card = await chat.open_order("1. Telegram")
    assert "and 2 more" in card.text
    chat.tg.press_button(chat.chat_id, "Messages", message_id=card.message_id)
    newest = await chat.expect("Messages on")
    assert [f"{40000 + i}" in newest.text for i in range(7)] == [False, False, True, True, True, True, True]
    chat.press("Older ▶")
    older = await chat.expect("(older)")
    assert "40000" in older.text and "40001" in older.text and "40002" not in older.text
    assert "Older ▶" not in older.button_labels


async def test_the_order_card_says_the_duration_in_the_confirmation_cards_words(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    confirmation = await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    assert "Duration: 10 minutes" in confirmation.text
    chat.press("Confirm")
    card = await chat.expect("waiting for the SMS")
    assert "Duration: 10 minutes" in card.text
