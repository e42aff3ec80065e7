"""/language (and /settings → Language): the chat chooses the language it is spoken to in.
Callback data "lang" (the choice) and "lang:<code>" (one chosen); a choice is handled with the
other settings in handlers/settings.py."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import i18n, keyboards
from handlers import screen_taps as taps
from handlers.common import answer, clear_pending_step, show
from handlers.i18n import _
from handlers.setting_taps import SettingCodec, SettingTap

_CODEC = SettingCodec("lang", i18n.languages)


def choice_data(code: str | None = None) -> str:
    """The choice screen (None), or the language `code` chosen."""
    return _CODEC.data(code)


def decode(data: object) -> SettingTap | None:
    """None for anything that is not a language button (never raises); `value` is the code."""
    return _CODEC.decode(data)


def matches() -> Callable[[object], bool]:
    return _CODEC.matches()


def settings_button() -> InlineKeyboardButton:
    """The settings screen's row: the current language, in its own words."""
    label = _("🌐 Language: {language}").format(language=i18n.language_name(i18n.current_language()))
    return InlineKeyboardButton(label, callback_data=choice_data())


def choices() -> InlineKeyboardMarkup:
    current = i18n.current_language()
    buttons = [
        InlineKeyboardButton(("✓ " if code == current else "") + i18n.language_name(code), callback_data=choice_data(code))
        for code in i18n.languages()
    ]
    return InlineKeyboardMarkup([buttons, keyboards.back_row(taps.settings())])


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language and the settings button: the languages, the chat's own ticked."""
    await clear_pending_step(update, context)
    await answer(update)
    await show(update, _("Choose the language I speak to you in:"), choices())
