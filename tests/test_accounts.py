"""Accounts and orders stay together: another account, or a disconnect, with active orders asks
first and says what happens to them; orders whose account is gone are not polled and say why."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from bot.config import Settings
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, NONVOIP_EMAIL, Chat, bought_gotsms_rent, bought_kiwi_rental, bought_nonvoip_order, ticks

OTHER_KEY = "lsms_other9_feedfacefeedfacefeed"


def _rental_polls(kiwi: KiwiSimulator, key: str) -> int:
    """Requests that follow this account's rentals (the list, or one rental)."""
    return sum(
        1
        for r in kiwi.requests
        if r.headers.get("x-api-key") == key and r.method == "GET" and r.path.startswith("/api/v1/rentals")
    )


async def _connect_kiwi_key(chat: Chat, key: str, expecting: str) -> Any:
    await chat.start_connect("kiwiSMS")
    chat.send(key)
    return await chat.expect(expecting)


async def test_another_account_with_active_orders_asks_first_and_no_keeps_everything(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi)
    kiwi.add_account(OTHER_KEY, Decimal("7.00"))
    question = await _connect_kiwi_key(chat, OTHER_KEY, "another kiwiSMS account")
    assert "1 active order" in question.text and "stay in /orders" in question.text
    assert OTHER_KEY not in question.text
    chat.press("No, keep kiwiSMS as it is")
    await chat.expect("Kept")
    chat.send("/balance")
    assert "$" + str(kiwi.balance_of(KIWI_KEY)) in (await chat.expect("Balances")).text  # still the first account
    # Still followed with the first account: a code arrives.
    kiwi.receive_sms(rental.id, "Your WhatsApp code is 481516", "481516")
    await chat.expect("🔑 481516")


async def test_yes_connects_the_other_account_and_the_old_orders_say_their_account_is_gone(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi)
    card = await chat.expect("waiting for the SMS")
    kiwi.add_account(OTHER_KEY, Decimal("7.00"))
    await _connect_kiwi_key(chat, OTHER_KEY, "another kiwiSMS account")
    chat.press("Yes, connect the other account")
    await chat.expect("kiwiSMS connected, balance $7.00")
    gone = await chat.expect("Bought with another kiwiSMS account")
    assert gone.message_id == card.message_id
    assert "⚠️ kiwiSMS account gone" in gone.button_labels and "Refresh" not in gone.button_labels
    query = chat.press("⚠️ kiwiSMS account gone")
    assert "not followed" in (await chat.tg.wait_for_callback_answer(query)).get("text", "")
    # Not polled with either key, however many ticks pass; a code at the old account stays there.
    kiwi.receive_sms(rental.id, "Your WhatsApp code is 271828", "271828")
    before_old, before_new = _rental_polls(kiwi, KIWI_KEY), _rental_polls(kiwi, OTHER_KEY)
    await ticks(bot, 5)
    assert (_rental_polls(kiwi, KIWI_KEY), _rental_polls(kiwi, OTHER_KEY)) == (before_old, before_new)
    assert not chat.codes_sent("271828")


async def test_the_same_account_again_needs_no_question(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    await bought_kiwi_rental(chat, kiwi)
    connected = await _connect_kiwi_key(chat, KIWI_KEY, "connected, balance")
    assert connected.button_labels  # the main menu, no question
    assert not [m for m in chat.tg.messages(chat.chat_id) if "another kiwiSMS account" in m.text]


async def test_a_new_key_of_the_same_account_is_recognised_by_the_provider(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    """Another key, but the provider finds the active order with it: the same account, no question."""
    rental = await bought_kiwi_rental(chat, kiwi)
    kiwi.add_account(OTHER_KEY, Decimal("50.00"))
    # The simulator has no key rotation: move the account's rentals to the new key by hand.
    old, new = kiwi._accounts[KIWI_KEY], kiwi._accounts[OTHER_KEY]  # noqa: SLF001
    new.rentals, new.active = old.rentals, old.active
    old.rentals, old.active = [], {}
    kiwi.rental(rental.id).api_key = OTHER_KEY
    await _connect_kiwi_key(chat, OTHER_KEY, "connected, balance")
    assert not [m for m in chat.tg.messages(chat.chat_id) if "another kiwiSMS account" in m.text]
    kiwi.receive_sms(rental.id, "Your WhatsApp code is 577215", "577215")
    await chat.expect("🔑 577215")  # still followed, now with the new key


async def test_disconnect_with_an_active_order_asks_then_stops_following_until_reconnected(
    bot: Any, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi)
    card = await chat.expect("waiting for the SMS")
    chat.send("/providers")
    await chat.expect("Connected providers")
    chat.press("Disconnect kiwiSMS")
    question = await chat.expect("Disconnect kiwiSMS?")
    assert "1 active order" in question.text and "not followed" in question.text
    chat.press("Yes, disconnect")
    await chat.expect("kiwiSMS disconnected")
    gone = await chat.expect("kiwiSMS is disconnected: reconnect it to follow this order")
    assert gone.message_id == card.message_id
    assert "⚠️ kiwiSMS disconnected — reconnect" in gone.button_labels
    # Not polled while disconnected.
    kiwi.receive_sms(rental.id, "Your WhatsApp code is 161803", "161803")
    polls = _rental_polls(kiwi, KIWI_KEY)
    await ticks(bot, 5)
    assert _rental_polls(kiwi, KIWI_KEY) == polls and not chat.codes_sent("161803")
    # The card's button leads to reconnecting; the same key needs no question and resumes the order.
    chat.press("⚠️ kiwiSMS disconnected — reconnect")
    await chat.expect("API key")
    chat.send(KIWI_KEY)
    await chat.expect("connected, balance")
    await chat.expect("🔑 161803")
    restored = next(m for m in chat.tg.messages(chat.chat_id) if m.message_id == card.message_id)
    assert "disconnected" not in restored.text and "Refresh" in restored.button_labels


async def test_disconnect_without_orders_asks_plainly(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    chat.send("/providers")
    await chat.expect("Connected providers")
    chat.press("Disconnect kiwiSMS")
    question = await chat.expect("Disconnect kiwiSMS?")
    assert "active order" not in question.text


async def test_providers_screens_have_back_and_the_menu_and_answer_every_tap(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    chat.send("/providers")
    overview = await chat.expect("Connected providers")
    assert overview.button_labels[-2:] == ["« Back", "☰ Menu"]
    query = chat.press("Disconnect kiwiSMS")
    question = await chat.expect("Disconnect kiwiSMS?")
    await tg.wait_for_callback_answer(query)
    assert question.button_labels == ["Yes, disconnect", "« Back", "☰ Menu"]
    query = chat.press("« Back")  # keeps it: the providers list again
    again = await chat.expect("Connected providers")
    await tg.wait_for_callback_answer(query)
    assert again.message_id == question.message_id
    query = chat.press("☰ Menu")
    await tg.wait_for_callback_answer(query)
    query = chat.press("Providers")
    await chat.expect("Connected providers")
    await tg.wait_for_callback_answer(query)
    query = chat.press("Connect another")
    await chat.expect("Which provider")
    await tg.wait_for_callback_answer(query)
    query = chat.press("kiwiSMS")
    prompt = await chat.expect("API key")
    await tg.wait_for_callback_answer(query)
    assert prompt.button_labels == ["« Back", "☰ Menu"]
    query = chat.press("« Back")  # to the provider choice, leaving the step
    await chat.expect("Which provider")
    await tg.wait_for_callback_answer(query)
    chat.send("lsms_typed_after_back_0000")  # no step waits for it any more: deleted, not taken
    await chat.expect("deleted")


async def test_another_nonvoip_email_asks_and_the_account_is_remembered_without_the_email(
    bot: Any, settings: Settings, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    await bought_nonvoip_order(chat, nonvoip)
    nonvoip.add_account("other@example.com", "another-Password-1")
    await chat.start_connect("NonVoipUsNumber")
    chat.send("other@example.com")
    await chat.expect("password")
    chat.send("another-Password-1")
    question = await chat.expect("another NonVoipUsNumber account")
    assert "1 active order" in question.text
    chat.press("Yes, connect the other account")
    await chat.expect("NonVoipUsNumber connected")
    with sqlite3.connect(settings.database_path) as db:
        (stored,) = db.execute("SELECT value FROM settings WHERE key = 'account:nonvoip'").fetchone()
    assert "other@example.com" not in stored and NONVOIP_EMAIL not in stored and "fingerprint" in stored


async def test_another_gotsms_token_asks_first(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    await bought_gotsms_rent(chat, gotsms)
    gotsms.add_account("gots_0ther0000000000000000000000000", Decimal("9.00"))
    await chat.start_connect("GotSMS")
    chat.send("gots_0ther0000000000000000000000000")
    question = await chat.expect("another GotSMS account")
    assert "1 active order" in question.text
    chat.press("No, keep GotSMS as it is")
    await chat.expect("Kept")
