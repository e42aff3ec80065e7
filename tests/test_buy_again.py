""""Buy again": /start and /buy show the chat's recent services; a tap prices the service from the
provider's catalogue now (never the stored price) and opens the usual confirmation card."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handlers import texts
from handlers.again_buttons import again_data, decode, distinct_recent
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import ProviderId
from storage.again import RecentService
from tests.fakes.telegram import FakeTelegram
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, Chat, bought_gotsms_rent, bought_kiwi_rental

AGAIN_WHATSAPP = "🔁 WhatsApp · kiwiSMS"
USA = "187"
OTHER_KIWI_KEY = "lsms_test02_beefbeefbeefbeefbe"


async def test_buy_again_shows_todays_price_and_buys_at_it(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    first = await bought_kiwi_rental(chat, kiwi, "WhatsApp")
    chat.send("/start")
    menu = await chat.expect("Hi")
    assert menu.button_labels[0] == AGAIN_WHATSAPP
    chat.send("/buy")
    providers = await chat.expect("choose a provider")
    assert AGAIN_WHATSAPP in providers.button_labels
    assert providers.button_labels[-2:] == ["« Back", "☰ Menu"]

    kiwi.set_price(USA, "wa", first.price + Decimal("0.60"))
    today = first.price + Decimal("0.60")
    await tg.wait_for_callback_answer(chat.press(AGAIN_WHATSAPP))
    card = await chat.expect("Confirm your order")
    assert card.message_id == providers.message_id  # in place, like the lists' card
    assert f"Price: {texts.money(today)}" in card.text.replace("<b>", "").replace("</b>", "")
    assert texts.money(first.price) not in card.text
    await chat.confirm_purchase()
    newest = max(kiwi.rentals_of(KIWI_KEY), key=lambda r: r.created_at)
    assert len(kiwi.rentals_of(KIWI_KEY)) == 2
    assert newest.service == "wa" and newest.price == today


async def test_a_service_out_of_stock_says_so_with_back(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    await bought_kiwi_rental(chat, kiwi, "WhatsApp")
    kiwi.set_stock(USA, "wa", 0)
    chat.send("/start")
    await chat.expect("Hi")
    await tg.wait_for_callback_answer(chat.press(AGAIN_WHATSAPP))
    screen = await chat.expect("out of stock")
    assert screen.button_labels == ["« Back", "☰ Menu"]
    assert len(kiwi.rentals_of(KIWI_KEY)) == 1
    await tg.wait_for_callback_answer(chat.press("« Back"))
    await chat.expect("choose a provider")


async def test_another_chats_order_in_forged_data_does_nothing(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    await bought_kiwi_rental(chat, kiwi, "WhatsApp")
    (order,) = await bot.bot_data["services"].orders.active_for_chat(chat.chat_id)
    other = Chat(tg, 1002)
    kiwi.add_account(OTHER_KIWI_KEY, Decimal("50.00"))
    await other.connect_kiwi(OTHER_KIWI_KEY)
    other.send("/start")
    menu = await other.expect("Hi")
    assert not any(label.startswith("🔁") for label in menu.button_labels)  # it bought nothing
    before = [(m.message_id, m.text) for m in tg.messages(other.chat_id)]
    reply = await tg.wait_for_callback_answer(tg.press_data(other.chat_id, menu.message_id, again_data(order.id)))
    assert reply["text"] == texts.outdated_button()
    await bot.bot_data["poller"].wait_ticks(2)  # whatever the tap could have caused has happened
    assert [(m.message_id, m.text) for m in tg.messages(other.chat_id)] == before
    assert not any("WhatsApp" in m.text for m in tg.messages(other.chat_id))
    assert kiwi.rentals_of(OTHER_KIWI_KEY) == []
    purchases = await bot.bot_data["services"].db.fetchall("SELECT 1 FROM purchases WHERE chat_id = ?", (other.chat_id,))
    assert purchases == []


async def test_gotsms_buy_again_opens_the_services_plans(
    bot: Any, tg: FakeTelegram, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    """A plan's duration is chosen again from today's plans, each priced when tapped."""
    await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day")
    chat.send("/start")
    await chat.expect("Hi")
    await tg.wait_for_callback_answer(chat.press("🔁 Telegram · GotSMS"))
    await chat.expect("Choose a plan")
    chat.press_starting("USA · 1 day")
    await chat.expect("Confirm your order")
    await chat.confirm_purchase()
    assert len(gotsms.rents_of(GOTSMS_TOKEN)) == 2


def test_the_button_data_is_an_order_id_only() -> None:
    assert decode(again_data(42)) == 42
    for forged in ("rb:", "rb:-1", "rb:²", "rb:1:2", "rb:99999999999999999999", "rb:1.5", None, 7, "x" * 65):
        assert decode(forged) is None


def test_recent_services_are_distinct_newest_first_and_at_most_four() -> None:
    def bought(order_id: int, service: str, provider: ProviderId = ProviderId.KIWI, section: str = USA) -> RecentService:
        return RecentService(order_id, provider, section, (service,), service.title())

    items = [bought(9, "wa"), bought(8, "tg"), bought(7, "wa"), bought(6, "go"), bought(5, "ig"), bought(4, "fb"),
             bought(3, "tg", ProviderId.NONVOIP, "10-minutes")]
    assert [r.order_id for r in distinct_recent(items)] == [9, 8, 6, 5]
    plans = [bought(3, "12", ProviderId.GOTSMS, "duration:day"), bought(2, "12", ProviderId.GOTSMS, "duration:month")]
    assert [r.order_id for r in distinct_recent(plans)] == [3]  # one service: its plan is chosen again
