"""Reading a request body with a size limit: the declared length first, then the bytes read."""

from __future__ import annotations

from starlette.requests import Request

TELEGRAM_BODY_LIMIT = 1024 * 1024  # Telegram's updates are a few KiB; a 1 MiB one is not an update
HOOK_BODY_LIMIT = 64 * 1024  # a callback is one SMS (or a few won numbers)


class BodyTooLarge(Exception):
    """The body is over the route's limit (answered with 413)."""


class BadLength(Exception):
    """The Content-Length header is not a number (answered with 400)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or `BodyTooLarge` once it is known to exceed `limit`.

    An oversized body is still read, up to `limit` more bytes, before the answer: a client
    that is still sending when the server closes would get a connection reset instead of the
    413. Anything larger than that is answered at once."""
    declared = _declared_length(request)
    if declared is not None and declared > 2 * limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > 2 * limit:
            raise BodyTooLarge
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise BodyTooLarge
    return b"".join(chunks)


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):
        raise BadLength
    return int(raw)
