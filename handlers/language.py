"""/language (and /settings → Language): the chat chooses the language it is spoken to in.
Callback data "lang" (the choice) and "lang:<code>" (one chosen); a choice is handled with the
other settings in handlers/settings.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from handlers import i18n, keyboards
from handlers import screen_taps as taps
from handlers.common import answer, clear_pending_step, show
from handlers.i18n import _

_PREFIX = "lang"


def choice_data(code: str | None = None) -> str:
    """The choice screen (None), or the language `code` chosen."""
    if code is None:
        return _PREFIX
    if code not in i18n.languages():
        raise ValueError("not an offered language")
    return f"{_PREFIX}:{code}"


@dataclass(frozen=True)
class LanguageTap:
    """The choice screen (`code` None), or a language chosen."""

    code: str | None


def decode(data: object) -> LanguageTap | None:
    """None for anything that is not a language button (never raises)."""
    if data == _PREFIX:
        return LanguageTap(None)
    if isinstance(data, str) and data.startswith(f"{_PREFIX}:") and data[len(_PREFIX) + 1 :] in i18n.languages():
        return LanguageTap(data[len(_PREFIX) + 1 :])
    return None


def matches() -> Callable[[object], bool]:
    return lambda data: decode(data) is not None


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
