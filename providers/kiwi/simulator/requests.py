"""Validation of kiwiSMS simulator requests: the `RentRequest` body, and action answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse, Response

from providers.kiwi.simulator.catalog import COUNTRIES, DEFAULT_COUNTRY
from providers.kiwi.simulator.http import KiwiContext, error
from providers.kiwi.simulator.models import SimRental
from providers.simulation.requests import finite_decimal

_CARRIERS = frozenset({"tmo", "vz", "att"})


def action_answer(rental: SimRental) -> JSONResponse:
    return JSONResponse({"success": True, "rentalId": rental.id, "status": rental.status})


def parse_rent_request(
    ctx: KiwiContext,
) -> tuple[str, str, Decimal | None, str | None] | Response:
    """Validate a RentRequest: (service, country, max_price, US area code) or a 400 response."""
    body = ctx.json
    if not ctx.json_ok or not isinstance(body, dict):
        return error(400, "Invalid JSON body", "INVALID_REQUEST")
    service = body.get("service")
    if not isinstance(service, str) or not service.strip():
        return error(400, "service is required", "INVALID_REQUEST")
    raw_country = body.get("country", body.get("country_code", DEFAULT_COUNTRY))
    country = str(raw_country)
    if isinstance(raw_country, bool) or country not in COUNTRIES:
        return error(400, "Unsupported country code", "INVALID_REQUEST")
    carrier = body.get("carrier")
    if carrier is not None and carrier not in _CARRIERS:
        return error(400, "carrier must be one of tmo, vz, att", "INVALID_REQUEST")
    try:
        max_price = finite_decimal(body.get("max_price"))
    except ValueError:
        return error(400, "max_price must be a number", "INVALID_REQUEST")
    return service.strip(), country, max_price, _first_area(body.get("areas"), country)


def _first_area(areas: Any, country: str) -> str | None:
    """Honour `areas` for US numbers: the first valid 3-digit area code."""
    if country != "187" or not isinstance(areas, str):
        return None
    for part in areas.split(","):
        part = part.strip()
        if len(part) == 3 and part.isdigit() and part[0] not in "01":
            return part
    return None
