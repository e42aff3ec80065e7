"""GotSMS rents: buying, listing, and what a live rent can do (RentManaging, Cancellable).

Every POST here is sent once: GotSMS has no idempotency keys, so a retried purchase or
transition could charge twice and a retried toggle would flip auto-renewal back. An ambiguous
purchase raises `ProviderUnavailable(may_have_charged=True)`; the bot reconciles with
`recent_orders`.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

import httpx

from providers.errors import InvalidRequest, OrderNotFound, ProviderError, UnexpectedResponse, clip
from providers.models import NumberStatus, OrderRequest, OrderStatus, PlacedOrder, Plan, RemoteOrder
from providers.gotsms.api import GotSmsApi, number_path, params, rent_path
from providers.gotsms.domain import Rent, one_rent, rents_from
from providers.gotsms.errors import may_have_acted, refusal
from providers.gotsms.schema import PROVIDER, NumberStatusWire, ToggleWire, data_of, envelope_of, read
from providers.wording import N_

logger = logging.getLogger(__name__)

RENTS = "/api/rents"
_UNCONFIRMED_PURCHASE = N_("The provider did not confirm the purchase; check /orders before buying again.")
_UNREADABLE_PURCHASE = N_("The provider confirmed the rent in an unreadable answer; check /orders.")


class RentOperations:
    """Rent endpoints of `GotSmsClient` (kept apart to keep each module small)."""

    _api: GotSmsApi
    page_size: int

    # ------------------------------------------------------------------ buying

    async def place_order(self, request: OrderRequest) -> PlacedOrder:
        """Buy the request's plan (GotSMS sells plans, not services). Sent once."""
        if not request.plan_id:
            raise InvalidRequest(N_("Choose a plan first."), provider=PROVIDER)
        # The API has no price cap and no idempotency key: `max_price` and the key cannot be sent.
        return PlacedOrder((await self.create_rent(request.plan_id),))

    async def create_rent(self, plan_id: str, area_code: str | None = None) -> RemoteOrder:
        """POST /api/rents. Sent ONCE: no idempotency key exists, so a retry could charge twice."""
        body: dict[str, Any] = {"plan_id": str(plan_id)}
        if area_code:
            body["area_code"] = str(area_code)
        response = await self._api.post_once(RENTS, body, may_charge=True)
        if response.status_code >= 500 or response.status_code == 408:
            logger.warning("gotsms create_rent -> %s: outcome unknown", response.status_code)
            raise may_have_acted(_UNCONFIRMED_PURCHASE)
        if not 200 <= response.status_code < 300:
            self._api.checked(response, "purchase")  # raises the refusal
        order = self._created(response)
        logger.info("gotsms rent %s created", order.order_id)
        return order

    def _created(self, response: httpx.Response) -> RemoteOrder:
        """The rent of a 2xx purchase answer: unreadable means bought-but-unknown, not a plain error."""
        try:
            envelope = envelope_of(response.content)
            if envelope.success is False:  # an explicit refusal: nothing was bought
                raise refusal(self._api.message(envelope), "purchase", 422)
            return one_rent(data_of(envelope)).order
        except UnexpectedResponse:
            raise may_have_acted(_UNREADABLE_PURCHASE) from None

    # ------------------------------------------------------------------ listing (OrderListing)

    async def list_rents(
        self, status: str | None = None, service: str | None = None, phone: str | None = None
    ) -> list[Rent]:
        """Every rent of the account (all pages); `service` searches names, `phone` digits."""
        query = params(status=status, service=service, phone=phone)
        return rents_from(await self._api.get_all(RENTS, query, self.page_size))

    async def get_rent(self, rent_id: str) -> Rent:
        """One rent. No single-rent endpoint returns the phone and price: search the list."""
        rent_id = str(rent_id)
        async for batch in self._api.pages(RENTS, {}, self.page_size):
            for rent in rents_from(batch):
                if rent.order.order_id == rent_id:
                    return rent
        raise OrderNotFound(provider=PROVIDER)

    async def get_order(self, order_id: str) -> RemoteOrder:
        return (await self.get_rent(order_id)).order

    async def active_orders(self) -> list[RemoteOrder]:
        return [rent.order for rent in await self.list_rents(status="active")]

    async def recent_orders(self, since: datetime) -> list[RemoteOrder]:
        """Rents that started at or after `since`, any status (the list is newest first: paging
        stops at the first page with no rent that recent)."""
        found: list[RemoteOrder] = []
        async for batch in self._api.pages(RENTS, {}, self.page_size):
            orders = [rent.order for rent in rents_from(batch)]
            recent = [o for o in orders if o.created_at is not None and o.created_at >= since]
            found.extend(recent)
            if orders and not recent:
                break
        return found

    # ------------------------------------------------------------------ RentManaging

    async def extension_plans(self, order_id: str) -> list[Plan]:
        """The rent's transition options: longer plans it can move to (daily -> monthly)."""
        return (await self.get_rent(order_id)).transition_options

    async def transition(self, order_id: str, plan_id: str) -> RemoteOrder:
        """Move a daily rent to a longer (monthly) plan. Charges, so it is sent once.

        Returns the rent after the move: `plan` = the new plan in words, `price` = its price."""
        before = await self.get_rent(order_id)  # an unknown rent fails here, before any charge
        target = next((p for p in before.transition_options if p.id == str(plan_id)), None)
        response = await self._api.post_once(
            rent_path(order_id, "transition"), {"plan_id": str(plan_id)}, may_charge=True
        )
        if response.status_code >= 500:
            raise may_have_acted(_UNCONFIRMED_PURCHASE)
        self._api.checked(response, "rent")
        logger.info("gotsms rent %s moved to another plan", before.order.order_id)
        try:
            after = await self.get_rent(order_id)
        except ProviderError:
            if target is None:
                raise
            # Moved and paid; only the re-read failed: the old term until the next refresh.
            return dataclasses.replace(before.order, plan=target.duration_label, price=target.price)
        plan = after.plan or target
        if plan is None:
            return after.order
        return dataclasses.replace(after.order, plan=plan.duration_label, price=plan.price)

    async def toggle_auto_renewal(self, order_id: str) -> bool:
        """Flip auto-renewal (monthly plans only); the new state. Not retried: a repeated
        toggle would flip it back."""
        response = await self._api.post_once(rent_path(order_id, "renewal/toggle"))
        envelope = self._api.checked(response, "rent")
        return read(data_of(envelope), ToggleWire, "toggle").is_included_for_next_renewal

    async def refund(self, order_id: str) -> RemoteOrder:
        """Ask for a refund; the provider decides and says why not (NotAllowedNow)."""
        # Read first: the refund answer holds only id/status, and an unknown rent fails cleanly.
        order = await self.get_order(order_id)
        response = await self._api.post_once(rent_path(order_id, "refund"))
        self._api.checked(response, "rent")
        logger.info("gotsms rent %s refunded", order.order_id)
        # The answer says only "finished"; its 2xx is the one proof of the refund there is.
        return dataclasses.replace(order, status=OrderStatus.CANCELLED, refunded=True)

    async def cancel(self, order_id: str) -> RemoteOrder:
        """Cancellable: a GotSMS rent is cancelled by refunding it."""
        return await self.refund(order_id)

    async def wake_up(self, order_id: str) -> str:
        """Ask the provider to bring the number online; its message. Sent once."""
        response = await self._api.post_once(number_path(order_id, "wake-up"))
        envelope = self._api.checked(response, "rent")
        return clip(self._api.message(envelope) or N_("Wake up request sent."))

    async def number_status(self, order_id: str) -> NumberStatus:
        envelope = await self._api.get(number_path(order_id, "status"), context="rent")
        wire = read(data_of(envelope), NumberStatusWire, "number status")
        return NumberStatus(
            rent_id=str(wire.rent_id or order_id),
            status=str(wire.status),
            active_till=wire.active_till,
            wake_from=wire.wake_from,
            wake_till=wire.wake_till,
            online_till=wire.online_till,
            wakeup_seconds_left=wire.wakeup_time_left_seconds,
            online_seconds_left=wire.online_time_left_seconds,
            can_wake_up=wire.can_wake_up,
        )
