"""HTTP plumbing for the GotSMS simulator: request context, envelopes, validation, pagination, faults."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from providers.simulation.simulator_base import parse_json_body
from providers.gotsms.simulator.models import LostAnswer, RecordedRequest, Rule

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
class RequestContext:
    """Everything a handler needs about one request, read once up front."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    json_ok: bool
    token: str | None
    path_params: dict[str, str]

    def record(self) -> RecordedRequest:
        return RecordedRequest(self.method, self.path, dict(self.query),
                               self.json if self.json_ok else None, self.token, time.monotonic())

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


async def read_context(request: Request) -> RequestContext:
    body = await request.body()
    parsed, parsed_ok = parse_json_body(body)
    return RequestContext(
        method=request.method.upper(),
        path=request.url.path,
        query=dict(request.query_params),
        json=parsed,
        json_ok=parsed_ok,
        token=_bearer(request.headers.get("authorization", "")),
        path_params={k: str(v) for k, v in request.path_params.items()},
    )


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def paginate(ctx: RequestContext, items: Sequence[T], default_per_page: int) -> tuple[list[T], dict[str, Any]]:
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


class RuleQueue:
    """Injected faults: the first matching rule is used and counts down its `times`."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []

    def add(self, rule: Rule) -> None:
        if rule.times > 0:
            self._rules.append(rule)

    def take(self, method: str, path: str) -> Rule | None:
        if not self._rules:  # the common case: no fault injected, no scan
            return None
        for rule in self._rules:
            if rule.matches(method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                return rule
        return None


def injected_response(rule: Rule) -> Response:
    """fail_next: a dict is sent as JSON, a str verbatim (to simulate garbage), None as an empty body."""
    if isinstance(rule.body, dict):
        return JSONResponse(rule.body, status_code=rule.status, headers=rule.headers)
    if isinstance(rule.body, str):
        return Response(rule.body, status_code=rule.status, media_type="text/plain", headers=rule.headers)
    return Response(b"", status_code=rule.status, headers=rule.headers)


def lost_answer(how: LostAnswer, processed: Response) -> Response:
    """What the client gets instead of `processed`, the answer of a request that took effect."""
    if how is LostAnswer.SERVER_ERROR:
        return JSONResponse({"success": False, "message": "Server Error."}, status_code=500)
    half = processed.body[: len(processed.body) // 2]
    if how is LostAnswer.TRUNCATED:
        return Response(half, status_code=processed.status_code, media_type="application/json")
    return DroppedResponse(processed.body, processed.status_code)


class DroppedResponse(Response):
    """Promises the whole body (Content-Length), sends half, and the server closes the connection."""

    def __init__(self, body: bytes, status_code: int) -> None:
        super().__init__(body, status_code=status_code, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        half = self.body[: len(self.body) // 2]
        # Returning with the body unfinished makes uvicorn close the connection (it logs one line).
        await send({"type": "http.response.body", "body": half, "more_body": True})
