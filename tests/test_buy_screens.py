"""/buy as a user walks it: every screen has Back and Menu, Back walks up one step at a time,
Cancel on a confirmation card goes back to its list, and the card says the country, the
service's name and the duration in words, for each provider."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.fakes.telegram import BotMessage
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat

BACK, MENU = "« Back", "☰ Menu"


def assert_navigable(screen: BotMessage) -> None:
    labels = screen.button_labels
    assert BACK in labels and MENU in labels, f"no Back/Menu on {screen.text!r}: {labels}"


async def step(chat: Chat, label: str, expecting: str, *, starting: bool = False) -> BotMessage:
    """Press a button; the screen it leads to (with Back and Menu)."""
    chat.press_starting(label) if starting else chat.press(label)
    screen = await chat.expect(expecting)
    assert_navigable(screen)
    return screen


async def open_card(chat: Chat, label: str) -> BotMessage:
    chat.press_starting(label)
    card = await chat.expect("Confirm your order")
    assert card.button_labels == ["Confirm", "Cancel", MENU]
    return card


async def cancel_card(chat: Chat, list_text: str) -> BotMessage:
    """Cancel on the card: its list again, saying nothing was bought."""
    chat.press("Cancel")
    listed = await chat.expect("Nothing was bought")
    assert list_text in listed.text and "Confirm" not in listed.button_labels
    assert_navigable(listed)
    return listed


async def back_to_the_main_menu(chat: Chat) -> None:
    """From a provider's sections: Back to the providers, Back to the main menu."""
    await step(chat, BACK, "choose a provider")
    chat.press(BACK)
    menu = await chat.expect("Hi")
    assert "Buy a number" in menu.button_labels


async def test_kiwi_every_screen_has_back_and_menu_in_one_message(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    chat.send("/buy")
    providers = await chat.expect("choose a provider")
    assert_navigable(providers)
    countries = await step(chat, "kiwiSMS", "choose a country")
    services = await step(chat, "USA", "Services")
    card = await open_card(chat, "WhatsApp")
    assert "Country: USA" in card.text and "Service: WhatsApp" in card.text
    assert "Duration: 20 minutes" in card.text and "Where:" not in card.text  # the section is the country
    listed = await cancel_card(chat, "kiwiSMS · USA")
    await step(chat, BACK, "choose a country")
    await back_to_the_main_menu(chat)
    # The whole walk edited one message: no stack of stale copies.
    assert {m.message_id for m in (providers, countries, services, card, listed)} == {providers.message_id}
    assert kiwi.rentals_of(KIWI_KEY) == []


async def test_menu_leaves_a_card_without_buying(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    kiwi.add_account(KIWI_KEY)
    await chat.connect_kiwi()
    await chat.open_confirmation("Telegram")
    chat.press(MENU)
    menu = await chat.expect("Hi")
    assert "Buy a number" in menu.button_labels
    assert not any("Confirm" in m.button_labels for m in chat.tg.messages(chat.chat_id))
    assert kiwi.rentals_of(KIWI_KEY) == []


async def test_nonvoip_screens_back_and_cards_name_the_country(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("50.00"))
    await chat.connect_nonvoip()
    chat.send("/buy")
    assert_navigable(await chat.expect("choose a provider"))
    await step(chat, "NonVoipUsNumber", "choose a section")
    # A US section: the provider's country, its duration in words.
    await step(chat, "10-minutes", "Services")
    card = await open_card(chat, "Instagram")
    assert "Country: USA" in card.text and "Where: 10-minutes" in card.text
    assert "Service: Instagram" in card.text and "Duration: 10 minutes" in card.text
    await cancel_card(chat, "10-minutes")
    await step(chat, BACK, "choose a section")
    # The 30-days multi-select: its selection screen has Back and Menu too.
    await step(chat, "30-days", "share one number")
    await step(chat, "WhatsApp", "Selected: 1", starting=True)
    card = await open_card(chat, "Continue with 1")
    assert "Country: USA" in card.text and "Duration: 30 days" in card.text and "Service: WhatsApp" in card.text
    listed = await cancel_card(chat, "share one number")
    assert "Selected: 0" in listed.text
    await step(chat, BACK, "choose a section")
    # The Country section: the product's own country; Cancel keeps the typed filter.
    await step(chat, "Country", "Services")
    chat.send("Telegram")
    await chat.expect("matching “Telegram”")
    card = await open_card(chat, "Telegram (United Kingdom)")
    assert "Country: United Kingdom" in card.text
    await cancel_card(chat, "matching “Telegram”")
    await step(chat, BACK, "choose a section")
    await back_to_the_main_menu(chat)
    assert nonvoip.orders_of(NONVOIP_EMAIL) == []


_PLAN = re.compile(r"^(?P<country>.+?) · (?P<amount>\d+) (?P<unit>minute|hour|day|week|month|year)s? · \$(?P<price>[\d.]+)")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440, "week": 10080, "month": 43200, "year": 525600}


def _plans_shown(screen: BotMessage) -> list[tuple[str, int, Decimal]]:
    """(country, minutes, price) of each plan button, in screen order."""
    found = []
    for label in screen.button_labels:
        match = _PLAN.match(label)
        if match:
            minutes = int(match["amount"]) * _UNIT_MINUTES[match["unit"]]
            found.append((match["country"], minutes, Decimal(match["price"])))
    return found


async def test_gotsms_plans_show_countries_in_order_and_back_walks_up(bot: Any, gotsms: GotSmsSimulator, chat: Chat) -> None:
    gotsms.add_account(GOTSMS_TOKEN, Decimal("50.00"))
    await chat.connect_gotsms()
    chat.send("/buy")
    assert_navigable(await chat.expect("choose a provider"))
    await step(chat, "GotSMS", "choose a section")
    services = await step(chat, "Rental plans", "Services")
    offers = [label for label in services.button_labels if "$" in label]
    assert offers and all(" · from $" in label for label in offers)  # a service's price is its cheapest plan's
    chat.send("Telegram")
    filtered = await chat.expect("matching “Telegram”")
    (telegram,) = [label for label in filtered.button_labels if label.startswith("Telegram · ")]
    plans_screen = await step(chat, "Telegram", "Choose a plan", starting=True)
    plans = _plans_shown(plans_screen)
    assert {country for country, _, _ in plans} == {"USA", "Canada", "United Kingdom"}
    assert plans == sorted(plans, key=lambda p: (p[0].casefold(), p[1], p[2]))
    assert telegram.endswith(f"from ${min(price for _, _, price in plans)}")
    card = await open_card(chat, "Canada · 1 week")
    assert "Country: Canada" in card.text and "Service: Telegram\n" in card.text
    assert "Duration: 7 days" in card.text
    await cancel_card(chat, "Choose a plan")
    await step(chat, BACK, "matching “Telegram”")
    await step(chat, BACK, "choose a section")
    await back_to_the_main_menu(chat)
    assert gotsms.rents_of(GOTSMS_TOKEN) == []
