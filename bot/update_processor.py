"""Telegram updates: different chats concurrently, one chat's updates strictly in arrival order.

PTB hands every update to `process_update` in the order it fetched them (one task each, started in
that order). Each update takes its place in its chat's line at once — before any await — so the
line is the arrival order; it runs when the update before it in the same chat has finished. A
slow provider answer in one chat therefore never holds another chat's button, and two messages
of one chat (one getUpdates batch) never race each other's conversation step.

Two bounds: PTB's own semaphore (`max_in_flight`) counts updates running or waiting for their
chat's turn; `max_running` counts handlers actually running, and is taken only once an update's
turn has come, so a chat with a queue of updates holds one running slot, not one per update.
A chat's line is dropped when its last update finishes: memory does not grow with chats.

Several web processes behind a load balancer each keep their own lines; two quick updates of one
chat may reach two of them. With `share_turns` (PostgreSQL, bot/app.py) an update whose turn in
its process has come also takes its chat's turn across processes (storage/chat_turns.py) before
its handler runs, so at most one update of a chat runs at a time anywhere. That turn is taken
before a running slot: waiting for another process holds no slot of this one.

Each update is counted (UPDATES_HANDLED) and timed (UPDATE_LATENCY) by kind, from the moment it
reaches the processor to its handlers' end — a wait for the chat's earlier updates (in this process
or, with shared turns, in another) included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.rate_limits import ANSWERING_CHAT
from handlers.metrics import UPDATE_LATENCY, UPDATES_HANDLED
from storage.chat_turns import ChatTurns, NoChatTurns

MAX_RUNNING = 256  # handlers running at once (PTB's default for concurrent_updates=True)
MAX_IN_FLIGHT = 4096  # updates running or waiting their chat's turn


def update_kind(update: object) -> str:
    """The metrics label: message (typed text, commands, edits), callback_query, or other."""
    if isinstance(update, Update):
        if update.callback_query is not None:
            return "callback_query"
        if update.message is not None or update.edited_message is not None:
            return "message"
    return "other"


def chat_key(update: object) -> int | None:
    """Whose line an update waits in: its chat (None: no chat, e.g. an inline query)."""
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats (bounded), sequential within one chat, with metrics per update."""

    __slots__ = ("_lines", "_running", "_turns")

    def __init__(self, max_running: int = MAX_RUNNING, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        if max_running < 1 or max_in_flight < max_running:
            raise ValueError("need 1 <= max_running <= max_in_flight")
        super().__init__(max_in_flight)
        self._running = asyncio.Semaphore(max_running)
        # chat id -> a future done when the newest update of that chat has finished.
        self._lines: dict[int, asyncio.Future[None]] = {}
        self._turns: ChatTurns = NoChatTurns()

    def share_turns(self, turns: ChatTurns) -> None:
        """Take each chat's turn across processes too (its owner closes `turns` after shutdown)."""
        self._turns = turns

    @property
    def turns(self) -> ChatTurns:
        return self._turns

    @property
    def busy_chats(self) -> int:
        """Chats with an update running or waiting (a gauge for tests: idle chats are forgotten)."""
        return len(self._lines)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for every update it handed over before shutting down."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        received = time.perf_counter()
        kind = update_kind(update)
        chat = chat_key(update)
        if chat is None:
            await self._run(coroutine)
        else:
            token = ANSWERING_CHAT.set(chat)  # the handler's requests to this chat are replies
            try:
                await self._in_line(chat, coroutine)
            finally:
                ANSWERING_CHAT.reset(token)
        UPDATES_HANDLED.labels(kind).inc()
        UPDATE_LATENCY.labels(kind).observe(time.perf_counter() - received)

    async def _in_line(self, chat: int, coroutine: Awaitable[Any]) -> None:
        before = self._lines.get(chat)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lines[chat] = mine  # no await since get(): the line is the arrival order
        mine.add_done_callback(lambda done: self._forget(chat, done))
        if before is not None and not before.done():
            try:
                await asyncio.shield(before)
            except asyncio.CancelledError:
                # Cancelled while waiting: the update after this one must still wait for `before`.
                before.add_done_callback(lambda _: _finish(mine))
                _close(coroutine)
                raise
        try:
            async with self._turns.turn(chat):
                await self._run(coroutine)
        except asyncio.CancelledError:
            _close(coroutine)  # cancelled while waiting for another process: it never ran
            raise
        finally:
            _finish(mine)

    def _forget(self, chat: int, done: asyncio.Future[None]) -> None:
        if self._lines.get(chat) is done:  # nothing of this chat came after it: the chat is idle
            del self._lines[chat]

    async def _run(self, coroutine: Awaitable[Any]) -> None:
        try:
            async with self._running:
                await coroutine
        except asyncio.CancelledError:
            _close(coroutine)
            raise


def _finish(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _close(coroutine: Awaitable[Any]) -> None:
    """A coroutine that never ran is closed, so Python does not warn it was never awaited."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
