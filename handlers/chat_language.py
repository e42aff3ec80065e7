"""Which language a chat is spoken to in: stored per chat (the `settings` table), taken from the
user's Telegram `language_code` on first contact and changed with /language.

Inside an update the guard sets it once for every handler after it (`for_update`); a text sent
outside an update — a code, a notice, an auto-cancel — is written inside `speaking_to(chat)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update

from handlers import i18n
from storage.chat_settings import LANGUAGE, ChatSettingsStore
from storage.database import Database


async def stored_language(db: Database, chat_id: int) -> str | None:
    """The chat's language, or None before its first contact (or for one no longer offered)."""
    code = await ChatSettingsStore(db).get(chat_id, LANGUAGE)
    return code if code in i18n.languages() else None


async def set_chat_language(db: Database, chat_id: int, code: str) -> None:
    if code not in i18n.languages():
        raise ValueError("not an offered language")
    await ChatSettingsStore(db).set(chat_id, LANGUAGE, code)


def telegram_language(update: Update) -> str:
    """What the user's Telegram app is set to, as one of ours (English otherwise)."""
    user = update.effective_user
    return i18n.from_telegram(user.language_code if user is not None else None)


async def for_update(db: Database, update: Update) -> None:
    """Texts of this update's handlers in the chat's language; on first contact that is the
    user's Telegram language, stored so later changes in the app do not switch the bot."""
    chat = update.effective_chat
    if chat is None:
        i18n.set_language(telegram_language(update))
        return
    code = await stored_language(db, chat.id)
    if code is None:
        code = telegram_language(update)
        await set_chat_language(db, chat.id, code)
    i18n.set_language(code)


@asynccontextmanager
async def speaking_to(db: Database, chat_id: int) -> AsyncIterator[None]:
    """Texts written inside the block are in `chat_id`'s language."""
    with i18n.use_language(await stored_language(db, chat_id) or i18n.DEFAULT_LANGUAGE):
        yield
