"""/settings → "Auto-cancel idle orders": off, or the minutes without a code after which an order
is cancelled while its provider still refunds it (the job is bot/auto_cancel.py). Stored per chat
in the `settings` table; callback data "ac" (the choice) and "ac:<minutes>" (one chosen)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import keyboards, screen_texts
from handlers import screen_taps as taps
from handlers.common import answer, chat_id_of, show
from handlers.services import Services, get_services
from handlers.texts import again as again_texts
from handlers.zones import chat_zone, zone_name
from storage.again import AUTO_CANCEL_MINUTES
from storage.chat_settings import ChatSettingsStore

_PREFIX = "ac"
CHOICES = again_texts.AUTO_CANCEL_CHOICES


def choice_data(minutes: int | None = None) -> str:
    """The choice screen (None), or `minutes` chosen (0 = off)."""
    if minutes is None:
        return _PREFIX
    if minutes not in CHOICES:
        raise ValueError("not a choice on the list")
    return f"{_PREFIX}:{minutes}"


@dataclass(frozen=True)
class AutoCancelTap:
    """The choice screen (`minutes` None), or `minutes` chosen (0 = off)."""

    minutes: int | None


def decode(data: object) -> AutoCancelTap | None:
    """None for anything that is not an auto-cancel button (never raises)."""
    if data == _PREFIX:
        return AutoCancelTap(None)
    if isinstance(data, str) and data.startswith(f"{_PREFIX}:"):
        value = data[len(_PREFIX) + 1 :]
        if value in {str(c) for c in CHOICES}:
            return AutoCancelTap(int(value))
    return None


def matches() -> Callable[[object], bool]:
    return lambda data: decode(data) is not None


async def chat_minutes(services: Services, chat_id: int) -> int:
    """The chat's choice; off (0) when never chosen or unreadable."""
    value = await ChatSettingsStore(services.db).get(chat_id, AUTO_CANCEL_MINUTES)
    return int(value) if value is not None and value in {str(c) for c in CHOICES} else 0


def with_auto_cancel(markup: InlineKeyboardMarkup, minutes: int) -> InlineKeyboardMarkup:
    """The settings keyboard with the auto-cancel button above its last row (Back)."""
    rows = [list(row) for row in markup.inline_keyboard]
    button = InlineKeyboardButton(again_texts.auto_cancel_button(minutes), callback_data=choice_data())
    return InlineKeyboardMarkup([*rows[:-1], [button], *rows[-1:]])


def _choices(current: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(("✓ " if c == current else "") + again_texts.auto_cancel_value(c), callback_data=choice_data(c))
        for c in CHOICES
    ]
    return InlineKeyboardMarkup([buttons, keyboards.back_row(taps.settings())])


async def auto_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The choice screen, or a choice: stored, then the settings screen again showing it."""
    tap = decode(update.callback_query.data if update.callback_query else None)
    services = get_services(context)
    chat_id = chat_id_of(update)
    if tap is None or tap.minutes is None:
        await answer(update)
        await show(update, again_texts.AUTO_CANCEL_QUESTION, _choices(await chat_minutes(services, chat_id)))
        return
    minutes = tap.minutes
    await ChatSettingsStore(services.db).set(chat_id, AUTO_CANCEL_MINUTES, str(minutes))
    # Back to the settings screen, which now shows the choice; the answer says what changed.
    await show(update, *await settings_screen(services, chat_id))
    await answer(update, again_texts.auto_cancel_set(minutes))


async def settings_screen(services: Services, chat_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """The /settings screen: the time zone, and auto-cancel."""
    zone = await chat_zone(services, chat_id)
    minutes = await chat_minutes(services, chat_id)
    text = f"{screen_texts.settings(zone)}\n\n{again_texts.auto_cancel_line(minutes)}"
    return text, with_auto_cancel(keyboards.settings(zone_name(zone)), minutes)
