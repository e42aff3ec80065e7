"""KiwiClient tests' fixtures and helpers: one simulator per test module, one account per test."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from providers.errors import ProviderError
from providers.kiwi.capabilities import CAPABILITIES
from providers.kiwi.client import KiwiClient
from providers.kiwi.simulator.sim import KiwiSimulator
from providers.models import Action, Offer, OrderRequest, PlacedOrder, RemoteOrder
from tests.clients.common import module_simulator, secret_free_logs
from tests.secret_checks import raises_clean

SECRET = "TOPSECRETkeyMaterial987"  # part of every test key; must never show up anywhere
RENT = "/api/v1/rentals"
PURCHASE_TIMEOUT = 0.25

# Its shutdown costs ~0.2 s; injected faults are always consumed by the test.
shared_sim = module_simulator(KiwiSimulator)
_no_secret_in_logs = secret_free_logs(SECRET)
_keys = itertools.count()


@pytest.fixture
def key() -> str:
    return f"lsms_t{next(_keys)}_{SECRET}"


@pytest.fixture
def sim(shared_sim: KiwiSimulator, key: str) -> Iterator[KiwiSimulator]:
    shared_sim.add_account(key, Decimal("50.00"))
    yield shared_sim
    shared_sim.set_rate_limit(None)


@pytest.fixture
def kiwi(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> KiwiClient:
    return KiwiClient(http, sim.base_url, key, retry_delay=0.01, purchase_timeout=PURCHASE_TIMEOUT)


async def raises(kind: type[ProviderError], call: Awaitable[Any]) -> ProviderError:
    return await raises_clean(kind, call, provider="kiwi", secret=SECRET)


async def first_offer(kiwi: KiwiClient, section: str = "187") -> Offer:
    offers = await kiwi.list_offers(section)
    return next(o for o in offers if o.stock)


async def buy(
    kiwi: KiwiClient, offer: Offer, idempotency_key: str | None, max_price: Decimal | None = None
) -> RemoteOrder:
    """`place_order` for one offer; a kiwiSMS purchase is always exactly one order."""
    placed = await kiwi.place_order(
        OrderRequest.for_offers([offer], max_price=max_price, idempotency_key=idempotency_key)
    )
    assert isinstance(placed, PlacedOrder) and len(placed.orders) == 1
    return placed.first


def actions(order: RemoteOrder) -> frozenset[Action]:
    """The order card's buttons for a kiwiSMS order (every order is of the one kind "*")."""
    return CAPABILITIES.order_actions(order.status, "187")


def posts(sim: KiwiSimulator, key: str, path: str = RENT) -> list[Any]:
    return [r for r in sim.requests if r.method == "POST" and r.path == path and r.api_key == key]
