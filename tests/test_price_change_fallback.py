"""A NonVoipUsNumber price rise above the confirmation card: the decision card also offers the
next-best offer of the same service from the comparison, one tap to ITS confirmation card (fake
Bot API and the simulators). Nothing is bought without a confirmation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, NONVOIP_EMAIL, NONVOIP_PASSWORD, Chat

INSTAGRAM_10_MIN = "10000086"  # NonVoipUsNumber 10-minutes Instagram, $0.36 on the card


async def connect(chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator | None) -> None:
    """kiwiSMS and NonVoipUsNumber, and GotSMS unless None."""
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    nonvoip.add_account(NONVOIP_EMAIL, NONVOIP_PASSWORD, Decimal("50.00"))
    await chat.connect_kiwi()
    await chat.connect_nonvoip()
    if gotsms is not None:
        gotsms.add_account(GOTSMS_TOKEN, Decimal("50.00"))
        await chat.connect_gotsms()


async def test_a_price_rise_offers_the_cheaper_next_best_offer_and_buys_it_only_after_confirm(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator, gotsms: GotSmsSimulator
) -> None:
    await connect(chat, kiwi, nonvoip, gotsms)
    nonvoip.require_price_change(INSTAGRAM_10_MIN, Decimal("1.70"))
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    decision = await chat.expect("price changed")

    # Accept and Cancel stay; above them the cheapest Instagram elsewhere, cheaper than the new price.
    assert decision.button_labels == ["Try GotSMS SMS-billed plans at $0.25", "Accept $1.70", "Cancel"]
    assert "Also available:" in decision.text
    assert nonvoip.orders_of(NONVOIP_EMAIL) == [] and gotsms.rents_of(GOTSMS_TOKEN) == []

    chat.press("Try GotSMS SMS-billed plans at $0.25")
    card = await chat.expect("Confirm your order")
    assert "GotSMS" in card.text and "Instagram" in card.text and "$0.25" in card.text
    assert gotsms.rents_of(GOTSMS_TOKEN) == []  # a card, not a purchase

    await chat.confirm_purchase()
    (rent,) = gotsms.rents_of(GOTSMS_TOKEN)
    assert nonvoip.orders_of(NONVOIP_EMAIL) == [] and kiwi.rentals_of(KIWI_KEY) == []
    assert nonvoip.request_count("/api/order") == 1  # the price-changed order was never retried
    assert nonvoip.balance_of(NONVOIP_EMAIL) == Decimal("50.00")


async def test_no_alternative_is_offered_when_none_is_cheaper_than_the_new_price(
    bot: Any, chat: Chat, kiwi: KiwiSimulator, nonvoip: NonVoipSimulator
) -> None:
    await connect(chat, kiwi, nonvoip, None)  # Instagram elsewhere: kiwiSMS USA $0.45, NonVoip 30-days $2.00
    nonvoip.require_price_change(INSTAGRAM_10_MIN, Decimal("0.40"))
    await chat.open_nonvoip_confirmation("10-minutes", "Instagram")
    chat.press("Confirm")
    decision = await chat.expect("price changed")

    assert decision.button_labels == ["Accept $0.40", "Cancel"]
    assert "Also available:" not in decision.text
    chat.press("Accept $0.40")
    await chat.expect("waiting for the SMS")
    (order,) = nonvoip.orders_of(NONVOIP_EMAIL)
    assert order.price == Decimal("0.40") and kiwi.rentals_of(KIWI_KEY) == []
