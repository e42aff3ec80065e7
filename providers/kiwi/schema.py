"""The kiwiSMS wire format (`kiwisms.openapi.json`) as msgspec Structs, and its mapping to the domain.

Read liberally (`providers.parsing`): ids may come as numbers, prices as numbers or strings,
times in any ISO 8601 form. A list answer is read item by item (`decode_items`): one bad rental
or service is logged and skipped, never the whole page. An envelope that does not fit (not JSON,
the list missing, a single rental unreadable) raises `UnexpectedResponse`.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, TypeVar

import msgspec

from providers.errors import UnexpectedResponse
from providers.models import IncomingSms, Offer, OrderStatus, ProviderId, RemoteOrder
from providers.parsing import Money, Text, When, convert, decode_items, when

logger = logging.getLogger(__name__)

PROVIDER = ProviderId.KIWI.value
RENTAL_MINUTES = 20  # "Charges wallet for a ~20 minute session"
PUBLIC_PRICING_SECTION = "187"  # the public price list is the USA catalogue
EVENT_SMS_RECEIVED = "sms.received"

T = TypeVar("T")

WireStatus = Literal["WAITING", "RECEIVED", "COMPLETED", "CANCELLED", "EXPIRED"]


class ErrorBody(msgspec.Struct):
    """`Error`: {"error": ..., "code": ...}."""

    error: str | None = None
    code: str | None = None


class BalanceBody(msgspec.Struct):
    balance: Money
    currency: str = "USD"


class ServiceItem(msgspec.Struct, rename="camel"):
    service: Text
    name: str
    price: Money
    count: int
    multi_sms: bool = False


class ServicesBody(msgspec.Struct):
    services: list[Any]


class PublicPricingItem(msgspec.Struct):
    code: Text
    name: str
    price: Money


class Rental(msgspec.Struct, rename="camel"):
    """A `Rental`, or a `RentalCreated` (the purchase answer: no codes, no createdAt yet)."""

    id: Text
    phone: Text
    service: Text
    service_name: str
    status: WireStatus
    price: Money
    expires_at: When
    created_at: When | None = None
    codes: list[str] = []


class RentalBody(msgspec.Struct):
    """`RentalResponse` / `RentResponse`."""

    rental: Rental


class RentalListBody(msgspec.Struct):
    """`RentalListResponse`: the live (WAITING / RECEIVED) rentals of the account."""

    rentals: list[Any]


class SmsReceived(msgspec.Struct, rename="camel"):
    """`OtpWebhookPayload`; `receivedAt` stays raw text: the message id is built from it."""

    event: Literal["sms.received"]
    rental_id: Text
    received_at: Text
    otp_code: str | None = None
    sms_text: str | None = None
    service_name: str | None = None


# ---------------------------------------------------------------------- decoding


def decode(body: bytes, schema: type[T], *, what: str) -> T:
    """One answer into its schema; `UnexpectedResponse` if it is not JSON or does not fit."""
    try:
        return convert(msgspec.json.decode(body), schema)
    except (msgspec.MsgspecError, ValueError, TypeError) as exc:
        # The fault's location only: the body may hold a phone number or a code.
        message = str(exc)
        fault = message.rsplit(" - ", 1)[-1][:120] if " - " in message else type(exc).__name__
        logger.warning("%s %s answer unreadable: %s", PROVIDER, what, fault)
        raise UnexpectedResponse(provider=PROVIDER) from None


def error_body(body: bytes) -> ErrorBody:
    """The `Error` fields of an error answer; empty when the body is not one."""
    try:
        return convert(msgspec.json.decode(body), ErrorBody)
    except (msgspec.MsgspecError, ValueError, TypeError):
        return ErrorBody()


def services(body: bytes) -> list[ServiceItem]:
    return decode_items(decode(body, ServicesBody, what="services").services, ServiceItem,
                        provider=PROVIDER, what="service")


def public_pricing(body: bytes) -> list[PublicPricingItem]:
    return decode_items(decode(body, ServicesBody, what="pricing").services, PublicPricingItem,
                        provider=PROVIDER, what="pricing item")


def rentals(body: bytes) -> list[Rental]:
    return decode_items(decode(body, RentalListBody, what="rentals").rentals, Rental,
                        provider=PROVIDER, what="rental")


def rental(body: bytes) -> Rental:
    return decode(body, RentalBody, what="rental").rental


# ---------------------------------------------------------------------- wire -> domain

_STATUSES: dict[str, OrderStatus] = {
    "WAITING": OrderStatus.WAITING,
    "RECEIVED": OrderStatus.RECEIVED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.EXPIRED,
}


def offer(item: ServiceItem, section: str) -> Offer:
    return Offer(
        section=section,
        service_id=str(item.service),
        name=item.name,
        price=item.price,
        stock=item.count,
        duration_minutes=RENTAL_MINUTES,
        multi_sms=item.multi_sms,
        country=section,
    )


def public_offer(item: PublicPricingItem) -> Offer:
    return Offer(
        section=PUBLIC_PRICING_SECTION,
        service_id=str(item.code),
        name=item.name,
        price=item.price,
        stock=None,
        duration_minutes=RENTAL_MINUTES,
        country=PUBLIC_PRICING_SECTION,
    )


def order(wire: Rental) -> RemoteOrder:
    status = _STATUSES[wire.status]
    # One message per distinct code, known by the code itself: the webhook carries no index, and
    # an SMS must have the same identity whichever path brings it (a repeated code is not news).
    messages = tuple(IncomingSms(message_id=sms_identity(code), code=code, text="") for code in dict.fromkeys(wire.codes))
    return RemoteOrder(
        order_id=str(wire.id),
        phone=str(wire.phone),
        service=str(wire.service),
        service_name=wire.service_name,
        price=wire.price,
        status=status,
        expires_at=wire.expires_at,
        created_at=wire.created_at,
        messages=messages,
        refunded=_refunded(status, messages),
    )


def sms_identity(code: str) -> str:
    """A kiwiSMS SMS's stored identity, the same from the poll and from the webhook."""
    return f"otp:{code}"


def _refunded(status: OrderStatus, messages: tuple[IncomingSms, ...]) -> bool | None:
    if status is OrderStatus.CANCELLED:
        return True  # kiwiSMS refunds every cancellation
    if status is OrderStatus.EXPIRED:
        return not messages  # refunded only when no code ever arrived
    if status is OrderStatus.COMPLETED:
        return False
    return None  # still live: nothing to say yet


def sms_received(body: bytes) -> tuple[str, IncomingSms]:
    """(rental id, message) of an `sms.received` webhook; `UnexpectedResponse` otherwise.

    Message id: the code's identity (`sms_identity`), as the poll API's: a redelivery, or the
    same code seen by a poll, maps to the same id and the bot's per-order dedup drops it. An SMS
    without a code (the poll never sees it) is known by its receivedAt.
    """
    payload = decode(body, SmsReceived, what="webhook")
    received_at = when(payload.received_at)
    if not payload.rental_id or received_at is None:
        logger.warning("%s webhook: no rentalId or unreadable receivedAt", PROVIDER)
        raise UnexpectedResponse(provider=PROVIDER)
    message = IncomingSms(
        message_id=sms_identity(payload.otp_code) if payload.otp_code else f"wh:{payload.received_at}",
        code=payload.otp_code or None,
        text=payload.sms_text or "",
        received_at=received_at,
        service_name=payload.service_name or None,
    )
    return str(payload.rental_id), message
