"""Property tests of GotSMS payload parsing: wire JSON -> domain model, item by item."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.errors import ProviderError
from providers.gotsms.api import GotSmsApi
from providers.gotsms.domain import (
    feed_items_from,
    number_messages_from,
    one_rent,
    plans_from,
    public_plans,
    rents_from,
)
from providers.gotsms.schema import (
    AccountWire,
    NumberStatusWire,
    cursor_of,
    data_of,
    envelope_of,
    list_of,
    pages_of,
    read,
)
from providers.http import RetryPolicy
from providers.models import OrderStatus

FAST = settings(max_examples=100, deadline=None)

# ---------------------------------------------------------------------- valid wire values

amounts = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
instants = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
ids = st.one_of(st.uuids().map(str), st.integers(min_value=1, max_value=10**12))
names = st.sampled_from(["Telegram", "WhatsApp", "Ünïcode ✓", "0", "a\"b"])


@st.composite
def money_json(draw: st.DrawFn, amount: Decimal) -> Any:
    """The same amount as the API may write it: a number or a numeric string."""
    style = draw(st.sampled_from(["number", "string", "int"]))
    if style == "string":
        return str(amount)
    if style == "int" and amount == amount.to_integral_value():
        return int(amount)
    return float(amount)  # shortest repr: read back exactly via str()


@st.composite
def moment_json(draw: st.DrawFn, moment: datetime) -> Any:
    """The same instant as ISO 8601 (offset, Z, naive = UTC, another offset) or epoch seconds."""
    style = draw(st.sampled_from(["offset", "z", "naive", "shifted", "epoch"]))
    if style == "z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "naive":
        return moment.replace(tzinfo=None).isoformat()
    if style == "shifted":
        return moment.astimezone(timezone(timedelta(hours=draw(st.integers(-12, 14))))).isoformat()
    if style == "epoch":
        return int(moment.timestamp())
    return moment.isoformat()


def same_instant_utc(parsed: datetime | None, expected: datetime) -> bool:
    return parsed is not None and parsed.utcoffset() == timedelta(0) and parsed == expected


@st.composite
def plan_item(draw: st.DrawFn) -> tuple[dict[str, Any], Decimal, Decimal]:
    price, renew = draw(amounts), draw(amounts)
    item = {
        "id": draw(ids),
        "service": {"id": draw(ids), "name": draw(names)},
        "country": {"id": draw(ids), "name": draw(names)},
        "billing_type": draw(st.sampled_from(["duration", "sms"])),
        "duration_type": draw(st.sampled_from(["min", "hour", "day", "week", "month", "year"])),
        "duration_in_type": draw(st.integers(1, 12)),
        "duration_translation": draw(st.sampled_from(["", "1 day", "3 months", "20 минут"])),
        "price": draw(money_json(price)),
        "renew_price": draw(money_json(renew)),
        "is_monthly_supported": draw(st.booleans()),
    }
    return item, price, renew


@st.composite
def rent_item(draw: st.DrawFn) -> tuple[dict[str, Any], Decimal, datetime, datetime]:
    price = draw(amounts)
    start = draw(instants)
    end = start + timedelta(minutes=draw(st.integers(1, 10**6)))
    plan, _, _ = draw(plan_item())
    del plan["service"], plan["country"]  # the short form inside a rent
    item = {
        "id": draw(ids),
        "service": {"id": draw(ids), "name": draw(names)},
        "plan": plan,
        "phone": f"+1 {draw(st.integers(200_000_0000, 999_999_9999))}",
        "price": draw(money_json(price)),
        "status": draw(st.sampled_from(["active", "finished"])),
        "is_included_for_next_renewal": draw(st.booleans()),
        "active_from": draw(moment_json(start)),
        "active_till": draw(moment_json(end)),
        "wake_from": None,
        "wake_till": None,
        "can_wake_up": draw(st.booleans()),
        "transition_options": [],
    }
    return item, price, start, end


@st.composite
def message_item(draw: st.DrawFn, listed: bool) -> tuple[dict[str, Any], datetime]:
    moment = draw(instants)
    item: dict[str, Any] = {
        "id": draw(ids),
        "from": "+18001234567",
        "to": "+18009876543",
        "body": draw(st.text(max_size=40)),
        "code": draw(st.one_of(st.none(), st.integers(1000, 99_999_999).map(str))),
        "received_at": draw(moment_json(moment)),
    }
    if listed:
        item.update(rent_id=draw(ids), service={"id": draw(ids), "name": draw(names)}, phone="+1 800 123 4567")
    return item, moment


# Things that are not a valid item of any list: wrong JSON types, or objects missing/garbling a field.
junk_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
not_an_object = st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.lists(st.integers(), max_size=2)


def is_one_of(item: object, valid: list[dict[str, Any]]) -> bool:
    """Identity, not ==: a garbled copy may compare equal (True == 1)."""
    return any(item is v for v in valid)


def broken(item: dict[str, Any], draw: st.DrawFn, required: list[str], dated: str) -> dict[str, Any]:
    """The item with a required field removed or of the wrong type, or an unreadable date."""
    copy = dict(item)
    how = draw(st.sampled_from(["remove", "garble", "date"]))
    if how == "date":
        copy[dated] = draw(st.sampled_from(["yesterday", "2026-13-45T00:00:00", {"at": 1}, True]))
        return copy
    field = draw(st.sampled_from(required))
    if how == "remove":
        del copy[field]
    else:
        copy[field] = draw(st.sampled_from([None, {"x": 1}, [1], True]))  # invalid for every field
    return copy


# ---------------------------------------------------------------------- round trips


@FAST
@given(st.lists(plan_item(), max_size=6))
def test_plans_round_trip(items: list[tuple[dict[str, Any], Decimal, Decimal]]) -> None:
    plans = plans_from([json.loads(json.dumps(item)) for item, _, _ in items])
    assert len(plans) == len(items)
    for plan, (item, price, renew) in zip(plans, items, strict=True):
        assert plan.id == str(item["id"]) and plan.service_id == str(item["service"]["id"])
        assert isinstance(plan.price, Decimal) and plan.price == price and plan.renew_price == renew
        assert plan.kind == f"{item['billing_type']}:{item['duration_type']}"
        assert plan.monthly is item["is_monthly_supported"] and plan.country == item["country"]["name"]
        assert plan.duration_label  # the provider's words, or ours when it sent none


@FAST
@given(st.lists(rent_item(), max_size=5))
def test_rents_round_trip(items: list[tuple[dict[str, Any], Decimal, datetime, datetime]]) -> None:
    rents = rents_from([json.loads(json.dumps(item)) for item, _, _, _ in items])
    assert len(rents) == len(items)
    for rent, (item, price, start, end) in zip(rents, items, strict=True):
        order = rent.order
        assert order.order_id == str(item["id"]) and order.service == str(item["service"]["id"])
        assert isinstance(order.price, Decimal) and order.price == price
        assert same_instant_utc(order.created_at, start) and same_instant_utc(order.expires_at, end)
        expected = OrderStatus.WAITING if item["status"] == "active" else OrderStatus.COMPLETED
        assert order.status is expected and order.refunded is None  # "finished" never claims a refund
        assert rent.plan is not None and order.plan == rent.plan.duration_label
        assert rent.auto_renew is item["is_included_for_next_renewal"]


@FAST
@given(st.lists(message_item(listed=True), max_size=6), st.lists(message_item(listed=False), max_size=6))
def test_messages_round_trip(
    listed: list[tuple[dict[str, Any], datetime]], own: list[tuple[dict[str, Any], datetime]]
) -> None:
    feed = feed_items_from([json.loads(json.dumps(item)) for item, _ in listed])
    assert [(f.order_id, f.sms.message_id) for f in feed] == [(str(i["rent_id"]), str(i["id"])) for i, _ in listed]
    for entry, (item, moment) in zip(feed, listed, strict=True):
        assert entry.sms.code == item["code"] and entry.sms.text == item["body"]
        assert same_instant_utc(entry.sms.received_at, moment)
    messages = number_messages_from([json.loads(json.dumps(item)) for item, _ in own])
    assert [m.message_id for m in messages] == [str(i["id"]) for i, _ in own]
    assert all(same_instant_utc(m.received_at, moment) for m, (_, moment) in zip(messages, own, strict=True))


# ---------------------------------------------------------------------- malformed items


@FAST
@given(st.data())
def test_malformed_rents_are_skipped_and_the_rest_survive(data: st.DataObject) -> None:
    good = [item for item, _, _, _ in data.draw(st.lists(rent_item(), min_size=1, max_size=4))]
    bad = [broken(item, data.draw, ["id", "phone", "status"], "active_till")
           for item, _, _, _ in data.draw(st.lists(rent_item(), min_size=1, max_size=3))]
    bad += data.draw(st.lists(not_an_object, max_size=3))
    bad.append({**good[0], "status": "on fire", "id": "unknown-status"})
    mixed = data.draw(st.permutations(good + bad))
    rents = rents_from(json.loads(json.dumps(mixed)))
    assert [r.order.order_id for r in rents] == [str(item["id"]) for item in mixed if is_one_of(item, good)]


@FAST
@given(st.data())
def test_malformed_plans_and_messages_are_skipped(data: st.DataObject) -> None:
    plans = [item for item, _, _ in data.draw(st.lists(plan_item(), min_size=1, max_size=4))]
    bad_plans = [broken(item, data.draw, ["id", "price"], "price") for item in plans[:2]]
    bad_plans += data.draw(st.lists(not_an_object, max_size=2))
    mixed = data.draw(st.permutations(plans + bad_plans))
    assert [p.id for p in plans_from(mixed)] == [str(i["id"]) for i in mixed if is_one_of(i, plans)]

    messages = [item for item, _ in data.draw(st.lists(message_item(listed=True), min_size=1, max_size=4))]
    bad_messages = [broken(item, data.draw, ["id", "rent_id"], "received_at") for item in messages[:2]]
    bad_messages += data.draw(st.lists(not_an_object, max_size=2))
    mixed = data.draw(st.permutations(messages + bad_messages))
    assert [f.sms.message_id for f in feed_items_from(mixed)] == [
        str(i["id"]) for i in mixed if is_one_of(i, messages)
    ]


@FAST
@given(st.lists(junk_json, max_size=6))
def test_junk_items_never_raise(items: list[Any]) -> None:
    rents_from(items)
    plans_from(items)
    public_plans(items)
    feed_items_from(items)
    number_messages_from(items)


# ---------------------------------------------------------------------- junk envelopes

API = GotSmsApi(httpx.AsyncClient(), "http://127.0.0.1:9", "token", RetryPolicy())


def _every_reading(content: bytes, status: int) -> None:
    """What the client does with an answer to each endpoint, without the HTTP round trip."""
    response = httpx.Response(status, content=content)
    envelope = API.checked(response, "other")
    pages_of(envelope)
    cursor_of(envelope)
    for reading in (
        lambda: read(data_of(envelope), AccountWire, "account"),
        lambda: read(data_of(envelope), NumberStatusWire, "number status"),
        lambda: one_rent(data_of(envelope)),
        lambda: rents_from(list_of(envelope)),
        lambda: plans_from(list_of(envelope)),
        lambda: public_plans(list_of(envelope)),
        lambda: feed_items_from(list_of(envelope)),
    ):
        try:
            reading()
        except ProviderError:
            pass


envelopes = st.one_of(
    junk_json.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"success": st.one_of(st.booleans(), junk_json)},
        optional={"data": junk_json, "meta": junk_json, "message": junk_json},
    ).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
)


@FAST
@given(envelopes, st.sampled_from([200, 201, 400, 401, 402, 403, 404, 409, 422, 429, 500, 503]))
def test_junk_envelopes_raise_only_taxonomy_errors(content: bytes, status: int) -> None:
    try:
        _every_reading(content, status)
    except ProviderError:
        pass
    try:
        envelope_of(content)
    except ProviderError:
        pass
