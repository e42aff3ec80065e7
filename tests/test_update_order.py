"""Updates of different chats run concurrently; one chat's updates run in arrival order.

End to end: the real Application polling the fake Bot API, a slow answer from a provider simulator
(a delay fault rule). Then `PerChatUpdateProcessor` on its own, with handlers that record when
they start and finish: order within a chat, overlap across chats, the bound, cancellation,
idle chats forgotten, and the metrics it records. Last, the flood limiter: a reply to the chat
whose update is being handled does not wait behind the bot's bulk sends.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import REGISTRY
from telegram import CallbackQuery, Chat as TgChat, Message, Update, User

from bot.rate_limits import ANSWERING_CHAT, ReplyFirstRateLimiter, is_reply
from bot.update_processor import PerChatUpdateProcessor
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import FakeTelegram
from tests.helpers import GOTSMS_TOKEN, KIWI_KEY, Chat

SLOW = 1.0  # seconds the simulator holds the slow answer
KIWI_BALANCE = "/api/v1/balance"


# -- through the real Application --------------------------------------------------------------


async def test_two_messages_of_one_chat_in_one_batch_are_handled_one_after_the_other(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, chat: Chat
) -> None:
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    await chat.connect_kiwi()
    kiwi.delay_next("GET", KIWI_BALANCE, SLOW)  # /balance waits for kiwiSMS; /help needs nobody
    with tg.batch():  # one getUpdates answer carries both
        chat.send("/balance")
        chat.send("/help")

    help_screen = await chat.expect("rents phone numbers")
    balances = await chat.expect("Balances")

    # Handled concurrently, /help would answer at once and the balances a second later.
    assert balances.seq < help_screen.seq
    assert help_screen.sent_at >= balances.sent_at
    assert [m.text.split("\n")[0] for m in tg.sent(chat.chat_id)[-2:]] == ["💰 Balances", help_screen.text.split("\n")[0]]


async def test_a_slow_provider_answer_in_one_chat_does_not_hold_another_chats_tap(
    bot: Any, tg: FakeTelegram, kiwi: KiwiSimulator, gotsms: GotSmsSimulator
) -> None:
    slow, quick = Chat(tg, 1001), Chat(tg, 1002)
    kiwi.add_account(KIWI_KEY, Decimal("50.00"))
    gotsms.add_account(GOTSMS_TOKEN, Decimal("50.00"))
    await slow.connect_kiwi()
    await quick.connect_gotsms()
    for user in (slow, quick):
        user.send("/start")
        await user.expect("Rent a number")
    kiwi.delay_next("GET", KIWI_BALANCE, SLOW)
    with tg.batch():  # both taps in one getUpdates answer, the slow chat's first
        slow.press("Balance")
        quick.press("Balance")
    tapped = time.time()  # the batch is released here

    quick_screen = await quick.expect("Balances")
    slow_screen = await slow.expect("Balances", timeout=SLOW + 5)

    # The quick chat saw its balances while the slow chat's provider still held its answer.
    assert quick_screen.seq < slow_screen.seq
    assert (quick_screen.edited_at or 0) - tapped < SLOW
    assert (slow_screen.edited_at or 0) - tapped >= SLOW * 0.9


# -- the processor on its own ------------------------------------------------------------------


def _message(chat_id: int, update_id: int) -> Update:
    chat = TgChat(chat_id, "private")
    return Update(update_id, message=Message(update_id, datetime.now(UTC), chat, text=f"m{update_id}"))


def _tap(chat_id: int, update_id: int) -> Update:
    user = User(chat_id, "Tess", is_bot=False)
    message = Message(update_id, datetime.now(UTC), TgChat(chat_id, "private"), text="screen")
    query = CallbackQuery(str(update_id), user, chat_instance="ci", data="x", message=message)
    return Update(update_id, callback_query=query)


class Recorder:
    """Handlers that log (event, update id) and track how many run at once."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.running = 0
        self.most_at_once = 0

    async def handle(self, update_id: int, seconds: float) -> None:
        self.events.append(("start", update_id))
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.running -= 1
            self.events.append(("end", update_id))

    def spans(self) -> dict[int, tuple[int, int]]:
        """update id -> (index of its start, index of its end) in the event log."""
        starts = {uid: i for i, (what, uid) in enumerate(self.events) if what == "start"}
        ends = {uid: i for i, (what, uid) in enumerate(self.events) if what == "end"}
        return {uid: (starts[uid], ends[uid]) for uid in starts}


async def _feed(processor: PerChatUpdateProcessor, items: list[tuple[Update, float]], recorder: Recorder) -> None:
    """As PTB does: one task per update, created in arrival order."""
    async with processor:
        await asyncio.gather(*(
            processor.process_update(update, recorder.handle(update.update_id, seconds)) for update, seconds in items
        ))


async def test_one_chats_updates_never_overlap_and_run_in_arrival_order() -> None:
    rng = random.Random(9)
    chats = [11, 12, 13]
    items = [(_message(rng.choice(chats), uid), rng.uniform(0, 0.01)) for uid in range(1, 61)]
    recorder = Recorder()
    processor = PerChatUpdateProcessor()

    await _feed(processor, items, recorder)

    spans = recorder.spans()
    for chat in chats:
        ids = [u.update_id for u, _ in items if u.effective_chat and u.effective_chat.id == chat]
        in_order = [spans[uid] for uid in ids]
        assert all(a_end < b_start for (_, a_end), (b_start, _) in zip(in_order, in_order[1:])), chat
    assert recorder.most_at_once > 1  # the chats did overlap
    assert processor.busy_chats == 0  # idle chats are forgotten


async def test_different_chats_run_at_once_up_to_the_bound() -> None:
    recorder = Recorder()
    items = [(_message(100 + i, i), 0.02) for i in range(1, 9)]
    await _feed(PerChatUpdateProcessor(max_running=3), items, recorder)
    assert recorder.most_at_once == 3

    unbounded = Recorder()
    await _feed(PerChatUpdateProcessor(), items, unbounded)
    assert unbounded.most_at_once == 8


async def test_updates_without_a_chat_are_not_held_by_a_busy_chat() -> None:
    recorder = Recorder()
    chatless = Update(7)  # e.g. a poll update: no chat
    items = [(_message(5, 1), 0.05), (_message(5, 2), 0.0), (chatless, 0.0)]
    await _feed(PerChatUpdateProcessor(), items, recorder)
    spans = recorder.spans()
    assert spans[7][1] < spans[1][1] < spans[2][0]


async def test_a_cancelled_waiting_update_does_not_let_the_next_one_jump_the_line() -> None:
    recorder = Recorder()
    processor = PerChatUpdateProcessor()
    async with processor:
        first = asyncio.create_task(processor.process_update(_message(5, 1), recorder.handle(1, 0.05)))
        second = asyncio.create_task(processor.process_update(_message(5, 2), recorder.handle(2, 0.0)))
        third = asyncio.create_task(processor.process_update(_message(5, 3), recorder.handle(3, 0.0)))
        await asyncio.sleep(0)  # all three in line, the first running
        second.cancel()
        await asyncio.gather(first, third, return_exceptions=True)
        with pytest.raises(asyncio.CancelledError):
            await second
    assert recorder.events == [("start", 1), ("end", 1), ("start", 3), ("end", 3)]
    assert processor.busy_chats == 0


def _handled(kind: str) -> float:
    return REGISTRY.get_sample_value("otpbot_updates_handled_total", {"kind": kind}) or 0.0


def _latency_count(kind: str) -> float:
    return REGISTRY.get_sample_value("otpbot_update_latency_seconds_count", {"kind": kind}) or 0.0


async def test_each_update_is_counted_by_kind_with_its_latency() -> None:
    before = {k: (_handled(k), _latency_count(k)) for k in ("message", "callback_query", "other")}
    items = [(_message(5, 1), 0.0), (_tap(5, 2), 0.0), (_tap(6, 3), 0.0), (Update(4), 0.0)]
    await _feed(PerChatUpdateProcessor(), items, Recorder())
    after = {k: (_handled(k), _latency_count(k)) for k in before}
    assert {k: (after[k][0] - before[k][0], after[k][1] - before[k][1]) for k in before} == {
        "message": (1, 1), "callback_query": (2, 2), "other": (1, 1),
    }


def test_the_bounds_must_make_sense() -> None:
    with pytest.raises(ValueError):
        PerChatUpdateProcessor(max_running=0)
    with pytest.raises(ValueError):
        PerChatUpdateProcessor(max_running=10, max_in_flight=5)


# -- replies skip the bot-wide flood limit (bot/rate_limits.py) --------------------------------


async def _limited(limiter: ReplyFirstRateLimiter, log: list[str], tag: str, chat_id: int) -> None:
    async def call(**_: Any) -> bool:
        log.append(tag)
        return True

    await limiter.process_request(call, (), {}, "editMessageText", {"chat_id": chat_id}, None)


async def test_a_reply_to_the_chat_being_answered_does_not_queue_behind_bulk_sends() -> None:
    limiter = ReplyFirstRateLimiter(overall_max_rate=1, overall_time_period=60, group_max_rate=0)
    await limiter.initialize()
    log: list[str] = []
    await _limited(limiter, log, "bulk 1", 501)  # takes the minute's whole budget
    bulk = asyncio.create_task(_limited(limiter, log, "bulk 2", 502))
    other_chat = asyncio.create_task(_handling(limiter, log, "to another chat", answering=7, chat_id=503))
    await asyncio.wait_for(_handling(limiter, log, "reply", answering=7, chat_id=7), timeout=5)
    assert log == ["bulk 1", "reply"]  # the reply went out; the others still wait their turn
    assert not bulk.done() and not other_chat.done()
    bulk.cancel()
    other_chat.cancel()
    await asyncio.gather(bulk, other_chat, return_exceptions=True)
    await limiter.shutdown()


async def _handling(limiter: ReplyFirstRateLimiter, log: list[str], tag: str, *, answering: int, chat_id: int) -> None:
    """A request made while an update of chat `answering` is being handled (as the processor marks it)."""
    token = ANSWERING_CHAT.set(answering)
    try:
        await _limited(limiter, log, tag, chat_id)
    finally:
        ANSWERING_CHAT.reset(token)


def test_only_a_private_chats_own_requests_count_as_replies() -> None:
    token = ANSWERING_CHAT.set(7)
    try:
        assert is_reply({"chat_id": 7}) and is_reply({"chat_id": "7"})
        assert not is_reply({"chat_id": 8}) and not is_reply({}) and not is_reply({"chat_id": "@channel"})
    finally:
        ANSWERING_CHAT.reset(token)
    group = ANSWERING_CHAT.set(-100123)
    try:
        assert not is_reply({"chat_id": -100123})  # a group keeps Telegram's per-group limit
    finally:
        ANSWERING_CHAT.reset(group)
    assert not is_reply({"chat_id": 7})  # outside any update (the poller, deliveries)


async def test_the_processor_marks_the_chat_whose_update_is_handled() -> None:
    seen: list[int | None] = []

    async def handler() -> None:
        seen.append(ANSWERING_CHAT.get())

    async with PerChatUpdateProcessor() as processor:
        await processor.process_update(_message(42, 1), handler())
        await processor.process_update(Update(2), handler())
    assert seen == [42, None]
