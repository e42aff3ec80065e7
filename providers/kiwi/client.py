"""kiwiSMS client (`../shared/provider-docs/kiwisms.openapi.json`).

Purchases (rent, renew) carry an `Idempotency-Key` and go through the shared retry policy
with it, so an ambiguous failure is retried with the SAME key and body and the provider
replays the first outcome instead of charging again. Replaying is also how a purchase of
unknown outcome is reconciled: `place_order` with the same request and key (24 h) answers
the rental it bought, without buying again. Everything else cannot charge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from providers.base import ProviderClient
from providers.errors import InvalidRequest, NotAllowedNow, ProviderUnavailable, UnexpectedResponse
from providers.http import RetryPolicy, send_with_retry
from providers.kiwi import schema
from providers.kiwi.capabilities import CAPABILITIES
from providers.kiwi.errors import UNCONFIRMED_PURCHASE, Context, raise_for_status
from providers.models import (
    Balance,
    Capabilities,
    Offer,
    OrderRequest,
    OrderStatus,
    PlacedOrder,
    ProviderId,
    RemoteOrder,
    Section,
)
from providers.wording import N_

logger = logging.getLogger(__name__)

PROVIDER = schema.PROVIDER

KIWI_COUNTRIES: tuple[Section, ...] = (
    Section("187", N_("USA")),
    Section("16", N_("UK")),
    Section("36", N_("Canada")),
    Section("43", N_("Germany")),
    Section("78", N_("France")),
    Section("48", N_("Netherlands")),
)

_RENTALS = "/api/v1/rentals"


class KiwiClient(ProviderClient):
    """One kiwiSMS account (API key) on the shared AsyncClient.

    Abilities: OrderListing, Cancellable, Finishable, Renewable.
    """

    provider = ProviderId.KIWI
    capabilities: ClassVar[Capabilities] = CAPABILITIES

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        api_key: str,
        *,
        retry_delay: float = 0.5,
        purchase_timeout: float | None = None,
        max_attempts: int = 3,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._purchase_timeout = purchase_timeout
        self._policy = RetryPolicy.for_client(retry_delay, max_attempts)

    def __repr__(self) -> str:  # never the key: reprs end up in logs
        return f"KiwiClient(base_url={self._base_url!r})"

    # ------------------------------------------------------------------ account/catalogue

    async def get_balance(self) -> Balance:
        answer = schema.decode(await self._get("/api/v1/balance"), schema.BalanceBody, what="balance")
        return Balance(answer.balance, currency=answer.currency or "USD")

    async def list_sections(self) -> list[Section]:
        # Static: the API has no country list endpoint; the six codes are its enum.
        return list(KIWI_COUNTRIES)

    async def list_offers(self, section: str) -> list[Offer]:
        body = await self._get("/api/v1/services", params={"country": section})
        return [schema.offer(item, section) for item in schema.services(body)]

    async def public_pricing(self) -> list[Offer]:
        """The public (no auth) USA price list of the landing page."""
        body = await self._get("/api/public/pricing", auth=False)
        return [schema.public_offer(item) for item in schema.public_pricing(body)]

    # ------------------------------------------------------------------ orders

    async def place_order(self, request: OrderRequest) -> PlacedOrder:
        """Rent `request.service_ids[0]` in country `request.section`, never above `max_price`."""
        if not request.idempotency_key:
            raise InvalidRequest(N_("A kiwiSMS purchase needs an idempotency key."), provider=PROVIDER)
        if len(request.service_ids) != 1:
            raise InvalidRequest(N_("kiwiSMS rents one service per number."), provider=PROVIDER)
        order = await self.rent(
            request.service_ids[0], request.section,
            idempotency_key=request.idempotency_key, max_price=request.max_price,
        )
        return PlacedOrder((order,))

    async def rent(
        self,
        service: str,
        country: str,
        *,
        idempotency_key: str,
        max_price: Decimal | None = None,
        areas: str | None = None,
        carrier: str | None = None,
    ) -> RemoteOrder:
        """POST /api/v1/rentals with every documented option (`areas`: "212,646"; `carrier`: tmo/vz/att)."""
        body: dict[str, str] = {"service": service, "country": country}
        if max_price is not None:
            body["max_price"] = str(max_price)  # a string keeps the Decimal exact
        if areas is not None:
            body["areas"] = areas
        if carrier is not None:
            body["carrier"] = carrier
        return await self._purchase(_RENTALS, body, idempotency_key, "rent")

    async def get_order(self, order_id: str) -> RemoteOrder:
        return schema.order(schema.rental(await self._get(_rental_path(order_id), context="rental")))

    async def active_orders(self) -> list[RemoteOrder]:
        # sync left at its default (1): the poller wants codes fetched from upstream.
        body = await self._get(_RENTALS, context="rental")
        return [schema.order(rental) for rental in schema.rentals(body)]

    async def recent_orders(self, since: datetime) -> list[RemoteOrder]:
        """Live rentals created at or after `since`.

        The API lists live rentals only (no status filter, no paging): a rental that already
        ended is not here. To find what a purchase of unknown outcome bought, live or not,
        replay it: `place_order` with the same request and idempotency key.
        """
        return [o for o in await self.active_orders() if o.created_at is None or o.created_at >= since]

    async def cancel(self, order_id: str) -> RemoteOrder:
        try:
            await self._post_action(order_id, "cancel")
        except NotAllowedNow:
            # A retried cancel whose first attempt succeeded is refused ("only WAITING");
            # if the order is in fact cancelled, the user got what they asked for.
            order = await self.get_order(order_id)
            if order.status is OrderStatus.CANCELLED:
                return order
            raise
        return await self.get_order(order_id)

    async def done(self, order_id: str) -> RemoteOrder:
        await self._post_action(order_id, "done")
        return await self.get_order(order_id)

    async def renew(self, order_id: str, *, idempotency_key: str, duration: str | None = None) -> RemoteOrder:
        """A new ~20 minute session on the same number; `duration` is ignored (nothing to choose)."""
        return await self._purchase(f"{_rental_path(order_id)}/renew", None, idempotency_key, "rental")

    # ------------------------------------------------------------------ transport

    def _headers(self, auth: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if auth:
            headers["X-API-Key"] = self._api_key
        return headers

    async def _get(
        self, path: str, *, params: Mapping[str, str] | None = None, auth: bool = True,
        context: Context = "other",
    ) -> bytes:
        response = await send_with_retry(
            self._http, "GET", self._base_url + path, provider=PROVIDER,
            policy=self._policy, headers=self._headers(auth), params=params,
        )
        raise_for_status(response, context, secret=self._api_key)
        return response.content

    async def _post_action(self, order_id: str, action: str) -> None:
        # cancel/done cannot charge: cancel only refunds, done releases the number.
        response = await send_with_retry(
            self._http, "POST", f"{self._base_url}{_rental_path(order_id)}/{action}",
            provider=PROVIDER, policy=self._policy, headers=self._headers(),
        )
        raise_for_status(response, "rental", secret=self._api_key)

    async def _purchase(
        self, path: str, body: dict[str, Any] | None, idempotency_key: str, context: Context
    ) -> RemoteOrder:
        """POST a purchase with its key; the shared policy retries it with the same key and body.

        A 409 means the first attempt with this key is still being processed: the policy waits
        and replays it. Raises `ProviderUnavailable(may_have_charged=True)` while the outcome is
        unknown (5xx or 409 to the end, or a 2xx answer that cannot be read).
        """
        response = await send_with_retry(
            self._http, "POST", self._base_url + path, provider=PROVIDER, policy=self._policy,
            headers=self._headers(), json=body, timeout=self._purchase_timeout,
            may_charge=True, idempotency_key=idempotency_key,
        )
        if response.status_code == 409 or response.status_code >= 500:
            logger.warning("%s purchase unconfirmed: %s", PROVIDER, response.status_code)
            raise ProviderUnavailable(UNCONFIRMED_PURCHASE, provider=PROVIDER, may_have_charged=True)
        raise_for_status(response, context, secret=self._api_key)
        try:
            return schema.order(schema.rental(response.content))
        except UnexpectedResponse:
            # A 2xx means the provider bought something: an unreadable answer is "may have charged".
            raise ProviderUnavailable(
                N_("The provider confirmed the purchase in an unreadable answer; check /orders."),
                provider=PROVIDER, may_have_charged=True,
            ) from None


def _rental_path(order_id: str) -> str:
    # Quote the id: it comes back from callback data and must stay one path segment.
    return f"{_RENTALS}/" + quote(str(order_id), safe="")
