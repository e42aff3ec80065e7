"""One chat's turn across processes (storage/chat_turns.py) on a real PostgreSQL server.

Two `PostgresChatTurns` are two processes (two sessions). A chat held by one waits in the other;
another chat does not; a holder that dies frees its chats; many turns at once share the one
connection. End to end: two Applications in the web role behind a round-robin balancer, one
chat's two updates on the two processes: the second is answered only after the first is done.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from telegram import Chat as TgChat, Message, Update

from bot.app import build_application, running
from bot.config import Settings
from bot.roles import Role
from bot.update_processor import PerChatUpdateProcessor
from bot.web.server import webhook_options
from providers.kiwi.simulator.sim import KiwiSimulator
from storage.chat_turns import CHAT_LOCK_CLASS, ChatTurns, PostgresChatTurns, chat_lock_key
from tests.clients.common import free_port
from tests.fakes.telegram import FakeTelegram
from tests.harness.proxy import Exchange, LoopbackProxy
from tests.harness.round_robin import RoundRobinProxy
from tests.helpers import KIWI_KEY, Chat

TIMEOUT = 10.0
KIWI_BALANCE = "/api/v1/balance"
HELP_TEXT = "rents phone numbers"  # the /help screen


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Until `condition()` holds: another session's lock state has no event to await here."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {TIMEOUT}s: {what}")
        await asyncio.sleep(0.005)


@pytest.fixture
async def sessions(postgres_url: str) -> AsyncIterator[tuple[PostgresChatTurns, PostgresChatTurns]]:
    first, second = PostgresChatTurns(postgres_url), PostgresChatTurns(postgres_url)
    await first.connect()
    await second.connect()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def _chat_locks_held(url: str) -> list[asyncpg.Record]:
    """The chat locks granted now, seen from a third session."""
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(
            # This test's database only: the server is shared by every test running in parallel.
            "SELECT pid, objid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1"
            " AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            CHAT_LOCK_CLASS,
        ))
    finally:
        await conn.close()


async def _terminate(url: str, pid: int) -> None:
    """End another session, as a killed process or a restarted server would."""
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


class Holder:
    """A turn held until `leave()`."""

    def __init__(self, turns: ChatTurns, chat_id: int) -> None:
        self.inside = asyncio.Event()
        self._leave = asyncio.Event()
        self.task = asyncio.create_task(self._hold(turns, chat_id))

    async def _hold(self, turns: ChatTurns, chat_id: int) -> None:
        async with turns.turn(chat_id):
            self.inside.set()
            await self._leave.wait()

    async def leave(self) -> None:
        self._leave.set()
        await asyncio.wait_for(self.task, TIMEOUT)


async def test_a_chat_held_by_one_process_waits_in_the_other_and_other_chats_do_not(
    sessions: tuple[PostgresChatTurns, PostgresChatTurns],
) -> None:
    a, b = sessions
    events: list[str] = []
    holder = Holder(a, 1)
    await asyncio.wait_for(holder.inside.wait(), TIMEOUT)
    events.append("A in 1")

    async def b_turn(chat_id: int) -> None:
        async with b.turn(chat_id):
            events.append(f"B in {chat_id}")

    waiting = asyncio.create_task(b_turn(1))
    await _until(lambda: b.waiting == 1, "B waiting for chat 1")
    await asyncio.wait_for(b_turn(2), TIMEOUT)  # while A still holds chat 1
    assert events == ["A in 1", "B in 2"]

    events.append("A out of 1")
    await holder.leave()
    await asyncio.wait_for(waiting, TIMEOUT)
    assert events == ["A in 1", "B in 2", "A out of 1", "B in 1"]
    assert b.waiting == 0


async def test_a_process_that_dies_holding_a_chat_frees_it_and_reconnects_at_its_next_turn(
    sessions: tuple[PostgresChatTurns, PostgresChatTurns], postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = sessions
    holder = Holder(a, 1)
    await asyncio.wait_for(holder.inside.wait(), TIMEOUT)
    waiting = Holder(b, 1)
    await _until(lambda: b.waiting == 1, "B waiting for chat 1")
    assert not waiting.inside.is_set()

    (held,) = await _chat_locks_held(postgres_url)
    await _terminate(postgres_url, held["pid"])
    await asyncio.wait_for(waiting.inside.wait(), TIMEOUT)  # B has chat 1 now: A's session is gone

    with caplog.at_level(logging.INFO, logger="storage.chat_turns"):
        await holder.leave()  # its unlock finds the session gone: nothing to free, no exception
        # A's next turn opens a new session and holds a real lock again.
        async with a.turn(3):
            locks = await _chat_locks_held(postgres_url)
            assert sorted(int(lock["objid"]) for lock in locks) == [chat_lock_key(1), chat_lock_key(3)]
            assert len({lock["pid"] for lock in locks}) == 2
            (a_pid,) = [lock["pid"] for lock in locks if int(lock["objid"]) == chat_lock_key(3)]
        # Its new session killed while idle (a server restart, idle_session_timeout): the next
        # turn opens another at once and holds a real lock.
        await _terminate(postgres_url, a_pid)
        async with a.turn(4):
            locks = await _chat_locks_held(postgres_url)
            assert sorted(int(lock["objid"]) for lock in locks) == [chat_lock_key(1), chat_lock_key(4)]
            assert a_pid not in {lock["pid"] for lock in locks}
    await waiting.leave()
    assert [r.getMessage() for r in caplog.records] == []  # every loss was made good: nothing to say


async def test_fifty_chats_at_once_share_the_one_connection(
    sessions: tuple[PostgresChatTurns, PostgresChatTurns], postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, _ = sessions
    chats = range(1000, 1050)
    all_inside = asyncio.Event()
    leave = asyncio.Event()
    inside = 0

    async def hold(chat_id: int) -> None:
        nonlocal inside
        async with a.turn(chat_id):
            inside += 1
            if inside == len(chats):
                all_inside.set()
            await leave.wait()

    with caplog.at_level(logging.WARNING, logger="storage.chat_turns"):
        tasks = [asyncio.create_task(hold(chat)) for chat in chats]
        await asyncio.wait_for(all_inside.wait(), TIMEOUT)
        # Each is a real lock, not a turn that went on unlocked after a failed statement.
        assert sorted(int(lock["objid"]) for lock in await _chat_locks_held(postgres_url)) == list(chats)
        leave.set()
        await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
        assert await _chat_locks_held(postgres_url) == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_turn_held_past_the_bound_goes_on_with_one_warning_naming_no_chat(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, impatient = PostgresChatTurns(postgres_url), PostgresChatTurns(postgres_url, wait_bound=0.1)
    try:
        holder = Holder(a, 424242)
        await asyncio.wait_for(holder.inside.wait(), TIMEOUT)
        with caplog.at_level(logging.WARNING, logger="storage.chat_turns"):
            async with impatient.turn(424242):
                assert not holder.task.done()  # went on while the other still holds the chat
        (warning,) = [r.getMessage() for r in caplog.records]
        assert "424242" not in warning and "another process" in warning
        await holder.leave()
    finally:
        await a.close()
        await impatient.close()


async def test_with_the_database_away_a_turn_goes_on_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cret-pw"
    away = PostgresChatTurns(f"postgresql://bot:{secret}@127.0.0.1:{free_port()}/bot")  # nobody listens
    ran = []
    with caplog.at_level(logging.WARNING, logger="storage.chat_turns"):
        for chat_id in (1, 2, 3):
            async with away.turn(chat_id):
                ran.append(chat_id)
    await away.close()
    assert ran == [1, 2, 3]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "(ConnectionRefusedError)" in warning  # the type only
    assert secret not in warning and "127.0.0.1" not in warning and secret not in repr(away)


async def test_an_update_cancelled_while_another_process_holds_its_chat_never_runs_and_holds_nothing(
    sessions: tuple[PostgresChatTurns, PostgresChatTurns], postgres_url: str
) -> None:
    a, b = sessions
    processor = PerChatUpdateProcessor()
    processor.share_turns(b)
    ran: list[int] = []

    async def handler(update_id: int) -> None:
        ran.append(update_id)

    async with processor:
        holder = Holder(a, 5)
        await asyncio.wait_for(holder.inside.wait(), TIMEOUT)
        first = asyncio.create_task(processor.process_update(_message(5, 1), handler(1)))
        second = asyncio.create_task(processor.process_update(_message(5, 2), handler(2)))
        await _until(lambda: b.waiting == 1, "the first update waiting for the other process")
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await _until(lambda: b.waiting == 1, "the second update waiting in its turn")
        await holder.leave()
        await asyncio.wait_for(second, TIMEOUT)
    assert ran == [2] and processor.busy_chats == 0
    assert await _chat_locks_held(postgres_url) == []  # the cancelled turn left no lock behind


def _message(chat_id: int, update_id: int) -> Update:
    return Update(update_id, message=Message(update_id, datetime.now(UTC), TgChat(chat_id, "private"), text="m"))


def test_chat_ids_fold_into_the_second_int4_key() -> None:
    for chat_id in (0, 1, -1, 2**31 - 1, 2**31, -(2**31), 7_000_000_001, -1_001_234_567_890, 2**52):
        assert -(2**31) <= chat_lock_key(chat_id) < 2**31
    assert chat_lock_key(1001) == 1001 and chat_lock_key(1001) != chat_lock_key(1002)


# -- end to end: two web processes on one PostgreSQL -----------------------------------------


class GatedProxy(LoopbackProxy):
    """Forwards to the provider; the request `hold_next` names waits at the gate until `open()`."""

    def __init__(self, upstream_base_url: str) -> None:
        super().__init__(upstream_base_url)
        self.held = asyncio.Event()
        self._gate = asyncio.Event()
        self._hold: tuple[str, str] | None = None

    def hold_next(self, method: str, path: str) -> None:
        self._hold = (method, path)

    def open(self) -> None:
        self._gate.set()

    async def _handle(self, exchange: Exchange, receive: Any, send: Any) -> None:
        if self._hold == (exchange.method, exchange.path):
            self._hold = None
            self.held.set()
            await self._gate.wait()
        await super()._handle(exchange, receive, send)


def _web(settings: Settings) -> AbstractAsyncContextManager[Any]:
    """One `python -m bot web`, in this process: its own web server, the shared database."""
    return running(build_application(settings, role=Role.WEB), webhook=webhook_options(settings))


def _upstream_of_text(balancer: RoundRobinProxy, text: str) -> int:
    for routed in balancer.routed:
        if routed.path.startswith("/telegram") and json.loads(routed.body).get("message", {}).get("text") == text:
            return routed.upstream
    raise AssertionError(f"no webhook post carried {text!r}")


def _waiting_for_another_process(*apps: Any) -> int:
    return sum(app.update_processor.turns.waiting for app in apps
               if isinstance(app.update_processor, PerChatUpdateProcessor))


async def test_one_chats_update_on_another_web_process_waits_for_the_first_to_end(
    make_settings: Callable[..., Settings], tg: FakeTelegram, kiwi: KiwiSimulator, postgres_url: str, chat: Chat
) -> None:
    gate = GatedProxy(kiwi.base_url)
    ports = [free_port(), free_port()]
    balancer = RoundRobinProxy([f"http://127.0.0.1:{port}" for port in ports])
    await gate.start()
    await balancer.start()
    settings = [
        make_settings(database_url=postgres_url, kiwi_base_url=gate.base_url, webhook_url=balancer.url,
                      webhook_listen="127.0.0.1", webhook_port=port)
        for port in ports
    ]
    try:
        async with _web(settings[0]) as one, _web(settings[1]) as other:
            kiwi.add_account(KIWI_KEY, Decimal("50.00"))
            await chat.connect_kiwi()

            gate.hold_next("GET", KIWI_BALANCE)
            chat.send("/balance")
            # Its handler is inside its provider request: it holds the chat's turn until the gate opens.
            await asyncio.wait_for(gate.held.wait(), TIMEOUT)
            chat.send("/help")  # the balancer takes it to the other process
            # Until that process either answered /help (no turn across processes) or waits for the turn.
            await _until(lambda: any(HELP_TEXT in m.text for m in tg.sent(chat.chat_id))
                         or _waiting_for_another_process(one, other) >= 1, "/help answered or waiting")
            gate.open()

            balances = await chat.expect("Balances")
            help_screen = await chat.expect(HELP_TEXT)
            assert _upstream_of_text(balancer, "/balance") != _upstream_of_text(balancer, "/help")
            assert balances.seq < help_screen.seq, "/help was answered while /balance was still being handled"
    finally:
        gate.open()
        await balancer.stop()
        await gate.stop()
