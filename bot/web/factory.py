"""`build_web_app`: the routes of the bot's web server, each answering bad input itself.

Every endpoint is guarded: bad input gets a 4xx with a short reason and one log line (route
name, status, reason; never the body, never the token), and nothing raises out to uvicorn.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import derive_webhook_secret
from bot.web.answers import HEALTHZ, HOOKS_KIWI, HOOKS_NONVOIP, METRICS, TELEGRAM, Endpoint, refuse, route_name
from bot.web.body import BadLength, BodyTooLarge
from bot.web.health import health_endpoint
from bot.web.hooks_route import hook_endpoints
from bot.web.metrics_route import metrics_endpoint
from bot.web.telegram_route import telegram_endpoint

if TYPE_CHECKING:
    from bot.app import App

logger = logging.getLogger("bot.web")

TELEGRAM_PATH = "/telegram"
_REASONS = {404: "not found", 405: "method not allowed"}


def build_web_app(app: "App", *, telegram_secret: str | None = None) -> Starlette:
    """The ASGI application serving `app` (a PTB Application whose post_init has run).

    `telegram_secret`: the secret given to setWebhook; unset, the one derived from the bot
    token (as `Settings` derives it when WEBHOOK_SECRET is unset)."""
    secret = telegram_secret or derive_webhook_secret(app.bot.token)
    hooks = hook_endpoints(app)
    routes = [
        Route(TELEGRAM_PATH, guarded(TELEGRAM, telegram_endpoint(app, secret)), methods=["POST"]),
        Route("/hooks/kiwi/{token}", guarded(HOOKS_KIWI, hooks[HOOKS_KIWI]), methods=["POST"]),
        Route("/hooks/nonvoip/{token}", guarded(HOOKS_NONVOIP, hooks[HOOKS_NONVOIP]), methods=["POST"]),
        Route("/healthz", guarded(HEALTHZ, health_endpoint(app)), methods=["GET"]),
        Route("/metrics", guarded(METRICS, metrics_endpoint(app)), methods=["GET"]),
    ]
    web = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    # "/telegram/" is not "/telegram": a redirect would only make a sender resend elsewhere.
    web.router.redirect_slashes = False
    return web


def guarded(route: str, endpoint: Endpoint) -> Endpoint:
    """`endpoint`, with oversized bodies answered 413 and any failure answered, not raised."""

    async def handle(request: Request) -> Response:
        try:
            return await endpoint(request)
        except BodyTooLarge:
            # Closed after the answer: the rest of the body may still be on its way.
            return refuse(route, 413, "body too large", headers={"Connection": "close"})
        except BadLength:
            return refuse(route, 400, "bad Content-Length")
        except ClientDisconnect:
            logger.info("web %s: client went away before its body was read", route)
            return Response(status_code=400)  # nobody reads it
        except Exception as exc:
            # The kind only: an exception's text may quote what the request carried.
            return refuse(route, 500, "internal error", detail=type(exc).__name__)

    return handle


async def _http_error(request: Request, exc: Exception) -> Response:
    """The router's own refusals: an unknown route (404), a wrong method (405)."""
    assert isinstance(exc, HTTPException)
    reason = _REASONS.get(exc.status_code, "bad request")
    return refuse(route_name(request.url.path), exc.status_code, reason, headers=exc.headers)
