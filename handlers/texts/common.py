"""Shared pieces of every text: provider names, money, phone numbers, durations, time left, clipping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

import phonenumbers
from babel.numbers import format_currency

from handlers import i18n
from handlers.i18n import _, ngettext
from providers.models import PROVIDER_NAMES, ProviderId


def provider_name(provider: ProviderId) -> str:
    return PROVIDER_NAMES[provider]


def provider_words(reason: str) -> str:
    """A provider error's `user_message` in the chat's language: the bot's own sentences (marked
    in providers/ with `N_`) are in the catalogue; a provider's own words pass unchanged."""
    return _(reason)


def money(amount: Decimal) -> str:
    """US dollars the way the chat's language writes them ("$1,234.50", "1 234,50 $"); cents
    always shown, and a provider's finer price ($0.125) never rounded."""
    return format_currency(amount, "USD", locale=i18n.locale(), decimal_quantization=False)


def phone(raw: str) -> str:
    """A number the one way every text shows it: international, grouped ("+1 415 555 0123"),
    HTML-escaped; input that is not a number is shown as given. Digits without "+" (how
    NonVoipUsNumber writes them) count as international only when they make a valid number."""
    text = raw.strip()
    candidate = text if text.startswith("+") else f"+{text}"
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return escape(raw)
    plausible = phonenumbers.is_possible_number(parsed) if text.startswith("+") else phonenumbers.is_valid_number(parsed)
    if not plausible:
        return escape(raw)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return escape(international.replace("-", " "))


def _days(count: int) -> str:
    return ngettext("{count} day", "{count} days", count).format(count=count)


def _hours(count: int) -> str:
    return ngettext("{count} hour", "{count} hours", count).format(count=count)


def _minutes(count: int) -> str:
    return ngettext("{count} minute", "{count} minutes", count).format(count=count)


_DURATION_UNITS: tuple[tuple[int, Callable[[int], str]], ...] = ((1440, _days), (60, _hours), (1, _minutes))


def duration_words(minutes: int) -> str:
    """10 -> "10 minutes", 1440 -> "1 day", 43200 -> "30 days", 90 -> "1 hour 30 minutes"
    (plural forms per language: "1 день", "3 дня", "30 дней")."""
    parts: list[str] = []
    rest = max(0, minutes)
    for size, unit in _DURATION_UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(unit(count))
        if parts and not rest:
            break
    return " ".join(parts[:2]) or _minutes(0)


def time_left(expires_at: datetime | None, now: datetime | None = None) -> str | None:
    if expires_at is None:
        return None
    seconds = int((expires_at - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return _("ending now")
    if seconds < 3600:
        return _("{minutes} min").format(minutes=max(1, seconds // 60))
    if seconds < 86400:
        return _("{hours} h {minutes} min").format(hours=seconds // 3600, minutes=seconds % 3600 // 60)
    return _("{days} d {hours} h").format(days=seconds // 86400, hours=seconds % 86400 // 3600)


# Telegram's limit for one message's text; the card keeps well within it whatever the SMS count.
MESSAGE_LIMIT = 4096


def clip_message(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Within Telegram's limit. Cut at a line break and never inside an HTML tag or entity: the
    parts built here close every tag on the line that opens it."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 2)
    return text[: cut if cut > 0 else 0] + "\n…"


def escaped_clip(text: str, limit: int) -> str:
    """HTML-escaped and at most `limit` characters, never cutting an entity (`&amp;`) in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"
