"""HTTP shapes of the kiwiSMS simulator: its error body and its request context."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse

from providers.simulation.requests import RequestContext, bearer_token, read_context


def error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The `Error` schema: {"error": ..., "code": ...}."""
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


@dataclass
class KiwiContext(RequestContext):
    """A request with kiwiSMS's API key and `Idempotency-Key`, and the rate-limit headers it earned."""

    rate_headers: dict[str, str] = field(default_factory=dict)

    @property
    def api_key(self) -> str | None:
        return self.credential

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


async def read_kiwi_context(request: Request) -> KiwiContext:
    return await read_context(request, KiwiContext, _api_key)


def _api_key(headers: Mapping[str, str]) -> str | None:
    """`X-API-Key`, else `Authorization: Bearer`."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    return bearer_token(headers)
