"""NonVoipClient against the simulator: price changes and premium bids wait for the user."""

from __future__ import annotations

from decimal import Decimal

import pytest

from providers.models import OrderStatus, PremiumBidDecision, PriceChangeDecision
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.simulator.sim import NonVoipSimulator
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.nonvoip import (
    email, _no_secret_in_logs, nv, offer_in, ORDER, password, placed, request_for, sent, shared_sim, sim,
    START,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_price_change_is_a_decision_until_accepted(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str
) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.require_price_change(offer.service_id, Decimal("1.70"))
    decision = await nv.place_order(request_for(offer))
    assert isinstance(decision, PriceChangeDecision) and decision.available_price == Decimal("1.70")
    assert len(sent(sim, email, ORDER)) == 1  # not retried on its own
    assert sim.orders_of(email) == [] and sim.balance_of(email) == START
    order = placed(await nv.accept_decision(request_for(offer), decision))
    assert order.price == Decimal("1.70")
    requests = sent(sim, email, ORDER)
    assert len(requests) == 2 and requests[1].json["accepted_max_price"] == pytest.approx(1.7)
    assert "accepted_max_price" not in requests[0].json
    assert sim.balance_of(email) == START - Decimal("1.70")


async def test_price_change_cap_too_low_asks_again(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.require_price_change(offer.service_id, Decimal("2.00"))
    low = PriceChangeDecision(quoted_price=None, allowed_price=None, available_price=Decimal("1.00"))
    again = await nv.accept_decision(request_for(offer), low)
    assert isinstance(again, PriceChangeDecision) and again.available_price == Decimal("2.00")
    assert len(sent(sim, email, ORDER)) == 1 and sim.balance_of(email) == START
    # The user accepts the new price: bought at it (and the injected rule is consumed).
    order = placed(await nv.accept_decision(request_for(offer), again))
    assert order.price == Decimal("2.00") and sim.balance_of(email) == START - Decimal("2.00")


async def test_premium_is_a_decision_until_bid(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    offer = await offer_in(nv, "10-minutes")
    sim.offer_premium(offer.service_id, recommended_bid=25)
    decision = await nv.place_order(request_for(offer))
    assert decision == PremiumBidDecision(recommended_bid=25)
    assert len(sent(sim, email, ORDER)) == 1 and sim.orders_of(email) == []
    order = placed(await nv.accept_decision(request_for(offer), decision))
    assert order.status is OrderStatus.WAITING
    assert order.price == (offer.price * Decimal("1.25")).quantize(Decimal("0.01"))  # bid = % on top
    assert sim.balance_of(email) == START - order.price
    requests = sent(sim, email, ORDER)
    assert len(requests) == 2 and requests[1].json["auction"] == 25
    assert len(sim.orders_of(email)) == 1
