"""The chat's language end to end: a Russian user's Telegram app makes the bot speak Russian from
/start to the code message, /language switches back to English for good, and the command menu
exists in both languages."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import BotMessage, FakeTelegram
from tests.helpers import KIWI_KEY, Chat, ticks

# Names, not words: they stay as they are in every language.
_NAMES = re.compile(r"kiwiSMS|NonVoipUsNumber|GotSMS|WhatsApp|API keys|Tess|UTC|SMS|lsms_\w*|/\w+")
_ENGLISH_WORDS = re.compile(r"\b[A-Za-z][a-z]+[ ,]+[a-z]{2,}\b")


def english_in(message: BotMessage) -> list[str]:
    """Runs of two English words in a message or its buttons, once names are taken out."""
    text = _NAMES.sub(" ", "\n".join([message.text, *message.button_labels]))
    return _ENGLISH_WORDS.findall(text)


async def _latest(bot: Any, tg: FakeTelegram, chat: Chat) -> BotMessage:
    await ticks(bot, 1)
    return tg.messages(chat.chat_id)[-1]


async def test_a_russian_user_sees_russian_from_start_to_the_code_and_language_switches_back(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    tg.set_user_language(chat.chat_id, "ru-RU")
    kiwi.add_account(KIWI_KEY, Decimal("20.00"))
    chat.send("/start")
    welcome = await chat.expect("Привет, Tess!")
    assert welcome.button_labels == ["Подключить провайдера"]

    await tg.wait_for_callback_answer(chat.press("Подключить провайдера"))
    await chat.expect("Какого провайдера вы хотите подключить?")
    chat.press("kiwiSMS")
    await chat.expect("Отправьте мне ваш API-ключ kiwiSMS")
    chat.send(KIWI_KEY)
    connected = await chat.expect("подключён, баланс 20,00\xa0$")
    assert connected.button_labels[:2] == ["Купить номер", "Мои заказы"]

    chat.send("/buy")
    await chat.expect("выберите провайдера")
    chat.press("kiwiSMS")
    countries = await chat.expect("выберите страну")
    assert countries.button_labels[:3] == ["США", "Великобритания", "Канада"]
    chat.press("США")
    await chat.expect("Сервисы (страница 1/")
    chat.send("WhatsApp")
    await chat.expect("Сервисы по запросу «WhatsApp»")
    chat.press_starting("WhatsApp")
    card = await chat.expect("Подтвердите заказ")
    assert "Цена: 0,75\xa0$" in card.text and "Срок: 20 минут" in card.text
    assert card.button_labels == ["Подтвердить", "Отмена", "☰ Меню"]
    chat.press("Подтвердить")
    order = await chat.expect("Статус: ⏳ ждёт SMS")
    assert "Оплачено: 0,75\xa0$" in order.text and "Осталось: 1" in order.text

    (rental,) = kiwi.rentals_of(KIWI_KEY)
    kiwi.receive_sms(rental.id, "Your WhatsApp code 123456")
    code = await chat.expect("🔑 123456")
    assert "Сервис: WhatsApp" in code.text and "Номер: +1" in code.text
    assert code.button_labels == ["📋 Скопировать код"]
    edited = await chat.expect("Статус: ✅ код получен")
    assert "Коды: 123456" in edited.text and "Готово" in edited.button_labels

    russian_part = tg.messages(chat.chat_id)
    assert [english_in(m) for m in russian_part if english_in(m)] == []

    chat.send("/language")
    choice = await chat.expect("Выберите язык")
    assert choice.button_labels == ["English", "✓ Русский", "« Назад", "☰ Меню"]
    answer_id = chat.press("English")
    assert (await tg.wait_for_callback_answer(answer_id)).get("text") == "Language: English"
    settings = await chat.expect("Auto-cancel idle orders")
    assert "🌐 Language: English" in settings.button_labels
    assert english_in(settings)  # the check above finds English where there is some
    # The app still says Russian: the chat's own choice wins from now on.
    chat.send("/start")
    await chat.expect("Hi Tess!")
    chat.send("/orders")
    listing = await _latest(bot, tg, chat)
    assert "WhatsApp" in listing.text or any("WhatsApp" in label for label in listing.button_labels)
    assert not re.search("[а-яА-Я]", listing.text + "".join(listing.button_labels))


@pytest.mark.parametrize(
    ("language_code", "greeting"),
    [("ru", "Привет"), ("ru-UA", "Привет"), ("zz", "Hi"), (None, "Hi"), ("en-GB", "Hi")],  # zz: no catalogue
)
async def test_the_first_contact_takes_the_apps_language_or_english(
    bot: Any, tg: FakeTelegram, chat: Chat, language_code: str | None, greeting: str
) -> None:
    tg.set_user_language(chat.chat_id, language_code)
    chat.send("/start")
    await chat.expect(f"{greeting}, Tess!" if greeting == "Привет" else f"{greeting} Tess!")


async def test_a_later_change_of_the_apps_language_does_not_switch_the_chat(
    bot: Any, tg: FakeTelegram, chat: Chat
) -> None:
    tg.set_user_language(chat.chat_id, "ru")
    chat.send("/start")
    await chat.expect("Привет, Tess!")
    tg.set_user_language(chat.chat_id, "en")
    chat.send("/help")
    help_text = await chat.expect("/language")
    assert "главное меню" in help_text.text and "Как приходят коды" in help_text.text


async def test_the_command_menu_is_set_in_every_language(bot: Any, tg: FakeTelegram) -> None:
    english = tg.commands_for("en")
    russian = tg.commands_for("ru")
    assert [c["command"] for c in russian] == [c["command"] for c in english]
    assert english[0] == {"command": "start", "description": "Main menu"}
    assert russian[0] == {"command": "start", "description": "Главное меню"}
    assert {"command": "language", "description": "Язык"} in russian
    assert all(re.search("[а-яА-Я]", c["description"]) for c in russian)
