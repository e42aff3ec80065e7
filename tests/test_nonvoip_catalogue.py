"""NonVoipClient against the simulator: balance, sections and offers."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from providers.errors import InvalidRequest
from providers.models import Offer
from providers.nonvoip.client import NonVoipClient
from providers.nonvoip.simulator.sim import NonVoipSimulator
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.nonvoip import (
    catalogue, email, _no_secret_in_logs, nv, password, raises, sent, shared_sim, sim, START,
)

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_balance_sends_credentials_only_in_the_json_body(
    sim: NonVoipSimulator, email: str, password: str
) -> None:
    seen: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as spy:
        nv = NonVoipClient(spy, sim.base_url, email, password, retry_delay=0.01)
        balance = await nv.get_balance()
    assert balance.amount == START and balance.currency == "USD"
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/manager/api/balance"
    assert password not in str(request.url) and all(password not in v for v in request.headers.values())
    assert request.headers["content-type"] == "application/json"
    assert f'"password":"{password}"'.replace(" ", "") in request.content.decode().replace(" ", "")
    assert sent(sim, email, "/api/balance")[0].json == {"email": email, "password": "***"}


async def test_sections_from_one_grouped_call(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    sections = await nv.list_sections()
    assert [(s.id, s.title) for s in sections] == [
        ("10-minutes", "10-minutes"), ("1-day", "1-day"), ("30-days", "30-days"),
        ("3-days", "3-days"), ("country", "Country"),
    ]
    (request,) = sent(sim, email, "/api/products")
    assert request.json["grouped"] is True


async def test_offers_per_section(
    sim: NonVoipSimulator, nv: NonVoipClient, email: str, catalogue: list[Offer]
) -> None:
    durations = {"10-minutes": 10, "1-day": 1440, "30-days": 43200, "3-days": 4320}
    for section, minutes in durations.items():
        offers = await nv.list_offers(section)
        assert offers and all(o.section == section and o.duration_minutes == minutes for o in offers)
        assert all(isinstance(o.price, Decimal) and o.price > 0 and o.service_id.isdigit() for o in offers)
    assert len(await nv.list_offers("10-minutes")) >= 30
    target = (await nv.list_offers("10-minutes"))[0]
    catalogue.append(target)
    sim.set_price(target.service_id, Decimal("0.77"))
    sim.set_stock(target.service_id, 3)
    again = {o.service_id: o for o in await nv.list_offers("10-minutes")}[target.service_id]
    assert (again.price, again.stock, again.name) == (Decimal("0.77"), 3, target.name)
    country = await nv.list_offers("country")
    assert len(country) >= 10 and all(o.section == "country" and o.duration_minutes is None for o in country)
    assert any(o.name == "Telegram (United States)" and o.service_id == "501" for o in country)
    assert sent(sim, email, "/api/country/products")
    await raises(InvalidRequest, nv.list_offers("5-years"))


async def test_products_filters(sim: NonVoipSimulator, nv: NonVoipClient, email: str) -> None:
    short = await nv.products(type="short_term")
    assert short and all(o.section == "10-minutes" for o in short)
    assert sent(sim, email, "/api/products")[-1].json["type"] == "short_term"
    (one,) = await nv.products(product_id="9044")
    assert one.service_id == "9044" and one.section == "30-days"
    assert sent(sim, email, "/api/products")[-1].json["product_id"] == 9044
    grouped = await nv.products(grouped=True)
    assert {o.section for o in grouped} >= {"10-minutes", "1-day", "30-days"}


async def test_liberal_prices_and_ids(sim: NonVoipSimulator, nv: NonVoipClient) -> None:
    sim.fail_next("/api/products", 200, {"status": "success", "message": {"10-minutes": [
        {"product_id": "77", "name": "Odd", "price": 0.5, "available": "4"},
        {"product_id": 78, "name": "Even", "price": "1.10", "available": 0}]}})
    odd, even = await nv.list_offers("10-minutes")
    assert (odd.service_id, odd.price, odd.stock) == ("77", Decimal("0.5"), 4)
    assert (even.service_id, even.price, even.stock) == ("78", Decimal("1.10"), 0)
    sim.fail_next("/api/balance", 200, {"status": "success", "balance": 12.5})
    assert (await nv.get_balance()).amount == Decimal("12.5")
