"""State of the fake Bot API: chats, bot messages, the update queue, recorded calls.

Everything here is synchronous and meant to be used from the event loop thread
that runs the fake server (the tests' loop), so no locking is needed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
# Telegram: "a message can only be deleted if it was sent less than 48 hours ago"; a button on
# a message that old, or on a deleted one, arrives with an InaccessibleMessage.
DELETE_WINDOW_SECONDS = 48 * 3600


@dataclass(frozen=True)
class BotMessage:
    """One bot message as Telegram shows it. Frozen: an edit stores a new instance,
    so objects handed to tests never change under them."""

    chat_id: int
    message_id: int
    text: str
    raw_text: str
    parse_mode: str | None
    buttons: list[list[dict[str, Any]]]
    sent_at: float
    edited_at: float | None
    seq: int
    edit_count: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def button_labels(self) -> list[str]:
        return [button.get("text", "") for row in self.buttons for button in row]


@dataclass(frozen=True)
class Call:
    method: str
    params: JSON
    at: float


class ApiError(Exception):
    """An error answer: {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class ChatState:
    chat: JSON  # the Chat object as sent in updates
    next_message_id: int = 1
    last_user_seq: int = 0
    bot_messages: dict[int, BotMessage] = field(default_factory=dict)  # send order
    sent: list[BotMessage] = field(default_factory=list)  # snapshots as sent
    user_message_ids: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    sent_at: dict[int, float] = field(default_factory=dict)  # any message id -> when it was sent

    def age_of(self, message_id: int | None, now: float | None = None) -> float:
        sent = self.sent_at.get(message_id) if message_id is not None else None
        return 0.0 if sent is None else (now or time.time()) - sent

    def new_message_id(self) -> int:
        # User and bot messages share one id counter per chat, as in Telegram.
        message_id = self.next_message_id
        self.next_message_id += 1
        self.sent_at[message_id] = time.time()
        return message_id

    def live_bot_message(self, message_id: int) -> BotMessage | None:
        if message_id in self.deleted:
            return None
        return self.bot_messages.get(message_id)


class Notifier:
    """Wakes every coroutine waiting for "something changed" (edge-triggered)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> None:
        """Return on the next notify() or after `timeout` seconds, whichever is first."""
        if timeout <= 0:
            return
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


@dataclass
class CallbackQueryRecord:
    chat_id: int
    answered: bool = False


class TelegramState:
    """All mutable state; the API methods and the FakeTelegram facade both work on it."""

    def __init__(self, token: str, bot_username: str) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.chats: dict[int, ChatState] = {}
        self._seq = 0
        self._next_update_id = 1
        self.updates: deque[JSON] = deque()
        self._batch_depth = 0
        self._batched: list[JSON] = []
        self.calls: list[Call] = []
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.commands: list[JSON] = []  # the default list (no language_code)
        self.user_languages: dict[int, str | None] = {}  # a user's app language (default "en")
        self.commands_by_language: dict[str, list[JSON]] = {}  # setMyCommands with a language_code
        self.failures: dict[str, deque[ApiError]] = {}
        self.down = False
        self.closing = False
        self.poll_generation = 0
        self.updates_changed = Notifier()  # wakes getUpdates long polls
        self.bot_changed = Notifier()  # wakes wait_for_text / wait_for_callback_answer

    # -- identity -----------------------------------------------------------------

    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "OTP Test Bot",
            "username": self.bot_username,
        }

    # -- sequence numbers -----------------------------------------------------------

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @property
    def seq(self) -> int:
        return self._seq

    # -- chats ----------------------------------------------------------------------

    def ensure_chat(self, chat_id: int, chat_type: str, first_name: str) -> ChatState:
        state = self.chats.get(chat_id)
        if state is None:
            state = ChatState(chat=chat_object(chat_id, chat_type, first_name))
            self.chats[chat_id] = state
        return state

    def known_chat(self, chat_id: Any) -> ChatState:
        """The chat a method refers to, or Telegram's "chat not found"."""
        try:
            state = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            state = None
        if state is None:
            raise bad_request("chat not found")
        return state

    # -- updates --------------------------------------------------------------------

    def enqueue(self, payload_key: str, payload: JSON) -> JSON:
        update = {"update_id": self._next_update_id, payload_key: payload}
        self._next_update_id += 1
        if self._batch_depth:
            self._batched.append(update)
        else:
            self.updates.append(update)
            self.updates_changed.notify()
        return update

    def begin_batch(self) -> None:
        self._batch_depth += 1

    def end_batch(self) -> None:
        self._batch_depth -= 1
        if self._batch_depth == 0 and self._batched:
            self.updates.extend(self._batched)
            self._batched.clear()
            self.updates_changed.notify()

    def confirm_updates(self, offset: int) -> None:
        """getUpdates' offset confirms (drops) every update with a smaller id."""
        if offset < 0:  # negative offset: keep only the last -offset updates
            while len(self.updates) > -offset:
                self.updates.popleft()
            return
        while self.updates and self.updates[0]["update_id"] < offset:
            self.updates.popleft()

    # -- recorded calls and injected failures -----------------------------------------

    def record(self, method: str, params: JSON) -> None:
        self.calls.append(Call(method=method, params=params, at=time.time()))

    def add_failure(self, method: str, error: ApiError, times: int) -> None:
        queue = self.failures.setdefault(method.lower(), deque())
        queue.extend(error for _ in range(times))

    def take_failure(self, method: str) -> ApiError | None:
        queue = self.failures.get(method.lower())
        return queue.popleft() if queue else None


def chat_object(chat_id: int, chat_type: str, first_name: str) -> JSON:
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": first_name}
    return {"id": chat_id, "type": chat_type, "title": f"Test {chat_type} {chat_id}"}
