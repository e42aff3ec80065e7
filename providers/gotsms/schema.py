"""GotSMS's wire format as msgspec Structs (`../shared/provider-docs/gotsms.openapi.yaml.txt`).

Every answer is an envelope `{"success": true, "data": ..., "meta": {...}}` or
`{"success": false, "message": "..."}`. Fields the documents show are typed here with the lax
types of `providers.parsing`; anything else in an answer is ignored. Lists are decoded item by
item (`decode_items`), so one malformed rent or message is logged and skipped.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import msgspec

from providers.errors import UnexpectedResponse
from providers.models import ProviderId
from providers.parsing import Money, Text, When, convert

logger = logging.getLogger(__name__)

PROVIDER = ProviderId.GOTSMS.value
T = TypeVar("T")


class Envelope(msgspec.Struct):
    """Every answer. `data` stays raw: what it holds depends on the endpoint."""

    success: bool | None = None
    message: Any = None  # a string in the documents; anything else is ignored
    data: Any = msgspec.UNSET
    meta: Any = None


class PageMeta(msgspec.Struct):
    """Laravel's length-aware paginator."""

    current_page: int = 1
    last_page: int | None = None


class CursorMeta(msgspec.Struct):
    """GET /api/numbers/{rent_id}/messages pages back by id."""

    next_before_id: Text | None = None


class Named(msgspec.Struct):
    """A nested `{"id", "name"}` (service, country)."""

    id: Text = Text("")
    name: Text = Text("")


class AccountWire(msgspec.Struct):
    balance: Money
    currency: Text | None = None  # not documented: USD unless a server says otherwise


class ServiceWire(msgspec.Struct):
    id: Text
    name: Text


class PlanWire(msgspec.Struct):
    """An item of GET /api/rents/plans, or the short form inside a rent (`plan`,
    `transition_options`), which has no service, country, minutes or monthly flag."""

    id: Text
    price: Money
    service: Named | None = None
    country: Named | None = None
    billing_type: Text = Text("duration")
    duration_type: Text = Text("")
    duration_in_type: int = 0
    duration_in_minutes: int | None = None
    duration_translation: Text = Text("")
    renew_price: Money | None = None
    is_monthly_supported: bool | None = None


class PricelistPlanWire(msgspec.Struct):
    """An item of the public GET /api/pricelist: no ids, `period`/`period_type`."""

    price: Money
    service_name: Text | None = None
    period: int = 0
    period_type: Text = Text("")
    duration_translation: Text = Text("")
    renew_price: Money | None = None
    country: Text = Text("")
    billing_type: Text = Text("duration")


class PricelistGroupWire(msgspec.Struct):
    name: Text = Text("")
    plans: list[Any] = []


class RentWire(msgspec.Struct):
    """An item of GET /api/rents (also the answer of POST /api/rents)."""

    id: Text
    phone: Text
    status: Text
    service: Named | None = None
    plan: Any = None  # a PlanWire; read on its own so a bad plan does not sink the rent
    price: Money | None = None  # what was charged; the plan's price when absent
    is_included_for_next_renewal: bool = False
    active_from: When | None = None
    active_till: When | None = None
    wake_from: When | None = None
    wake_till: When | None = None
    can_wake_up: bool = False
    transition_options: list[Any] = []  # PlanWire items, decoded one by one


class NumberMessageWire(msgspec.Struct):
    """An item of GET /api/numbers/{rent_id}/messages."""

    id: Text
    body: Text | None = None
    code: Text | None = None
    received_at: When | None = None


class ListedMessageWire(msgspec.Struct):
    """An item of GET /api/messages and GET /api/messages/unread: the same message with its rent."""

    id: Text
    rent_id: Text
    service: Named | None = None
    body: Text | None = None
    code: Text | None = None
    received_at: When | None = None


class RefundWire(msgspec.Struct):
    """POST /api/rents/{rent_id}/refund: `{"id", "status": "finished"}` (no refund flag)."""

    id: Text | None = None
    status: Text | None = None


class ToggleWire(msgspec.Struct):
    is_included_for_next_renewal: bool


class NumberStatusWire(msgspec.Struct):
    rent_id: Text | None = None
    status: Text = Text("")
    active_from: When | None = None
    active_till: When | None = None
    wake_from: When | None = None
    wake_till: When | None = None
    online_till: When | None = None
    wakeup_time_left_seconds: int | None = None
    online_time_left_seconds: int | None = None
    can_wake_up: bool = False


# ---------------------------------------------------------------------- reading


def unreadable(what: str) -> UnexpectedResponse:
    logger.warning("gotsms answer: unreadable %s", what)
    return UnexpectedResponse(provider=PROVIDER)


def read(raw: object, schema: type[T], what: str) -> T:
    """One object of the answer into its Struct; `UnexpectedResponse` when it does not fit."""
    try:
        return convert(raw, schema)
    except (msgspec.ValidationError, ValueError, TypeError):
        raise unreadable(what) from None


def envelope_of(content: bytes) -> Envelope:
    """The envelope of a body; `UnexpectedResponse` for anything but a JSON object."""
    try:
        raw = msgspec.json.decode(content)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise unreadable("body (not JSON)") from None
    return read(raw, Envelope, "envelope")


def data_of(envelope: Envelope) -> Any:
    """The envelope's `data`, which must be there."""
    if envelope.data is msgspec.UNSET:
        raise unreadable("envelope without data")
    return envelope.data


def list_of(envelope: Envelope) -> list[Any]:
    """The raw items of a list answer."""
    items = data_of(envelope)
    if not isinstance(items, list):
        raise unreadable("list")
    return items


def pages_of(envelope: Envelope) -> tuple[int, int]:
    """(current_page, last_page); a list without a readable meta is a single page."""
    try:
        meta = convert(envelope.meta, PageMeta)
    except (msgspec.ValidationError, ValueError, TypeError):
        return 1, 1
    return meta.current_page, meta.last_page if meta.last_page is not None else meta.current_page


def cursor_of(envelope: Envelope) -> str | None:
    try:
        return convert(envelope.meta, CursorMeta).next_before_id
    except (msgspec.ValidationError, ValueError, TypeError):
        return None
