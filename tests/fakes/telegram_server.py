"""The HTTP side of the fake Bot API: a Starlette app that decodes PTB's requests.

URL shape: /bot<token>/<method>. Parameters arrive form-encoded (non-string values
JSON-encoded), as multipart/form-data when files are sent, or as a JSON body.
"""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.telegram_methods import BotApiMethods
from tests.fakes.telegram_state import JSON, ApiError, TelegramState

# Parameters that are always strings: PTB sends strings unencoded, so decoding them
# as JSON would turn a text of "123" or a callback_query_id into a number.
STRING_PARAMS = frozenset(
    {
        "text",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "language_code",
        "action",
        "caption",
        "url",
        "description",
        "short_description",
        "name",
        "title",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "ip_address",
    }
)


def build_app(state: TelegramState, methods: BotApiMethods) -> Starlette:
    async def endpoint(request: Request) -> Response:
        return await handle(request, state, methods)

    route = Route("/{path:path}", endpoint, methods=["GET", "POST"])
    return Starlette(routes=[route])


async def handle(request: Request, state: TelegramState, methods: BotApiMethods) -> Response:
    path = request.url.path
    token, _, method = path.removeprefix("/bot").partition("/")
    if not path.startswith("/bot") or not method:
        return _error(ApiError(404, "Not Found"))
    if token != state.token:
        return _error(ApiError(401, "Unauthorized"))
    try:
        params = await decode_params(request)
    except ValueError:
        return _error(ApiError(400, "Bad Request: can't parse request parameters"))
    state.record(method, params)
    key = method.lower()
    if not methods.exists(key):
        return _error(ApiError(404, "Not Found"))
    try:
        return _ok(await dispatch(key, params, state, methods))
    except ApiError as error:
        return _error(error)


async def dispatch(key: str, params: JSON, state: TelegramState, methods: BotApiMethods) -> Any:
    if state.down and key != "getupdates":
        raise ApiError(502, "Bad Gateway")
    failure = state.take_failure(key)
    if failure is not None:
        raise failure
    if key == "getupdates":
        return await methods.get_updates(params)
    return methods.handlers[key](params)


async def decode_params(request: Request) -> JSON:
    params: JSON = {k: coerce(k, v) for k, v in request.query_params.items()}
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = await request.body()
    if not body:
        return params
    if media_type == "application/json":
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("JSON body must be an object")
        params.update(decoded)
    elif media_type == "multipart/form-data":
        params.update(decode_multipart(content_type, body))
    else:  # PTB's default: application/x-www-form-urlencoded
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        params.update({key: coerce(key, value) for key, value in pairs})
    return params


def decode_multipart(content_type: str, body: bytes) -> JSON:
    """Parse multipart/form-data with the stdlib (python-multipart is not installed)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    params: JSON = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload: bytes = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            params[name] = {"filename": filename, "content": payload}
        else:
            params[name] = coerce(name, payload.decode("utf-8"))
    return params


def coerce(key: str, value: str) -> Any:
    """Undo PTB's encoding: strings are sent raw, everything else as JSON text."""
    if key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _ok(result: Any) -> Response:
    return _json_response(200, {"ok": True, "result": result})


def _error(error: ApiError) -> Response:
    return _json_response(error.code, error.payload())


def _json_response(status: int, body: JSON) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content, status_code=status, media_type="application/json")
