"""Codes go out before card edits when Telegram's rate limit is the bottleneck (handlers/card_edits.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from handlers.card_edits import CardEdits
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import OrderStatus, ProviderId
from storage.records import OrderRecord
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, Chat, placed_kiwi_orders, until

ORDERS = 40  # 40 codes + 40 card edits: well past the bot-wide ~30 requests a second


async def test_many_codes_at_once_all_go_out_before_any_card_is_edited(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("500.00"))
    await chat.connect_kiwi()
    await placed_kiwi_orders(bot, chat, ORDERS)
    services, delivery = bot.bot_data["services"], bot.bot_data["delivery"]
    cards: dict[int, int] = {}  # card message id -> order id
    for order in await services.orders.active_for_chat(chat.chat_id):
        shown = await bot.bot.send_message(chat.chat_id, f"card of order {order.id}")
        await delivery.attach_card(order, shown.message_id)
        cards[shown.message_id] = order.id
    assert len(cards) == ORDERS
    await bot.bot_data["poller"].settle()

    before = len(tg.calls())
    codes = {}
    for index, rental in enumerate(kiwi.rentals_of(KIWI_KEY)):  # all at once: no poll in between
        codes[rental.id] = f"{700000 + index}"
        kiwi.receive_sms(rental.id, f"Your code is {codes[rental.id]}")
    await until(lambda: all(chat.codes_sent(code) for code in codes.values()), "every code sent", timeout=20)
    await until(lambda: _edited(tg, before, cards) == set(cards), "every card edited", timeout=20)

    calls = tg.calls()[before:]
    code_positions = [i for i, c in enumerate(calls) if c.method == "sendMessage" and "🔑" in str(c.params.get("text"))]
    edit_positions = [i for i, c in enumerate(calls) if c.method == "editMessageText" and _message_id(c) in cards]
    assert len(code_positions) == ORDERS  # each code once
    assert max(code_positions) < min(edit_positions), "a card edit went out before a code"
    # Each card was redrawn from its order as stored when the edit ran: the code is on it.
    shown = {m.message_id: m for m in tg.messages(chat.chat_id) if m.message_id in cards}
    assert len(shown) == ORDERS and all(m.edit_count >= 1 and "card of order" not in m.text for m in shown.values())


def _message_id(call: Any) -> int | None:
    try:
        return int(call.params.get("message_id"))
    except (TypeError, ValueError):
        return None


def _edited(tg: FakeTelegram, since: int, cards: dict[int, int]) -> set[int]:
    return {m for c in tg.calls()[since:] if c.method == "editMessageText" and (m := _message_id(c)) in cards}


def _order(order_id: int, snapshot: str = "") -> OrderRecord:
    return OrderRecord(
        id=order_id, chat_id=1, provider=ProviderId.KIWI, remote_id=f"r-{order_id}{snapshot}", phone="+1555",
        service="wa", service_name="WhatsApp", price=Decimal("0.5"), status=OrderStatus.WAITING, refunded=None,
        expires_at=None, created_at=datetime.now(UTC), finished_at=None, card_message_id=7,
    )


async def test_card_edits_wait_for_sends_coalesce_per_order_and_never_starve() -> None:
    edited: list[OrderRecord] = []
    sending_when_edited: list[bool] = []
    sending = False

    async def edit(order: OrderRecord) -> None:
        sending_when_edited.append(sending)
        edited.append(order)

    edits = CardEdits(edit, max_delay=0.3)
    sending = True
    with edits.busy():  # a code on its way
        edits.request(_order(1, "a"))
        edits.request(_order(2))
        edits.request(_order(1, "b"))  # the same card again: one edit, with the latest snapshot
        await asyncio.sleep(0.05)
        assert edited == []  # nothing while a message is being sent
    sending = False
    await edits.settled()
    assert [o.remote_id for o in edited] == ["r-1b", "r-2"]
    assert sending_when_edited == [False, False]

    # A stream of messages that never pauses holds an edit back for max_delay at most.
    loop = asyncio.get_running_loop()
    with edits.busy():
        asked = loop.time()
        edits.request(_order(3))
        await until(lambda: len(edited) == 3, "the held-back edit", timeout=5)
        waited = loop.time() - asked
    assert 0.25 <= waited < 2.0
