"""/buy's comparison of one service across the three connected providers, end to end (fake Bot API
and the three simulators), and the out-of-stock fallback to the next-best offer."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.compare_taps import is_compare_tap, prompt_data, service_data, tapped_key
from handlers.service_names import canonical
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat

_LINE = re.compile(r"^(\d+)\. (kiwiSMS|NonVoipUsNumber|GotSMS) · (.+?) — (.+?): (?:from )?\$([0-9.]+)", re.M)


async def connect_all(chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("50.00"))
    gotsms.add_account(GOTSMS_TOKEN, Decimal("50.00"))
    await chat.connect_kiwi()
    await chat.connect_nonvoip()
    await chat.connect_gotsms()


async def compared(chat: Chat, typed: str) -> str:
    chat.send("/buy")
    await chat.expect("choose a provider")
    chat.press("🔎 Compare a service")
    await chat.expect("Type a service name")
    chat.send(typed)
    return (await chat.expect("cheapest first:")).text


def ranked(text: str) -> list[tuple[str, str, str, Decimal]]:
    return [(m[2], m[3], m[4], Decimal(m[5])) for m in _LINE.finditer(text)]


def buttons(chat: Chat) -> list[str]:
    return chat.tg.messages(chat.chat_id)[-1].button_labels


async def test_comparison_ranks_three_providers_by_price_and_leaves_out_what_is_sold_out(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> None:
    await connect_all(chat, kiwi, nonvoip, gotsms)
    kiwi.set_stock("187", "wa", 0)  # kiwiSMS USA: sold out

    text = await compared(chat, "wa")  # an alias: the same service under every provider's name

    offers = ranked(text)
    prices = [price for *_, price in offers]
    assert prices == sorted(prices)
    assert {provider for provider, *_ in offers} == {"kiwiSMS", "NonVoipUsNumber", "GotSMS"}
    assert {name for _, _, name, _ in offers} == {"WhatsApp"}
    assert ("kiwiSMS", "USA") not in [(p, s) for p, s, *_ in offers]
    assert "kiwiSMS · USA — WhatsApp: out of stock" in text
    assert not any("kiwiSMS USA ·" in label for label in buttons(chat))  # no button for what is sold out
    assert "· 10 minutes · reuse, refund" in text  # NonVoipUsNumber 10-minutes: duration and abilities
    assert ", cheapest first" in text and "⚠️" not in text

    # One tap on an offer: its confirmation card, as through the lists; nothing is bought yet.
    chat.press_starting(next(b for b in buttons(chat) if "NonVoipUsNumber 10-minutes" in b))
    card = await chat.expect("Confirm your order")
    assert "NonVoipUsNumber" in card.text and "WhatsApp" in card.text and "$0.55" in card.text
    assert nonvoip.orders_of(NONVOIP_EMAIL) == []


async def test_a_name_typed_on_the_buy_screen_is_compared_and_survives_a_restart_of_the_step(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> None:
    await connect_all(chat, kiwi, nonvoip, gotsms)
    chat.send("/buy")
    screen = await chat.expect("type a service name to compare")
    # The step is the database's (conversations), not memory's: it is what routes the text.
    row = await bot.bot_data["services"].conversations.get(chat.chat_id)
    assert row == {"type": "compare"}
    chat.send("Telegram")
    text = (await chat.expect("cheapest first:", since=screen.seq)).text
    assert {name for _, _, name, _ in ranked(text)} == {"Telegram"}
    assert await bot.bot_data["services"].conversations.get(chat.chat_id) is None  # the step is over
    chat.send("WhatsApp")  # no step any more: the menu, not a second comparison
    menu = await chat.expect("", since=chat.tg.messages(chat.chat_id)[-1].seq)
    assert "cheapest first:" not in menu.text


async def test_a_failing_provider_gets_its_own_line_and_the_others_are_still_shown(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> None:
    await connect_all(chat, kiwi, nonvoip, gotsms)
    gotsms.fail_next("GET", "/api/rents/plans", 503, {"message": "maintenance"}, times=50)

    text = await compared(chat, "Telegram")

    assert re.search(r"^⚠️ GotSMS: .+", text, re.M)
    providers = {provider for provider, *_ in ranked(text)}
    assert providers == {"kiwiSMS", "NonVoipUsNumber"}
    assert not any("GotSMS" in label for label in buttons(chat))


async def test_recent_services_are_quick_buttons_on_the_compare_screen(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> None:
    await connect_all(chat, kiwi, nonvoip, gotsms)
    await chat.buy("Telegram")
    chat.send("/buy")
    await chat.expect("choose a provider")
    chat.press("🔎 Compare a service")
    await chat.expect("Or tap one you bought before")
    chat.press("🔁 Telegram")
    text = (await chat.expect("cheapest first:")).text
    assert {name for _, _, name, _ in ranked(text)} == {"Telegram"}
    assert {provider for provider, *_ in ranked(text)} == {"kiwiSMS", "NonVoipUsNumber", "GotSMS"}
    chat.press("« Back")
    await chat.expect("choose a provider")


async def test_out_of_stock_offers_the_next_best_offer_and_buys_it_only_after_confirm(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> None:
    await connect_all(chat, kiwi, nonvoip, gotsms)
    await chat.open_confirmation("WhatsApp", "USA")
    kiwi.set_stock("187", "wa", 0)  # sold out between the card and Confirm
    chat.press("Confirm")
    failed = await chat.expect("was not placed")

    assert "Also available:" in failed.text
    (offer,) = [label for label in buttons(chat) if label.startswith("Try ")]
    assert offer == "Try GotSMS SMS-billed plans at $0.35"  # the cheapest WhatsApp left
    assert kiwi.rentals_of(KIWI_KEY) == []

    chat.press(offer)
    card = await chat.expect("Confirm your order")
    assert "GotSMS" in card.text and "WhatsApp" in card.text and "$0.35" in card.text
    assert gotsms.rents_of(GOTSMS_TOKEN) == []  # a card, not a purchase

    await chat.confirm_purchase()
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    assert kiwi.rentals_of(KIWI_KEY) == []


async def test_a_price_rise_above_the_card_also_offers_the_next_best_offer(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> None:
    await connect_all(chat, kiwi, nonvoip, gotsms)
    await chat.open_confirmation("Telegram", "USA")
    kiwi.set_price("187", "tg", Decimal("9.00"))  # above the card's price: kiwiSMS refuses to sell
    chat.press("Confirm")
    await chat.expect("was not placed")
    (offer,) = [label for label in buttons(chat) if label.startswith("Try ")]
    chat.press(offer)
    card = await chat.expect("Confirm your order")
    assert "Telegram" in card.text and "kiwiSMS" not in card.text
    assert kiwi.rentals_of(KIWI_KEY) == [] and nonvoip.orders_of(NONVOIP_EMAIL) == []
    assert gotsms.rents_of(GOTSMS_TOKEN) == []


async def test_a_name_no_provider_sells_says_so_and_back_returns_to_the_providers(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> None:
    await connect_all(chat, kiwi, nonvoip, gotsms)
    chat.send("/buy")
    await chat.expect("choose a provider")
    await chat.tg.wait_for_callback_answer(chat.press("🔎 Compare a service"))
    await chat.expect("Type a service name")
    chat.send("WhatsApp Business")  # a different service from WhatsApp: never matched to it
    screen = await chat.expect("No provider has")
    assert ranked(screen.text) == [] and "WhatsApp Business" in screen.text
    assert not any(label[:1].isdigit() for label in screen.button_labels)
    chat.send("Telegram")  # the step ended with the results: text is not taken as a name again
    await chat.tg.wait_for_callback_answer(chat.press("« Back"))
    await chat.expect("choose a provider")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_a_service_button_carries_the_folded_name_only_and_parses_back(name: str) -> None:
    key = canonical(name)
    data = service_data(key)
    if data is not None:
        assert len(data.encode()) <= 64 and is_compare_tap(data)
        assert tapped_key(data) == key
    assert tapped_key(prompt_data()) is None and is_compare_tap(prompt_data())
    assert not is_compare_tap("b:o:kiwi:187:wa")
