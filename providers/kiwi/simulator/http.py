"""HTTP plumbing for the kiwiSMS simulator: request context, error bodies, faults, rate limit."""

from __future__ import annotations

import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from providers.simulation.simulator_base import parse_json_body
from providers.kiwi.simulator.models import RecordedRequest, Rule


def error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The `Error` schema: {"error": ..., "code": ...}."""
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


@dataclass
class RequestContext:
    """Everything a handler needs about one request, read once up front."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    json_ok: bool
    api_key: str | None
    client: str
    path_params: dict[str, str]
    rate_headers: dict[str, str] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    def fingerprint(self) -> str:
        """Same key + same request means the same method, path and (semantically) equal JSON body."""
        if self.json_ok:
            payload = json.dumps(self.json, sort_keys=True, separators=(",", ":"))
        else:
            payload = self.body.hex()
        return f"{self.method} {self.path} {payload}"

    def record(self) -> RecordedRequest:
        return RecordedRequest(
            method=self.method,
            path=self.path,
            query=dict(self.query),
            headers=dict(self.headers),
            json=self.json if self.json_ok else None,
            api_key=self.api_key,
            at=time.monotonic(),
        )


async def read_context(request: Request) -> RequestContext:
    body = await request.body()
    parsed, ok = parse_json_body(body)
    headers = {k.lower(): v for k, v in request.headers.items()}
    return RequestContext(
        method=request.method.upper(),
        path=request.url.path,
        query=dict(request.query_params),
        headers=headers,
        body=body,
        json=parsed,
        json_ok=ok,
        api_key=_api_key(headers),
        client=request.client.host if request.client else "unknown",
        path_params={k: str(v) for k, v in request.path_params.items()},
    )


def _api_key(headers: dict[str, str]) -> str | None:
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class RuleQueue:
    """Injected faults/latencies: the first matching rule is used and counts down its `times`."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []

    def add(self, rule: Rule) -> None:
        if rule.times > 0:
            self._rules.append(rule)

    def take(self, method: str, path: str) -> Rule | None:
        for rule in self._rules:
            if rule.matches(method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self._rules.clear()


def injected_response(rule: Rule) -> Response:
    """fail_next: a dict is sent as JSON, a str verbatim (to simulate garbage), None as an empty body."""
    headers = dict(rule.headers or {})
    if isinstance(rule.body, dict):
        return JSONResponse(rule.body, status_code=rule.status, headers=headers)
    if isinstance(rule.body, str):
        media = headers.pop("content-type", headers.pop("Content-Type", "text/plain"))
        return Response(rule.body, status_code=rule.status, headers=headers, media_type=media)
    return Response(b"", status_code=rule.status, headers=headers)


def altered_response(rule: Rule, processed: Response) -> Response:
    """fail_after_next / truncate_next: the request was processed, the client gets this instead."""
    if not rule.truncate:
        return injected_response(rule)
    body = bytes(processed.body)
    # Half the body: never valid JSON (an object or a list needs its closing bracket).
    return Response(body[: len(body) // 2], status_code=processed.status_code, media_type="application/json")


class RateLimiter:
    """Sliding 60 s window per bucket (API key); None = unlimited."""

    WINDOW = 60.0

    def __init__(self) -> None:
        self.per_minute: int | None = None
        self._hits: dict[str, deque[float]] = {}

    def set(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._hits.clear()  # a new limit starts with a fresh window, so tests are predictable

    def check(self, bucket: str) -> tuple[bool, dict[str, str]]:
        """(allowed, headers); an allowed request is counted."""
        limit = self.per_minute
        if limit is None:
            return True, {}
        now = time.monotonic()
        hits = self._hits.setdefault(bucket, deque())
        while hits and hits[0] <= now - self.WINDOW:
            hits.popleft()
        if len(hits) >= limit:
            return False, self._headers(limit, hits, now, limited=True)
        hits.append(now)
        return True, self._headers(limit, hits, now, limited=False)

    def _headers(self, limit: int, hits: deque[float], now: float, *, limited: bool) -> dict[str, str]:
        until_free = (hits[0] + self.WINDOW - now) if hits else self.WINDOW
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - len(hits))),
            "X-RateLimit-Reset": str(math.ceil(time.time() + until_free)),
        }
        if limited:
            headers["Retry-After"] = str(max(1, math.ceil(until_free)))
        return headers
