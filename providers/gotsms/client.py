"""GotSMS client (`../shared/provider-docs/gotsms.openapi.yaml.txt`, contract: `docs/gotsms.md`).

REST under `/api` with `Authorization: Bearer <token>`; wire format in `schema.py`, error
mapping in `errors.py`, rents in `rents.py`. This module: the account, the catalogue (plans)
and the messages (the unread feed and each rent's own list).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

import httpx

from providers.base import FeedItem, ProviderClient
from providers.errors import InvalidRequest, ProviderUnavailable, UnexpectedResponse
from providers.http import RetryPolicy
from providers.models import Balance, Capabilities, IncomingSms, MessagePage, Offer, Plan, ProviderId, Section
from providers.gotsms.api import MAX_PAGES, PER_PAGE, GotSmsApi, number_path, params
from providers.gotsms.capabilities import CAPABILITIES
from providers.gotsms.domain import feed_items_from, number_messages_from, plans_from, public_plans
from providers.gotsms.errors import may_have_acted
from providers.gotsms.rents import RentOperations
from providers.gotsms.schema import (
    PROVIDER,
    AccountWire,
    Envelope,
    ServiceWire,
    cursor_of,
    data_of,
    list_of,
    pages_of,
    read,
)
from providers.parsing import decode_items
from providers.wording import N_

logger = logging.getLogger(__name__)

SECTIONS: tuple[Section, ...] = (
    Section("duration", N_("Rental plans")),
    Section("sms", N_("SMS-billed plans")),
)
UNREAD = "/api/messages/unread"
_FEED_LOST = N_("The provider's answer with new messages was lost; they are fetched per rent.")


class GotSmsClient(RentOperations, ProviderClient):
    """One GotSMS account (API token) on the shared AsyncClient.

    Abilities: PlanCatalogue, OrderListing, RentManaging, Cancellable (= refund), UnreadFeed."""

    provider: ClassVar[ProviderId] = ProviderId.GOTSMS
    capabilities: ClassVar[Capabilities] = CAPABILITIES

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        token: str,
        *,
        retry_delay: float = 0.5,
        max_attempts: int = 3,
    ) -> None:
        policy = RetryPolicy.for_client(retry_delay, max_attempts)
        self._api = GotSmsApi(http, base_url, token, policy)
        self.page_size = PER_PAGE  # per_page of list requests (tests shrink it to exercise paging)

    def __repr__(self) -> str:  # never the token: reprs end up in logs
        return f"GotSmsClient(base_url={self._api.base_url!r})"

    __str__ = __repr__

    # ------------------------------------------------------------------ account / catalogue

    async def get_balance(self) -> Balance:
        wire = read(data_of(await self._api.get("/api/account")), AccountWire, "account")
        return Balance(wire.balance, currency=str(wire.currency or "USD"))

    async def pricelist(self) -> list[Plan]:
        """The public price list (no auth): plans without ids, grouped by service."""
        return public_plans(list_of(await self._api.get("/api/pricelist", auth=False)))

    async def services(self, search: str | None = None) -> list[tuple[str, str]]:
        """(id, name) of every service."""
        items = await self._api.get_all("/api/services", params(search=search), self.page_size)
        wires = decode_items(items, ServiceWire, provider=PROVIDER, what="service")
        return [(str(w.id), str(w.name)) for w in wires]

    async def plans(
        self,
        *,
        service_id: str | None = None,
        country_id: str | None = None,
        duration_type: str | None = None,
        billing_type: str | None = None,
        search: str | None = None,
    ) -> list[Plan]:
        query = params(service_id=service_id, country_id=country_id, duration_type=duration_type,
                       billing_type=billing_type, search=search)
        return plans_from(await self._api.get_all("/api/rents/plans", query, self.page_size))

    async def list_sections(self) -> list[Section]:
        return list(SECTIONS)  # the two billing types

    async def list_offers(self, section: str) -> list[Offer]:
        """One offer per service with plans of this billing type, at its cheapest plan's price."""
        cheapest: dict[str, Plan] = {}
        for plan in await self.section_plans(section):
            best = cheapest.get(plan.service_id)
            if best is None or plan.price < best.price:
                cheapest[plan.service_id] = plan
        offers = [
            Offer(section=section, service_id=p.service_id, name=p.service_name, price=p.price,
                  stock=None, duration_minutes=None)
            for p in cheapest.values()
        ]
        return sorted(offers, key=lambda o: o.name.lower())

    # ------------------------------------------------------------------ PlanCatalogue

    async def service_plans(self, service_id: str, section: str) -> list[Plan]:
        """The plans of one service in one section (billing type)."""
        _check_section(section)
        found = await self.plans(service_id=service_id, billing_type=section)
        # Liberal: a server ignoring a filter must not put another service's plans on the screen.
        return [p for p in found if p.service_id == service_id and p.billing_type == section]

    async def section_plans(self, section: str) -> list[Plan]:
        _check_section(section)
        return [p for p in await self.plans(billing_type=section) if p.billing_type == section]

    # ------------------------------------------------------------------ messages

    async def messages(
        self, service_id: str | None = None, phone: str | None = None
    ) -> list[FeedItem]:
        """Every message of the account (all pages, newest first), each with its rent."""
        query = params(service_id=service_id, phone=phone)
        return feed_items_from(await self._api.get_all("/api/messages", query, self.page_size))

    async def unread_messages(self, mark_as_read: bool = True) -> list[FeedItem]:
        """UnreadFeed: new SMS of every rent, ONE request unless more than a page is waiting.

        Marking read is sent once per page: after a lost answer (5xx, a broken connection or
        an unreadable body) this raises `ProviderUnavailable(may_have_charged=True)` — the
        messages may be marked read and gone from the feed: recover with `order_messages`."""
        query = {"per_page": str(self.page_size), "mark_as_read": "1" if mark_as_read else "0"}
        found: list[FeedItem] = []
        seen: set[str] = set()
        page = 1
        for _ in range(MAX_PAGES):
            envelope = await self._unread_page({**query, "page": str(page)}, mark_as_read)
            raw = list_of(envelope)
            fresh = [i for i in feed_items_from(raw) if i.sms.message_id not in seen]
            seen.update(i.sms.message_id for i in fresh)
            found.extend(fresh)
            current, last = pages_of(envelope)
            if not raw or current >= last:
                break
            if not mark_as_read:
                page = current + 1
            elif not fresh:
                break  # the server did not mark them: stop rather than loop
            # Marked-as-read messages leave the unread set, so the rest moves up to page 1.
        return found

    async def _unread_page(self, query: dict[str, str], mark_as_read: bool) -> Envelope:
        if not mark_as_read:
            return await self._api.get(UNREAD, query)
        try:
            response = await self._api.get_once(UNREAD, query)
        except ProviderUnavailable as exc:
            if exc.may_have_charged:  # sent: the server may have marked and lost the answer
                raise may_have_acted(_FEED_LOST) from None
            raise
        if response.status_code >= 500:
            raise may_have_acted(_FEED_LOST)
        try:
            return self._api.checked(response, "other")
        except UnexpectedResponse:
            if 200 <= response.status_code < 300:  # processed, answer unreadable (truncated)
                raise may_have_acted(_FEED_LOST) from None
            raise

    async def order_messages(self, order_id: str, since: datetime | None = None) -> Sequence[IncomingSms]:
        """UnreadFeed: every SMS of one rent (received at or after `since`), oldest first.

        Read from GET /api/numbers/{rent_id}/messages, whose ids are the ids the unread feed
        returns for the same SMS; it does not mark anything read."""
        newest_first: list[IncomingSms] = []
        before_id: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.number_messages(order_id, limit=100, before_id=before_id)
            newest_first.extend(page.messages)
            older_than_since = since is not None and any(
                m.received_at is not None and m.received_at < since for m in page.messages
            )
            if page.next_before_id is None or older_than_since:
                break
            before_id = page.next_before_id
        unique = {m.message_id: m for m in reversed(newest_first)}
        return [
            m for m in unique.values()
            if since is None or m.received_at is None or m.received_at >= since
        ]

    async def number_messages(self, order_id: str, limit: int = 10, before_id: str | None = None) -> MessagePage:
        """RentManaging: the number's SMS, newest first, `limit` at a time (1..100)."""
        limit = max(1, min(int(limit), 100))
        query = params(limit=str(limit), before_id=before_id)
        envelope = await self._api.get(number_path(order_id, "messages"), query, context="rent")
        raw = list_of(envelope)
        messages = number_messages_from(raw)
        next_id = cursor_of(envelope)
        # A short page is the last one, whatever the cursor says.
        if not raw or len(raw) < limit:
            next_id = None
        return MessagePage(messages=messages, next_before_id=str(next_id) if next_id else None)


def _check_section(section: str) -> None:
    if section not in {s.id for s in SECTIONS}:
        raise InvalidRequest(f"Unknown section {section[:40]!r}.", provider=PROVIDER)
