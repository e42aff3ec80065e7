"""Numbers and durations read one way everywhere: `texts.phone` and `texts.duration_words`."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import texts
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.helpers import Chat, bought_kiwi_rental, bought_nonvoip_order

GROUPED = re.compile(r"\+\d{1,3}( \d+)+")


def test_international_numbers_are_grouped() -> None:
    assert texts.phone("+14155550123") == "+1 415 555 0123"
    assert texts.phone("+4915112345678") == "+49 1511 2345678"
    assert texts.phone("16095550123") == "+1 609 555 0123"  # NonVoipUsNumber writes no "+"


def test_what_is_not_a_number_is_shown_as_given_and_escaped() -> None:
    assert texts.phone("<b>call me</b>") == "&lt;b&gt;call me&lt;/b&gt;"
    assert texts.phone("12") == "12"
    assert texts.phone("4155550123") == "4155550123"  # no country code: never guessed


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_any_input_is_shown_without_raising_or_raw_html(raw: str) -> None:
    shown = texts.phone(raw)
    assert "<" not in shown and ">" not in shown


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True))
def test_the_grouped_form_keeps_every_digit(raw: str) -> None:
    shown = texts.phone(raw)
    assert GROUPED.fullmatch(shown) and re.sub(r"\D", "", shown) == raw[1:]


def test_durations_in_words() -> None:
    cases = {1: "1 minute", 10: "10 minutes", 20: "20 minutes", 60: "1 hour", 90: "1 hour 30 minutes",
             1440: "1 day", 4320: "3 days", 10080: "7 days", 43200: "30 days"}
    assert {minutes: texts.duration_words(minutes) for minutes in cases} == cases


async def test_kiwi_card_and_code_show_the_grouped_number(bot: Any, kiwi: KiwiSimulator, chat: Chat) -> None:
    rental = await bought_kiwi_rental(chat, kiwi)
    grouped = texts.phone(rental.phone)
    assert GROUPED.fullmatch(grouped)
    card = chat.tg.messages(chat.chat_id)[-1]
    assert f"📱 {grouped}" in card.text
    kiwi.receive_sms(rental.id, "Your code is 482913", code="482913")
    code = await chat.expect("482913")
    assert f"Number: {grouped}" in code.text


async def test_nonvoip_digits_become_the_same_grouped_form(bot: Any, nonvoip: NonVoipSimulator, chat: Chat) -> None:
    order = await bought_nonvoip_order(chat, nonvoip)
    assert not order.number.startswith("+")
    card = chat.tg.messages(chat.chat_id)[-1]
    shown = re.search(r"📱 (\S.*)", card.text)
    assert shown and GROUPED.fullmatch(shown[1]) and re.sub(r"\D", "", shown[1]) == order.number
