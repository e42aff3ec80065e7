"""Callback data of /buy's comparison, kept apart from handlers/callbacks.py (a prefix of its own,
used nowhere else): "cmp" opens the prompt, "cmp:<service key>" compares that service. Ids only;
a key is a folded service name (handlers/service_names.py), never a price."""

from __future__ import annotations

from handlers.callbacks import MAX_BYTES, SEP
from handlers.service_names import canonical

_PREFIX = "cmp"


def prompt_data() -> str:
    return _PREFIX


def service_data(key: str) -> str | None:
    """None when the key cannot be a button (empty, too long for 64 bytes, or holds the separator)."""
    data = f"{_PREFIX}{SEP}{key}"
    return data if key and SEP not in key and len(data.encode()) <= MAX_BYTES else None


def is_compare_tap(data: object) -> bool:
    return isinstance(data, str) and (data == _PREFIX or data.startswith(_PREFIX + SEP))


def tapped_key(data: object) -> str | None:
    """The service key of a "cmp:<key>" tap (folded again: data is untrusted), None for the prompt."""
    if not isinstance(data, str) or not is_compare_tap(data) or data == _PREFIX:
        return None
    return canonical(data.partition(SEP)[2]) or None
