"""/settings: the chat's time zone, chosen from buttons, kept in the database, used for every time
shown; Help and settings each have Back and the main menu one tap away."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import build_application, running
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, Chat, placed_kiwi_orders, ticks

TOKYO = "Asia/Tokyo (UTC+9)"  # no summer time: the same offset whenever the test runs


async def _choose_tokyo(chat: Chat) -> None:
    chat.send("/settings")
    await chat.expect("Time zone: UTC")
    chat.press("🕒 Time zone: UTC")
    await chat.expect("Choose your time zone")
    answer = await chat.tg.wait_for_callback_answer(chat.press("Tokyo (UTC+9)"))
    assert answer["text"] == f"Time zone set: {TOKYO}."


async def test_the_time_zone_is_chosen_from_buttons_and_kept_across_a_restart(
    make_settings: Callable[..., Any], tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    settings = make_settings()
    async with running(build_application(settings)):
        await chat.connect_kiwi()
        chat.send("/settings")
        screen = await chat.expect("Time zone: UTC")
        assert screen.button_labels == [
            "🕒 Time zone: UTC", "⏱ Auto-cancel idle orders: off", "🌐 Language: English", "« Back", "☰ Menu"
        ]
        chat.press("🕒 Time zone: UTC")
        zones = await chat.expect("Choose your time zone")
        assert zones.message_id == screen.message_id
        assert "✓ UTC" in zones.button_labels and "Tokyo (UTC+9)" in zones.button_labels
        assert any(label.startswith("New York (UTC−") for label in zones.button_labels)
        assert zones.button_labels[-2:] == ["« Back", "☰ Menu"]
        await tg.wait_for_callback_answer(chat.press("Tokyo (UTC+9)"))
        chosen = await chat.expect(f"Time zone: {TOKYO}")
        assert chosen.message_id == screen.message_id  # back to the settings screen, in place
    async with running(build_application(settings)):
        chat.send("/settings")
        again = await chat.expect("Time zone:")
        assert f"Time zone: {TOKYO}" in again.text
        chat.press("🕒 Time zone: Tokyo (UTC+9)")
        zones = await chat.expect("Choose your time zone")
        assert "✓ Tokyo (UTC+9)" in zones.button_labels
        await tg.wait_for_callback_answer(chat.press("« Back"))
        await chat.expect("⚙️ Settings")
        await tg.wait_for_callback_answer(chat.press("☰ Menu"))
        assert "Settings" in (await chat.expect("Hi")).button_labels


async def test_settings_is_in_the_menu_the_commands_and_help(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    assert "settings" in [c["command"] for c in tg.commands]
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    chat.send("/start")
    menu = await chat.expect("Hi")
    await tg.wait_for_callback_answer(chat.press("Settings"))
    assert (await chat.expect("Time zone:")).message_id == menu.message_id
    chat.send("/help")
    help_screen = await chat.expect("How codes arrive")
    assert "/settings" in help_screen.text
    assert help_screen.button_labels == ["« Back", "☰ Menu"]
    await tg.wait_for_callback_answer(chat.press("« Back"))  # answered, and back to the menu
    back = await chat.expect("Hi")
    assert back.message_id == help_screen.message_id and "Help" in back.button_labels
    chat.press("Help")
    await chat.expect("How codes arrive")
    await tg.wait_for_callback_answer(chat.press("☰ Menu"))
    await chat.expect("Hi")


async def test_cards_and_history_show_times_in_the_chat_zone_with_the_zone_named(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("20.00"))
    await chat.connect_kiwi()
    await placed_kiwi_orders(bot, chat, 1)
    await _choose_tokyo(chat)
    card = await chat.open_order("1. WhatsApp")
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    ends = rental.expires_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"Ends: {ends:%b} {ends.day}, {ends.year}, {ends:%H:%M} {TOKYO}" in card.text
    # The poller's edit (a code arrived) keeps the chat's zone.
    kiwi.receive_sms(rental.id, "WhatsApp code 616161")
    await chat.expect("🔑 616161")
    await ticks(bot, 2)
    edited = next(m for m in chat.tg.messages(chat.chat_id) if m.message_id == card.message_id)
    assert "616161" in edited.text and f"Ends: {ends:%b} {ends.day}, {ends.year}, {ends:%H:%M} {TOKYO}" in edited.text
    chat.press("Done")
    await chat.expect("☑️ done")
    chat.send("/history")
    history = await chat.expect("History")
    assert f"times in {TOKYO}" in history.text
    assert history.button_labels[-2:] == ["« Back", "☰ Menu"]
    await chat.tg.wait_for_callback_answer(chat.press("« Back"))
    assert (await chat.expect("Hi")).message_id == history.message_id
