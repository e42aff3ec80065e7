"""The whole journey on kiwiSMS: the real Application against the fake Bot API and the simulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.config import Settings
from handlers import texts
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, bought_kiwi_rental, Chat, ticks


async def test_connect_buy_and_the_code_arrives_once(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("10.00"))
    connected = await chat.connect_kiwi()
    assert "kiwiSMS connected, balance $10.00" in connected.text

    card = await chat.buy("WhatsApp")
    assert "WhatsApp" in card.text and "Cancel" in card.button_labels
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    assert texts.phone(rental.phone) in card.text
    assert kiwi.balance_of(KIWI_KEY) == Decimal("10.00") - rental.price

    kiwi.receive_sms(rental.id, "Your WhatsApp code is 482913")
    code_message = await chat.expect("482913")
    assert code_message.text.startswith("🔑 482913")
    assert texts.phone(rental.phone) in code_message.text
    assert any(b.get("copy_text") == {"text": "482913"} for row in code_message.buttons for b in row)
    await chat.expect("code received")  # the order card was updated
    await ticks(bot, 4)
    assert len(chat.codes_sent("482913")) == 1


async def test_a_second_sms_is_its_own_message(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp")
    kiwi.receive_sms(rental.id, "code 111111")
    await chat.expect("🔑 111111")
    kiwi.receive_sms(rental.id, "code 222222")
    await chat.expect("🔑 222222")
    await ticks(bot, 4)
    assert len(chat.codes_sent("111111")) == 1 and len(chat.codes_sent("222222")) == 1


async def test_a_wrong_key_shows_the_reason_and_stores_nothing(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat, settings: Settings
) -> None:
    sent = chat.send("/connect")
    await chat.expect("Which provider")
    chat.press("kiwiSMS")
    await chat.expect("API key")
    key_message = chat.send("lsms_wrong1_notarealkey")
    failed = await chat.expect("refused")
    assert "Invalid API key" in failed.text and "Nothing was stored" in failed.text
    assert tg.is_deleted(chat.chat_id, key_message["message_id"])
    assert sent  # the /connect itself is not a secret and stays
    chat.send("/providers")
    await chat.expect("No provider is connected")


async def test_the_key_message_is_deleted_and_the_database_holds_no_secret(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat, settings: Settings
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    key_messages = [c for c in tg.calls("deleteMessage")]
    assert key_messages, "the message holding the key was not deleted"
    database = b"".join(
        p.read_bytes() for p in Path(settings.database_path).parent.glob("bot.sqlite3*")
    )
    assert KIWI_KEY.encode() not in database
    assert tg.token.encode() not in database


async def test_a_double_tap_on_confirm_buys_once(bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await chat.open_confirmation("WhatsApp")
    with tg.batch():
        first = chat.press("Confirm")
        second = chat.press("Confirm")
    await chat.expect("waiting for the SMS")
    answers = [await tg.wait_for_callback_answer(first), await tg.wait_for_callback_answer(second)]
    assert any("already" in (a.get("text") or "") for a in answers)
    await ticks(bot, 3)
    assert len(kiwi.rentals_of(KIWI_KEY)) == 1
    assert kiwi.request_count("POST", "/api/v1/rentals") == 1


async def test_a_rent_that_times_out_after_it_was_created_is_one_rental(
    make_settings: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    from bot.app import build_application, running

    kiwi.add_account(KIWI_KEY, Decimal("5.00"))
    async with running(build_application(make_settings(provider_timeout_seconds=0.5))):
        await chat.connect_kiwi()
        await chat.open_confirmation("WhatsApp")
        kiwi.delay_next("POST", "/api/v1/rentals", 1.5)
        chat.press("Confirm")
        card = await chat.expect("waiting for the SMS", timeout=15)
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    assert texts.phone(rental.phone) in card.text
    assert kiwi.balance_of(KIWI_KEY) == Decimal("5.00") - rental.price
    rent_requests = [r for r in kiwi.requests if r.method == "POST" and r.path == "/api/v1/rentals"]
    assert len(rent_requests) >= 2
    assert len({r.headers["idempotency-key"] for r in rent_requests}) == 1


async def test_cancel_refunds_and_updates_the_card(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("10.00"))
    await chat.connect_kiwi()
    await chat.buy("WhatsApp")
    chat.press("Cancel")
    card = await chat.expect("cancelled")
    assert "refunded" in card.text
    assert card.button_labels == ["« My orders"]
    assert kiwi.balance_of(KIWI_KEY) == Decimal("10.00")
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    assert rental.status == "CANCELLED"


async def test_done_then_renew_keeps_the_number_and_renews_once(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    first_card = await chat.buy("WhatsApp")
    assert "Done" not in first_card.button_labels  # no code yet: Done and Renew are not offered
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    kiwi.receive_sms(rental.id, "code 777111")
    await chat.expect("code received")
    done_query = chat.press("Done")
    assert (await chat.tg.wait_for_callback_answer(done_query))["text"] == "Marked as done."
    done_card = await chat.expect("done")
    assert done_card.button_labels == ["Renew", "Messages", "« My orders"]  # Messages: every stored SMS, paged
    assert kiwi.rental(rental.id).status == "COMPLETED"
    chat.press("Renew")
    paid_card = await chat.expect("Renew: a new session")  # the amount first, on a card of its own
    confirm = next(b["callback_data"] for row in paid_card.buttons for b in row if b["text"] == "Confirm")
    renew_query = chat.press("Confirm")
    assert "Renewed" in (await chat.tg.wait_for_callback_answer(renew_query))["text"]
    new_card = await chat.expect("waiting for the SMS")
    rentals = kiwi.rentals_of(KIWI_KEY)
    assert len(rentals) == 2 and rentals[1].phone == rental.phone
    assert texts.phone(rental.phone) in new_card.text
    # The Confirm of that card, tapped again, renews nothing more.
    again = chat.tg.press_data(chat.chat_id, new_card.message_id, confirm)
    assert "already" in (await chat.tg.wait_for_callback_answer(again))["text"].lower()
    assert len(kiwi.rentals_of(KIWI_KEY)) == 2


async def test_a_group_chat_gets_the_private_chat_line(bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator) -> None:
    tg.user_sends(-5001, "/connect", user_id=1001, chat_type="group")
    line = await tg.wait_for_text(-5001, "private chat")
    assert line.button_labels == ["Open the private chat"]  # a link into the private chat (issue 8)
    await ticks(bot, 2)
    assert len(tg.sent(-5001)) == 1


async def test_a_button_from_another_chats_message_does_nothing(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    card = await chat.buy("WhatsApp")
    order_data = next(b["callback_data"] for row in card.buttons for b in row if b["text"] == "Cancel")
    intruder = Chat(tg, 2002)
    intruder.send("/start")
    await intruder.expect("Hi")
    query = tg.callback_update_for_foreign_message(intruder.chat_id, chat.chat_id, card.message_id, order_data)
    answer = await tg.wait_for_callback_answer(query)
    assert "not from this chat" in answer["text"]
    # Forged callback data naming the other chat's order, from the intruder's own chat.
    forged = tg.callback_update_for_foreign_message(intruder.chat_id, intruder.chat_id, 1, order_data)
    answer = await tg.wait_for_callback_answer(forged)
    assert "not in this chat" in answer["text"]
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    assert rental.status == "WAITING"
    assert kiwi.request_count("POST", f"/api/v1/rentals/{rental.id}/cancel") == 0


async def test_a_rent_whose_outcome_stays_unknown_is_adopted_not_bought_again(
    make_settings: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    from bot.app import build_application, running

    kiwi.add_account(KIWI_KEY, Decimal("5.00"))
    async with running(build_application(make_settings(provider_timeout_seconds=0.3))):
        await chat.connect_kiwi()
        await chat.open_confirmation("WhatsApp")
        kiwi.delay_next("POST", "/api/v1/rentals", 1.0, times=10)  # every attempt times out
        chat.press("Confirm")
        warning = await chat.expect("could not confirm", timeout=15)
        assert "do not buy it again" in warning.text
        adopted = await chat.expect("did go through", timeout=10)
    (rental,) = kiwi.rentals_of(KIWI_KEY)
    assert texts.phone(rental.phone) in adopted.text and "Cancel" in adopted.button_labels
    assert kiwi.balance_of(KIWI_KEY) == Decimal("5.00") - rental.price
