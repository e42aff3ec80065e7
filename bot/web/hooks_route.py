"""`POST /hooks/kiwi/{token}` and `POST /hooks/nonvoip/{token}`: the providers' callbacks.

The body is read within its limit and handed, raw, to the hook receiver (bot/hooks), which
finds the account by the token, checks the signature and answers; this layer only turns its
answer into the HTTP one. The token never reaches a log line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.web.answers import HOOKS_KIWI, HOOKS_NONVOIP, Endpoint, refuse
from bot.web.body import HOOK_BODY_LIMIT, read_body
from providers.kiwi.webhook import SIGNATURE_HEADER

if TYPE_CHECKING:
    from bot.app import App

RECEIVER_KEY = "hook_receiver"


class Answer(Protocol):
    """bot/hooks' `HookAnswer`: the HTTP status and a short reason, safe to return and to log."""

    @property
    def status(self) -> int: ...

    @property
    def reason(self) -> str: ...


class Receiver(Protocol):
    """What bot/hooks/receiver.py's `HookReceiver` offers this layer."""

    async def kiwi(self, token: str, body: bytes, signature: str | None) -> Answer: ...

    async def nonvoip(self, token: str, body: bytes) -> Answer: ...


def hook_endpoints(app: "App") -> dict[str, Endpoint]:
    """The endpoint of each provider's callback route, by route name. The receiver is looked
    up at each request (it is built when the server starts; a test may put its own)."""

    def receiver() -> Receiver | None:
        found: Any = app.bot_data.get(RECEIVER_KEY)
        return found

    async def kiwi(request: Request) -> Response:
        body = await read_body(request, HOOK_BODY_LIMIT)
        hooks = receiver()
        if hooks is None:
            return refuse(HOOKS_KIWI, 503, "callbacks not available")
        signature = request.headers.get(SIGNATURE_HEADER)
        answer = await hooks.kiwi(request.path_params["token"], body, signature)
        return _answer(answer)

    async def nonvoip(request: Request) -> Response:
        body = await read_body(request, HOOK_BODY_LIMIT)
        hooks = receiver()
        if hooks is None:
            return refuse(HOOKS_NONVOIP, 503, "callbacks not available")
        answer = await hooks.nonvoip(request.path_params["token"], body)
        return _answer(answer)

    return {HOOKS_KIWI: kiwi, HOOKS_NONVOIP: nonvoip}


def _answer(answer: Answer) -> Response:
    """The receiver's answer as is (it logged its refusals already: one line each)."""
    return PlainTextResponse(answer.reason, status_code=answer.status)
