"""Callbacks NonVoipUsNumber POSTs to the URL saved with `save_url` (the docs' `x-webhooks`).

`incoming_message` carries one SMS of one order; `auction_wining` says a premium bid got a
number (its order id, number and service): also the one way this API tells of an order whose
purchase answer was lost, when that purchase was a bid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import msgspec

from providers.base import FeedItem
from providers.errors import ProviderError
from providers.models import IncomingSms, RemoteOrder
from providers.nonvoip import orders
from providers.nonvoip.errors import PROVIDER
from providers.nonvoip.schema import CallbackEvent, IncomingMessage
from providers.parsing import convert

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackUpdate:
    """What one callback says: an SMS (incoming_message) or orders a bid won (auction_wining)."""

    sms: FeedItem | None = None
    won: tuple[RemoteOrder, ...] = ()


def parse_callback(body: bytes, *, now: datetime | None = None) -> CallbackUpdate | None:
    """The callback's news; None (logged, never raised) for an unknown event or an unreadable body."""
    try:
        event = convert(msgspec.json.decode(body), CallbackEvent)
        if event.event == "incoming_message":
            message = convert(event.message, IncomingMessage)
            code = message.code or None
            sms = IncomingSms(message_id=orders.sms_id(message.sms, code), code=code, text=message.sms,
                              service_name=message.service or None)
            return CallbackUpdate(sms=FeedItem(order_id=message.order_id, sms=sms))
        if event.event == "auction_wining":
            placed = orders.placed(event.message, price=None, now=now or orders.utc_now())
            return CallbackUpdate(won=placed.orders)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError):
        logger.warning("%s callback: unreadable body", PROVIDER)
        return None
    except ProviderError:  # orders.placed's "unreadable purchase"
        logger.warning("%s callback: unreadable auction_wining", PROVIDER)
        return None
    logger.info("%s callback: event ignored", PROVIDER)
    return None
