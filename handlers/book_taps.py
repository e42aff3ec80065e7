"""Callback data of the books screens: /history with filters, its filter choices, the summary and
the CSV export.

Kept apart from handlers/callbacks.py like screen_taps.py: a prefix of its own, enum values and
numbers only, within 64 bytes, and `decode` never raises (None for anything else).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from handlers.callbacks import MAX_BYTES, MAX_PAGE
from providers.models import ProviderId
from storage.books import BookFilter, Period, StatusFilter

_PREFIX = "bk"
_ANY = "-"
_DIGITS = re.compile(r"[0-9]{1,4}")
FilterKind = Literal["provider", "period", "status"]
_KIND_LETTERS: dict[FilterKind, str] = {"provider": "p", "period": "d", "status": "s"}
_KINDS = {letter: kind for kind, letter in _KIND_LETTERS.items()}


@dataclass(frozen=True)
class BooksView:
    """The filtered history list at `page`."""

    filter: BookFilter
    page: int = 0


@dataclass(frozen=True)
class FilterChoice:
    """The choice of one filter's value, keeping the others."""

    kind: FilterKind
    filter: BookFilter


@dataclass(frozen=True)
class Summary:
    filter: BookFilter  # what Back returns to


@dataclass(frozen=True)
class Export:
    pass


Tap = BooksView | FilterChoice | Summary | Export


def _filter_parts(book_filter: BookFilter) -> str:
    provider = book_filter.provider.value if book_filter.provider else _ANY
    return f"{provider}:{book_filter.period.value}:{book_filter.status.value}"


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data too long")
    return data


def view(book_filter: BookFilter, page: int = 0) -> str:
    if not 0 <= page <= MAX_PAGE:
        raise ValueError("page out of range")
    return _checked(f"{_PREFIX}:v:{_filter_parts(book_filter)}:{page}")


def choose(kind: FilterKind, book_filter: BookFilter) -> str:
    return _checked(f"{_PREFIX}:f:{_KIND_LETTERS[kind]}:{_filter_parts(book_filter)}")


def summary(book_filter: BookFilter) -> str:
    return _checked(f"{_PREFIX}:s:{_filter_parts(book_filter)}")


def export() -> str:
    return f"{_PREFIX}:x"


def _parse_filter(parts: list[str]) -> BookFilter:
    provider, period, status = parts
    return BookFilter(
        provider=None if provider == _ANY else ProviderId(provider),
        period=Period(period),
        status=StatusFilter(status),
    )


def decode(data: object) -> Tap | None:
    if not isinstance(data, str) or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != _PREFIX:
        return None
    kind, rest = parts[1], parts[2:]
    try:
        if kind == "v" and len(rest) == 4 and _DIGITS.fullmatch(rest[3]) and int(rest[3]) <= MAX_PAGE:
            return BooksView(_parse_filter(rest[:3]), int(rest[3]))
        if kind == "f" and len(rest) == 4 and rest[0] in _KINDS:
            return FilterChoice(_KINDS[rest[0]], _parse_filter(rest[1:]))
        if kind == "s" and len(rest) == 3:
            return Summary(_parse_filter(rest))
        if kind == "x" and not rest:
            return Export()
    except ValueError:
        return None
    return None


def matches(*kinds: type) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern: data that decodes to one of `kinds`."""
    return lambda data: isinstance(decode(data), kinds)
