"""`GET /metrics`: prometheus-client's default registry in the Prometheus text format.

The metrics are counted where things happen (handlers/metrics.py, providers/metrics.py); only
the outbox depth is a reading, taken from the database at each scrape.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from bot.web.answers import METRICS, Endpoint
from handlers.metrics import OUTBOX_DEPTH
from handlers.services import SERVICES_KEY

if TYPE_CHECKING:
    from bot.app import App

logger = logging.getLogger("bot.web")

READING_TIMEOUT_SECONDS = 2.0


def metrics_endpoint(app: "App") -> Endpoint:
    async def metrics(request: Request) -> Response:
        services: Any = app.bot_data.get(SERVICES_KEY)
        if services is not None:
            try:
                depth = await asyncio.wait_for(services.messages.undelivered_count(), READING_TIMEOUT_SECONDS)
            except Exception as exc:  # the rest of the metrics are still worth serving
                logger.info("web %s: outbox depth not read: %s", METRICS, type(exc).__name__)
            else:
                OUTBOX_DEPTH.set(depth)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return metrics
