"""Bad input never raises: random texts, forged and truncated buttons, presses on deleted and
old messages, across several chats at once, against the running bot and the fake Bot API.

The error handler is never reached, every button press is answered, and a bystander chat
(its messages and its database rows) does not change.
"""

from __future__ import annotations

import asyncio
import logging
import random
import string
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from telegram.ext import Application

from handlers import callbacks as cb
from handlers.services import SERVICES_KEY, Services
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import Action, OrderStatus, ProviderId, RemoteOrder
from tests.fakes.telegram import FakeTelegram
from tests.helpers import KIWI_KEY, Chat

SEED = 20240607
ACTORS = (2001, 2002, 2003)
BYSTANDER = 2999
BYSTANDER_KEY = "lsms_bystd1_0123456789abcdef0123"
TEXTS = 210
PRESSES = 160
TABLES = ("chats", "credentials", "orders", "purchases", "messages", "conversations")
_ALPHABETS = (
    string.printable,
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "中文字符测试😀🎉🔥👍🏽‍‍\u200b\u200f\u202eעבריתالعربية",
    "<>&\"'/\\:;|%{}[]",
)


def _junk(rng: random.Random, length: int) -> str:
    alphabet = "".join(rng.sample(_ALPHABETS, rng.randint(1, len(_ALPHABETS))))
    return "".join(rng.choice(alphabet) for _ in range(length))


def _text(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return _junk(rng, 5000)  # longer than Telegram's 4096-character message
    if kind == 1:
        return _junk(rng, rng.randint(1, 4000))
    if kind == 2:  # credential-like
        return rng.choice([
            f"lsms_{_junk_ascii(rng, 6)}_{_junk_ascii(rng, 24)}",
            f"{rng.randint(1, 999)}|{_junk_ascii(rng, 40)}",
            "".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(40, 90))),
            f"my token is {_junk_ascii(rng, 48)}",
        ])
    if kind in (3, 4):  # a command with junk arguments
        command = rng.choice(["start", "buy", "orders", "balance", "providers", "connect", "history", "help",
                              "cancel", "nonsense", "start@otp_test_bot", "buy@other_bot"])
        return f"/{command} {_junk(rng, rng.randint(0, 300))}".rstrip()
    if kind == 5:
        return rng.choice(["whats", "tele", "🙂", "   ", ".", "%", "<b>bold</b>", "&amp;", "0", "-1", "9" * 30])
    return _junk(rng, rng.randint(1, 60)) or "?"


def _junk_ascii(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


def _forged_data(rng: random.Random, real: list[str], other_order_id: int) -> str:
    kind = rng.randrange(8)
    if kind == 0 and real:  # a real button, truncated
        data = rng.choice(real)
        return data[: rng.randint(1, max(1, len(data) - 1))]
    if kind == 1:  # another chat's order
        action = rng.choice(list(Action))
        return cb.order_action(action, other_order_id) if rng.random() < 0.8 else f"o:{action.value}:{other_order_id}:x"
    if kind == 2:
        return rng.choice([
            "o:cancel:99999999999999999999999", "o:refresh:-1", "h:99999", "h:²", "b:c:", "b:c:" + "A" * 60,
            "b:s:kiwi:187:9999", "b:s:kiwi:nowhere:0", "b:o:kiwi:187:no-such", "b:pl:gotsms:sms:x", "b:t:kiwi:187:wa:0",
            "b:m:nonvoip:30-days", "b:p:kiwi", "p:ask:gotsms", "p:no", "c:kiwi", "c:telegram", "m:buy", "m:orders",
            "m:history", "m:balance", "m:providers", "noop", "b:x:" + _junk_ascii(rng, 12),
        ])
    if kind == 3 and real:
        return rng.choice(real)
    data = _junk(rng, rng.randint(1, 64))
    while len(data.encode()) > 64:
        data = data[:-1]
    return data or "x"


async def _rent_on_kiwi(kiwi: KiwiSimulator, key: str) -> dict[str, Any]:
    """A real rental on the simulator, through its public API (independent of the bot's client)."""
    async with httpx.AsyncClient(base_url=kiwi.base_url) as http:
        response = await http.post("/api/v1/rentals", json={"service": "wa", "country": "187"}, headers={"X-API-Key": key})
    response.raise_for_status()
    return dict(response.json()["rental"])


async def _snapshot(services: Services, tg: FakeTelegram, chat_id: int) -> Any:
    rows = {}
    for table in TABLES:
        found = await services.db.fetchall(f"SELECT * FROM {table} WHERE chat_id = ? ORDER BY 1", (chat_id,))
        # updated_at moves whenever the poller looks at an order; what it says must not change.
        rows[table] = [{k: r[k] for k in r.keys() if k != "updated_at"} for r in found]
    messages = [(m.message_id, m.text, m.buttons, m.edit_count) for m in tg.messages(chat_id)]
    return rows, messages, len(tg.sent(chat_id))


async def _idle(app: Application, tg: FakeTelegram, timeout: float = 15.0) -> None:  # type: ignore[type-arg]
    """Every update fetched and every handler finished."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    processor = app.update_processor
    while tg.pending_update_count or app.update_queue.qsize() or processor.current_concurrent_updates:
        if loop.time() > deadline:
            raise AssertionError("the bot did not finish the fuzzed updates in time")
        await asyncio.sleep(0.05)


async def test_random_input_across_chats_never_raises_and_stays_in_its_chat(
    bot: Application, tg: FakeTelegram, kiwi: KiwiSimulator, caplog: pytest.LogCaptureFixture  # type: ignore[type-arg]
) -> None:
    caplog.set_level(logging.ERROR, logger="handlers.errors")
    services: Services = bot.bot_data[SERVICES_KEY]
    rng = random.Random(SEED)
    kiwi.add_account(KIWI_KEY, Decimal("1000"))
    kiwi.add_account(BYSTANDER_KEY)

    # The bystander: connected, with an active order and a /connect step under way.
    bystander = Chat(tg, BYSTANDER)
    await bystander.connect_kiwi(BYSTANDER_KEY)
    rental = await _rent_on_kiwi(kiwi, BYSTANDER_KEY)
    order = await services.orders.add(BYSTANDER, ProviderId.KIWI, RemoteOrder(
        order_id=rental["id"], phone=rental["phone"], service="wa", service_name=rental["serviceName"],
        price=Decimal(str(rental["price"])), status=OrderStatus.WAITING,
        expires_at=datetime.fromisoformat(rental["expiresAt"].replace("Z", "+00:00")),
    ))
    bystander.send("/connect")
    await bystander.expect("Which provider")
    bystander.press("NonVoipUsNumber")
    await bystander.expect("email")
    await _idle(bot, tg)
    before = await _snapshot(services, tg, BYSTANDER)
    bystander_message = tg.messages(BYSTANDER)[-1].message_id

    for chat_id in ACTORS[:2]:
        await Chat(tg, chat_id).connect_kiwi()
    queries: list[str] = []
    for step in range(TEXTS + PRESSES):
        chat_id = rng.choice(ACTORS)
        live = tg.messages(chat_id)
        real = [b["callback_data"] for m in live for row in m.buttons for b in row if "callback_data" in b]
        if step % 3 == 0 or not live:
            tg.user_sends(chat_id, _text(rng))
            continue
        target = rng.choice(live).message_id
        roll = rng.random()
        if roll < 0.1:
            tg.user_deletes(chat_id, target)  # the press arrives for a message deleted meanwhile
        elif roll < 0.15:
            tg.age_message(chat_id, target, hours=49)
        if roll > 0.9:
            data = _forged_data(rng, real, order.id)
            queries.append(tg.callback_update_for_foreign_message(chat_id, BYSTANDER, bystander_message, data))
        else:
            queries.append(tg.press_data(chat_id, target, _forged_data(rng, real, order.id)))
        if step % 25 == 0:
            await asyncio.sleep(0)  # let the bot start on what is queued

    for query in queries:
        await tg.wait_for_callback_answer(query, timeout=15)
    await _idle(bot, tg)
    assert [r.getMessage() for r in caplog.records if r.name == "handlers.errors"] == []
    assert await _snapshot(services, tg, BYSTANDER) == before
    assert kiwi.rentals_of(BYSTANDER_KEY)[0].status == "WAITING"
