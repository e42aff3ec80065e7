"""Texts sent outside an update (the poller's codes, the card edits after them) are written in the
language of the chat they go to: two chats, one Russian and one English, get their codes from the
same poller, each in its own language.

Needs the Russian catalogue (handlers/locales/ru/LC_MESSAGES/messages.po) with the order texts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handlers.chat_language import set_chat_language
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import Chat, bought_kiwi_rental

OTHER_KIWI_KEY = "lsms_test03_facefacefacefaceface"


async def test_each_chat_gets_its_code_in_its_own_language(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    russian_rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp")
    english = Chat(tg, 1002)
    kiwi.add_account(OTHER_KIWI_KEY, Decimal("50.00"))
    await english.connect_kiwi(OTHER_KIWI_KEY)
    await english.buy("WhatsApp")
    (english_rental,) = kiwi.rentals_of(OTHER_KIWI_KEY)
    # The chat chose Russian (/language stores it the same way); the other chat never did.
    await set_chat_language(bot.bot_data["services"].db, chat.chat_id, "ru")

    kiwi.receive_sms(russian_rental.id, "code 515151")
    kiwi.receive_sms(english_rental.id, "code 626262")

    russian_code = await chat.expect("🔑 515151")
    english_code = await english.expect("🔑 626262")
    assert russian_code.text.splitlines()[1] == "Сервис: WhatsApp"
    assert russian_code.text.splitlines()[2].startswith("Номер: +")
    assert "Service:" not in russian_code.text and "Number:" not in russian_code.text
    assert english_code.text.splitlines()[1] == "Service: WhatsApp"
    assert english_code.text.splitlines()[2].startswith("Number: +")
    # The cards, edited after the codes by the same process, follow each chat's language too.
    assert "Статус: ✅ код получен" in (await chat.expect("Статус:")).text
    assert "Status: ✅ code received" in (await english.expect("Status: ✅ code received")).text
