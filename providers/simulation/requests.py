"""What the simulators read from a request and what they record of it (`sim.requests`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from starlette.requests import Request

C = TypeVar("C", bound="RequestContext")
R = TypeVar("R", bound="RecordedRequest")


@dataclass
class RecordedRequest:
    """One request as a simulator received it. `account` is the credential or account it named
    (an API key, a token, a lower-cased email); never a password: bodies are masked first."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    account: str | None
    at: float  # time.monotonic()
    content_type: str = ""
    status: int = 0  # filled in once the answer is known (where a simulator does)


def count_requests(
    requests: Iterable[RecordedRequest],
    method: str | None = None,
    path: str | None = None,
    account: str | None = None,
) -> int:
    """Requests matching every given filter; `path` is an exact path (no query string)."""
    wanted = method.upper() if method else None
    return sum(
        1
        for r in requests
        if (wanted is None or r.method == wanted)
        and (path is None or r.path == path)
        and (account is None or r.account == account)
    )


def parse_json_body(body: bytes) -> tuple[Any, bool]:
    """(value, ok): an empty body is "no JSON" (actions that send none), not invalid JSON."""
    if not body.strip():
        return None, True
    try:
        return json.loads(body), True
    except (ValueError, UnicodeDecodeError):
        return None, False


def finite_decimal(value: Any) -> Decimal | None:
    """A number field: None when absent; ValueError when not a finite number (string or JSON number)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of `Authorization: Bearer <token>` (headers with lower-cased names)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


@dataclass
class RequestContext:
    """Everything a handler needs about one request, read once up front."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any
    json_ok: bool
    credential: str | None
    client: str
    path_params: dict[str, str] = field(default_factory=dict)
    def record(self, kind: type[R]) -> R:
        """What `sim.requests` keeps; `kind` is the provider's subclass (it names `account`)."""
        return kind(
            method=self.method,
            path=self.path,
            query=dict(self.query),
            headers=dict(self.headers),
            json=self.json if self.json_ok else None,
            account=self.credential,
            at=time.monotonic(),
            content_type=self.headers.get("content-type", ""),
        )


async def read_context(
    request: Request, kind: type[C], credential: Callable[[Mapping[str, str]], str | None]
) -> C:
    """The request as `kind`; `credential` finds the account's key in the (lower-cased) headers."""
    body = await request.body()
    parsed, ok = parse_json_body(body)
    headers = {k.lower(): v for k, v in request.headers.items()}
    return kind(
        method=request.method.upper(),
        path=request.url.path,
        query=dict(request.query_params),
        headers=headers,
        body=body,
        json=parsed,
        json_ok=ok,
        credential=credential(headers),
        client=request.client.host if request.client else "unknown",
        path_params={k: str(v) for k, v in request.path_params.items()},
    )
