"""GotSMS transport: Bearer auth, the envelope check, paging, and which requests are retried.

Everything goes through `send_with_retry` and its one retry rule. Reads are safe (transient
failures, 429 with Retry-After, 5xx are retried). Whatever buys or changes a rent is sent as a
request that may charge (GotSMS has no idempotency keys): again only after a connect error. So
is the unread feed when it marks messages read: a retry after a lost answer would return the
NEXT messages and the lost ones would never be seen again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from providers.errors import ProviderUnavailable, chat_text
from providers.http import RetryPolicy, send_with_retry
from providers.gotsms.errors import Context, error_for, refusal
from providers.gotsms.schema import PROVIDER, Envelope, envelope_of, list_of, pages_of
from providers.wording import N_

logger = logging.getLogger(__name__)

PER_PAGE = 100  # the documented maximum: fewest requests
MAX_PAGES = 200  # a misbehaving `meta` must not make us page forever
_UNCONFIRMED_ACTION = N_("The provider did not confirm the request; refresh the order to see whether it took effect.")


def params(**values: str | None) -> dict[str, str]:
    """Query parameters without the unset ones."""
    return {k: str(v) for k, v in values.items() if v is not None and v != ""}


def rent_path(rent_id: str, action: str) -> str:
    # Quote the id: it comes back from callback data and must stay one path segment.
    return f"/api/rents/{quote(str(rent_id), safe='')}/{action}"


def number_path(rent_id: str, action: str) -> str:
    return f"/api/numbers/{quote(str(rent_id), safe='')}/{action}"


class GotSmsApi:
    """One account's requests on the shared AsyncClient. Never shows the token (repr, errors)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, policy: RetryPolicy) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._policy = policy

    def __repr__(self) -> str:
        return f"GotSmsApi(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    def _headers(self, auth: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    # ------------------------------------------------------------------ requests

    async def get(
        self, path: str, query: Mapping[str, str] | None = None, *, auth: bool = True,
        context: Context = "other",
    ) -> Envelope:
        """A safe GET (retried), checked: the whole envelope."""
        response = await send_with_retry(
            self._http, "GET", self._base_url + path, provider=PROVIDER, policy=self._policy,
            headers=self._headers(auth), params=query,
        )
        return self.checked(response, context)

    async def get_once(self, path: str, query: Mapping[str, str]) -> httpx.Response:
        """A GET that changes state (marks messages read), unchecked. Sent again only when
        the attempt provably never reached GotSMS (a connect error); a transport failure after
        that raises `ProviderUnavailable(may_have_charged=True)`: it may have acted."""
        return await send_with_retry(
            self._http, "GET", self._base_url + path, provider=PROVIDER, policy=self._policy,
            headers=self._headers(), params=query, may_charge=True,
        )

    async def post_once(
        self, path: str, body: Mapping[str, Any] | None = None, *, may_charge: bool = False
    ) -> httpx.Response:
        """A POST, sent again only when it provably never reached GotSMS (a connect error):
        none of GotSMS's POSTs is safe to repeat blindly. `may_charge`: it buys (a purchase, a
        transition); otherwise a lost answer is reported without "may have charged"."""
        try:
            return await send_with_retry(
                self._http, "POST", self._base_url + path, provider=PROVIDER, policy=self._policy,
                headers=self._headers(), json=dict(body) if body is not None else {},
                may_charge=True,  # the retry rule for a request that acts: never after it may have arrived
            )
        except ProviderUnavailable as exc:
            if may_charge or not exc.may_have_charged:
                raise
            raise ProviderUnavailable(_UNCONFIRMED_ACTION, provider=PROVIDER) from None

    async def pages(
        self, path: str, query: Mapping[str, str], per_page: int
    ) -> AsyncIterator[list[Any]]:
        """The raw items of a paginated list, a page at a time (`meta.last_page`)."""
        page = 1
        for _ in range(MAX_PAGES):
            envelope = await self.get(path, {**query, "per_page": str(per_page), "page": str(page)})
            batch = list_of(envelope)
            yield batch
            current, last = pages_of(envelope)
            if not batch or current >= last:
                return
            page = current + 1
        logger.warning("gotsms %s: stopped after %d pages", path, MAX_PAGES)

    async def get_all(self, path: str, query: Mapping[str, str], per_page: int) -> list[Any]:
        items: list[Any] = []
        async for batch in self.pages(path, query, per_page):
            items.extend(batch)
        return items

    # ------------------------------------------------------------------ answers

    def checked(self, response: httpx.Response, context: Context) -> Envelope:
        """The envelope of a successful answer; the taxonomy error otherwise."""
        if not 200 <= response.status_code < 300:
            raise error_for(response, context, self._token)
        envelope = envelope_of(response.content)
        if envelope.success is False:  # a refusal dressed as 2xx: still a refusal
            raise refusal(self.message(envelope), context, 422)
        return envelope

    def message(self, envelope: Envelope) -> str | None:
        return chat_text(envelope.message, self._token)
