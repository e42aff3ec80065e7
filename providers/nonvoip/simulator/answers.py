"""The simulator's answers in the provider's shapes (orders, decisions, refusals)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.responses import JSONResponse, Response

from providers.nonvoip.simulator.fields import now
from providers.nonvoip.simulator.http import fail
from providers.nonvoip.simulator.models import CENT, SimOrder, money, stamp, wire_id

# Messages clients match on; docs/nonvoip.md lists them.
WRONG_AUTH = "Wrong Auth"
NO_BALANCE = "Insufficient balance."
OUT_OF_STOCK = "This product is out of stock."
NOT_FOUND = "Order not found"
NO_SMS = "No SMS received yet"
EXPIRED = "Order expired"
REJECTED = "Order rejected"


def final_problem(order: SimOrder) -> Response | None:
    if order.status == "Expired":
        return fail(EXPIRED)
    if order.status == "Rejected":
        return fail(REJECTED)
    return None


def order_json(order: SimOrder) -> dict[str, Any]:
    """The order answer item: short-term has `expiration` seconds, long-term `expires`, country both+cost."""
    moment = now()
    body: dict[str, Any] = {"order_id": wire_id(order.order_id), "status": order.status,
                            "number": order.number, "service": order.service}
    if order.type == "country":
        body.update(country=order.country, expiration=order.seconds_left(moment),
                    expires_at=stamp(order.expires_at), cost=money(order.price))
    elif order.long:
        body.update(type=order.type, expires=stamp(order.expires_at))
    else:
        body.update(expiration=order.seconds_left(moment), type=order.type)
    return body


def info(item: dict[str, Any]) -> JSONResponse:
    """A decision state (status: info), not a failure."""
    return JSONResponse({"status": "info", "message": [item]})


def price_change_info(listed: Decimal, available: Decimal) -> JSONResponse:
    allowed = (listed * Decimal("1.3")).quantize(CENT, rounding=ROUND_HALF_UP)  # the 30% tolerance
    return info({"info": "Price_Change_Required", "quoted_price": float(listed),
                 "allowed_price": float(allowed), "available_price": float(available)})

