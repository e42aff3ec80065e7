"""The language a text is written in: gettext catalogues, one per language, chosen per chat.

The English texts in the code are the message ids (English needs no catalogue); every other
language is one `locales/<code>/LC_MESSAGES/messages.po`, compiled in memory when first used
(Babel's own compiler), so adding a language is adding that one file. Which language applies is a
context variable: the guard sets it for the update being handled, and every sender outside an
update (codes, notices, auto-cancel) sets it around the chat's text with `use_language`. Each
asyncio task has its own copy, so two chats' texts never mix.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=1)
def catalogues() -> dict[str, gettext.NullTranslations]:
    """Every language there is a .po file for, compiled (fuzzy entries left out), plus English."""
    compiled: dict[str, gettext.NullTranslations] = {DEFAULT_LANGUAGE: gettext.NullTranslations()}
    for po_file in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        compiled[po_file.parent.parent.name] = compile_catalogue(po_file)
    return compiled


def compile_catalogue(po_file: Path) -> gettext.GNUTranslations:
    """One .po file as gettext reads it, compiled in memory; a fuzzy entry (a guess left by
    `pybabel update`) is not used, so the English text shows until someone checks it."""
    with po_file.open("rb") as source:
        catalogue = read_po(source, locale=po_file.parent.parent.name, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def languages() -> tuple[str, ...]:
    """The codes a chat can choose, English first."""
    return (DEFAULT_LANGUAGE, *sorted(code for code in catalogues() if code != DEFAULT_LANGUAGE))


def current_language() -> str:
    return _current.get()


def set_language(code: str) -> None:
    """For the rest of this task (one update's handlers): texts in `code`."""
    _current.set(code if code in catalogues() else DEFAULT_LANGUAGE)


@contextmanager
def use_language(code: str) -> Iterator[None]:
    """Texts in `code` inside the block; the language before it afterwards."""
    token = _current.set(code if code in catalogues() else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def from_telegram(language_code: str | None) -> str:
    """A user's Telegram `language_code` ("ru", "ru-RU", "pt-br") as one of ours; English otherwise."""
    if not language_code:
        return DEFAULT_LANGUAGE
    base = language_code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in catalogues() else DEFAULT_LANGUAGE


def locale() -> Locale:
    """The current language as a Babel locale, for numbers, money and dates."""
    return _locale(current_language())


@lru_cache(maxsize=16)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def language_name(code: str) -> str:
    """A language in its own words: "English", "Русский"."""
    name = _locale(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def _(message: str) -> str:
    """`message` (an English text, the msgid) in the current language."""
    return catalogues()[current_language()].gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for `count` in the current language's plural rules (Russian has three)."""
    return catalogues()[current_language()].ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` where the same English words need different translations (a button vs. a status)."""
    return catalogues()[current_language()].pgettext(context, message)


def N_(message: str) -> str:
    """Marks a text for extraction where it is defined; it is translated where it is shown."""
    return message
