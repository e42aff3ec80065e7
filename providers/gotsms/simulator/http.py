"""HTTP shapes of the GotSMS simulator: request context and validation, envelopes, pagination."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse

from providers.simulation.requests import RequestContext, bearer_token, read_context

T = TypeVar("T")
MAX_PER_PAGE = 100


class Invalid(Exception):
    """A validation failure: the handler answers 422 with this message."""


def ok(data: Any = None, *, meta: dict[str, Any] | None = None, message: str | None = None,
       status: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"success": True}
    if message is not None:
        body["message"] = message
    if data is not None:
        body["data"] = data
    if meta is not None:
        body["meta"] = meta
    return JSONResponse(body, status_code=status)


def fail(status: int, message: str) -> JSONResponse:
    """Every error of the API: {"success": false, "message": ...}."""
    return JSONResponse({"success": False, "message": message}, status_code=status)


@dataclass
class GotSmsContext(RequestContext):
    """A request with its Bearer token, and GotSMS's (Laravel's) validation of its fields."""

    @property
    def token(self) -> str | None:
        return self.credential

    def text(self, name: str, max_length: int | None = None) -> str | None:
        """A query string parameter; empty means absent (Postman sends `search=`)."""
        value = self.query.get(name, "").strip()
        if not value:
            return None
        if max_length is not None and len(value) > max_length:
            raise Invalid(f"The {_label(name)} field must not be greater than {max_length} characters.")
        return value

    def choice(self, name: str, allowed: Sequence[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in allowed:
            raise Invalid(f"The selected {_label(name)} is invalid.")
        return value

    def uuid(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not is_uuid(value):
            raise Invalid(f"The {_label(name)} field must be a valid UUID.")
        return value

    def integer(self, name: str, default: int, low: int = 1, high: int = MAX_PER_PAGE) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise Invalid(f"The {_label(name)} field must be an integer.") from None
        if value < low:
            raise Invalid(f"The {_label(name)} field must be at least {low}.")
        if value > high:
            raise Invalid(f"The {_label(name)} field must not be greater than {high}.")
        return value

    def boolean(self, name: str) -> bool:
        raw = (self.text(name) or "0").lower()
        if raw not in ("1", "0", "true", "false"):
            raise Invalid(f"The {_label(name)} field must be true or false.")
        return raw in ("1", "true")

    def body_text(self, name: str) -> str | None:
        body = self.json if self.json_ok and isinstance(self.json, dict) else {}
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise Invalid(f"The {_label(name)} field must be a string.")
        return value.strip()


def _label(name: str) -> str:
    return name.replace("_", " ")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def read_gotsms_context(request: Request) -> GotSmsContext:
    return await read_context(request, GotSmsContext, bearer_token)


def paginate(ctx: GotSmsContext, items: Sequence[T], default_per_page: int) -> tuple[list[T], dict[str, Any]]:
    """Laravel's length-aware paginator: `page` and `per_page` (max 100) -> (slice, meta)."""
    per_page = ctx.integer("per_page", default_per_page)
    page = ctx.integer("page", 1, high=10**9)
    total = len(items)
    start = (page - 1) * per_page
    meta = {
        "current_page": page,
        "last_page": max(1, math.ceil(total / per_page)),
        "per_page": per_page,
        "total": total,
    }
    return list(items[start:start + per_page]), meta
