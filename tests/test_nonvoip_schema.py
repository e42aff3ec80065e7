"""Property tests of NonVoipUsNumber payload parsing: valid answers map exactly onto the domain
model, malformed items are skipped without sinking their page, and junk never escapes the
error taxonomy."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.errors import ProviderError, ProviderUnavailable
from providers.models import OrderRequest, OrderStatus, PlacedOrder
from providers.nonvoip import orders
from providers.nonvoip.callbacks import parse_callback
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.schema import Product
from providers.parsing import decode_items

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 5, 17, 7, 35, 46, tzinfo=UTC)

ids = st.one_of(st.integers(1, 10**9), st.from_regex(r"sb_[0-9]{1,9}", fullmatch=True))
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
amounts = st.integers(0, 1_000_000).map(lambda cents: Decimal(cents).scaleb(-2))  # 0.00 .. 10000.00
moments = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)).map(lambda d: d.replace(microsecond=0,
                                                                                           tzinfo=UTC))


def as_wire_money(amount: Decimal, style: int) -> object:
    """Money as the API may send it: a 2-decimal string, a JSON number, or a bare string."""
    return [f"{amount:.2f}", float(amount), str(amount)][style]


def as_wire_stamp(moment: datetime, style: int) -> str:
    return [moment.strftime("%Y-%m-%d %H:%M:%S"), moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            moment.isoformat()][style]


@st.composite
def products(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, str, Decimal, int]]:
    """A valid product item, and what it must become (id, name, price, stock)."""
    product_id, name, price, stock = draw(ids), draw(names), draw(amounts), draw(st.integers(0, 10**6))
    item = {"product_id": product_id, "name": name, "price": as_wire_money(price, draw(st.integers(0, 2))),
            "available": draw(st.sampled_from([stock, str(stock)]))}
    return item, (str(product_id), name, price, stock)


malformed_products = st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
    st.fixed_dictionaries({"name": names}),  # no product_id, no price
    st.fixed_dictionaries({"product_id": ids, "name": names, "price": st.sampled_from(["free", "", None, True]),
                           "available": st.integers(0, 5)}),
    st.fixed_dictionaries({"product_id": ids, "name": names, "price": st.just("1.00"),
                           "available": st.sampled_from([-1, "many", 1.5, None])}),
    st.fixed_dictionaries({"product_id": st.sampled_from(["", "  ", True, None, 1.5]), "name": names,
                           "price": st.just("1.00"), "available": st.just(1)}),
)


@FAST
@given(st.lists(products(), max_size=6), st.sampled_from(["10-minutes", "1-day", "30-days", "3-days"]))
def test_valid_products_become_exact_offers(items: list[Any], section: str) -> None:
    decoded = decode_items([item for item, _ in items], Product, provider="nonvoip", what="test")
    offers = [orders.offer(product, section) for product in decoded]
    assert [(o.service_id, o.name, o.price, o.stock) for o in offers] == [expected for _, expected in items]
    assert all(isinstance(o.price, Decimal) and o.section == section for o in offers)


@FAST
@given(st.lists(st.one_of(products().map(lambda p: ("good", p)), malformed_products.map(lambda m: ("bad", m))),
                max_size=8))
def test_malformed_products_are_skipped_the_valid_survive(mixed: list[tuple[str, Any]]) -> None:
    raw = [value[0] if kind == "good" else value for kind, value in mixed]
    decoded = decode_items(raw, Product, provider="nonvoip", what="test")
    expected = [value[1] for kind, value in mixed if kind == "good"]
    assert [(p.product_id, p.name, p.price, p.available) for p in decoded] == expected


@st.composite
def bundle_answers(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[str, str, Decimal, datetime]]]:
    """An order answer with one entry per service, each its own id, all on one number."""
    number = draw(st.from_regex(r"1[0-9]{10}", fullmatch=True))
    count = draw(st.integers(1, 5))
    order_ids = draw(st.lists(ids, min_size=count, max_size=count, unique_by=str))
    entries, expected = [], []
    for order_id in order_ids:
        service, cost, moment = draw(names), draw(amounts), draw(moments)
        entry: dict[str, Any] = {"order_id": order_id, "status": "Active", "number": number, "service": service,
                                 "type": "long_term", "cost": as_wire_money(cost, draw(st.integers(0, 2)))}
        style = draw(st.integers(0, 3))
        if style == 3:  # seconds from now, as a short-term answer says it
            seconds = draw(st.integers(0, 30 * 86400))
            entry["expiration"] = seconds
            moment = NOW + timedelta(seconds=seconds)
        else:
            entry[draw(st.sampled_from(["expires", "expires_at"]))] = as_wire_stamp(moment, style)
        entries.append(entry)
        expected.append((str(order_id), service, cost, moment))
    return entries, expected


@FAST
@given(bundle_answers())
def test_every_entry_of_an_order_answer_becomes_its_own_order(answer: tuple[list[Any], list[Any]]) -> None:
    entries, expected = answer
    placed = orders.placed(entries, price=None, now=NOW)
    got = [(o.order_id, o.service, o.price, o.expires_at) for o in placed.orders]
    assert got == expected
    assert len({o.phone for o in placed.orders}) == 1
    assert all(o.expires_at is not None and o.expires_at.utcoffset() == timedelta(0) for o in placed.orders)
    assert all(o.status is OrderStatus.WAITING for o in placed.orders)


@FAST
@given(amounts, st.integers(1, 5))
def test_a_card_price_is_shared_to_the_cent(price: Decimal, count: int) -> None:
    entries = [{"order_id": n + 1, "number": "16095550123", "service": f"S{n}"} for n in range(count)]
    placed = orders.placed(entries, price=price, now=NOW)
    shares = [o.price for o in placed.orders]
    assert sum(shares, Decimal("0")) == price and max(shares) - min(shares) <= Decimal("0.01") * count


@FAST
@given(names, st.text(max_size=200), st.one_of(st.none(), st.from_regex(r"[0-9]{3,8}", fullmatch=True)),
       st.from_regex(r"1[0-9]{10}", fullmatch=True))
def test_an_sms_answer_names_its_service(service: str, text: str, pin: str | None, number: str) -> None:
    fields = {"status": "success", "number": number, "service": service, "sms": text, "pin": pin, "type": "long_term"}
    order = orders.sms_order("146185", fields)
    (sms,) = order.messages
    assert (sms.text, sms.code, sms.service_name, order.phone) == (text, pin or None, service, number)
    assert order.status is OrderStatus.RECEIVED
    assert orders.sms_order("146185", fields).messages[0].message_id == sms.message_id  # stable


# ---------------------------------------------------------------------- junk never escapes the taxonomy

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
envelope_keys = st.sampled_from(["status", "message", "balance", "sms", "pin", "service", "number",
                                 "expiration", "order_id", "cost", "retryAfter", "info"])
envelopes = st.one_of(
    st.dictionaries(envelope_keys, json_values, max_size=6),
    st.fixed_dictionaries({"status": st.sampled_from(["success", "info", "error"]), "message": json_values}),
    json_values,
).map(json.dumps)
bodies = st.one_of(envelopes, envelopes.map(lambda text: text[: len(text) // 2]), st.binary(max_size=20))

Call = Callable[[NonVoipClient], Awaitable[object]]
CALLS: dict[str, Call] = {
    "balance": lambda c: c.get_balance(),
    "sections": lambda c: c.list_sections(),
    "offers": lambda c: c.list_offers("30-days"),
    "country": lambda c: c.list_offers("country"),
    "products": lambda c: c.products(type="short_term"),
    "order": lambda c: c.place_order(OrderRequest("30-days", ("9044", "8555"), max_price=Decimal("4"))),
    "country order": lambda c: c.place_order(OrderRequest("country", ("501",))),
    "getsms": lambda c: c.get_order("146185"),
    "reject": lambda c: c.reject("146185"),
    "reuse": lambda c: c.reuse("146185"),
    "activate": lambda c: c.activate("146185"),
    "renew": lambda c: c.renew("146185", idempotency_key="k", duration="30d"),
    "saveurl": lambda c: c.save_url("https://example.com/hook", 1),
}


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)  # thousands of "unreadable answer" warnings are expected here


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(CALLS)), bodies, st.sampled_from([200, 200, 200, 400, 404, 429, 500]))
def test_junk_answers_raise_only_taxonomy_errors(call: str, body: str | bytes, status: int) -> None:
    async def run() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
        async with httpx.AsyncClient(transport=transport) as http:
            client = NonVoipClient(http, "http://nonvoip.test/manager", "a@b.c", "pw", retry_delay=0, max_attempts=1)
            try:
                outcome = await CALLS[call](client)
            except ProviderError as error:
                if call in ("order", "country order", "reuse", "renew") and status == 200 and isinstance(
                        error, ProviderUnavailable):
                    assert error.may_have_charged  # a 200 to a purchase we cannot read may have bought
                return
            if isinstance(outcome, PlacedOrder):
                assert outcome.orders  # never an empty purchase

    asyncio.run(run())


callback_bodies = st.one_of(
    bodies,
    st.fixed_dictionaries({"event": st.sampled_from(["incoming_message", "auction_wining"]),
                           "message": json_values}).map(json.dumps),
).map(lambda body: body if isinstance(body, bytes) else body.encode())


@FAST
@given(callback_bodies)
def test_junk_callbacks_are_ignored_never_raised(body: bytes) -> None:
    update = parse_callback(body, now=NOW)
    assert update is None or update.sms is not None or update.won


@FAST
@given(ids, names, st.text(max_size=100), st.from_regex(r"[0-9]{3,8}", fullmatch=True))
def test_an_sms_callback_is_the_sms_getsms_shows(order_id: object, service: str, text: str, code: str) -> None:
    body = {"event": "incoming_message", "message": {"order_id": order_id, "number": "16095170503",
                                                     "service": service, "sender": "8843", "sms": text,
                                                     "code": code, "type": "str"}}
    update = parse_callback(json.dumps(body).encode())
    assert update is not None and update.sms is not None and update.sms.order_id == str(order_id)
    polled = orders.sms_order(str(order_id), {"status": "success", "service": service, "sms": text, "pin": code})
    assert update.sms.sms == polled.messages[0]
