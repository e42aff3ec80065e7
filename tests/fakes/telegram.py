"""FakeTelegram: a real HTTP fake of the Bot API for python-telegram-bot.

Start it in the test's event loop, point `ApplicationBuilder().base_url(tg.base_url)`
at it, then play the user (`user_sends`, `press_button`) and observe the bot
(`wait_for_text`, `messages`, `calls`). Use it from the loop's thread only.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from providers.simulation.loopback_server import LoopbackServer
from tests.fakes.telegram_methods import BotApiMethods
from tests.fakes.telegram_server import build_app
from tests.fakes.telegram_html import utf16_len
from tests.fakes.telegram_state import (
    JSON,
    ApiError,
    BotMessage,
    CallbackQueryRecord,
    Call,
    ChatState,
    TelegramState,
    chat_object,
)

__all__ = ["BotMessage", "Call", "FakeTelegram"]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly-abcdefghijk"
DEFAULT_GROUP_USER_ID = 700_000_001
# Defaults for fail_next when only an error code is given (Telegram's usual wording).
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
}
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class FakeTelegram:
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "otp_test_bot",
        *,
        strict_html: bool = True,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self._state = TelegramState(token, bot_username)
        self._methods = BotApiMethods(self._state, strict_html=strict_html)
        self._server = LoopbackServer(build_app(self._state, self._methods))
        self._query_ids = itertools.count(4_000_000_000_000_000_001)

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self._state.closing = False
        await self._server.start()

    async def stop(self) -> None:
        # Release any held long poll first, or uvicorn would wait for it to time out.
        self._state.closing = True
        self._state.updates_changed.notify()
        await self._methods.webhook.close()
        await self._server.stop()

    @property
    def base_url(self) -> str:
        return f"{self._server.url}/bot"

    @property
    def bot_id(self) -> int:
        return self._state.bot_id

    # -- the user's side ------------------------------------------------------------

    def user_sends(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Tess",
    ) -> JSON:
        """Enqueue a text message from a user; returns the Message dict."""
        chat = self._chat_for_user(chat_id, chat_type, first_name)
        message: JSON = {
            "message_id": chat.new_message_id(),
            "from": self._user(chat, user_id, first_name),
            "chat": chat.chat,
            "date": int(time.time()),
            "text": text,
        }
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        chat.user_message_ids.add(message["message_id"])
        chat.last_user_seq = self._state.next_seq()
        self._state.enqueue("message", message)
        return message

    def press_button(
        self,
        chat_id: int,
        label: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
    ) -> str:
        """Press the callback button `label` on the newest bot message showing it."""
        chat = self._state.chats.get(chat_id)
        message = self._find_button_message(chat, label, message_id) if chat else None
        if chat is None or message is None:
            raise AssertionError(self._describe_buttons(chat_id, label, message_id))
        button = next(b for row in message.buttons for b in row if _is_callback(b, label))
        current = self._methods.message_object(chat, message)
        return self._enqueue_callback(chat, current, button["callback_data"], user_id)

    def callback_update_for_foreign_message(
        self, chat_id: int, from_chat_id: int, message_id: int, callback_data: str
    ) -> str:
        """A user of `chat_id` sends a callback attached to a message of `from_chat_id`."""
        chat = self._chat_for_user(chat_id, "private" if chat_id > 0 else "supergroup", "Tess")
        source = self._state.chats.get(from_chat_id)
        original = source.bot_messages.get(message_id) if source else None
        if source is not None and original is not None:
            message = self._methods.message_object(source, original)
        else:  # any message id will do: the point is the foreign chat
            chat_type = "private" if from_chat_id > 0 else "supergroup"
            message = {
                "message_id": message_id,
                "from": self._state.bot_user(),
                "chat": source.chat if source else chat_object(from_chat_id, chat_type, "Other"),
                "date": int(time.time()),
                "text": "",
            }
        return self._enqueue_callback(chat, message, callback_data, None)

    def press_data(self, chat_id: int, message_id: int, data: str) -> str:
        """A user of `chat_id` presses a button carrying `data` (forged or real) on message
        `message_id` of the same chat; a deleted or 48-hour-old message arrives inaccessible."""
        chat = self._chat_for_user(chat_id, "private" if chat_id > 0 else "supergroup", "Tess")
        message = self._methods.pressed_message_object(chat, message_id)
        return self._enqueue_callback(chat, message, data, None)

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """The user deletes a message for both sides (e.g. while the bot works on its button)."""
        chat = self._state.chats[chat_id]
        chat.deleted.add(message_id)
        self._state.next_seq()

    def age_message(self, chat_id: int, message_id: int, hours: float) -> None:
        """Pretend message `message_id` was sent `hours` earlier than it was."""
        chat = self._state.chats[chat_id]
        chat.sent_at[message_id] = chat.sent_at.get(message_id, time.time()) - hours * 3600

    @property
    def pending_update_count(self) -> int:
        """Updates not yet fetched by (or delivered to) the bot."""
        return len(self._state.updates)

    @property
    def webhook_url(self) -> str:
        return self._methods.webhook.url

    @property
    def webhook_secret(self) -> str | None:
        return self._methods.webhook.secret_token

    @property
    def webhook_refusals(self) -> list[int]:
        """Status codes the bot's webhook answered to deliveries it refused."""
        return list(self._methods.webhook.refusals)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Updates enqueued inside are released together: one getUpdates gets them all."""
        self._state.begin_batch()
        try:
            yield
        finally:
            self._state.end_batch()

    # -- observing the bot ------------------------------------------------------------

    async def wait_for_text(
        self, chat_id: int, contains: str, *, timeout: float = 10.0, since: int | None = None
    ) -> BotMessage:
        """The newest bot message sent or edited after `since` whose text contains `contains`."""
        if since is None:
            chat = self._state.chats.get(chat_id)
            since = chat.last_user_seq if chat else 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self._find_text(chat_id, contains, since)
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._describe_texts(chat_id, contains, since, timeout))
            await self._state.bot_changed.wait(remaining)

    def seq(self) -> int:
        return self._state.seq

    def messages(self, chat_id: int) -> list[BotMessage]:
        chat = self._state.chats.get(chat_id)
        if chat is None:
            return []
        return [m for m in chat.bot_messages.values() if m.message_id not in chat.deleted]

    def sent(self, chat_id: int) -> list[BotMessage]:
        """Every sendMessage in order, as it was sent (edits and deletions not applied)."""
        chat = self._state.chats.get(chat_id)
        return list(chat.sent) if chat else []

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        chat = self._state.chats.get(chat_id)
        return chat is not None and message_id in chat.deleted

    def calls(self, method: str | None = None) -> list[Call]:
        if method is None:
            return list(self._state.calls)
        wanted = method.lower()
        return [call for call in self._state.calls if call.method.lower() == wanted]

    @property
    def callback_answers(self) -> dict[str, JSON]:
        return self._state.callback_answers

    async def wait_for_callback_answer(self, callback_query_id: str, timeout: float = 10.0) -> JSON:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while callback_query_id not in self._state.callback_answers:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"callback query {callback_query_id} was not answered in {timeout}s")
            await self._state.bot_changed.wait(remaining)
        return self._state.callback_answers[callback_query_id]

    @property
    def commands(self) -> list[JSON]:
        return list(self._state.commands)

    def commands_for(self, language_code: str) -> list[JSON]:
        """What a user whose app is in `language_code` sees (the default list when none was set)."""
        return list(self._state.commands_by_language.get(language_code, self._state.commands))

    # -- fault injection --------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int = 502,
        description: str = "Bad Gateway",
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` answer this error instead of running."""
        if description == "Bad Gateway" and error_code != 502:
            description = _DEFAULT_DESCRIPTIONS.get(error_code, description)
        if error_code == 429 and retry_after is None:
            retry_after = 1  # Telegram always says how long to wait; PTB needs it for RetryAfter
        description = description.replace("{retry_after}", str(retry_after))
        self._state.add_failure(method, ApiError(error_code, description, retry_after), times)

    def set_down(self, down: bool) -> None:
        self._state.down = down

    def set_user_language(self, user_id: int, language_code: str | None) -> None:
        """The language the user's Telegram app is set to, sent with their next updates (None: not sent)."""
        self._state.user_languages[user_id] = language_code

    def register_chat(self, chat_id: int, chat_type: str = "private", first_name: str = "Tess") -> None:
        """Make a chat known without a user message (e.g. an admin the bot notifies)."""
        self._chat_for_user(chat_id, chat_type, first_name)

    # -- helpers ----------------------------------------------------------------------

    def _chat_for_user(self, chat_id: int, chat_type: str, first_name: str) -> ChatState:
        if (chat_type == "private") != (chat_id > 0):
            raise ValueError("private chats have positive ids, group chats negative ones")
        return self._state.ensure_chat(chat_id, chat_type, first_name)

    def _user(self, chat: ChatState, user_id: int | None, first_name: str) -> JSON:
        chat_id = chat.chat["id"]
        uid = user_id if user_id is not None else (chat_id if chat_id > 0 else DEFAULT_GROUP_USER_ID)
        user: JSON = {"id": uid, "is_bot": False, "first_name": first_name, "username": f"user{uid}"}
        language = self._state.user_languages.get(uid, "en")
        if language is not None:  # Telegram leaves the field out when it does not know
            user["language_code"] = language
        return user

    def _enqueue_callback(
        self, chat: ChatState, message: JSON, data: str, user_id: int | None
    ) -> str:
        query_id = str(next(self._query_ids))
        first_name = chat.chat.get("first_name", "Tess")
        query = {
            "id": query_id,
            "from": self._user(chat, user_id, first_name),
            "message": message,
            "chat_instance": f"ci{chat.chat['id']}",
            "data": data,
        }
        self._state.callback_queries[query_id] = CallbackQueryRecord(chat_id=chat.chat["id"])
        chat.last_user_seq = self._state.next_seq()
        self._state.enqueue("callback_query", query)
        return query_id

    def _find_button_message(
        self, chat: ChatState, label: str, message_id: int | None
    ) -> BotMessage | None:
        if message_id is not None:
            candidates = [chat.live_bot_message(message_id)]
        else:
            candidates = [chat.live_bot_message(mid) for mid in reversed(chat.bot_messages)]
        for message in candidates:
            if message and any(_is_callback(b, label) for row in message.buttons for b in row):
                return message
        return None

    def _describe_buttons(self, chat_id: int, label: str, message_id: int | None) -> str:
        where = f"message {message_id}" if message_id is not None else "any bot message"
        lines = [f"no callback button {label!r} on {where} in chat {chat_id}; buttons present:"]
        for message in self.messages(chat_id):
            if message.buttons:
                lines.append(f"  #{message.message_id}: {message.button_labels}")
        if len(lines) == 1:
            lines.append("  (none)")
        return "\n".join(lines)

    def _find_text(self, chat_id: int, contains: str, since: int) -> BotMessage | None:
        chat = self._state.chats.get(chat_id)
        if chat is None:
            return None
        # Deleted messages count too: a short-lived "please wait" must not be missed.
        matches = [m for m in chat.bot_messages.values() if m.seq > since and contains in m.text]
        return max(matches, key=lambda m: m.seq) if matches else None

    def _describe_texts(self, chat_id: int, contains: str, since: int, timeout: float) -> str:
        chat = self._state.chats.get(chat_id)
        recent = sorted(chat.bot_messages.values(), key=lambda m: m.seq)[-10:] if chat else []
        lines = [f"no bot message containing {contains!r} in chat {chat_id} "
                 f"after seq {since} within {timeout}s; recent bot texts:"]
        lines += [f"  #{m.message_id} seq={m.seq}: {m.text!r}" for m in recent] or ["  (none)"]
        return "\n".join(lines)


def _is_callback(button: dict[str, Any], label: str) -> bool:
    return button.get("text") == label and "callback_data" in button


def _command_entities(text: str) -> list[JSON]:
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        for m in _COMMAND_RE.finditer(text)
    ]
