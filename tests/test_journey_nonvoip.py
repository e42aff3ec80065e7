"""NonVoipUsNumber through the bot: the real Application against the fake Bot API and the simulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.logging_setup import setup_logging
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import NONVOIP_EMAIL, NONVOIP_PASSWORD, bought_nonvoip_order, Chat, ticks

INSTAGRAM_10_MIN = "10000086"
WHATSAPP_30_DAYS = "9044"


async def test_connect_asks_email_then_password_and_deletes_the_password(
    bot: Any, tg: FakeTelegram, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("25.00"))
    connected = await chat.connect_nonvoip()
    assert "NonVoipUsNumber connected, balance $25.00" in connected.text
    password_messages = [c for c in tg.calls("deleteMessage")]
    assert len(password_messages) == 1


async def test_wrong_credentials_show_the_providers_reason_and_store_nothing(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    await chat.start_connect("NonVoipUsNumber")
    chat.send(NONVOIP_EMAIL)
    await chat.expect("password")
    chat.send("not-the-password")
    failed = await chat.expect("refused")
    assert "Wrong Auth" in failed.text and "Nothing was stored" in failed.text
    chat.send("/balance")
    await chat.expect("No provider is connected")


async def test_buy_a_10_minute_number_and_receive_its_code_once(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    card = await chat.buy_nonvoip("10-minutes", "Instagram")
    assert card.button_labels == ["Reject", "Refresh", "« My orders"]
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    nonvoip.receive_sms(order.order_id, "Your Instagram OTP is 545123")
    code = await chat.expect("🔑 545123")
    assert "Your Instagram OTP is 545123" in code.text
    await chat.expect("code received")
    await ticks(bot, 4)
    assert len(chat.codes_sent("545123")) == 1


async def test_a_price_change_is_accepted_only_by_a_tap(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    nonvoip.require_price_change(INSTAGRAM_10_MIN, Decimal("1.70"))
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    decision = await chat.expect("price changed")
    assert "$1.70" in decision.text and decision.button_labels == ["Accept $1.70", "Cancel"]
    assert nonvoip.orders_of(NONVOIP_EMAIL) == []
    assert nonvoip.request_count("/api/order") == 1
    chat.press("Accept $1.70")
    await chat.expect("waiting for the SMS")
    assert nonvoip.request_count("/api/order") == 2
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    assert nonvoip.balance_of(NONVOIP_EMAIL) == Decimal("10.00") - order.price
    retry = [r for r in nonvoip.requests if r.path.endswith("/api/order")][-1]
    assert Decimal(str(retry.json["accepted_max_price"])) == Decimal("1.70")


async def test_a_declined_price_change_sends_no_second_order(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    nonvoip.require_price_change(INSTAGRAM_10_MIN, Decimal("1.70"))
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    await chat.expect("price changed")
    chat.press("Cancel")
    await chat.expect("Nothing was bought")
    await ticks(bot, 2)
    assert nonvoip.request_count("/api/order") == 1
    assert nonvoip.balance_of(NONVOIP_EMAIL) == Decimal("10.00")


async def test_a_premium_bid_is_placed_only_by_a_tap(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    nonvoip.offer_premium(INSTAGRAM_10_MIN, 20)
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    decision = await chat.expect("premium bid")
    assert decision.button_labels == ["Bid +20%", "Cancel"]
    chat.press("Bid +20%")
    await chat.expect("waiting for the SMS")
    retry = [r for r in nonvoip.requests if r.path.endswith("/api/order")][-1]
    assert int(retry.json["auction"]) == 20
    assert len(nonvoip.orders_of(NONVOIP_EMAIL)) == 1


async def test_insufficient_balance_is_said_in_words(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("0.05"))
    await chat.connect_nonvoip()
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    failed = await chat.expect("not placed")
    assert "Insufficient balance" in failed.text


async def test_reject_before_a_code_refunds_and_updates_the_card(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    await chat.buy_nonvoip("10-minutes", "Instagram")
    chat.press("Reject")
    card = await chat.expect("cancelled")
    assert "refunded" in card.text and card.button_labels == ["« My orders"]
    assert nonvoip.balance_of(NONVOIP_EMAIL) == Decimal("10.00")


async def test_reuse_after_a_code_brings_the_next_sms_as_its_own_message(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    order = await bought_nonvoip_order(chat, nonvoip, "10-minutes", "Instagram", balance=Decimal("10.00"))
    nonvoip.receive_sms(order.order_id, "Instagram code 111222")
    await chat.expect("🔑 111222")
    card = await chat.expect("code received")
    assert "Reuse" in card.button_labels
    chat.press("Reuse")
    await chat.expect("Reuse: wait for one more SMS")  # the amount first, on a card of its own
    query = chat.press("Confirm")
    assert "Reused" in (await chat.tg.wait_for_callback_answer(query))["text"]
    order_id = nonvoip.orders_of(NONVOIP_EMAIL)[-1].order_id
    nonvoip.receive_sms(order_id, "Instagram code 333444")
    await chat.expect("🔑 333444", since=0)
    await ticks(bot, 3)
    assert len(chat.codes_sent("111222")) == 1 and len(chat.codes_sent("333444")) == 1


async def test_activate_and_renew_a_30_day_number(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("20.00"))
    await chat.connect_nonvoip()
    await chat.open_nonvoip_confirmation("30-days", "WhatsApp")
    chat.press("Confirm")
    card = await chat.expect("NonVoipUsNumber · WhatsApp")
    assert card.button_labels == ["Activate", "Renew", "Refresh", "« My orders"]
    activated = await chat.tg.wait_for_callback_answer(chat.press("Activate"))
    assert "Activated" in activated["text"] and "until" in activated["text"]
    chat.press("Renew")
    durations = await chat.expect("for how long")
    assert "Renew 30 days" in durations.button_labels
    chat.press("Renew 30 days")
    await chat.expect("Renew for 30 days")
    renewed = await chat.tg.wait_for_callback_answer(chat.press("Confirm"))
    assert "Renewed until" in renewed["text"]
    assert nonvoip.request_count("/api/renew") == 1


async def test_a_country_order_keeps_its_string_id(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("10.00"))
    await chat.connect_nonvoip()
    await chat.buy_nonvoip("Country", "Telegram (United Kingdom)")
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    assert order.order_id.startswith("sb_")
    nonvoip.receive_sms(order.order_id, "Telegram code 70809")
    await chat.expect("🔑 70809")


async def test_the_password_is_in_no_log_line_and_not_in_clear_in_the_database(
    bot: Any, nonvoip: NonVoipSimulator, chat: Chat, settings: Settings, caplog: Any
) -> None:
    caplog.set_level("DEBUG")
    setup_logging("DEBUG", settings.secrets)  # what `python -m bot` does with LOG_LEVEL=DEBUG
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD)
    await chat.connect_nonvoip()
    await chat.buy_nonvoip("10-minutes", "Instagram")
    assert NONVOIP_PASSWORD not in caplog.text
    database = b"".join(p.read_bytes() for p in Path(settings.database_path).parent.glob("bot.sqlite3*"))
    assert NONVOIP_PASSWORD.encode() not in database


async def test_a_429_storm_on_one_account_neither_stops_others_nor_is_amplified(
    bot: Any, tg: FakeTelegram, nonvoip: NonVoipSimulator
) -> None:
    stormy, calm = Chat(tg, 1001), Chat(tg, 2002)
    nonvoip.add_account("stormy@example.com", NONVOIP_PASSWORD)
    nonvoip.add_account("calm@example.com", NONVOIP_PASSWORD)
    await stormy.connect_nonvoip("stormy@example.com")
    await calm.connect_nonvoip("calm@example.com")
    for chat in (stormy, calm):
        await chat.buy_nonvoip("10-minutes", "Instagram")
    nonvoip.fail_next(
        "/api/getsms", 429, {"status": "error", "message": "Too many requests", "retryAfter": 3},
        times=1000, email="stormy@example.com",
    )
    before = nonvoip.request_count("/api/getsms", email="stormy@example.com")
    (calm_order,) = nonvoip.orders_of("calm@example.com")
    nonvoip.receive_sms(calm_order.order_id, "Instagram code 246810")
    await calm.expect("🔑 246810")
    await ticks(bot, 8)  # ~7 poll ticks
    during = nonvoip.request_count("/api/getsms", email="stormy@example.com") - before
    assert 1 <= during <= 2  # the first 429 pauses the account for its retryAfter; no retries


async def test_a_30_day_number_can_bundle_several_services(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("20.00"))
    await chat.connect_nonvoip()
    page = await chat.select_nonvoip_bundle(["WhatsApp", "Telegram"])
    assert sum(label.startswith("✅") for label in page.button_labels) == 2
    chat.press_starting("Continue with 2")
    card = await chat.expect("Confirm your order")
    assert "WhatsApp + Telegram" in card.text and "$4.00" in card.text
    await chat.confirm_purchase()
    order_request = next(r for r in nonvoip.requests if r.path.endswith("/api/order"))
    assert [str(p) for p in order_request.json["product_ids"]] == [WHATSAPP_30_DAYS, "8555"]
    orders = nonvoip.orders_of(NONVOIP_EMAIL)  # one order per service, all on one number
    assert len(orders) == 2 and len({o.number for o in orders}) == 1
