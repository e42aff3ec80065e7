"""Reading request fields the way the NonVoipUsNumber API does: ids as numbers or strings, lists in
several spellings, liberal numbers and durations."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from providers.simulation.requests import finite_decimal

PREFIX = "/manager"
Fields = dict[str, Any]

_DURATION_RE = re.compile(r"^\s*(\d+)\s*(d|day|days|m|month|months)?\s*$", re.IGNORECASE)


def now() -> datetime:
    return datetime.now(timezone.utc)


def api_path(path: str) -> str:
    """Control-API paths are "/api/..."; a "/manager" prefix or a full URL path is accepted too."""
    return path.strip().removeprefix(PREFIX)


def email_of(fields: Fields | None) -> str | None:
    if not fields:
        return None
    email = fields.get("email")
    if not isinstance(email, str):
        return None
    return email.strip().lower() or None


def user_bucket(fields: Fields | None) -> str | None:
    user_id = fields.get("userId") if fields else None
    return f"user:{user_id}" if user_id not in (None, "") else None


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def id_text(value: Any) -> str | None:
    """Ids arrive as numbers or strings (146185, "146185", "sb_102030"): one canonical text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    if isinstance(value, (int, str)):
        return str(value).strip() or None
    return None


def id_list(value: Any) -> list[str]:
    """product_ids as a JSON array, a JSON-array string, "9044,8555", or repeated form fields."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ValueError(value) from exc
        else:
            value = [part for part in text.split(",") if part.strip()]
    if not isinstance(value, list):
        value = [value]
    ids = [id_text(item) for item in value]
    if not ids or any(item is None for item in ids):
        raise ValueError(value)
    return [item for item in ids if item is not None]


def decimal_field(value: Any) -> Decimal | None:
    """None when absent (or an empty form field); ValueError when not a finite number."""
    return None if value == "" else finite_decimal(value)


def whole(value: Any) -> int | None:
    number = decimal_field(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(value)
    return int(number)


def duration_days(value: Any, default: int) -> int | None:
    """"30d", "30", 30, "1 month" -> days (1..365); None when unreadable."""
    if value is None or value == "":
        return default
    match = _DURATION_RE.match(str(value)) if not isinstance(value, bool) else None
    if match is None:
        return None
    days = int(match.group(1)) * (30 if (match.group(2) or "d").lower().startswith("m") else 1)
    return days if 1 <= days <= 365 else None

