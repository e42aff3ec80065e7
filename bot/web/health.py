"""`GET /healthz`: 200 `ok` while the database answers and the poller ticks (a web-only process has
no poller: the database alone); 503 naming what failed."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.roles import role_of
from bot.web.answers import HEALTHZ, Endpoint
from handlers.services import SERVICES_KEY

if TYPE_CHECKING:
    from bot.app import App

logger = logging.getLogger("bot.web")

DATABASE_TIMEOUT_SECONDS = 2.0
# The poller is late when its last tick is older than this many intervals, and never sooner than
# the floor: one slow tick (a provider timing out) is not an outage.
STALE_AFTER_INTERVALS = 3
STALE_FLOOR_SECONDS = 10.0


def poller_stale_after(poll_interval_seconds: float) -> float:
    """Seconds after the last tick at which the poller counts as stopped."""
    return max(STALE_AFTER_INTERVALS * poll_interval_seconds, STALE_FLOOR_SECONDS)


def health_endpoint(app: "App") -> Endpoint:
    async def healthz(request: Request) -> Response:
        problems = [p for p in (await _database_problem(app), _poller_problem(app)) if p]
        if problems:
            text = "; ".join(problems)
            logger.warning("web %s: 503 %s", HEALTHZ, text)
            return PlainTextResponse(text, status_code=503)
        return PlainTextResponse("ok")

    return healthz


async def _database_problem(app: "App") -> str | None:
    services: Any = app.bot_data.get(SERVICES_KEY)
    if services is None:
        return "database: not open"
    try:
        await asyncio.wait_for(services.db.fetchone("SELECT 1"), DATABASE_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"database: no answer within {DATABASE_TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # closed, locked, disk gone: the kind is enough
        logger.info("web %s: database check failed: %s", HEALTHZ, type(exc).__name__)
        return "database: unreachable"
    return None


def _poller_problem(app: "App") -> str | None:
    if not role_of(app).polls:
        return None  # `python -m bot web`: the workers poll, not this process
    services: Any = app.bot_data.get(SERVICES_KEY)
    poller: Any = app.bot_data.get("poller")
    if services is None or poller is None:
        return "poller: not started"
    last: datetime | None = poller.last_tick_at
    if last is None:
        return "poller: no tick yet"
    age = (datetime.now(UTC) - last).total_seconds()
    if age > poller_stale_after(services.poll_interval_seconds):
        return f"poller: last tick {age:.0f} s ago"
    return None
