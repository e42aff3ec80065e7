"""GotSmsClient against the simulator: balance, services, plans, sections and offers."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from providers.errors import InvalidRequest
from providers.gotsms.client import GotSmsClient
from providers.gotsms.simulator.sim import GotSmsSimulator
from providers.models import Plan, Section
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.gotsms import (
    calls, gs, _no_secret_in_logs, raises, SECRET, service_name, shared_sim, sim, token,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_balance_sends_bearer_token(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    balance = await gs.get_balance()
    assert balance.amount == Decimal("50.00") and balance.currency == "USD"
    request = sim.requests[-1]
    assert (request.method, request.path, request.token) == ("GET", "/api/account", token)
    assert SECRET not in str(request.query)  # the token never travels in the URL


async def test_pricelist_is_public(sim: GotSmsSimulator, http: httpx.AsyncClient) -> None:
    anonymous = GotSmsClient(http, sim.base_url, "", retry_delay=0.01)
    plans = await anonymous.pricelist()
    assert plans and all(isinstance(p, Plan) and p.price > 0 and p.service_name for p in plans)
    assert {p.billing_type for p in plans} <= {"duration", "sms"}
    assert any(p.duration_type == "day" and p.duration_minutes == 1440 for p in plans)
    assert sim.requests[-1].path == "/api/pricelist" and not sim.requests[-1].token


async def test_services_follow_every_page(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    everything = await gs.services()
    assert len(everything) >= 30 and len({sid for sid, _ in everything}) == len(everything)
    assert calls(sim, token, "GET", "/api/services") == 1  # per_page=100: one page
    assert sim.requests[-1].query.get("per_page") == "100"
    gs.page_size = 7
    paged = await gs.services()
    assert paged == everything
    pages = -(-len(everything) // 7)
    assert calls(sim, token, "GET", "/api/services") == 1 + pages
    name = everything[0][1]
    found = await gs.services(search=name)
    assert (everything[0][0], name) in found
    assert sim.requests[-1].query.get("search") == name


async def test_plans_all_pages_and_mapping(sim: GotSmsSimulator, gs: GotSmsClient, token: str) -> None:
    plans = await gs.plans()
    assert len(plans) == len(sim.plans) > 100  # more than one page of 100
    assert calls(sim, token, "GET", "/api/rents/plans") >= 2
    assert [q.query.get("page") for q in sim.requests if q.path == "/api/rents/plans"][:2] == ["1", "2"]
    served = {str(p["id"]): p for p in sim.plans}
    for plan in plans:
        raw = served[plan.id]
        assert plan.service_name == service_name(raw) and plan.service_id
        assert plan.price == Decimal(str(raw["price"])) and plan.renew_price == Decimal(str(raw["renew_price"]))
        assert plan.billing_type == raw["billing_type"] and plan.country
    day = next(p for p in plans if p.duration_type == "day" and p.billing_type == "duration")
    assert day.duration_minutes == 1440 * day.duration_in_type and not day.monthly and day.duration_label
    assert any(p.monthly and p.duration_type == "month" for p in plans)
    assert any(p.billing_type == "sms" for p in plans)


async def test_plans_filters_are_sent(sim: GotSmsSimulator, gs: GotSmsClient) -> None:
    service_id = (await gs.plans())[0].service_id
    mine = await gs.plans(service_id=service_id, billing_type="duration", duration_type="month")
    assert mine and all(p.service_id == service_id and p.duration_type == "month" for p in mine)
    assert sim.requests[-1].query == {
        "service_id": service_id, "billing_type": "duration", "duration_type": "month",
        "per_page": "100", "page": "1",
    }
    assert all(p.billing_type == "sms" for p in await gs.plans(billing_type="sms"))


async def test_sections_and_offers_one_per_service(gs: GotSmsClient) -> None:
    assert await gs.list_sections() == [Section("duration", "Rental plans"), Section("sms", "SMS-billed plans")]
    plans = await gs.plans()
    for section in ("duration", "sms"):
        offers = await gs.list_offers(section)
        kinds = [p for p in plans if p.billing_type == section]
        assert {o.service_id for o in offers} == {p.service_id for p in kinds}
        for offer in offers:
            cheapest = min(p.price for p in kinds if p.service_id == offer.service_id)
            assert offer.price == cheapest and offer.section == section
            assert offer.stock is None and offer.duration_minutes is None and offer.name
    await raises(InvalidRequest, gs.list_offers("nope"))
