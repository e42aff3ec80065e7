"""`Idempotency-Key` handling of the kiwiSMS simulator (rent and renew), scoped per API key."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.responses import Response

from providers.kiwi.simulator.http import KiwiContext, error
from providers.kiwi.simulator.models import IdempotencyRecord

_TTL = 24 * 3600.0
_MAX_KEY_LENGTH = 256


class IdempotencyStore:
    """Same key + same body: the stored answer replayed; another body: 422; still running: 409.

    Only 2xx answers are stored: an error changed nothing, so a retry deserves a fresh attempt.
    The record is completed when the state change happens, before any delayed answer is sent.
    """

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], IdempotencyRecord] = {}

    async def run(
        self, ctx: KiwiContext, scope_key: str, process: Callable[[], Awaitable[Response]],
        replay_status: int | None,
    ) -> Response:
        key = ctx.idempotency_key or ""
        if len(key) > _MAX_KEY_LENGTH:
            return error(400, "Idempotency-Key must be at most 256 characters", "INVALID_REQUEST")
        scope = (scope_key, key)
        fingerprint = ctx.fingerprint()
        record = self._records.get(scope)
        if record is not None and time.monotonic() - record.created > _TTL:
            record = None
        if record is not None:
            return _replay(record, fingerprint, replay_status)
        record = IdempotencyRecord(fingerprint, time.monotonic())
        self._records[scope] = record
        try:
            response = await process()
        except BaseException:
            self._records.pop(scope, None)
            raise
        if 200 <= response.status_code < 300:
            record.done, record.status, record.body = True, response.status_code, bytes(response.body)
        else:
            self._records.pop(scope, None)
        return response


def _replay(record: IdempotencyRecord, fingerprint: str, replay_status: int | None) -> Response:
    if record.fingerprint != fingerprint:
        return error(422, "Idempotency-Key was already used with a different request body",
                     "IDEMPOTENCY_KEY_REUSED")
    if not record.done:
        return error(409, "A request with this Idempotency-Key is still being processed",
                     "IDEMPOTENCY_CONFLICT")
    return Response(record.body, status_code=replay_status or record.status,
                    media_type="application/json", headers={"Idempotent-Replayed": "true"})
