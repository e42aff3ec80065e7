"""GotSmsClient tests' fixtures and helpers: one simulator per test module, one account per test."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from providers.errors import ProviderError
from providers.gotsms.capabilities import CAPABILITIES
from providers.gotsms.client import GotSmsClient
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.models import Action, RemoteOrder
from tests.clients.common import module_simulator, secret_free_logs
from tests.secret_checks import raises_clean

SECRET = "TOPSECRETgotsmsToken4242"  # part of every test token; must never show up anywhere
RENTS = "/api/rents"
# What a live rent of unknown plan offers: the "*" row of the actions table.
LIVE_SUPERSET = frozenset({Action.WAKE_UP, Action.AUTO_RENEW, Action.EXTEND, Action.REFUND, Action.MESSAGES,
                           Action.REFRESH})

shared_sim = module_simulator(GotSmsSimulator)
_no_secret_in_logs = secret_free_logs(SECRET)
_tokens = itertools.count()
E = TypeVar("E", bound=ProviderError)


@pytest.fixture
def token() -> str:
    return f"gs{next(_tokens)}|{SECRET}"


@pytest.fixture
def sim(shared_sim: GotSmsSimulator, token: str) -> Iterator[GotSmsSimulator]:
    shared_sim.add_account(token, Decimal("50.00"))
    yield shared_sim


@pytest.fixture
def gs(sim: GotSmsSimulator, http: httpx.AsyncClient, token: str) -> GotSmsClient:
    return GotSmsClient(http, sim.base_url, token, retry_delay=0.01)


async def raises(kind: type[E], call: Awaitable[Any]) -> E:
    error = await raises_clean(kind, call, provider="gotsms", secret=SECRET)
    assert isinstance(error, kind)
    return error


def actions(order: RemoteOrder, kind: str = "") -> frozenset[Action]:
    return CAPABILITIES.order_actions(order.status, kind)


def calls(sim: GotSmsSimulator, token: str, method: str, path: str) -> int:
    return sim.request_count(method=method, path=path, token=token)


def service_name(plan: dict[str, Any]) -> str:
    service = plan.get("service")
    return service["name"] if isinstance(service, dict) else str(plan.get("service_name"))


def sim_plan(sim: GotSmsSimulator, *, duration_type: str = "day", billing_type: str = "duration",
             amount: int | None = None) -> dict[str, Any]:
    """The first served plan of this kind."""
    for plan in sim.plans:
        if plan.get("billing_type") == billing_type and (
            billing_type == "sms" or plan.get("duration_type") == duration_type
        ) and (amount is None or plan.get("duration_in_type") == amount):
            return plan
    raise AssertionError(f"no {billing_type}/{duration_type} plan in the simulator")


async def rent_of(gs: GotSmsClient, sim: GotSmsSimulator, **kind: Any) -> tuple[RemoteOrder, dict[str, Any]]:
    plan = sim_plan(sim, **kind)
    return await gs.create_rent(str(plan["id"])), plan
