"""HTTP shapes of the NonVoipUsNumber simulator: body parsing (JSON, forms), answers, masking."""

from __future__ import annotations

import json
import math
from email import policy as email_policy
from email.parser import BytesParser
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

MASK = "***"


def fail(message: str, status: int = 400, **extra: Any) -> JSONResponse:
    """The provider's error shape: {"status": "error", "message": ...}."""
    return JSONResponse({"status": "error", "message": message, **extra}, status_code=status)


def ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"status": "success", **fields})


async def read_body(request: Request) -> tuple[dict[str, Any] | None, str | None]:
    """(fields, None) or (None, error message). JSON, URL-encoded and multipart, like the real API."""
    ctype = request.headers.get("content-type", "").lower()
    raw = await request.body()
    if "multipart/form-data" in ctype:
        return _multipart(raw, request.headers.get("content-type", ""))
    if "application/x-www-form-urlencoded" in ctype:
        return _urlencoded(raw), None
    if not raw.strip():
        return {}, None
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        if "json" in ctype:
            return None, "Invalid JSON body"
        return _urlencoded(raw), None  # no/odd content type: a form post is the other common case
    if not isinstance(parsed, dict):
        return None, "Invalid request body"
    return parsed, None


def _urlencoded(raw: bytes) -> dict[str, Any]:
    return _fold(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _multipart(raw: bytes, ctype: str) -> tuple[dict[str, Any] | None, str | None]:
    """multipart/form-data via the stdlib MIME parser (python-multipart is not a dependency)."""
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=email_policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        return None, "Invalid form body"
    pairs: list[tuple[str, str]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename():
            continue  # files are not part of this API
        payload = part.get_payload(decode=True) or b""
        pairs.append((name, payload.decode(part.get_content_charset() or "utf-8", "replace")))
    return _fold(pairs), None


def _fold(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs -> dict; `key[]` and repeated keys become lists (product_ids[]=1&product_ids[]=2)."""
    fields: dict[str, Any] = {}
    for key, value in pairs:
        is_list = key.endswith("[]")
        name = key[:-2] if is_list else key
        if name in fields:
            current = fields[name]
            fields[name] = (current if isinstance(current, list) else [current]) + [value]
        else:
            fields[name] = [value] if is_list else value
    return fields


def masked(fields: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy safe to keep in sim.requests: the password never survives recording."""
    if fields is None:
        return None
    copy = dict(fields)
    if "password" in copy:
        copy["password"] = MASK
    return copy


def iso_reset(epoch: float) -> str:
    """X-RateLimit-Reset as documented: a UTC date-time (when the oldest counted request leaves the window)."""
    return datetime.fromtimestamp(math.ceil(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
