"""`POST /telegram`: Telegram's updates, as PTB's custom-webhook example takes them.

Only a request carrying our secret header is read; its update goes to the Application's
update queue and the answer is immediate (handling happens in the Application, not here).
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from telegram import Update

from bot.web.answers import TELEGRAM, Endpoint, refuse
from bot.web.body import TELEGRAM_BODY_LIMIT, read_body

if TYPE_CHECKING:
    from bot.app import App

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_endpoint(app: "App", secret: str) -> Endpoint:
    """The endpoint for `app`; `secret` is the token given to setWebhook."""
    expected = secret.encode()

    async def telegram(request: Request) -> Response:
        supplied = request.headers.get(SECRET_HEADER)
        # Starlette decodes header values as latin-1: encoded back, any value compares safely.
        if supplied is None or not hmac.compare_digest(supplied.encode("latin-1"), expected):
            return refuse(TELEGRAM, 403, "forbidden")
        body = await read_body(request, TELEGRAM_BODY_LIMIT)
        try:
            data = json.loads(body)
        except ValueError:  # also bad UTF-8
            return refuse(TELEGRAM, 400, "malformed JSON")
        if not isinstance(data, dict):
            return refuse(TELEGRAM, 400, "not a Telegram update")
        try:
            update = Update.de_json(data, app.bot)
        except Exception as exc:  # a dict PTB cannot read is not an update (its text may quote it)
            return refuse(TELEGRAM, 400, "not a Telegram update", detail=type(exc).__name__)
        await app.update_queue.put(update)
        return Response(status_code=200)

    return telegram
