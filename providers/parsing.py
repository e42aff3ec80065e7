"""Reading provider JSON liberally, once for every client.

Wire schemas are msgspec `Struct`s (see each provider's `schema.py`). Why msgspec rather than
pydantic: it is one small C extension with no dependencies, decodes straight from bytes about
ten times faster than pydantic v2 (the poller parses ~200 answers a second), and `convert`
with a `dec_hook` gives exactly the lax Decimal/datetime types providers need.

The lax types:
Use them as field types (`price: Money`, `expires_at: When | None = None`); the values are
plain Decimal / datetime / str subclasses.
- `Money`: a `Decimal` from a number or a numeric string ("1.50", 1.5, 2), never via float
  artefacts; anything else is an invalid item.
- `When`: an aware UTC `datetime` from ISO 8601 ("Z", offsets, naive = UTC), a space instead of
  "T", or epoch seconds.
- `Text`: a string from a string or a number (ids come as both: 146185 and "sb_102030").

`decode_items` turns a list of raw items into Structs item by item: an item that does not fit
is logged (its type of fault, never its content) and skipped, and the rest of the page lives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Money(Decimal):
    """A Decimal read laxly (msgspec hands this type to `_dec_hook`); use it as a Decimal."""


class When(datetime):
    """An aware UTC datetime read laxly; use it as a datetime."""


class Text(str):
    """A string read laxly (numbers become their digits); use it as a str."""


# Epoch seconds beyond this are treated as milliseconds (year 2286 in seconds).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_MS_THRESHOLD = 10_000_000_000


# "1,234.50": commas only as thousands separators; "1,50" (a decimal comma) is not guessed at.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_MAX_DIGITS = 60  # no price has more; longer "numbers" are junk (and int->str has a limit)


def money(value: object) -> Decimal | None:
    """Money as Decimal from a number or a numeric string (via str: no float artefacts);
    None when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    if isinstance(value, int) and value.bit_length() > _MAX_DIGITS * 4:
        return None
    raw = value.strip() if isinstance(value, str) else str(value)
    if isinstance(value, str):
        if len(raw) > _MAX_DIGITS:
            return None
        if "," in raw:
            if not _THOUSANDS.match(raw):
                return None
            raw = raw.replace(",", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def when(value: object) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text or epoch seconds; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            if isinstance(value, int):  # exact: no float rounding of milliseconds
                unit = timedelta(milliseconds=1) if abs(value) > _EPOCH_MS_THRESHOLD else timedelta(seconds=1)
                return _EPOCH + value * unit
            seconds = value / 1000 if abs(value) > _EPOCH_MS_THRESHOLD else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # providers speak UTC; a naive stamp is UTC too
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. a local DateTime.MinValue: no instant in UTC
        return None


def text(value: object) -> str | None:
    """A string from a string or a number (not a bool); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _dec_hook(type_: Any, value: Any) -> Any:
    if type_ is Money:
        amount = money(value)
        if amount is not None:
            return Money(amount)
    elif type_ is When:
        moment = when(value)
        if moment is not None:
            return When.combine(moment.date(), moment.timetz())
    elif type_ is Text:
        string = text(value)
        if string is not None:
            return Text(string)
    else:
        raise NotImplementedError(f"no lax rule for {type_!r}")
    raise ValueError(f"not a valid {type_.__name__}")


def convert(raw: object, schema: type[T]) -> T:
    """One value into its schema (lax types applied); `msgspec.ValidationError` if it does not fit."""
    return msgspec.convert(raw, schema, dec_hook=_dec_hook, strict=False)


def decode_items(raw: Iterable[object], schema: type[T], *, provider: str, what: str) -> list[T]:
    """Each item into `schema`; an item that does not fit is logged and skipped."""
    items: list[T] = []
    for position, item in enumerate(raw):
        try:
            items.append(convert(item, schema))
        except (msgspec.ValidationError, ValueError, TypeError) as exc:
            # The fault's path only ("Expected `str`, got `null` - at `$.name`"): never the item,
            # which may hold a number or an SMS.
            logger.warning("%s %s item %d skipped: %s", provider, what, position, _fault(exc))
    return items


def _fault(exc: Exception) -> str:
    message = str(exc)
    return message.split(" - ")[-1][:120] if " - " in message else type(exc).__name__
