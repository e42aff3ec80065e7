"""GotSMS through the bot: the real Application against the fake Bot API and the simulator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.sim import GotSmsSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import GOTSMS_TOKEN, bought_gotsms_rent, Chat, ticks


async def test_connect_with_a_good_token_and_a_wrong_one(bot: Any, tg: FakeTelegram, gotsms: GotSmsSimulator, chat: Chat) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("30.00"))
    await chat.start_connect("GotSMS")
    wrong = chat.send("not-a-real-token")
    failed = await chat.expect("refused")
    assert "Unauthenticated" in failed.text
    assert tg.is_deleted(chat.chat_id, wrong["message_id"])
    right = chat.send(GOTSMS_TOKEN)
    connected = await chat.expect("connected, balance")
    assert "GotSMS connected, balance $30.00" in connected.text
    assert tg.is_deleted(chat.chat_id, right["message_id"])


async def test_a_daily_plan_receives_two_sms_as_two_messages_each_once(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("30.00"))
    await chat.connect_gotsms()
    card = await chat.buy_gotsms("Telegram", "1 day")
    assert {"Wake up", "Extend", "Refund", "Messages", "Refresh"} <= set(card.button_labels)
    assert not any("auto-renewal" in label.lower() for label in card.button_labels)  # daily plans have none
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    assert gotsms.balance_of(GOTSMS_TOKEN) == Decimal("30.00") - rent.price
    gotsms.receive_sms(rent.id, "Telegram code 11223")
    await chat.expect("🔑 11223")
    gotsms.receive_sms(rent.id, "Telegram code 44556")
    await chat.expect("🔑 44556")
    await ticks(bot, 4)
    assert len(chat.codes_sent("11223")) == 1 and len(chat.codes_sent("44556")) == 1


async def test_wake_up_shows_the_online_window(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    gotsms.add_account(GOTSMS_TOKEN)
    await chat.connect_gotsms()
    await chat.buy_gotsms("Telegram", "1 day")
    answer = await chat.tg.wait_for_callback_answer(chat.press("Wake up"))
    assert "Online until" in answer["text"] and "min left" in answer["text"]
    again = await chat.tg.wait_for_callback_answer(chat.press("Wake up"))
    assert "already awake" in again["text"]


async def test_extend_moves_a_daily_rent_to_a_monthly_plan(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("100.00"))
    await chat.connect_gotsms()
    await chat.buy_gotsms("Telegram", "1 day")
    chat.press("Extend")
    options = await chat.expect("to a longer plan")
    assert any(label.startswith("1 month") for label in options.button_labels)
    chat.press_starting("1 month")
    await chat.expect("Extend to the 1 month plan")
    answer = await chat.tg.wait_for_callback_answer(chat.press("Confirm"))
    assert "Extended until" in answer["text"]
    card = chat.tg.messages(chat.chat_id)[-1]
    assert any("auto-renewal" in label.lower() for label in card.button_labels) and "Extend" not in card.button_labels
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    assert rent.plan_id == gotsms.plan_id("Telegram", "month", duration_in_type=1)


async def test_auto_renewal_toggles_on_a_monthly_plan_and_is_refused_on_a_daily_one(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("100.00"))
    await chat.connect_gotsms()
    await chat.buy_gotsms("Telegram", "1 month")
    answer = await chat.tg.wait_for_callback_answer(chat.press(chat.auto_renewal_button()))
    assert "ON" in answer["text"]
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    assert gotsms.rent(rent.id).auto_renew is True
    # A daily rent offers no toggle; a forged button gets the provider's reason.
    await chat.buy_gotsms("Telegram", "1 day")
    daily = chat.tg.messages(chat.chat_id)[-1]
    order_id = next(b["callback_data"] for row in daily.buttons for b in row if b["text"] == "Extend").split(":")[2]
    forged = chat.tg.callback_update_for_foreign_message(chat.chat_id, chat.chat_id, daily.message_id, f"o:autorenew:{order_id}")
    refused = await chat.tg.wait_for_callback_answer(forged)
    assert "not possible" in refused["text"]
    assert gotsms.request_count("POST", f"/api/rents/{gotsms.rents_of(GOTSMS_TOKEN)[1].id}/renewal/toggle") == 0


async def test_refund_asks_first_then_refunds_or_shows_the_providers_reason(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("30.00"))
    await chat.connect_gotsms()
    await chat.buy_gotsms("Telegram", "1 day")
    chat.press("Refund")
    await chat.expect("provider decides")
    answer = await chat.tg.wait_for_callback_answer(chat.press("Yes, refund"))
    assert "Refunded" in answer["text"]
    assert gotsms.balance_of(GOTSMS_TOKEN) == Decimal("30.00")
    await chat.buy_gotsms("Telegram", "1 day")
    second = gotsms.rents_of(GOTSMS_TOKEN)[-1]
    gotsms.receive_sms(second.id, "code 9090")
    await chat.expect("🔑 9090")
    chat.press("Refund")
    await chat.expect("provider decides")
    refused = await chat.tg.wait_for_callback_answer(chat.press("Yes, refund"))
    assert "already received SMS" in refused["text"]


async def test_messages_are_paged(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day")
    for n in range(7):
        gotsms.receive_sms(rent.id, f"message number {n} code {1000 + n}")
    await chat.expect("🔑 1006")
    chat.press("Messages")
    first = await chat.expect("Messages on")
    assert "message number 6" in first.text and "message number 1" not in first.text
    chat.press("Older ▶")
    older = await chat.expect("(older)")
    assert "message number 1" in older.text and "message number 6" not in older.text


async def test_services_page_past_the_first_page(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    gotsms.add_account(GOTSMS_TOKEN)
    await chat.connect_gotsms()
    first = await chat.open_section("GotSMS", "Rental plans", expecting="page 1/")
    chat.press("▶")
    second = await chat.expect("page 2/")
    assert set(first.button_labels) != set(second.button_labels)


async def test_a_finished_rent_is_announced_and_no_longer_polled(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    rent = await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day")
    gotsms.finish(rent.id)
    chat.press("Refresh")
    await chat.expect("has ended")
    await ticks(bot, 2)
    before = gotsms.request_count("GET", "/api/messages/unread")
    await ticks(bot, 4)
    assert gotsms.request_count("GET", "/api/messages/unread") == before  # no live rent, no polling


async def test_one_unread_request_per_account_per_tick_whatever_the_rents(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("100.00"))
    await chat.connect_gotsms()
    for _ in range(4):
        await chat.buy_gotsms("Telegram", "1 day")
    start = len(gotsms.requests)
    await ticks(bot, 5)
    window = gotsms.requests[start:]
    unread = [r for r in window if r.path == "/api/messages/unread"]
    others = [r for r in window if r.path != "/api/messages/unread"]
    assert 3 <= len(unread) <= 7 and others == []  # ~5 ticks of 0.2 s for 4 rents


async def test_a_long_rent_gets_one_reminder_with_its_buttons_before_it_ends(
    bot: Any, gotsms: GotSmsSimulator, chat: Chat, monkeypatch: Any
) -> None:
    from datetime import timedelta

    from bot import poller
    from storage.database import utcnow

    gotsms.add_account(GOTSMS_TOKEN, Decimal("30.00"))
    await chat.connect_gotsms()
    await chat.buy_gotsms("Telegram", "1 week")
    six_and_a_half_days_later = utcnow() + timedelta(days=6, hours=12)
    monkeypatch.setattr(poller, "utcnow", lambda: six_and_a_half_days_later)
    reminder = await chat.expect("ends in")
    assert "Renew it to keep the number" in reminder.text
    assert "Refund" in reminder.button_labels and "Wake up" in reminder.button_labels
    await ticks(bot, 4)
    assert sum("ends in" in m.text for m in chat.tg.sent(chat.chat_id)) == 1
