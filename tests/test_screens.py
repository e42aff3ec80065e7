"""Every screen answers in words: menus, lists, outdated buttons and provider errors."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from bot.app import build_application, running
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, Chat


async def test_start_without_a_provider_leads_to_connecting(bot: Any, chat: Chat) -> None:
    chat.send("/start")
    greeting = await chat.expect("connect a provider")
    assert greeting.button_labels == ["Connect a provider"]
    chat.press("Connect a provider")
    choice = await chat.expect("Which provider")
    assert choice.button_labels == ["NonVoipUsNumber", "kiwiSMS", "GotSMS", "« Back", "☰ Menu"]


async def test_start_with_a_provider_shows_the_main_menu(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    chat.send("/start")
    menu = await chat.expect("Hi")
    assert menu.button_labels == ["Buy a number", "My orders", "Balance", "Providers", "History", "Help", "Settings"]


async def test_commands_are_registered_at_start_up(bot: Any, tg: FakeTelegram) -> None:
    names = [c["command"] for c in tg.commands]
    assert names == [
        "start", "buy", "orders", "balance", "providers", "connect", "history", "settings", "language", "help", "cancel"
    ]


async def test_help_explains_how_codes_arrive(bot: Any, chat: Chat) -> None:
    chat.send("/help")
    text = (await chat.expect("How codes arrive")).text
    for command in ("/buy", "/orders", "/history", "/connect", "/cancel"):
        assert command in text


async def test_cancel_leaves_the_key_prompt(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    chat.send("/connect")
    await chat.expect("Which provider")
    chat.press("kiwiSMS")
    await chat.expect("API key")
    chat.send("/cancel")
    await chat.expect("Cancelled")
    pasted = chat.send("lsms_some_text")  # no longer read as a key, but still not left in the chat
    await chat.expect("use /connect first")
    assert chat.tg.is_deleted(chat.chat_id, pasted["message_id"])
    assert kiwi.request_count("GET", "/api/v1/balance") == 0


async def test_odd_messages_get_an_answer(bot: Any, chat: Chat) -> None:
    chat.send("hello there")
    await chat.expect("did not understand")
    chat.send("/nonsense")
    await chat.expect("did not understand")


async def test_services_page_filter_and_paging(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    chat.send("/buy")
    await chat.expect("choose a provider")
    chat.press("kiwiSMS")
    countries = await chat.expect("choose a country")
    assert set(countries.button_labels) == {"USA", "UK", "Canada", "Germany", "France", "Netherlands", "« Back", "☰ Menu"}
    chat.press("USA")
    page_one = await chat.expect("page 1/")
    assert "▶" in page_one.button_labels
    assert any("$" in label and "left" in label for label in page_one.button_labels)
    chat.press("▶")
    page_two = await chat.expect("page 2/")
    assert set(page_two.button_labels) != set(page_one.button_labels)
    chat.send("tele")
    filtered = await chat.expect("matching “tele”")
    offers = [b for b in filtered.button_labels if "$" in b]
    assert offers and all("tele" in b.lower() for b in offers)
    chat.send("zzzz-no-such-service")
    await chat.expect("No service matches")


async def test_confirmation_card_shows_price_and_cancel_buys_nothing(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    kiwi.set_price("187", "wa", Decimal("0.83"))
    await chat.connect_kiwi()
    card = await chat.open_confirmation("WhatsApp")
    assert "Provider: kiwiSMS" in card.text and "Service: WhatsApp" in card.text
    assert "Price: $0.83" in card.text and "Country: USA" in card.text
    assert card.button_labels == ["Confirm", "Cancel", "☰ Menu"]
    assert all(len(b["callback_data"].encode()) <= 64 and "0.83" not in b["callback_data"] for row in card.buttons for b in row)
    chat.press("Cancel")
    await chat.expect("Nothing was bought")
    assert not any("Confirm" in m.button_labels for m in chat.tg.messages(chat.chat_id))
    assert kiwi.rentals_of(KIWI_KEY) == []


async def test_a_price_rise_after_the_card_never_charges_more(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("10.00"))
    kiwi.set_price("187", "wa", Decimal("0.50"))
    await chat.connect_kiwi()
    await chat.open_confirmation("WhatsApp")
    kiwi.set_price("187", "wa", Decimal("0.90"))
    chat.press("Confirm")
    await chat.expect("not placed")
    assert kiwi.rentals_of(KIWI_KEY) == [] and kiwi.balance_of(KIWI_KEY) == Decimal("10.00")
    rent = next(r for r in kiwi.requests if r.method == "POST" and r.path == "/api/v1/rentals")
    assert rent.json["max_price"] == "0.50"


async def test_insufficient_balance_is_said_in_words(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("0.01"))
    await chat.connect_kiwi()
    await chat.open_confirmation("WhatsApp")
    chat.press("Confirm")
    failed = await chat.expect("not placed")
    assert "Insufficient balance" in failed.text and "Nothing was charged" in failed.text
    chat.send("/orders")
    await chat.expect("no active orders")


async def test_a_malformed_provider_answer_is_said_in_words(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    kiwi.fail_next("GET", "/api/v1/balance", 200, "<html>not json</html>")
    chat.send("/balance")
    line = await chat.expect("Balances")
    assert "does not understand" in line.text


async def test_balance_and_providers_and_disconnect(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("12.34"))
    await chat.connect_kiwi()
    chat.send("/balance")
    assert "$12.34" in (await chat.expect("Balances")).text
    chat.send("/providers")
    overview = await chat.expect("Connected providers")
    assert "$12.34" in overview.text
    chat.press("Disconnect kiwiSMS")
    await chat.expect("Disconnect kiwiSMS?")
    chat.press("Yes, disconnect")
    await chat.expect("disconnected")
    chat.send("/balance")
    await chat.expect("No provider is connected")


async def test_provider_down_during_the_service_list(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    chat.send("/buy")
    await chat.expect("choose a provider")
    chat.press("kiwiSMS")
    await chat.expect("choose a country")
    kiwi.fail_next("GET", "/api/v1/services", 502, {"error": "Failed to fetch services", "code": "PROVIDER_ERROR"}, times=5)
    chat.press("UK")
    shown = await chat.expect("Failed to fetch services")
    assert shown.text.startswith("⚠️ kiwiSMS could not do this: Failed to fetch services.")  # in a sentence
    assert shown.button_labels  # the menu, to go on from there


async def test_an_outdated_or_unknown_button_gets_an_answer(bot: Any, tg: FakeTelegram, chat: Chat) -> None:
    chat.send("/start")
    await chat.expect("Hi")
    expected = {
        "b:c:no-such-card": "outdated",
        "o:cancel:999": "not in this chat",
        "o:explode:1": "outdated",
        "zz:unknown": "outdated",
        "b:s:kiwi:187:x": "outdated",
    }
    for data, words in expected.items():
        query = tg.callback_update_for_foreign_message(chat.chat_id, chat.chat_id, 1, data)
        answer = await tg.wait_for_callback_answer(query)
        assert words in (answer.get("text") or ""), data


async def test_history_lists_finished_orders_newest_first(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await chat.buy("WhatsApp")
    chat.press("Cancel")
    await chat.expect("cancelled")
    await chat.buy("Telegram")
    (_, second) = kiwi.rentals_of(KIWI_KEY)
    kiwi.receive_sms(second.id, "Telegram code 909090")
    await chat.expect("🔑 909090")
    await chat.expect("code received")
    chat.press("Done")
    await chat.expect("done")
    chat.send("/history")
    history = await chat.expect("History")
    assert history.text.index("Telegram") < history.text.index("WhatsApp")
    assert "909090" in history.text and "refunded" in history.text and "$" in history.text


async def test_orders_lists_active_cards(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await chat.buy("WhatsApp")
    card = await chat.open_order("1. WhatsApp")
    assert "waiting for the SMS" in card.text
    assert card.button_labels == ["Cancel", "Refresh", "« My orders"]
    assert (await chat.tg.wait_for_callback_answer(chat.press("Refresh")))["text"] == "Updated."
    assert "Cancel" in chat.tg.messages(chat.chat_id)[-1].button_labels


async def test_only_allowed_users_are_served(
    make_settings: Any, tg: FakeTelegram, kiwi: KiwiSimulator
) -> None:
    async with running(build_application(make_settings(allowed_user_ids=frozenset({1001})))):
        stranger = Chat(tg, 3003)
        stranger.send("/start")
        await stranger.expect("private")
        stranger.send("/buy")
        await asyncio.sleep(0.4)
        assert len(tg.sent(3003)) == 1  # one polite refusal and nothing else
        friend = Chat(tg, 1001)
        friend.send("/start")
        await friend.expect("Hi")


async def test_a_button_on_a_message_deleted_meanwhile_gets_a_fresh_screen(
    bot: Any, tg: FakeTelegram, chat: Chat, caplog: Any
) -> None:
    chat.send("/start")
    menu = await chat.expect("connect a provider")
    query = chat.press("Connect a provider")
    tg.user_deletes(chat.chat_id, menu.message_id)  # gone before the bot edits it
    fresh = await chat.expect("Which provider")
    assert fresh.message_id != menu.message_id and not tg.is_deleted(chat.chat_id, fresh.message_id)
    await tg.wait_for_callback_answer(query)
    assert not [r for r in caplog.records if r.name == "handlers.errors"]


async def test_a_button_on_an_inaccessible_message_gets_a_fresh_screen(
    bot: Any, tg: FakeTelegram, chat: Chat, caplog: Any
) -> None:
    chat.send("/help")
    old = await chat.expect("How codes arrive")
    tg.age_message(chat.chat_id, old.message_id, hours=49)
    query = tg.press_data(chat.chat_id, old.message_id, "m:connect")
    fresh = await chat.expect("Which provider")
    assert fresh.message_id != old.message_id
    await tg.wait_for_callback_answer(query)
    assert tg.messages(chat.chat_id)[0].text == old.text  # the old message is left as it was
    assert not [r for r in caplog.records if r.name == "handlers.errors"]
