"""NonVoipClient tests' fixtures and helpers: one simulator per test module, one account per test."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from providers.errors import ProviderError
from providers.models import Action, Offer, OrderOutcome, OrderRequest, PlacedOrder, RemoteOrder
from providers.nonvoip.capabilities import CAPABILITIES
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.simulator.sim import NonVoipSimulator
from tests.clients.common import module_simulator, secret_free_logs
from tests.secret_checks import raises_clean

SECRET = "TOPSECRETpw!Material987"  # part of every test password; must never show up anywhere
ORDER, COUNTRY_ORDER, GETSMS = "/api/order", "/api/country/order", "/api/getsms"
START = Decimal("50.00")

# Injected faults are always consumed by the test (the simulator is shared by the module).
shared_sim = module_simulator(NonVoipSimulator)
_no_secret_in_logs = secret_free_logs(SECRET)
_ids = itertools.count()


@pytest.fixture
def email() -> str:
    return f"user{next(_ids)}@example.com"


@pytest.fixture
def password() -> str:
    return f"pw{next(_ids)}_{SECRET}"


@pytest.fixture
def sim(shared_sim: NonVoipSimulator, email: str, password: str) -> Iterator[NonVoipSimulator]:
    shared_sim.add_account(email, password)
    yield shared_sim


@pytest.fixture
def catalogue(shared_sim: NonVoipSimulator) -> Iterator[list[Offer]]:
    """Offers a test changes with set_price/set_stock: restored afterwards (the sim is shared)."""
    changed: list[Offer] = []
    yield changed
    for offer in changed:
        shared_sim.set_price(offer.service_id, offer.price)
        shared_sim.set_stock(offer.service_id, offer.stock or 0)


@pytest.fixture
def nv(sim: NonVoipSimulator, http: httpx.AsyncClient, email: str, password: str) -> NonVoipClient:
    return NonVoipClient(http, sim.base_url, email, password, retry_delay=0.01)


async def raises(kind: type[ProviderError], call: Awaitable[Any]) -> ProviderError:
    return await raises_clean(kind, call, provider="nonvoip", secret=SECRET)


def sent(sim: NonVoipSimulator, email: str, path: str) -> list[Any]:
    return [r for r in sim.requests if r.path == path and r.email == email]


async def offer_in(nv: NonVoipClient, section: str) -> Offer:
    return next(o for o in await nv.list_offers(section) if o.stock)


def request_for(*offers: Offer) -> OrderRequest:
    """What the bot sends after Confirm: the card's services and price."""
    return OrderRequest.for_offers(offers, max_price=sum((o.price for o in offers), Decimal("0")),
                                   idempotency_key="unused")


def ids(section: str, *service_ids: str) -> OrderRequest:
    return OrderRequest(section=section, service_ids=service_ids)


def placed(outcome: OrderOutcome) -> RemoteOrder:
    """The one order of a purchase of one service."""
    assert isinstance(outcome, PlacedOrder) and len(outcome.orders) == 1
    return outcome.first


async def order_in(nv: NonVoipClient, section: str) -> tuple[Offer, RemoteOrder]:
    offer = await offer_in(nv, section)
    return offer, placed(await nv.place_order(request_for(offer)))


def actions(order: RemoteOrder, section: str) -> frozenset[Action]:
    """The order card's buttons: the bot stores the section each order was bought from."""
    return CAPABILITIES.order_actions(order.status, section)


def soon(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)
