"""HTTP plumbing for the NonVoipUsNumber simulator: body parsing, answers, injected faults, rate limit."""

from __future__ import annotations

import json
import math
import random
import time
from collections import deque
from email import policy as email_policy
from email.parser import BytesParser
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from providers.nonvoip.simulator.models import Rule

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


class RuleQueue:
    """Injected faults/latencies: the first matching rule is used and counts down its `times`."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._rng = random.Random("nonvoip-faults")

    def add(self, rule: Rule) -> None:
        if rule.times > 0:
            self._rules.append(rule)

    def take(self, path: str, email: str | None = None) -> Rule | None:
        if not self._rules:  # the hot path (benchmark polling) pays nothing when no rule is set
            return None
        for rule in self._rules:
            if rule.matches(path, email) and (rule.chance >= 1 or self._rng.random() < rule.chance):
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                return rule
        return None


def injected_response(rule: Rule, processed: Response | None = None) -> Response:
    """fail_next: a dict is sent as JSON, a str verbatim (to simulate garbage), None as an empty body.

    lose_answer_next (`processed` = the real answer): with `truncate`, the real JSON body cut in
    half (a connection that broke mid-answer), else the rule's status and body."""
    if rule.truncate and processed is not None:
        cut = processed.body[: max(1, len(processed.body) // 2)]
        return Response(cut, status_code=rule.status or processed.status_code, media_type="application/json")
    headers = dict(rule.headers or {})
    if isinstance(rule.body, dict):
        return JSONResponse(rule.body, status_code=rule.status, headers=headers)
    if isinstance(rule.body, str):
        media = headers.pop("content-type", headers.pop("Content-Type", "text/plain"))
        return Response(rule.body, status_code=rule.status, headers=headers, media_type=media)
    return Response(b"", status_code=rule.status, headers=headers)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(math.ceil(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RateLimiter:
    """Sliding 60 s window per account (lower-cased email); None = unlimited."""

    WINDOW = 60.0

    def __init__(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}

    def set(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._hits.clear()  # a new limit starts with a fresh window, so tests are predictable

    def check(self, bucket: str) -> tuple[bool, dict[str, str], int]:
        """(allowed, X-RateLimit-* headers, seconds until a slot frees); an allowed request is counted."""
        limit = self.per_minute
        if limit is None:
            return True, {}, 0
        now = time.monotonic()
        hits = self._hits.get(bucket)
        if hits is None:
            hits = self._hits[bucket] = deque()
        horizon = now - self.WINDOW
        while hits and hits[0] <= horizon:
            hits.popleft()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        until_free = hits[0] + self.WINDOW - now if hits else self.WINDOW
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - len(hits))),
            # The documented format is a UTC date-time: when the oldest counted request leaves the window.
            "X-RateLimit-Reset": _iso(time.time() + until_free),
        }
        return allowed, headers, max(1, math.ceil(until_free))
