"""Short plain-text answers, and the one log line of each refused request.

A refused request is logged by its route's name, never by its URL (hook URLs carry the
account's token) and never with its body (it may hold codes, or an attacker's junk).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

logger = logging.getLogger("bot.web")

Endpoint = Callable[[Request], Awaitable[Response]]

# Route names for logs and metrics: what the path is for, without its token.
TELEGRAM = "telegram"
HOOKS_KIWI = "hooks/kiwi"
HOOKS_NONVOIP = "hooks/nonvoip"
HEALTHZ = "healthz"
METRICS = "metrics"
UNKNOWN = "unknown route"

_PREFIXES = (
    ("/telegram", TELEGRAM),
    ("/hooks/kiwi/", HOOKS_KIWI),
    ("/hooks/nonvoip/", HOOKS_NONVOIP),
    ("/healthz", HEALTHZ),
    ("/metrics", METRICS),
)


def route_name(path: str) -> str:
    """The name of the route a path belongs to (for a 404 or 405 the router raised)."""
    for prefix, name in _PREFIXES:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return name
    return UNKNOWN


def refuse(
    route: str, status: int, reason: str, *, headers: dict[str, str] | None = None, detail: str | None = None
) -> PlainTextResponse:
    """A 4xx (or 5xx) with its short reason, and one log line naming the route (`detail`, e.g. an
    exception's kind, goes to the log only)."""
    level = logging.ERROR if status >= 500 else logging.INFO
    if detail:
        logger.log(level, "web %s: %d %s (%s)", route, status, reason, detail)
    else:
        logger.log(level, "web %s: %d %s", route, status, reason)
    return PlainTextResponse(reason, status_code=status, headers=headers)
