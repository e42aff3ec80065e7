"""The callback data codec: what fits in 64 bytes parses back to itself; junk is outdated."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import callbacks as cb
from providers.models import Action, ProviderId

providers = st.sampled_from(list(ProviderId))
# Ids as providers issue them (country codes, product ids, UUIDs) and odd ones (separators, %).
ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,36}", fullmatch=True),
    st.uuids().map(str),
    st.text(min_size=1, max_size=20),
)
pages = st.integers(min_value=0, max_value=cb.MAX_PAGE)
order_ids = st.integers(min_value=0, max_value=cb.MAX_ORDER_ID)
values = st.one_of(
    st.builds(cb.Menu, st.sampled_from(cb.MENU_ITEMS)),
    st.builds(cb.ConnectProvider, providers),
    st.builds(cb.Disconnect, st.sampled_from(["ask", "yes"]), providers),
    st.just(cb.Disconnect("no", None)),
    st.builds(cb.BuyProvider, providers),
    st.builds(cb.BuyPage, providers, ids, pages),
    st.builds(cb.BuyOffer, providers, ids, ids),
    st.builds(cb.BuyPlan, providers, ids, ids),
    st.builds(cb.BuyToggle, providers, ids, ids, pages),
    st.builds(cb.BuySelectionDone, providers, ids),
    st.builds(cb.PurchaseTap, st.sampled_from(["confirm", "accept", "drop"]), ids),
    st.builds(cb.OrderTap, st.sampled_from(list(Action)), order_ids, st.none() | ids),
    st.builds(cb.HistoryPage, pages),
    st.just(cb.Noop()),
)


@settings(max_examples=200, deadline=None)
@given(values)
def test_a_built_callback_fits_and_parses_back_to_the_same_ids(value: cb.Callback) -> None:
    try:
        data = cb.encode(value)
    except cb.CallbackTooLong:
        return  # ids too long for one button: refused when built, never truncated
    assert 1 <= len(data.encode()) <= cb.MAX_BYTES
    assert cb.decode(data) == value


@settings(max_examples=100, deadline=None)
@given(providers, st.uuids().map(str), st.sampled_from(["duration", "sms", "30-days", "187"]))
def test_real_ids_always_fit(provider: ProviderId, uuid: str, section: str) -> None:
    """The longest real buttons (a GotSMS plan UUID, an order id near SQLite's limit) fit."""
    for data in (
        cb.buy_plan(provider, section, uuid),
        cb.buy_offer(provider, section, uuid),
        cb.buy_toggle(provider, section, "1234567890", cb.MAX_PAGE),
        cb.order_action(Action.AUTO_RENEW, cb.MAX_ORDER_ID, uuid[:8]),
        cb.buy_confirm("AbCdEfGhIjKl"),
    ):
        assert len(data.encode()) <= cb.MAX_BYTES
        assert not isinstance(cb.decode(data), cb.Outdated)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=80).map(lambda b: b.decode("latin-1")), st.none(), st.integers()))
def test_random_junk_never_raises_and_is_outdated_unless_it_is_a_real_button(junk: object) -> None:
    decoded = cb.decode(junk)
    if not isinstance(decoded, cb.Outdated):
        # Junk that happens to be well-formed must be exactly what its encoding says.
        assert cb.encode(decoded) == junk or cb.decode(cb.encode(decoded)) == decoded


@settings(max_examples=200, deadline=None)
@given(values, st.data())
def test_truncated_data_is_outdated_or_another_valid_button(value: cb.Callback, data: st.DataObject) -> None:
    try:
        full = cb.encode(value)
    except cb.CallbackTooLong:
        return
    cut = data.draw(st.integers(min_value=0, max_value=max(0, len(full) - 1)))
    decoded = cb.decode(full[:cut])
    assert isinstance(decoded, cb.Outdated) or cb.decode(cb.encode(decoded)) == decoded


def test_hostile_examples_are_outdated() -> None:
    for junk in (
        "",
        "o:cancel:99999999999999999999999",  # beyond SQLite's integer: not an overflow
        "o:cancel:²",  # a Unicode digit
        "o:cancel:-1",
        "o:explode:1",
        "b:s:kiwi:187:x",
        "b:s:kiwi:187:10000",
        "b:o:kiwi::wa",
        "b:p:telegram",
        "m:nothing",
        "h:1:2",
        "p:yes",
        "zz:unknown",
        "x" * 65,
        "o:cancel:1" + ":" * 60,
    ):
        assert cb.decode(junk) == cb.OUTDATED, junk


def test_the_existing_layout_still_parses() -> None:
    """Buttons on messages sent before this codec stay valid."""
    assert cb.decode("b:s:kiwi:187:0") == cb.BuyPage(ProviderId.KIWI, "187", 0)
    assert cb.decode("o:renew:12:30d") == cb.OrderTap(Action.RENEW, 12, "30d")
    assert cb.decode("b:c:AbCdEfGhIjKl") == cb.PurchaseTap("confirm", "AbCdEfGhIjKl")
    assert cb.decode("p:no") == cb.Disconnect("no", None)
    assert cb.decode("noop") == cb.Noop()


def test_a_pattern_routes_only_its_kind() -> None:
    is_order_tap = cb.matches(cb.OrderTap)
    assert is_order_tap("o:cancel:5") and not is_order_tap("o:cancel:x") and not is_order_tap(None)
