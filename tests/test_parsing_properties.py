"""Properties of the lax readers every client relies on: providers/parsing.py (money, when,
decode_items) and providers/retry.py's parse_retry_after."""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.http import parse_retry_after
from providers.parsing import Money, Text, When, decode_items, money, when

FAST = settings(max_examples=150, deadline=None)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOW = 1_750_000_000.0  # a fixed "now" for Retry-After dates and X-RateLimit-Reset epochs
_EPOCH_MS_THRESHOLD = 10_000_000_000  # parsing.py: epoch numbers above this are milliseconds

finite_decimals = st.decimals(allow_nan=False, allow_infinity=False)
# Text with no digit in it cannot be a number or a date, whatever else it holds.
digitless_text = st.text(st.characters(exclude_categories=("Nd", "No", "Nl")), max_size=30)
non_scalar_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.binary(max_size=10),
)
# Whole-minute offsets (as providers send them), within a day; the years below keep the UTC
# conversion inside datetime's range (out of it: see the out-of-range test).
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets
)


# ---------------------------------------------------------------- money


@FAST
@given(finite_decimals)
def test_money_keeps_any_decimal_exactly(amount: Decimal) -> None:
    read = money(amount)
    assert read == amount
    assert str(read) == str(amount)  # same digits and exponent, not merely equal


@FAST
@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_money_reads_any_int_exactly(amount: int) -> None:
    assert money(amount) == Decimal(amount)


@FAST
@given(finite_decimals, st.sampled_from(["", " ", "\t"]))
def test_money_reads_any_numeric_string_exactly(amount: Decimal, padding: str) -> None:
    assert str(money(f"{padding}{amount}{padding}")) == str(amount)


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_money_reads_a_float_as_its_shortest_repr_without_binary_artefacts(amount: float) -> None:
    read = money(amount)
    assert read == Decimal(repr(amount))
    assert read is not None and float(read) == amount


@FAST
@given(st.one_of(digitless_text, non_scalar_junk, st.sampled_from([float("nan"), float("inf"), "NaN", "-Infinity"])))
def test_money_gives_none_for_junk(junk: Any) -> None:
    assert money(junk) is None


@FAST
@given(st.text(max_size=40))
def test_money_never_raises_on_any_text(value: str) -> None:
    read = money(value)
    assert read is None or read.is_finite()


# ---------------------------------------------------------------- when


def assert_same_instant_in_utc(read: datetime | None, expected: datetime) -> None:
    assert read is not None
    assert read.utcoffset() == timedelta(0)
    assert read == expected  # aware datetimes compare as instants


@FAST
@given(aware_datetimes, st.sampled_from(["T", " "]))
def test_when_reads_any_aware_iso_datetime_as_the_same_instant(moment: datetime, separator: str) -> None:
    assert_same_instant_in_utc(when(moment.isoformat(sep=separator)), moment)


@FAST
@given(st.datetimes(min_value=datetime(1, 1, 1), timezones=st.just(UTC)), st.sampled_from(["Z", "z"]))
def test_when_reads_a_z_suffix_as_utc(moment: datetime, z: str) -> None:
    text = moment.isoformat().replace("+00:00", z)
    assert text.endswith(z)
    assert_same_instant_in_utc(when(text), moment)


@FAST
@given(st.datetimes())
def test_when_reads_a_naive_datetime_as_utc(moment: datetime) -> None:
    assert_same_instant_in_utc(when(moment.isoformat()), moment.replace(tzinfo=UTC))


@FAST
@given(st.integers(min_value=0, max_value=_EPOCH_MS_THRESHOLD))
def test_when_reads_epoch_seconds(seconds: int) -> None:
    assert_same_instant_in_utc(when(seconds), EPOCH + timedelta(seconds=seconds))


@FAST
@given(st.integers(min_value=_EPOCH_MS_THRESHOLD + 1, max_value=253_402_300_799_000))  # up to 9999-12-31
def test_when_reads_large_epoch_numbers_as_milliseconds(milliseconds: int) -> None:
    read = when(milliseconds)
    expected = EPOCH + timedelta(milliseconds=milliseconds)
    assert read is not None and read.utcoffset() == timedelta(0)
    # Under a millisecond off: parsing.when divides by 1000 in floating point, which loses
    # microseconds far from 1970 (integers are exact: see the test below); read as seconds it would be years off.
    assert abs(read - expected) < timedelta(milliseconds=1)


def test_when_reads_epoch_milliseconds_exactly() -> None:
    milliseconds = 16_386_287_204_491
    assert when(milliseconds) == EPOCH + timedelta(milliseconds=milliseconds)


@FAST
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2286, 11, 20), timezones=st.just(UTC)))
def test_when_round_trips_an_instant_through_epoch_seconds(moment: datetime) -> None:
    whole = moment.replace(microsecond=0)
    assert_same_instant_in_utc(when(int(whole.timestamp())), whole)


@FAST
@given(st.one_of(digitless_text, non_scalar_junk, st.sampled_from([float("nan"), float("inf"), -float("inf")])))
def test_when_gives_none_for_junk(junk: Any) -> None:
    assert when(junk) is None


@FAST
@given(st.one_of(st.text(max_size=40), st.floats(), st.integers()))
def test_when_never_raises(value: Any) -> None:
    read = when(value)
    assert read is None or read.utcoffset() == timedelta(0)


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_when_gives_none_for_an_instant_outside_datetime_range_in_utc(stamp: str) -> None:
    # .NET serialises a local DateTime.MinValue like the first stamp.
    assert when(stamp) is None


# ---------------------------------------------------------------- decode_items


class Item(msgspec.Struct):
    id: Text
    price: Money
    at: When


LEAK = "sms-code-739204"  # in every invalid item: must never reach a log line


@st.composite
def valid_items(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, Decimal, datetime]]:
    item_id = draw(st.one_of(st.text(min_size=1, max_size=8), st.integers(min_value=0, max_value=10**9)))
    price = draw(st.decimals(min_value=0, max_value=10**6, places=2))
    at = draw(aware_datetimes)
    raw = {"id": item_id, "price": draw(st.sampled_from([str, lambda d: d]))(price), "at": at.isoformat()}
    if draw(st.booleans()):
        raw["extra"] = LEAK  # unknown fields are ignored, not a fault
    return raw, (str(item_id), price, at)


invalid_items = st.one_of(
    st.just(None),
    st.just(LEAK),
    st.lists(st.just(LEAK), max_size=2),
    st.fixed_dictionaries({"id": st.just("a1"), "price": st.just(f"{LEAK}!"), "at": st.just("2024-01-01T00:00:00Z")}),
    st.fixed_dictionaries({"id": st.just("a2"), "price": st.just("1.00"), "at": st.just(f"yesterday {LEAK}")}),
    st.fixed_dictionaries({"id": st.booleans(), "price": st.just("1.00"), "at": st.just("2024-01-01")}),
    st.fixed_dictionaries({"id": st.just(LEAK), "at": st.just("2024-01-01")}),  # no price
)


@contextmanager
def parsing_warnings() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    parsing_logger = logging.getLogger("providers.parsing")
    parsing_logger.addHandler(handler)
    try:
        yield records
    finally:
        parsing_logger.removeHandler(handler)


@FAST
@given(st.lists(st.one_of(valid_items().map(lambda pair: (True, pair)), invalid_items.map(lambda raw: (False, raw))), max_size=12))
def test_decode_items_keeps_every_valid_item_in_order_and_skips_every_invalid_one(
    mixed: list[tuple[bool, Any]],
) -> None:
    raw = [entry[1][0] if entry[0] else entry[1] for entry in mixed]
    expected = [entry[1][1] for entry in mixed if entry[0]]
    with parsing_warnings() as records:
        items = decode_items(raw, Item, provider="p", what="offers")
    assert [(item.id, item.price, item.at) for item in items] == expected
    assert all(isinstance(item.price, Decimal) and item.at.utcoffset() == timedelta(0) for item in items)
    assert len(records) == sum(1 for valid, _ in mixed if not valid)
    assert all(LEAK not in record.getMessage() for record in records)


# ---------------------------------------------------------------- parse_retry_after


def answer(**headers: bytes) -> httpx.Response:
    return httpx.Response(429, headers=[(name.replace("_", "-").encode(), value) for name, value in headers.items()])


@FAST
@given(st.integers(min_value=0, max_value=10**7))
def test_retry_after_seconds_are_read_as_given(seconds: int) -> None:
    assert parse_retry_after(answer(retry_after=str(seconds).encode()), now=NOW) == seconds


@FAST
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_retry_after_http_date_is_the_time_until_then(moment: datetime) -> None:
    whole = moment.replace(microsecond=0)
    header = email.utils.format_datetime(whole, usegmt=True).encode()
    assert parse_retry_after(answer(retry_after=header), now=NOW) == max(0.0, whole.timestamp() - NOW)


@FAST
@given(st.integers(min_value=1_000_000_001, max_value=4_000_000_000))
def test_ratelimit_reset_epoch_is_the_time_until_then(reset_at: int) -> None:
    read = parse_retry_after(answer(x_ratelimit_reset=str(reset_at).encode()), now=NOW)
    assert read == max(0.0, reset_at - NOW)


@FAST
@given(st.integers(min_value=0, max_value=1_000_000_000))
def test_ratelimit_reset_small_number_is_seconds_from_now(seconds: int) -> None:
    assert parse_retry_after(answer(x_ratelimit_reset=str(seconds).encode()), now=NOW) == seconds


@FAST
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_retry_after_wins_over_ratelimit_reset(retry_after: int, reset: int) -> None:
    response = answer(retry_after=str(retry_after).encode(), x_ratelimit_reset=str(reset).encode())
    assert parse_retry_after(response, now=NOW) == retry_after


header_bytes = st.binary(max_size=40).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b""))


@FAST
@given(
    st.one_of(st.none(), header_bytes, st.integers(min_value=-(10**12), max_value=10**12).map(lambda n: str(n).encode())),
    st.one_of(st.none(), header_bytes, st.floats().map(lambda x: repr(x).encode())),
)
def test_parse_retry_after_is_never_negative_and_never_raises(
    retry_after: bytes | None, reset: bytes | None
) -> None:
    headers = {
        name: value for name, value in (("retry_after", retry_after), ("x_ratelimit_reset", reset)) if value is not None
    }
    read = parse_retry_after(answer(**headers), now=NOW)
    assert read is None or 0.0 <= read < float("inf")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,234.50", Decimal("1234.50")), ("12,345", Decimal("12345")), ("1,50", None), ("1,2,3", None), (",5", None)],
)
def test_money_reads_thousands_commas_and_refuses_to_guess_a_decimal_comma(raw: str, expected: Decimal | None) -> None:
    assert money(raw) == expected


def test_an_iso_8601_rate_limit_reset_is_read_as_seconds_from_now() -> None:
    now = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
    response = httpx.Response(429, headers={"X-RateLimit-Reset": "2026-12-02T12:00:30Z"})
    assert parse_retry_after(response, now=now.timestamp()) == 30.0
