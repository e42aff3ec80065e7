"""The Bot API methods the fake serves, with Telegram's validation and error texts."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.fakes.telegram_html import HtmlParseError, parse_html
from tests.fakes.telegram_state import (
    DELETE_WINDOW_SECONDS,
    JSON,
    ApiError,
    BotMessage,
    ChatState,
    TelegramState,
    bad_request,
)
from tests.fakes.telegram_documents import send_document
from tests.fakes.telegram_webhook import WebhookPusher

MAX_TEXT = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_COPY_TEXT = 256
MAX_CALLBACK_ANSWER_TEXT = 200
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

Handler = Callable[[JSON], Any]


class BotApiMethods:
    """Implements each method as `params -> result`; errors are raised as ApiError."""

    def __init__(self, state: TelegramState, *, strict_html: bool = True) -> None:
        self.state = state
        self.strict_html = strict_html
        self.webhook = WebhookPusher(state)
        self.handlers: dict[str, Handler] = {
            "getme": lambda _: state.bot_user() | {"can_join_groups": True},
            "setwebhook": self.webhook.set_webhook,
            "deletewebhook": self.webhook.delete_webhook,
            "getwebhookinfo": lambda _: self.webhook.info(),
            "logout": lambda _: True,
            "close": lambda _: True,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "answercallbackquery": self.answer_callback_query,
            "deletemessage": self.delete_message,
            "deletemessages": self.delete_messages,
            "setmycommands": self.set_my_commands,
            "getmycommands": lambda params: list(
                state.commands_by_language.get(str(params.get("language_code") or ""), state.commands)
            ),
            "deletemycommands": self.delete_my_commands,
            "sendchataction": lambda p: bool(state.known_chat(p.get("chat_id"))),
            "getchat": lambda p: dict(state.known_chat(p.get("chat_id")).chat),
            "senddocument": lambda p: send_document(state, p),
        }

    def exists(self, method: str) -> bool:
        return method in self.handlers or method == "getupdates"

    # -- updates ----------------------------------------------------------------------

    async def get_updates(self, params: JSON) -> list[JSON]:
        """Long poll: answer as soon as updates exist, or [] after `timeout` seconds."""
        state = self.state
        if self.webhook.active:
            raise ApiError(
                409, "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        state.confirm_updates(offset)
        # Telegram ends an older pending long poll when a new one arrives (409 Conflict);
        # this also frees the request PTB abandons when it stops polling.
        state.poll_generation += 1
        generation = state.poll_generation
        state.updates_changed.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != state.poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - loop.time()
            if state.updates or state.closing or remaining <= 0:
                return [update for _, update in zip(range(limit), state.updates)]
            await state.updates_changed.wait(remaining)

    # -- messages ---------------------------------------------------------------------

    def send_message(self, params: JSON) -> JSON:
        chat = self.state.known_chat(params.get("chat_id"))
        text, entities = self.parse_text(params)
        buttons = parse_reply_markup(params.get("reply_markup"))
        message = BotMessage(
            chat_id=chat.chat["id"],
            message_id=chat.new_message_id(),
            text=text,
            raw_text=str(params.get("text")),
            parse_mode=_parse_mode(params),
            buttons=buttons,
            sent_at=time.time(),
            edited_at=None,
            seq=self.state.next_seq(),
            entities=entities,
        )
        chat.bot_messages[message.message_id] = message
        chat.sent.append(message)
        self.state.bot_changed.notify()
        return self.message_object(chat, message)

    def edit_message_text(self, params: JSON) -> JSON:
        chat, old = self.editable_message(params)
        text, entities = self.parse_text(params)
        buttons = parse_reply_markup(params.get("reply_markup"))
        if (text, entities, buttons) == (old.text, old.entities, old.buttons):
            raise bad_request(NOT_MODIFIED)
        new = replace(
            old,
            text=text,
            raw_text=str(params.get("text")),
            parse_mode=_parse_mode(params),
            entities=entities,
            buttons=buttons,
        )
        return self.store_edit(chat, new)

    def edit_message_reply_markup(self, params: JSON) -> JSON:
        chat, old = self.editable_message(params)
        buttons = parse_reply_markup(params.get("reply_markup"))
        if buttons == old.buttons:
            raise bad_request(NOT_MODIFIED)
        return self.store_edit(chat, replace(old, buttons=buttons))

    def editable_message(self, params: JSON) -> tuple[ChatState, BotMessage]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # inline messages are not simulated
        chat = self.state.known_chat(params.get("chat_id"))
        message_id = _int_or_none(params.get("message_id"))
        if message_id in chat.user_message_ids and message_id not in chat.deleted:
            raise bad_request("message can't be edited")
        message = chat.live_bot_message(message_id) if message_id is not None else None
        if message is None:
            raise bad_request("message to edit not found")
        return chat, message

    def store_edit(self, chat: ChatState, edited: BotMessage) -> JSON:
        edited = replace(
            edited,
            edited_at=time.time(),
            edit_count=edited.edit_count + 1,
            seq=self.state.next_seq(),
        )
        chat.bot_messages[edited.message_id] = edited
        self.state.bot_changed.notify()
        return self.message_object(chat, edited)

    def delete_message(self, params: JSON) -> bool:
        chat = self.state.known_chat(params.get("chat_id"))
        self.delete_one(chat, _int_or_none(params.get("message_id")))
        return True

    def delete_messages(self, params: JSON) -> bool:
        chat = self.state.known_chat(params.get("chat_id"))
        for message_id in params.get("message_ids") or []:
            if message_id not in chat.deleted and chat.age_of(message_id) <= DELETE_WINDOW_SECONDS:
                chat.deleted.add(message_id)
        self.state.bot_changed.notify()
        return True

    def delete_one(self, chat: ChatState, message_id: int | None) -> None:
        exists = message_id in chat.bot_messages or message_id in chat.user_message_ids
        if message_id is None or not exists or message_id in chat.deleted:
            raise bad_request("message to delete not found")
        if chat.age_of(message_id) > DELETE_WINDOW_SECONDS:
            raise bad_request("message can't be deleted for everyone")
        chat.deleted.add(message_id)
        self.state.next_seq()
        self.state.bot_changed.notify()

    def pressed_message_object(self, chat: ChatState, message_id: int) -> JSON:
        """The `message` of a callback query: InaccessibleMessage (date 0) for a deleted
        message or one older than 48 hours, as Telegram sends it."""
        message = chat.live_bot_message(message_id)
        if message is None or chat.age_of(message_id) > DELETE_WINDOW_SECONDS:
            return {"chat": chat.chat, "message_id": message_id, "date": 0}
        return self.message_object(chat, message)

    def message_object(self, chat: ChatState, message: BotMessage) -> JSON:
        """The Message object Telegram returns for a bot message in its current state."""
        result: JSON = {
            "message_id": message.message_id,
            "from": self.state.bot_user(),
            "chat": chat.chat,
            "date": int(message.sent_at),
            "text": message.text,
        }
        if message.entities:
            result["entities"] = message.entities
        if message.buttons:
            result["reply_markup"] = {"inline_keyboard": message.buttons}
        if message.edited_at is not None:
            result["edit_date"] = int(message.edited_at)
        return result

    def parse_text(self, params: JSON) -> tuple[str, list[JSON]]:
        raw = params.get("text")
        raw = "" if raw is None else str(raw)
        entities: list[JSON] = list(params.get("entities") or [])
        text = raw
        if (_parse_mode(params) or "").lower() == "html":
            try:
                text, entities = parse_html(raw, strict=self.strict_html)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities

    # -- callback queries and commands ------------------------------------------------

    def answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id"))
        record = self.state.callback_queries.get(query_id)
        if record is None or record.answered:
            raise bad_request(QUERY_INVALID)
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        self.state.callback_answers[query_id] = params
        self.state.bot_changed.notify()
        return True

    def set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse BotCommand array")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command"))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description") or "")) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("LANGUAGE_CODE_INVALID")  # Telegram takes a two-letter ISO 639-1 code
        if language:
            self.state.commands_by_language[language] = [dict(command) for command in commands]
        else:
            self.state.commands = [dict(command) for command in commands]
        return True

    def delete_my_commands(self, params: JSON) -> bool:
        language = str(params.get("language_code") or "")
        if language:
            self.state.commands_by_language.pop(language, None)
        else:
            self.state.commands = []
        return True


# -- reply markup ---------------------------------------------------------------------


def parse_reply_markup(markup: Any) -> list[list[JSON]]:
    """Validate reply_markup; return the inline keyboard rows (other keyboards: [])."""
    if markup is None or markup == "":
        return []
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return []  # reply keyboards / ForceReply / remove: not tracked
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" must be of type Array of Array')
    for row in rows:
        for button in row:
            validate_button(button)
    return rows


def validate_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(prefix + f"exactly one of the optional fields must be used, got {actions}")
    action, value = actions[0], button[actions[0]]
    if action == "callback_data":
        if not isinstance(value, str) or not 1 <= len(value.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "copy_text":
        copied = value.get("text") if isinstance(value, dict) else None
        if not isinstance(copied, str) or not 1 <= len(copied) <= MAX_COPY_TEXT:
            raise bad_request(prefix + "copy_text.text must have 1-256 characters")
    elif action == "url":
        if not isinstance(value, str) or not value.startswith(("http://", "https://", "tg://")):
            raise bad_request(f"inline keyboard button URL '{value}' is invalid: Wrong HTTP URL")


def _parse_mode(params: JSON) -> str | None:
    mode = params.get("parse_mode")
    return str(mode) if mode else None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
