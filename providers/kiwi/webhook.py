"""kiwiSMS `sms.received` webhooks: signature check and payload parsing.

Message id: the code's identity (`schema.sms_identity`), the same the poll API's codes get: a
redelivery, or the same code found by a poll, is one stored SMS and one message in the chat.
"""

from __future__ import annotations

import hashlib
import hmac

from providers.kiwi.schema import EVENT_SMS_RECEIVED, sms_received
from providers.models import IncomingSms

__all__ = ["EVENT_SMS_RECEIVED", "SIGNATURE_HEADER", "parse_sms_received", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Webhook-Signature"


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
    return sms_received(body)
