"""/settings → "Auto-cancel idle orders": off, or the minutes without a code after which an order
is cancelled while its provider still refunds it (the job is bot/auto_cancel.py). Stored per chat
in the `settings` table; callback data "ac" (the choice) and "ac:<minutes>" (one chosen). The
taps are handled with the other settings in handlers/settings.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers import keyboards
from handlers import screen_taps as taps
from handlers.services import Services
from handlers.setting_taps import SettingCodec
from handlers.texts import again as again_texts
from storage.again import AUTO_CANCEL_MINUTES
from storage.chat_settings import ChatSettingsStore

CHOICES = again_texts.AUTO_CANCEL_CHOICES
_CODEC = SettingCodec("ac", lambda: {str(c) for c in CHOICES})


def choice_data(minutes: int | None = None) -> str:
    """The choice screen (None), or `minutes` chosen (0 = off)."""
    return _CODEC.data(None if minutes is None else str(minutes))


@dataclass(frozen=True)
class AutoCancelTap:
    """The choice screen (`minutes` None), or `minutes` chosen (0 = off)."""

    minutes: int | None


def decode(data: object) -> AutoCancelTap | None:
    """None for anything that is not an auto-cancel button (never raises)."""
    tap = _CODEC.decode(data)
    if tap is None:
        return None
    return AutoCancelTap(None if tap.value is None else int(tap.value))


def matches() -> Callable[[object], bool]:
    return _CODEC.matches()


async def chat_minutes(services: Services, chat_id: int) -> int:
    """The chat's choice; off (0) when never chosen or unreadable."""
    value = await ChatSettingsStore(services.db).get(chat_id, AUTO_CANCEL_MINUTES)
    return int(value) if value is not None and value in {str(c) for c in CHOICES} else 0


async def set_chat_minutes(services: Services, chat_id: int, minutes: int) -> None:
    await ChatSettingsStore(services.db).set(chat_id, AUTO_CANCEL_MINUTES, str(minutes))


def settings_button(minutes: int) -> InlineKeyboardButton:
    """The settings screen's row: the chat's choice."""
    return InlineKeyboardButton(again_texts.auto_cancel_button(minutes), callback_data=choice_data())


def choices(current: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(("✓ " if c == current else "") + again_texts.auto_cancel_value(c), callback_data=choice_data(c))
        for c in CHOICES
    ]
    return InlineKeyboardMarkup([buttons, keyboards.back_row(taps.settings())])
