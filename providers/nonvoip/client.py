"""NonVoipUsNumber client (`../shared/provider-docs/nonvoipusnumber.openapi.json`).

Every call is `POST {base}/api/...` with `email` and `password` in the JSON body (never in a URL or
header, and never logged). Answers are `{"status": "success"|"info"|"error", ...}`; the wire format
is in schema.py, its mapping to the domain model in orders.py, errors in errors.py, and the
transport (one retry policy; purchases sent once: no idempotency keys here) in api.py.

The client remembers nothing between calls: the bot stores each order's section (its row of
`capabilities.actions`) and price.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import httpx
import msgspec

from providers.base import ProviderClient
from providers.errors import InvalidRequest
from providers.http import RetryPolicy
from providers.models import (
    ActivationWindow,
    Balance,
    Capabilities,
    Offer,
    OrderOutcome,
    OrderRequest,
    OrderStatus,
    PremiumBidDecision,
    PriceChangeDecision,
    ProviderId,
    RemoteOrder,
    Section,
)
from providers.nonvoip import orders
from providers.nonvoip.api import NonVoipApi
from providers.nonvoip.capabilities import (
    BUNDLE_LIMIT,
    CAPABILITIES,
    COUNTRY,
    LONG_TERM,
    SECTION_OF_TYPE,
    SECTIONS,
    THREE_DAYS,
)
from providers.nonvoip.errors import (
    ACCOUNT_ERRORS,
    PROVIDER,
    error_class,
    error_for,
    final_status,
    unexpected,
    user_message,
)
from providers.nonvoip.schema import BalanceAnswer, Product
from providers.parsing import convert, decode_items
from providers.wording import N_

logger = logging.getLogger(__name__)

_CENT = Decimal("0.01")


class NonVoipClient(ProviderClient):
    """One NonVoipUsNumber account (email + password) on the shared AsyncClient.

    Abilities: Rejectable, Cancellable (= reject), Reusable, Activatable, Renewable,
    CallbackRegistering, DecisionAccepting. No OrderListing: the API has no order list."""

    provider: ClassVar[ProviderId] = ProviderId.NONVOIP
    capabilities: ClassVar[Capabilities] = CAPABILITIES

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        email: str,
        password: str,
        *,
        retry_delay: float = 0.5,
        max_attempts: int = 3,
    ) -> None:
        policy = RetryPolicy.for_client(retry_delay, max_attempts)
        self._api = NonVoipApi(http, base_url, email, password, policy)
        self._secret = password

    def __repr__(self) -> str:  # never the password (nor the email): reprs end up in logs
        return f"NonVoipClient(base_url={self._api.base_url!r})"

    __str__ = __repr__

    # ------------------------------------------------------------------ account / catalogue

    async def get_balance(self) -> Balance:
        answer = await self._api.read("/api/balance")
        try:
            return Balance(convert(answer.fields, BalanceAnswer).balance)
        except (msgspec.ValidationError, ValueError, TypeError):
            raise unexpected("balance") from None

    async def products(
        self, *, type: str | None = None, grouped: bool = False, product_id: str | None = None
    ) -> list[Offer]:
        """/api/products with its filters (`type`: short_term, long_term, one_day, 3days)."""
        body: dict[str, Any] = {}
        if type is not None:
            body["type"] = type
        if grouped:
            body["grouped"] = True
        if product_id is not None:
            body["product_id"] = orders.wire_id(product_id)
        message = (await self._api.read("/api/products", body)).envelope.message
        if isinstance(message, dict):  # grouped: {"10-minutes": [...], ...}
            return [offer for section, items in message.items() for offer in self._offers(items, section)]
        products = self._products(message, "products")
        default = SECTION_OF_TYPE.get(type or "", "")
        return [orders.offer(p, p.category or default) for p in products]

    async def list_sections(self) -> list[Section]:
        grouped = await self._grouped()
        sections = [Section(s, s) for s in SECTIONS if s != THREE_DAYS]
        if grouped.get(THREE_DAYS):  # a legacy category: shown only when offered
            sections.append(Section(THREE_DAYS, THREE_DAYS))
        sections.append(Section(COUNTRY, "Country"))
        return sections

    async def list_offers(self, section: str) -> list[Offer]:
        if section == COUNTRY:
            message = (await self._api.read("/api/country/products")).envelope.message
            return [orders.offer(p, COUNTRY) for p in self._products(message, "country products")]
        if section not in SECTIONS:
            raise InvalidRequest(f"Unknown section {section[:40]!r}.", provider=PROVIDER)
        return self._offers((await self._grouped()).get(section, []), section)

    async def _grouped(self) -> dict[str, Any]:
        message = (await self._api.read("/api/products", {"grouped": True})).envelope.message
        if not isinstance(message, dict):
            raise unexpected("grouped products")
        return message

    def _offers(self, items: object, section: str) -> list[Offer]:
        return [orders.offer(p, section) for p in self._products(items, section)]

    @staticmethod
    def _products(items: object, what: str) -> list[Product]:
        if not isinstance(items, list):
            raise unexpected(what)
        return decode_items(items, Product, provider=PROVIDER, what=what)

    # ------------------------------------------------------------------ ordering

    async def place_order(self, request: OrderRequest) -> OrderOutcome:
        # No idempotency on this API (the key is unused). max_price is NOT sent as
        # accepted_max_price: a higher price is accepted only by the user's explicit tap.
        return await self._order(request, price=request.max_price)

    async def accept_decision(
        self, request: OrderRequest, decision: PriceChangeDecision | PremiumBidDecision
    ) -> OrderOutcome:
        """The user tapped Accept $x / Bid +n%: order once more, on exactly those terms."""
        if isinstance(decision, PriceChangeDecision):
            # The debit is the route price used, at most the accepted cap: the cap is the best we know.
            return await self._order(request, price=decision.available_price,
                                     accepted_max_price=decision.available_price)
        bid = decision.recommended_bid
        price = None
        if request.max_price is not None:  # the bid is a percentage on top of the price
            price = (request.max_price * (100 + bid) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
        return await self._order(request, price=price, auction=bid)

    async def _order(
        self, request: OrderRequest, *, price: Decimal | None,
        accepted_max_price: Decimal | None = None, auction: int | None = None,
    ) -> OrderOutcome:
        body = _order_body(request, accepted_max_price, auction)
        path = "/api/country/order" if request.section == COUNTRY else "/api/order"
        answer = await self._api.buy(path, body)
        if answer.envelope.status == "info":
            return orders.decision(answer.envelope.message)
        placed = orders.placed(answer.envelope.message, price=price, now=orders.utc_now())
        logger.info("nonvoip order %s placed (%s, %d order(s))", placed.first.order_id, request.section,
                    len(placed.orders))
        return placed

    # ------------------------------------------------------------------ orders

    async def get_order(self, order_id: str) -> RemoteOrder:
        """getsms: the latest SMS (RECEIVED), "no SMS yet" (WAITING), or the order's end."""
        path = "/api/getsms"
        reply = await self._api.poll(path, {"order_id": order_id})
        if reply.answer is None:  # poll() raises on these; kept for the type checker
            raise unexpected("getsms answer")
        status = reply.answer.envelope.status
        if status == "success" and reply.ok:
            return orders.sms_order(order_id, reply.answer.fields)
        message = user_message(reply.envelope, self._secret) or ""
        if status == "error" and message and error_class(message) not in ACCOUNT_ERRORS:
            final = final_status(message)
            if final is not None:
                # A rejected order is refunded. An expired one is refunded only without an SMS,
                # which the bot knows from its stored codes (capabilities.refunds_unused_expiry).
                return orders.bare_order(order_id, final,
                                         refunded=True if final is OrderStatus.CANCELLED else None)
            if reply.response.status_code in (200, 404):  # "No SMS received yet" (404 on country orders)
                return orders.bare_order(order_id, OrderStatus.WAITING)
        raise error_for(reply.response, reply.envelope, path, self._secret)

    async def reject(self, order_id: str) -> RemoteOrder:
        message = (await self._api.act("/api/reject", {"order_id": order_id})).envelope.message
        phone = orders.phone_in(message) if isinstance(message, str) else ""
        return orders.bare_order(order_id, OrderStatus.CANCELLED, refunded=True, phone=phone)

    async def cancel(self, order_id: str) -> RemoteOrder:
        """NonVoipUsNumber's cancel is reject (refunded, before a code)."""
        return await self.reject(order_id)

    async def reuse(self, order_id: str) -> RemoteOrder:
        answer = await self._api.buy("/api/reuse", {"order_id": order_id})
        if answer.envelope.status != "success":
            raise unexpected("reuse answer")
        # The answer has no cost: the price is the caller's to know (the listed price, charged again).
        reused = orders.placed(answer.envelope.message, price=None, now=orders.utc_now(), order_id=order_id)
        logger.info("nonvoip order %s reused as %s", order_id, reused.first.order_id)
        return reused.first

    async def activate(self, order_id: str) -> ActivationWindow:
        answer = await self._api.act("/api/activate", {"order_id": order_id})
        return orders.activation(answer.envelope.message)

    async def renew(self, order_id: str, *, idempotency_key: str, duration: str | None = None) -> RemoteOrder:
        """Sent once (no idempotency on this API; the key is unused). `duration`: "1d", "3d", "30d"."""
        body: dict[str, Any] = {"order_id": order_id}
        if duration is not None:
            body["duration"] = duration
        answer = await self._api.buy("/api/renew", body)
        if answer.envelope.status != "success":
            raise unexpected("renew answer")
        return orders.renewed(order_id, answer.fields, orders.utc_now())

    async def save_url(self, url: str, user_id: int | None = None) -> None:
        body: dict[str, Any] = {"url": url}
        if user_id is not None:
            body["userId"] = user_id
        await self._api.read("/api/saveurl", body)  # overwrites the saved URL: safe to retry


def _order_body(request: OrderRequest, accepted_max_price: Decimal | None, auction: int | None) -> dict[str, Any]:
    """Validated before sending: a refused bundle must cost nothing."""
    ids = list(request.service_ids)
    if not ids or any(not p for p in ids):
        raise InvalidRequest(N_("No product to order."), provider=PROVIDER)
    if len(ids) > 1 and request.section != LONG_TERM:
        raise InvalidRequest(N_("Only 30-days numbers can hold several services."), provider=PROVIDER)
    if len(ids) > BUNDLE_LIMIT:
        raise InvalidRequest(f"At most {BUNDLE_LIMIT} services per number.", provider=PROVIDER)
    body: dict[str, Any] = {}
    if len(ids) == 1:
        body["product_id"] = orders.wire_id(ids[0])
    else:
        body["product_ids"] = [orders.wire_id(p) for p in ids]
    if accepted_max_price is not None:
        body["accepted_max_price"] = float(accepted_max_price)  # documented as a JSON number
    if auction is not None:
        body["auction"] = int(auction)
    return body
