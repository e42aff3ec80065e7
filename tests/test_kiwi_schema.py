"""Property tests of the kiwiSMS wire schema: random payloads, malformed items and junk envelopes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.errors import ProviderError, UnexpectedResponse
from providers.kiwi import schema
from providers.kiwi.errors import error_for
from providers.models import OrderStatus

STATUSES = {
    "WAITING": OrderStatus.WAITING,
    "RECEIVED": OrderStatus.RECEIVED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.EXPIRED,
}
REQUIRED_RENTAL_FIELDS = ("id", "phone", "service", "serviceName", "status", "price", "expiresAt")
_NUMBERS = msgspec.json.Encoder(decimal_format="number")

prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("9999.99"), places=2)
moments = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-7))]),
)
ids = st.one_of(st.text(min_size=1, max_size=30), st.integers(min_value=0, max_value=10**12))
otp_codes = st.integers(min_value=0, max_value=10**8 - 1).map(lambda n: f"{n:04d}")  # 4-8 digits
codes = st.lists(otp_codes, max_size=4)


@st.composite
def wire_time(draw: st.DrawFn, styles: tuple[str, ...] = ("offset", "z", "naive-utc", "epoch")) -> tuple[Any, datetime]:
    """(how the provider may write a moment, the moment)."""
    moment = draw(moments)
    style = draw(st.sampled_from(styles))
    utc = moment.astimezone(UTC)
    if style == "offset":
        return moment.isoformat(), moment
    if style == "z":
        return utc.replace(tzinfo=None).isoformat() + "Z", moment
    if style == "naive-utc":
        return utc.replace(tzinfo=None).isoformat(sep=" "), moment
    whole = utc.replace(microsecond=0)
    return int(whole.timestamp()), whole


@st.composite
def rentals(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a raw Rental, what it must become)."""
    price = draw(prices)
    expires_raw, expires = draw(wire_time())
    created_raw, created = draw(wire_time())
    status = draw(st.sampled_from(sorted(STATUSES)))
    raw = {
        "id": draw(ids), "externalId": draw(st.none() | st.text(max_size=5)),
        "phone": draw(st.text(min_size=1, max_size=15)), "service": draw(st.text(min_size=1, max_size=5)),
        "serviceName": draw(st.text(max_size=20)), "status": status,
        "price": draw(st.sampled_from([price, str(price)])), "codes": draw(codes),
        "expiresAt": expires_raw, "createdAt": created_raw, "active": True, "secondsRemaining": 5,
    }
    expected = {"price": price, "expires": expires, "created": created, "status": STATUSES[status]}
    return raw, expected


@st.composite
def malformed_rentals(draw: st.DrawFn) -> Any:
    raw, _ = draw(rentals())
    fault = draw(st.sampled_from(["drop", "status", "price", "time", "codes", "not-an-object"]))
    if fault == "drop":
        del raw[draw(st.sampled_from(REQUIRED_RENTAL_FIELDS))]
    elif fault == "status":
        raw["status"] = draw(st.text().filter(lambda s: s not in STATUSES) | st.none() | st.integers())
    elif fault == "price":
        raw["price"] = draw(st.sampled_from(["abc", "", None, True, [], {}, "1.2.3", "NaN", "Infinity"]))
    elif fault == "time":
        raw["expiresAt"] = draw(st.sampled_from(["soon", "", None, True, [], "2030-13-45T00:00:00Z"]))
    elif fault == "codes":
        raw["codes"] = draw(st.sampled_from([[1], "123456", [None], {"a": 1}]))
    else:
        return draw(st.one_of(st.none(), st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=3)))
    return raw


def encode(payload: Any) -> bytes:
    return _NUMBERS.encode(payload)  # Decimals as JSON numbers: the exact digits, no float detour


def assert_order(order: Any, raw: dict[str, Any], expected: dict[str, Any]) -> None:
    assert order.order_id == str(raw["id"]) and order.phone == raw["phone"]
    assert order.service == raw["service"] and order.service_name == raw["serviceName"]
    assert isinstance(order.price, Decimal) and order.price == expected["price"]
    assert order.status is expected["status"]
    for got, want in ((order.expires_at, expected["expires"]), (order.created_at, expected["created"])):
        assert got == want and got.utcoffset() == timedelta(0)
    # One message per distinct code, in first-seen order, known by the code itself: a repeated
    # code in the list is one message.
    distinct = list(dict.fromkeys(raw["codes"]))
    assert [m.code for m in order.messages] == distinct
    assert [m.message_id for m in order.messages] == [f"otp:{c}" for c in distinct]


@settings(max_examples=150, deadline=None)
@given(rentals())
def test_a_valid_rental_round_trips(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    raw, expected = case
    assert_order(schema.order(schema.rental(encode({"rental": raw}))), raw, expected)


Good = tuple[dict[str, Any], dict[str, Any]]
page_items = st.one_of(rentals().map(lambda good: (True, good)), malformed_rentals().map(lambda bad: (False, bad)))


@settings(max_examples=100, deadline=None)
@given(st.lists(page_items, max_size=6))
def test_malformed_rentals_are_skipped_and_the_valid_ones_survive(items: list[tuple[bool, Any]]) -> None:
    page = [item[0] if valid else item for valid, item in items]
    kept: list[Good] = [item for valid, item in items if valid]
    orders = [schema.order(r) for r in schema.rentals(encode({"rentals": page, "count": len(page)}))]
    assert len(orders) == len(kept)
    for order, (raw, expected) in zip(orders, kept):
        assert_order(order, raw, expected)


@st.composite
def services(draw: st.DrawFn) -> tuple[dict[str, Any], Decimal]:
    price = draw(prices)
    raw = {"service": draw(ids), "name": draw(st.text(max_size=20)),
           "price": draw(st.sampled_from([str(price), price])),
           "count": draw(st.integers(min_value=0, max_value=10**6)), "multiSms": draw(st.booleans())}
    return raw, price


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), services()), max_size=8), st.sampled_from(["187", "16", "48"]))
def test_services_keep_exact_prices_and_skip_bad_items(
    items: list[tuple[bool, tuple[dict[str, Any], Decimal]]], section: str
) -> None:
    page: list[Any] = []
    for valid, (raw, _) in items:
        page.append(raw if valid else {**raw, "price": "n/a"})
    offers = [schema.offer(s, section) for s in schema.services(encode({"services": page, "count": 0}))]
    kept = [(raw, price) for valid, (raw, price) in items if valid]
    assert [(o.service_id, o.name, o.price, o.stock, o.multi_sms) for o in offers] == [
        (str(raw["service"]), raw["name"], price, raw["count"], raw["multiSms"]) for raw, price in kept
    ]
    assert all(isinstance(o.price, Decimal) and o.section == section and o.duration_minutes == 20 for o in offers)


@settings(max_examples=150, deadline=None)
@given(wire_time(styles=("offset", "z", "naive-utc")), st.text(min_size=1, max_size=20), otp_codes, st.text(max_size=40))
def test_webhook_payload_round_trips(
    received: tuple[Any, datetime], rental_id: str, code: str, text: str
) -> None:
    raw_time, moment = received
    payload = {"event": "sms.received", "rentalId": rental_id, "serviceCode": "go", "serviceName": "Google",
               "phone": "+15550100", "otpCode": code, "smsText": text, "receivedAt": raw_time}
    got_id, message = schema.sms_received(json.dumps(payload).encode())
    assert got_id == rental_id and message.code == code and message.text == text
    assert message.received_at == moment and message.received_at.utcoffset() == timedelta(0)
    assert message.message_id == f"otp:{code}" and message.service_name == "Google"


def _webhook_body(rental_id: str, code: str, received_at: str) -> bytes:
    return json.dumps({"event": "sms.received", "rentalId": rental_id, "serviceCode": "wa",
                       "serviceName": "WhatsApp", "phone": "+15550100", "otpCode": code,
                       "smsText": f"Your code is {code}", "receivedAt": received_at}).encode()


@settings(max_examples=150, deadline=None)
@given(rentals(), st.text(min_size=1, max_size=12), st.lists(wire_time(styles=("offset", "z")), min_size=1, max_size=3))
def test_the_poll_and_the_webhook_give_a_code_the_same_identity(
    case: tuple[dict[str, Any], dict[str, Any]], code: str, deliveries: list[tuple[Any, datetime]]
) -> None:
    raw, _ = case
    raw["codes"] = [*raw["codes"], code, code]  # the poll may list the same code more than once
    polled = schema.order(schema.rental(encode({"rental": raw})))
    (from_poll,) = [m for m in polled.messages if m.code == code]
    # Any number of webhook deliveries of it (redeliveries carry another receivedAt): one identity.
    from_webhooks = {schema.sms_received(_webhook_body(str(raw["id"]), code, str(t)))[1].message_id
                     for t, _ in deliveries}
    assert from_webhooks == {from_poll.message_id} == {schema.sms_identity(code)}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["rental", "rentals", "services", "balance", "event", "rentalId", "receivedAt",
                         "error", "code", "id", "status", "price"]) | st.text(max_size=5), inner, max_size=5),
    max_leaves=12,
)
junk_bodies = st.one_of(st.binary(max_size=60), json_values.map(lambda v: json.dumps(v).encode()))


@settings(max_examples=200, deadline=None)
@given(junk_bodies)
def test_junk_envelopes_raise_only_taxonomy_errors(body: bytes) -> None:
    readers = (
        lambda: schema.order(schema.rental(body)),
        lambda: [schema.order(r) for r in schema.rentals(body)],
        lambda: [schema.offer(s, "187") for s in schema.services(body)],
        lambda: [schema.public_offer(p) for p in schema.public_pricing(body)],
        lambda: schema.decode(body, schema.BalanceBody, what="balance"),
        lambda: schema.sms_received(body),
    )
    for read in readers:
        try:
            read()
        except ProviderError as exc:
            assert isinstance(exc, UnexpectedResponse) and exc.provider == "kiwi"


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=300, max_value=599), junk_bodies, st.sampled_from(["rent", "rental", "other"]))
def test_any_error_answer_maps_into_the_taxonomy(status: int, body: bytes, context: Any) -> None:
    response = httpx.Response(status, content=body, request=httpx.Request("GET", "http://kiwi.test/"))
    error = error_for(response, context, secret="lsms_x_SECRET")
    assert isinstance(error, ProviderError) and error.provider == "kiwi" and error.user_message
    assert "lsms_x_SECRET" not in error.user_message
