"""kiwiSMS `sms.received` webhooks: signature check and payload parsing.

Message id: ``"wh:" + receivedAt + ":" + otpCode`` (the raw strings of the payload).
A redelivery of the same webhook carries the same payload, so it maps to the same id and
the bot's per-order dedup drops it. It cannot equal the poll API's ids (the code's index
in `codes`, which the webhook does not carry): to dedup a code seen both by webhook and
by polling, compare `code` as well.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timezone

from providers.errors import UnexpectedResponse
from providers.models import IncomingSms, ProviderId

logger = logging.getLogger(__name__)

PROVIDER = ProviderId.KIWI.value
SIGNATURE_HEADER = "X-Webhook-Signature"
EVENT_SMS_RECEIVED = "sms.received"


def sign(body: bytes, secret: str) -> str:
    """HMAC-SHA256 hex of the raw body: what kiwiSMS sends in `X-Webhook-Signature`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str, secret: str) -> bool:
    """True when `signature` is the HMAC-SHA256 hex of `body` under `secret` (constant time)."""
    if not secret or not signature:
        return False  # an empty secret would make anyone's signature "valid"
    given = signature.strip().lower()
    if given.startswith("sha256="):  # tolerate the common "sha256=<hex>" form
        given = given[len("sha256="):]
    # Bytes, not str: compare_digest raises on non-ASCII str input.
    return hmac.compare_digest(sign(body, secret).encode(), given.encode("utf-8", "replace"))


def parse_sms_received(body: bytes) -> tuple[str, IncomingSms]:
    """(rental id, message) from an `sms.received` payload; UnexpectedResponse otherwise."""
    try:
        data = json.loads(body)
    except ValueError:
        raise UnexpectedResponse(provider=PROVIDER) from None
    if not isinstance(data, dict) or data.get("event") != EVENT_SMS_RECEIVED:
        raise _bad("event")
    rental_id = _str(data, "rentalId")
    received_raw = _str(data, "receivedAt")
    code = data.get("otpCode")
    if code is not None and not isinstance(code, str):
        raise _bad("otpCode")
    text = data.get("smsText")
    if text is not None and not isinstance(text, str):
        raise _bad("smsText")
    message = IncomingSms(
        message_id=f"wh:{received_raw}:{code or ''}",
        code=code or None,
        text=text or "",
        received_at=_parse_time(received_raw),
    )
    return rental_id, message


def _bad(field: str) -> UnexpectedResponse:
    logger.warning("kiwi webhook: missing or ill-typed field %r", field)
    return UnexpectedResponse(provider=PROVIDER)


def _str(data: dict[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(key)
    return value


def _parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad("receivedAt") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
