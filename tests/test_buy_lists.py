"""/buy's services list: sold-out offers, typed filters that edit the list, stale selections."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import BotMessage, FakeTelegram
from tests.helpers import KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat

TELEGRAM_TEXT_LIMIT = 4096


async def _last_page(chat: Chat, first: BotMessage) -> BotMessage:
    page, number = first, 1
    while "▶" in page.button_labels:
        number += 1
        chat.press("▶")
        page = await chat.expect(f"(page {number}/")
    return page


def _offers(screen: BotMessage) -> list[str]:
    return [label for label in screen.button_labels if " · " in label]


async def test_sold_out_offers_come_last_and_their_tap_stays_on_the_list(
    bot: Any, kiwi: KiwiSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    kiwi.set_stock("187", "wa", 0)  # WhatsApp is second in the provider's own order
    await chat.connect_kiwi()
    first = await chat.open_section("kiwiSMS", "USA")
    assert not any(label.startswith("WhatsApp") for label in _offers(first))
    last = _offers(await _last_page(chat, first))
    sold_out = [label for label in last if label.endswith("· sold out")]
    assert "WhatsApp · sold out" in sold_out and last[-len(sold_out):] == sold_out  # all of them at the end
    answer = await tg.wait_for_callback_answer(chat.press("WhatsApp · sold out"))
    assert "Sold out" in answer["text"]
    still = tg.messages(chat.chat_id)[-1]
    assert "Services" in still.text and "WhatsApp · sold out" in still.button_labels
    assert not any("Confirm your order" in m.text for m in tg.messages(chat.chat_id))


async def test_an_offer_that_sells_out_after_the_list_answers_sold_out(
    bot: Any, kiwi: KiwiSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await chat.open_section("kiwiSMS", "USA")
    chat.send("Telegram")
    listed = await chat.expect("matching “Telegram”")
    assert any(label.startswith("Telegram · $") for label in listed.button_labels)
    kiwi.set_stock("187", "tg", 0)
    answer = await tg.wait_for_callback_answer(chat.press_starting("Telegram · $"))
    assert "Sold out" in answer["text"]
    refreshed = await chat.expect("matching “Telegram”")  # the list redrawn from the fresh catalogue
    assert "Telegram · sold out" in refreshed.button_labels
    assert kiwi.rentals_of(KIWI_KEY) == []


async def test_a_sold_out_service_cannot_be_selected(
    bot: Any, nonvoip: NonVoipSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("50.00"))
    nonvoip.set_stock(9044, 0)  # 30-days WhatsApp
    await chat.connect_nonvoip()
    page = await chat.open_section("NonVoipUsNumber", "30-days", expecting="share one number")
    assert _offers(page)[-1] == "WhatsApp · sold out"
    answer = await tg.wait_for_callback_answer(chat.press("WhatsApp · sold out"))
    assert "Sold out" in answer["text"]
    assert "Selected: 0" in tg.messages(chat.chat_id)[-1].text


async def test_a_typed_filter_edits_the_list_and_no_match_keeps_the_way_out(
    bot: Any, kiwi: KiwiSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    listed = await chat.open_section("kiwiSMS", "USA")
    sent_before = len(tg.sent(chat.chat_id))
    chat.send("tele")
    filtered = await chat.expect("matching “tele”")
    assert filtered.message_id == listed.message_id and "✖ Clear filter" in filtered.button_labels
    chat.send("zzzz-no-such-service")
    nothing = await chat.expect("No service matches")
    assert nothing.message_id == listed.message_id
    assert {"✖ Clear filter", "« Back", "☰ Menu"} <= set(nothing.button_labels)
    assert len(tg.sent(chat.chat_id)) == sent_before  # every filter edited the one list message
    chat.press("✖ Clear filter")
    cleared = await chat.expect("(page 1/")
    assert "matching" not in cleared.text and cleared.message_id == listed.message_id


async def test_a_5000_character_filter_is_answered(
    bot: Any, kiwi: KiwiSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await chat.open_section("kiwiSMS", "USA")
    chat.send("<&>" * 1667)
    answer = await chat.expect("No service matches")
    assert "« Back" in answer.button_labels
    assert not any("went wrong" in m.text for m in tg.messages(chat.chat_id))
    for call in tg.calls("sendMessage") + tg.calls("editMessageText"):
        assert len(str(call.params.get("text", ""))) <= TELEGRAM_TEXT_LIMIT


async def test_continue_on_an_old_selection_says_it_was_not_kept(
    bot: Any, nonvoip: NonVoipSimulator, tg: FakeTelegram, chat: Chat
) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("50.00"))
    await chat.connect_nonvoip()
    old = await chat.select_nonvoip_bundle(["WhatsApp", "Telegram"])
    assert "Selected: 2" in old.text
    await chat.open_section("NonVoipUsNumber", "30-days", expecting="share one number")  # a new /buy
    query = tg.press_button(chat.chat_id, "Continue with 2 service(s)", message_id=old.message_id)
    answer = await tg.wait_for_callback_answer(query)
    assert "not kept" in answer["text"] and answer.get("show_alert")
    redrawn = await chat.expect("Selected: 0")
    assert redrawn.message_id == old.message_id and not any("✅" in b for b in redrawn.button_labels)
    assert not any("Confirm your order" in m.text for m in tg.messages(chat.chat_id))
    assert nonvoip.orders_of(NONVOIP_EMAIL) == []
