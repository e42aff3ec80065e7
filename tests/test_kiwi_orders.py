"""KiwiClient against the simulator: renting a number and its life: codes, cancel, done, renew, expiry."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from providers.base import Cancellable, Finishable, OrderListing, Renewable
from providers.errors import (
    AccountSuspended, BadCredentials, InsufficientBalance, InvalidRequest, NotAllowedNow, OrderNotFound,
    OutOfStock,
)
from providers.kiwi.capabilities import CAPABILITIES
from providers.kiwi.client import KiwiClient
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import (
    Action, Offer, OrderRequest, OrderStatus, PlacedOrder, PollStrategy, ProviderId, RemoteOrder,
)
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.kiwi import (
    actions, buy, first_offer, key, kiwi, _no_secret_in_logs, posts, PURCHASE_TIMEOUT, raises, RENT,
    shared_sim, sim,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


# ---------------------------------------------------------------------- rent


async def test_place_order_sends_body_and_key_and_charges(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    order = await kiwi.rent(
        offer.service_id, offer.section, idempotency_key="key-1", max_price=Decimal("9.99"),
        areas="212,646", carrier="tmo",
    )
    assert order.status is OrderStatus.WAITING and order.messages == ()
    assert order.service == offer.service_id and order.price == offer.price and order.phone
    assert order.expires_at is not None and order.expires_at.tzinfo is not None
    assert sim.balance_of(key) == Decimal("50.00") - offer.price
    (request,) = posts(sim, key)
    assert request.headers["idempotency-key"] == "key-1"
    assert request.json == {
        "service": offer.service_id, "country": "187", "max_price": "9.99",
        "areas": "212,646", "carrier": "tmo",
    }
    assert actions(order) == {Action.CANCEL, Action.REFRESH}


async def test_place_order_omits_unset_options(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi, "16")
    await buy(kiwi, offer, "key-uk")
    assert posts(sim, key)[0].json == {"service": offer.service_id, "country": "16"}
    assert sim.rentals_of(key)[0].country == "16"


async def test_place_order_maps_the_typed_request(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi, "36")
    request = OrderRequest(section="36", service_ids=(offer.service_id,), max_price=Decimal("5"),
                           idempotency_key="typed-1")
    placed = await kiwi.place_order(request)
    assert isinstance(placed, PlacedOrder) and [o.order_id for o in placed.orders] == [sim.rentals_of(key)[0].id]
    (sent,) = posts(sim, key)
    assert sent.json == {"service": offer.service_id, "country": "36", "max_price": "5"}
    assert sent.headers["idempotency-key"] == "typed-1"


async def test_place_order_without_key_or_with_a_bundle_is_refused(
    sim: KiwiSimulator, kiwi: KiwiClient, key: str
) -> None:
    offer = await first_offer(kiwi)
    await raises(InvalidRequest, buy(kiwi, offer, None))
    await raises(InvalidRequest, kiwi.place_order(
        OrderRequest(section="187", service_ids=(offer.service_id, "wa"), idempotency_key="b")))
    assert posts(sim, key) == [] and sim.balance_of(key) == Decimal("50.00")


async def test_capabilities_and_abilities(kiwi: KiwiClient) -> None:
    assert kiwi.capabilities is CAPABILITIES and KiwiClient.capabilities is CAPABILITIES
    assert CAPABILITIES.poll is PollStrategy.ACCOUNT_LIST and CAPABILITIES.idempotent_purchase
    assert not CAPABILITIES.reminds_before_end and not CAPABILITIES.chooses_plan
    assert CAPABILITIES.order_page_url.startswith("https://kiwisms.com/")
    assert CAPABILITIES.durations_for("187") == () and CAPABILITIES.bundle_limit("187") == 0
    for ability in (OrderListing, Cancellable, Finishable, Renewable):
        assert isinstance(kiwi, ability)


@pytest.mark.parametrize("case", ["price_above_max", "no_stock", "unknown_service"])
async def test_unavailable_service_is_out_of_stock(
    sim: KiwiSimulator, kiwi: KiwiClient, case: str, key: str) -> None:
    offer = await first_offer(kiwi)
    max_price = None
    if case == "price_above_max":
        max_price = offer.price - Decimal("0.01")
    elif case == "no_stock":
        sim.set_stock("187", offer.service_id, 0)
    else:
        offer = Offer(section="187", service_id="nope", name="Nope", price=Decimal("1"), stock=1)
    await raises(OutOfStock, buy(kiwi, offer, "k", max_price))
    assert len(posts(sim, key)) == 1  # definite: not retried
    assert sim.rentals_of(key) == [] and sim.balance_of(key) == Decimal("50.00")


async def test_insufficient_balance(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> None:
    sim.add_account(key + "-poor", Decimal("0.01"))
    poor = KiwiClient(http, sim.base_url, key + "-poor", retry_delay=0.01)
    offer = await first_offer(poor)
    error = await raises(InsufficientBalance, buy(poor, offer, "k"))
    assert error.user_message == "Insufficient balance"
    assert len(posts(sim, key + "-poor")) == 1


async def test_bad_carrier_is_invalid_request(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    await raises(InvalidRequest, kiwi.rent(offer.service_id, "187", idempotency_key="k", carrier="xyz"))
    assert len(posts(sim, key)) == 1


async def test_bad_and_suspended_credentials(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> None:
    wrong = KiwiClient(http, sim.base_url, key + "x", retry_delay=0.01)
    error = await raises(BadCredentials, wrong.get_balance())
    assert error.user_message == "Invalid API key"
    assert key + "x" not in str(error) + repr(error)
    sim.add_account(key + "-suspended", suspended=True)
    suspended = KiwiClient(http, sim.base_url, key + "-suspended", retry_delay=0.01)
    error = await raises(AccountSuspended, suspended.get_balance())
    assert error.user_message == "Account suspended"
    offer = Offer(section="187", service_id="wa", name="x", price=Decimal("1"), stock=1)
    await raises(BadCredentials, buy(wrong, offer, "k"))
    assert len(posts(sim, key + "x")) == 1


# ---------------------------------------------------------------------- lifecycle


async def test_poll_codes_have_stable_ids(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "Your code is 123456")
    first = await kiwi.get_order(order.order_id)
    assert first.status is OrderStatus.RECEIVED
    # A code is known by itself (`otp:<code>`), the identity its webhook gets too.
    assert [(m.message_id, m.code, m.text) for m in first.messages] == [("otp:123456", "123456", "")]
    assert first.created_at is not None and first.created_at.tzinfo is not None
    sim.receive_sms(order.order_id, "Another one: 654321")
    second = await kiwi.get_order(order.order_id)
    assert [(m.message_id, m.code) for m in second.messages] == [("otp:123456", "123456"), ("otp:654321", "654321")]
    sim.receive_sms(order.order_id, "Again: 123456")  # the same code once more is not a new message
    third = await kiwi.get_order(order.order_id)
    assert [m.message_id for m in third.messages] == ["otp:123456", "otp:654321"]
    assert actions(second) == {Action.DONE, Action.RENEW, Action.MESSAGES, Action.REFRESH}
    assert second.refunded is None


async def test_active_orders_lists_live_only(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    offer = await first_offer(kiwi)
    a = await buy(kiwi, offer, "a")
    b = await buy(kiwi, offer, "b")
    c = await buy(kiwi, offer, "c")
    await kiwi.cancel(b.order_id)
    sim.receive_sms(c.order_id, "code 4242")
    live = {o.order_id: o for o in await kiwi.active_orders()}
    assert set(live) == {a.order_id, c.order_id}
    assert live[c.order_id].messages[0].code == "4242"
    assert all(isinstance(o, RemoteOrder) for o in live.values())


async def test_get_unknown_order(kiwi: KiwiClient) -> None:
    error = await raises(OrderNotFound, kiwi.get_order("does-not-exist"))
    assert error.user_message == "Rental not found"


async def test_cancel_refunds(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    order = await buy(kiwi, offer, "k")
    assert sim.balance_of(key) == Decimal("50.00") - offer.price
    cancelled = await kiwi.cancel(order.order_id)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.refunded is True
    assert sim.balance_of(key) == Decimal("50.00")
    assert actions(cancelled) == frozenset()
    # Cancelling again (e.g. a retry after a lost answer) reports the cancelled order.
    assert (await kiwi.cancel(order.order_id)).status is OrderStatus.CANCELLED
    assert sim.balance_of(key) == Decimal("50.00")


async def test_cancel_after_code_is_not_allowed(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "code 999999")
    await raises(NotAllowedNow, kiwi.cancel(order.order_id))


async def test_done_completes_without_refund(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    order = await buy(kiwi, offer, "k")
    sim.receive_sms(order.order_id, "code 112233")
    done = await kiwi.done(order.order_id)
    assert done.status is OrderStatus.COMPLETED and done.refunded is False
    assert actions(done) == {Action.RENEW, Action.MESSAGES}
    assert (await kiwi.done(order.order_id)).status is OrderStatus.COMPLETED  # idempotent
    assert sim.balance_of(key) == Decimal("50.00") - offer.price
    other = await buy(kiwi, offer, "k2")
    await kiwi.cancel(other.order_id)
    await raises(OrderNotFound, kiwi.done(other.order_id))


async def test_renew_gives_a_new_rental_once(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    offer = await first_offer(kiwi)
    order = await buy(kiwi, offer, "k")
    sim.receive_sms(order.order_id, "code 5555")
    renewed = await kiwi.renew(order.order_id, idempotency_key="renew-1", duration="30d")  # ignored
    assert renewed.order_id != order.order_id and renewed.phone == order.phone
    assert renewed.status is OrderStatus.WAITING
    assert (await kiwi.get_order(order.order_id)).status is OrderStatus.COMPLETED
    replay = await kiwi.renew(order.order_id, idempotency_key="renew-1")
    assert replay.order_id == renewed.order_id
    assert len(sim.rentals_of(key)) == 2
    assert sim.balance_of(key) == Decimal("50.00") - offer.price - renewed.price
    path = f"{RENT}/{order.order_id}/renew"
    assert {r.headers["idempotency-key"] for r in posts(sim, key, path)} == {"renew-1"}


async def test_renew_retries_with_same_key(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "code 5555")
    path = f"{RENT}/{order.order_id}/renew"
    sim.delay_next("POST", path, seconds=PURCHASE_TIMEOUT * 3)
    renewed = await kiwi.renew(order.order_id, idempotency_key="r")
    assert len(sim.rentals_of(key)) == 2 and renewed.order_id == sim.rentals_of(key)[1].id
    assert len(posts(sim, key, path)) == 2


async def test_renew_errors(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    await raises(OrderNotFound, kiwi.renew("nope", idempotency_key="r"))
    order = await buy(kiwi, await first_offer(kiwi), "k")
    sim.receive_sms(order.order_id, "code 5555")
    sim.fail_next("POST", f"{RENT}/{order.order_id}/renew", 402,
                  {"error": "Insufficient balance", "code": "INSUFFICIENT_BALANCE"})
    await raises(InsufficientBalance, kiwi.renew(order.order_id, idempotency_key="r2"))


@pytest.mark.parametrize("with_code", [False, True])
async def test_expired_refund_depends_on_code(
    sim: KiwiSimulator, kiwi: KiwiClient, with_code: bool
) -> None:
    order = await buy(kiwi, await first_offer(kiwi), "k")
    if with_code:
        sim.receive_sms(order.order_id, "code 8080")
    sim.expire(order.order_id)
    expired = await kiwi.get_order(order.order_id)
    assert expired.status is OrderStatus.EXPIRED and expired.refunded is (not with_code)
    assert actions(expired) == frozenset()


async def test_repr_and_errors_hide_the_key(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    assert key not in repr(kiwi) and key not in str(kiwi)
    assert kiwi.provider is ProviderId.KIWI
    # A provider echoing the key back in an error message must not leak it either.
    sim.fail_next("GET", "/api/v1/balance", 401, {"error": f"Invalid API key {key}"})
    error = await raises(BadCredentials, kiwi.get_balance())
    assert "***" in error.user_message
