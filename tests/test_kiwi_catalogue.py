"""KiwiClient against the simulator: balance, countries, offers and public pricing."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from providers.errors import InvalidRequest
from providers.kiwi.client import KIWI_COUNTRIES, KiwiClient
from providers.kiwi.simulator.sim import KiwiSimulator
# Fixtures are imported by name: pytest finds them in this module's namespace.
from tests.clients.common import http
from tests.clients.kiwi import key, kiwi, _no_secret_in_logs, raises, shared_sim, sim

# The module's loopback servers and its tests share one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_balance_and_auth_header(sim: KiwiSimulator, kiwi: KiwiClient, key: str) -> None:
    balance = await kiwi.get_balance()
    assert balance.amount == Decimal("50.00") and balance.currency == "USD"
    request = sim.requests[-1]
    assert request.headers["x-api-key"] == key and request.api_key == key


async def test_sections_are_the_six_countries(kiwi: KiwiClient) -> None:
    sections = await kiwi.list_sections()
    assert [(s.id, s.title) for s in sections] == [
        ("187", "USA"), ("16", "UK"), ("36", "Canada"),
        ("43", "Germany"), ("78", "France"), ("48", "Netherlands"),
    ]
    assert sections == list(KIWI_COUNTRIES)


async def test_list_offers_maps_price_stock_and_country(sim: KiwiSimulator, kiwi: KiwiClient) -> None:
    offers = await kiwi.list_offers("187")
    assert len(offers) == 40
    target = offers[0]
    sim.set_price("187", target.service_id, Decimal("0.77"))
    sim.set_stock("187", target.service_id, 3)
    again = {o.service_id: o for o in await kiwi.list_offers("187")}[target.service_id]
    assert again.price == Decimal("0.77") and again.stock == 3
    assert again.section == "187" and again.duration_minutes == 20
    assert isinstance(again.multi_sms, bool) and again.name
    assert sim.requests[-1].query.get("country") == "187"
    for section in KIWI_COUNTRIES[1:]:
        offers = await kiwi.list_offers(section.id)
        assert 12 <= len(offers) <= 20 and all(o.section == section.id for o in offers)


async def test_unsupported_country_is_invalid_request(kiwi: KiwiClient) -> None:
    await raises(InvalidRequest, kiwi.list_offers("999"))


async def test_public_pricing_needs_no_key(sim: KiwiSimulator, http: httpx.AsyncClient, key: str) -> None:
    anonymous = KiwiClient(http, sim.base_url, "no-such-key", retry_delay=0.01)
    offers = await anonymous.public_pricing()
    assert len(offers) == 10
    assert all(o.section == "187" and o.stock is None and o.price > 0 for o in offers)
    assert "x-api-key" not in sim.requests[-1].headers
