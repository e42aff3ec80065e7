"""Auto-cancel idle orders: chosen in /settings, an order with no code for N minutes is cancelled
through the provider's refundable cancel, once, and the chat is told what was refunded; an order
with a code, a chat with the setting off and a provider that refuses are left alone."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.auto_cancel import AutoCancel
from handlers import texts
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import OrderStatus, ProviderId
from providers.nonvoip.simulator.sim import NonVoipSimulator
from storage.database import utcnow
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, NONVOIP_EMAIL, Chat, bought_gotsms_rent, bought_kiwi_rental, bought_nonvoip_order

BALANCE = Decimal("50.00")
NOTICE = "Auto-cancelled"


async def _choose(chat: Chat, minutes: int) -> None:
    """/settings → Auto-cancel → `minutes` (0 = off), by buttons."""
    chat.send("/settings")
    await chat.expect("Auto-cancel idle orders")
    chat.press_starting("⏱ Auto-cancel idle orders")
    await chat.expect("Cancel an order automatically")
    label = f"{minutes} min" if minutes else "off"
    answer = await chat.tg.wait_for_callback_answer(chat.press(label))
    assert answer["text"] == f"Auto-cancel idle orders: {label}."
    screen = await chat.expect(f"Auto-cancel idle orders: {label}")  # back on the settings screen
    assert f"⏱ Auto-cancel idle orders: {label}" in screen.button_labels


def _later(minutes: float) -> datetime:
    """`minutes` from now: the run looks at the orders as it will then (instead of waiting). Not
    by backdating `created_at`: an order older than its account's connection is another account's."""
    return utcnow() + timedelta(minutes=minutes)


def _run(app: Any) -> AutoCancel:
    return AutoCancel(app.bot_data["services"], app.bot_data["delivery"])


def _notices(chat: Chat) -> list[str]:
    return [m.text for m in chat.tg.sent(chat.chat_id) if NOTICE in m.text]


async def _status(app: Any, chat: Chat) -> OrderStatus:
    row = await app.bot_data["services"].db.fetchone("SELECT status FROM orders WHERE chat_id = ?", (chat.chat_id,))
    return OrderStatus(row["status"])


async def test_an_idle_order_is_cancelled_once_and_the_refund_told(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp", BALANCE)
    await _choose(chat, 10)
    assert await _run(bot).run_once(_later(9)) == 0  # 9 minutes without a code: not yet
    assert kiwi.rental(rental.id).status == "WAITING"
    # Two runs at once (two processes): the order's status CAS lets exactly one move it.
    moved = await asyncio.gather(_run(bot).run_once(_later(11)), _run(bot).run_once(_later(11)))
    assert sorted(moved) == [0, 1]
    notice = await chat.expect(NOTICE)
    assert notice.text == (
        f"⏱ Auto-cancelled WhatsApp · {texts.phone(rental.phone)}: no code in 10 min; {texts.money(rental.price)} refunded."
    )
    assert kiwi.rental(rental.id).status == "CANCELLED" and kiwi.balance_of(KIWI_KEY) == BALANCE
    assert await _status(bot, chat) is OrderStatus.CANCELLED
    assert await _run(bot).run_once(_later(12)) == 0
    await bot.bot_data["poller"].wait_ticks(2)
    assert len(_notices(chat)) == 1


async def test_an_order_with_a_code_is_never_touched(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp", BALANCE)
    await _choose(chat, 5)
    kiwi.receive_sms(rental.id, "WhatsApp code 424242")
    await chat.expect("🔑 424242")
    assert await _run(bot).run_once(_later(15)) == 0
    assert kiwi.rental(rental.id).status == "RECEIVED"
    assert await _status(bot, chat) is OrderStatus.RECEIVED
    assert _notices(chat) == []
    assert not any("/cancel" in r.path for r in kiwi.requests)


async def test_with_the_setting_off_nothing_happens(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp", BALANCE)
    chat.send("/settings")
    await chat.expect("Auto-cancel idle orders: off")  # the default
    assert await _run(bot).run_once(_later(15)) == 0
    await _choose(chat, 5)
    await _choose(chat, 0)  # chosen, then switched off again
    assert await _run(bot).run_once(_later(15)) == 0
    assert kiwi.rental(rental.id).status == "WAITING" and await _status(bot, chat) is OrderStatus.WAITING
    assert _notices(chat) == []


async def test_a_refusal_leaves_the_order_and_tells_no_refund(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp", BALANCE)
    paid = kiwi.balance_of(KIWI_KEY)
    await _choose(chat, 5)
    kiwi.fail_next("POST", f"/api/v1/rentals/{rental.id}/cancel", 404,
                   {"error": "Rental not found or cannot be cancelled", "code": "CANCEL_NOT_ALLOWED"})
    assert await _run(bot).run_once(_later(6)) == 0
    assert kiwi.rental(rental.id).status == "WAITING" and kiwi.balance_of(KIWI_KEY) == paid
    assert await _status(bot, chat) is OrderStatus.WAITING
    await bot.bot_data["poller"].wait_ticks(2)
    assert _notices(chat) == [] and not any("refunded" in m.text for m in tg.sent(chat.chat_id))
    assert await _run(bot).run_once(_later(6)) == 1  # the provider allows it again: the next run cancels
    assert "refunded" in (await chat.expect(NOTICE)).text


async def test_a_nonvoip_short_term_order_is_rejected_and_refunded(
    bot: Any, tg: FakeTelegram, nonvoip: NonVoipSimulator, chat: Chat
) -> None:
    order = await bought_nonvoip_order(chat, nonvoip, "10-minutes", "Instagram", BALANCE)
    await _choose(chat, 5)
    assert await _run(bot).run_once(_later(6)) == 1
    notice = await chat.expect(NOTICE)
    assert "no code in 5 min" in notice.text and "refunded" in notice.text
    assert await _status(bot, chat) is OrderStatus.CANCELLED
    assert nonvoip.balance_of(NONVOIP_EMAIL) == BALANCE
    assert any(r.path == "/api/reject" and r.json.get("order_id") == order.order_id for r in nonvoip.requests)


async def test_a_gotsms_rent_is_never_auto_cancelled(
    bot: Any, tg: FakeTelegram, gotsms: GotSmsSimulator, chat: Chat
) -> None:
    """Its refund is the provider's decision (no refundable cancel in its capabilities)."""
    await bought_gotsms_rent(chat, gotsms, "Telegram", "1 day", BALANCE)
    await _choose(chat, 5)
    assert await _run(bot).run_once(_later(30)) == 0
    assert await _status(bot, chat) is OrderStatus.WAITING
    assert not any("refund" in r.path for r in gotsms.requests) and _notices(chat) == []


async def test_a_worker_cancels_only_the_accounts_it_leased(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    """Several workers: each runs auto-cancel for the accounts it polls, so the provider is asked once."""
    rental = await bought_kiwi_rental(chat, kiwi, "WhatsApp", BALANCE)
    await _choose(chat, 5)
    someone_else = frozenset({(chat.chat_id + 1, ProviderId.KIWI)})
    assert await _run(bot).run_once(_later(6), only=someone_else) == 0
    assert kiwi.rental(rental.id).status == "WAITING"
    assert await _run(bot).run_once(_later(6), only=frozenset({(chat.chat_id, ProviderId.KIWI)})) == 1
    assert kiwi.rental(rental.id).status == "CANCELLED"
