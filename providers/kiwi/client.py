"""kiwiSMS client (`../shared/provider-docs/kiwisms.openapi.json`).

Purchases (rent, renew) carry an `Idempotency-Key`; an ambiguous failure is retried with
the SAME key and body, so the provider replays the first outcome instead of charging
again. Everything else is safe to retry and goes through `send_with_retry`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

import httpx

from providers.base import ProviderClient
from providers import parsing
from providers.errors import (
    AccountSuspended,
    BadCredentials,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidRequest,
    NotAllowedNow,
    OrderNotFound,
    OutOfStock,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnexpectedResponse,
)
from providers.http import RetryPolicy, parse_retry_after, send, send_with_retry
from providers.models import (
    Action,
    Balance,
    IncomingSms,
    Offer,
    OrderStatus,
    ProviderId,
    RemoteOrder,
    Section,
)

logger = logging.getLogger(__name__)

PROVIDER = ProviderId.KIWI.value

KIWI_COUNTRIES: tuple[Section, ...] = (
    Section("187", "USA"),
    Section("16", "UK"),
    Section("36", "Canada"),
    Section("43", "Germany"),
    Section("78", "France"),
    Section("48", "Netherlands"),
)

RENTAL_MINUTES = 20  # "Charges wallet for a ~20 minute session"

_STATUSES: dict[str, OrderStatus] = {
    "WAITING": OrderStatus.WAITING,
    "RECEIVED": OrderStatus.RECEIVED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.EXPIRED,
}

KIWI_ACTIONS: dict[OrderStatus, frozenset[Action]] = {
    OrderStatus.WAITING: frozenset({Action.CANCEL, Action.REFRESH}),
    OrderStatus.RECEIVED: frozenset({Action.DONE, Action.RENEW, Action.REFRESH}),
    OrderStatus.COMPLETED: frozenset({Action.RENEW}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}

# Which resource a request is about decides what an unexplained 404 means.
Context = Literal["rent", "rental", "other"]

_MAX_USER_MESSAGE = 200  # a provider error page must not flood the chat


class KiwiClient(ProviderClient):
    """One kiwiSMS account (API key) on the shared AsyncClient."""

    provider = ProviderId.KIWI

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
        self._retry_delay = retry_delay
        self._purchase_timeout = purchase_timeout
        self._max_attempts = max(1, max_attempts)
        self._policy = RetryPolicy(
            max_attempts=self._max_attempts,
            base_delay=retry_delay,
            max_delay=max(retry_delay * 8, retry_delay),
        )

    def __repr__(self) -> str:  # never the key: reprs end up in logs
        return f"KiwiClient(base_url={self._base_url!r})"

    # ------------------------------------------------------------------ account/catalogue

    async def get_balance(self) -> Balance:
        data = await self._get_json("/api/v1/balance")
        return Balance(_decimal(data, "balance"), currency=_opt_str(data, "currency") or "USD")

    async def list_sections(self) -> list[Section]:
        # Static: the API has no country list endpoint; the six codes are its enum.
        return list(KIWI_COUNTRIES)

    async def list_offers(self, section: str) -> list[Offer]:
        data = await self._get_json("/api/v1/services", params={"country": section})
        return [_offer(item, section) for item in _list(data, "services")]

    async def public_pricing(self) -> list[Offer]:
        """The public (no auth) USA price list of the landing page."""
        data = await self._get_json("/api/public/pricing", auth=False)
        return [_public_offer(item) for item in _list(data, "services")]

    # ------------------------------------------------------------------ orders

    async def place_order(
        self,
        offer: Offer,
        *,
        idempotency_key: str,
        max_price: Decimal | None = None,
        areas: str | None = None,
        carrier: str | None = None,
    ) -> RemoteOrder:
        body: dict[str, str] = {"service": offer.service, "country": offer.section}
        if max_price is not None:
            body["max_price"] = str(max_price)  # a string keeps the Decimal exact
        if areas is not None:
            body["areas"] = areas
        if carrier is not None:
            body["carrier"] = carrier
        response = await self._purchase("/api/v1/rentals", body, idempotency_key)
        self._check(response, "rent")
        return _purchased(response)

    async def get_order(self, order_id: str) -> RemoteOrder:
        data = await self._get_json(_rental_path(order_id), context="rental")
        return _rental(_dict(data, "rental"))

    async def active_orders(self) -> list[RemoteOrder]:
        # sync left at its default (1): the poller wants codes fetched from upstream.
        data = await self._get_json("/api/v1/rentals", context="rental")
        return [_rental(_as_dict(item)) for item in _list(data, "rentals")]

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
        """A new ~20 minute session on the same number (kiwiSMS has no duration to choose)."""
        response = await self._purchase(f"{_rental_path(order_id)}/renew", None, idempotency_key)
        self._check(response, "rental")
        return _purchased(response)

    def actions(self, order: RemoteOrder) -> frozenset[Action]:
        return KIWI_ACTIONS[order.status]

    # ------------------------------------------------------------------ transport

    def _headers(self, auth: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if auth:
            headers["X-API-Key"] = self._api_key
        return headers

    async def _get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        auth: bool = True,
        context: Context = "other",
    ) -> dict[str, Any]:
        response = await send_with_retry(
            self._http, "GET", self._base_url + path, provider=PROVIDER,
            policy=self._policy, headers=self._headers(auth), params=params,
        )
        self._check(response, context)
        return _json(response)

    async def _post_action(self, order_id: str, action: str) -> None:
        # cancel/done cannot charge: cancel only refunds, done releases the number.
        response = await send_with_retry(
            self._http, "POST", f"{self._base_url}{_rental_path(order_id)}/{action}",
            provider=PROVIDER, policy=self._policy, headers=self._headers(),
        )
        self._check(response, "rental")

    async def _purchase(
        self, path: str, body: dict[str, str] | None, idempotency_key: str
    ) -> httpx.Response:
        """POST a purchase, retrying ambiguous failures with the same key and body.

        Returns the first definite response (2xx or a non-409 4xx); raises
        `ProviderUnavailable` when every attempt was ambiguous, with
        `may_have_charged=True` unless no attempt ever reached the provider.
        """
        headers = {**self._headers(), "Idempotency-Key": idempotency_key}
        url = self._base_url + path
        may_have_charged = False
        for attempt in range(1, self._max_attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self._purchase_delay(attempt - 1))
            try:
                response = await send(
                    self._http, "POST", url, provider=PROVIDER, headers=headers, json=body,
                    timeout=self._purchase_timeout, may_charge=True,
                )
            except ProviderUnavailable as exc:
                may_have_charged = may_have_charged or exc.may_have_charged
                continue
            if response.status_code == 409 or response.status_code >= 500:
                # 409: the first attempt is still being processed; 5xx: outcome unknown.
                logger.info("kiwi purchase %s -> %s (attempt %d)", path, response.status_code, attempt)
                may_have_charged = True
                continue
            return response
        logger.warning("kiwi purchase %s still ambiguous after %d attempts", path, self._max_attempts)
        raise ProviderUnavailable(
            "The provider did not confirm the purchase; check /orders before buying again."
            if may_have_charged else None,
            provider=PROVIDER,
            may_have_charged=may_have_charged,
        )

    def _purchase_delay(self, retry_number: int) -> float:
        # At least retry_delay (a 409 means "the first attempt is still running": give it
        # that long), doubling per retry, plus jitter so concurrent buyers don't sync up.
        delay = min(self._policy.max_delay, self._retry_delay * 2 ** (retry_number - 1))
        return delay + random.uniform(0, delay / 2)

    # ------------------------------------------------------------------ errors

    def _check(self, response: httpx.Response, context: Context) -> None:
        """Raise the taxonomy error for a non-2xx response."""
        if 200 <= response.status_code < 300:
            return
        raise self._error(response, context)

    def _error(self, response: httpx.Response, context: Context) -> ProviderError:
        status = response.status_code
        message, code = self._error_body(response)
        logger.info("kiwi -> %s %s", status, code)
        if status == 401:
            return BadCredentials(message, provider=PROVIDER)
        if status == 403:
            return AccountSuspended(message, provider=PROVIDER)
        if status == 402:
            return InsufficientBalance(message, provider=PROVIDER)
        if status == 404:
            return _not_found(message, code, context)
        if status == 400:
            return InvalidRequest(message, provider=PROVIDER)
        if status in (409, 422):
            return IdempotencyConflict(message, provider=PROVIDER)
        if status == 429:
            return RateLimited(message, provider=PROVIDER, retry_after=parse_retry_after(response))
        if status >= 500:
            return ProviderUnavailable(message, provider=PROVIDER)
        return UnexpectedResponse(provider=PROVIDER)

    def _error_body(self, response: httpx.Response) -> tuple[str | None, str | None]:
        """(`error`, `code`) of an Error body; (None, None) when the body is not one."""
        try:
            data = response.json()
        except ValueError:
            return None, None
        if not isinstance(data, dict):
            return None, None
        message = data.get("error")
        code = data.get("code")
        return (
            self._scrub(message) if isinstance(message, str) and message else None,
            code if isinstance(code, str) else None,
        )

    def _scrub(self, text: str) -> str:
        # Belt and braces: a provider echoing the key must not put it into our errors.
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return text[:_MAX_USER_MESSAGE]


def _not_found(message: str | None, code: str | None, context: Context) -> ProviderError:
    if code == "SERVICE_UNAVAILABLE":
        return OutOfStock(message, provider=PROVIDER)
    if code in ("RENTAL_NOT_FOUND", "NOT_FOUND"):
        return OrderNotFound(message, provider=PROVIDER)
    if code == "CANCEL_NOT_ALLOWED":
        return NotAllowedNow(message, provider=PROVIDER)
    if context == "rent":
        return OutOfStock(message, provider=PROVIDER)
    if context == "rental":
        return OrderNotFound(message, provider=PROVIDER)
    return UnexpectedResponse(provider=PROVIDER)  # e.g. a wrong base URL


def _rental_path(order_id: str) -> str:
    # Quote the id: it comes back from callback data and must stay one path segment.
    return "/api/v1/rentals/" + quote(str(order_id), safe="")


# ---------------------------------------------------------------------- JSON -> domain
# Each helper raises UnexpectedResponse on a missing or ill-typed field, so a changed
# API surfaces as one clear error rather than a KeyError deep in the bot.


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        raise UnexpectedResponse(provider=PROVIDER) from None
    return _as_dict(data)


def _as_dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnexpectedResponse(provider=PROVIDER)
    return value


def _bad(field: str) -> UnexpectedResponse:
    logger.warning("kiwi response: missing or ill-typed field %r", field)
    return UnexpectedResponse(provider=PROVIDER)


def _dict(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise _bad(key)
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise _bad(key)
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(key)
    return str(value)  # ids are documented as strings; accept numbers too


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(key)
    return value


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise _bad(key)
    return value


def _decimal(data: Mapping[str, Any], key: str) -> Decimal:
    amount = parsing.money(data.get(key))
    if amount is None:
        raise _bad(key)
    return amount


def _datetime(data: Mapping[str, Any], key: str) -> datetime:
    value = data.get(key)
    if not isinstance(value, str):
        raise _bad(key)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(key) from None
    if parsed.tzinfo is None:  # the API speaks UTC; a naive stamp is UTC too
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _offer(item: object, section: str) -> Offer:
    data = _as_dict(item)
    return Offer(
        section=section,
        service=_str(data, "service"),
        name=_str(data, "name"),
        price=_decimal(data, "price"),
        stock=_int(data, "count"),
        duration_minutes=RENTAL_MINUTES,
        multi_sms=_bool(data, "multiSms"),
    )


def _public_offer(item: object) -> Offer:
    data = _as_dict(item)
    return Offer(
        section="187",  # the public price list is the USA catalogue
        service=_str(data, "code"),
        name=_str(data, "name"),
        price=_decimal(data, "price"),
        stock=None,
        duration_minutes=RENTAL_MINUTES,
    )


def _status(data: Mapping[str, Any]) -> OrderStatus:
    raw = data.get("status")
    if not isinstance(raw, str) or raw not in _STATUSES:
        raise _bad("status")
    return _STATUSES[raw]


def _messages(data: Mapping[str, Any]) -> tuple[IncomingSms, ...]:
    """One message per code; the index is its id (codes only ever get appended)."""
    if "codes" not in data:  # RentalCreated has no codes: nothing received yet
        return ()
    codes = _list(data, "codes")
    if not all(isinstance(code, str) for code in codes):
        raise _bad("codes")
    return tuple(IncomingSms(message_id=str(i), code=code, text="") for i, code in enumerate(codes))


def _refunded(status: OrderStatus, messages: tuple[IncomingSms, ...]) -> bool | None:
    if status is OrderStatus.CANCELLED:
        return True  # kiwi refunds every cancellation
    if status is OrderStatus.EXPIRED:
        return not messages  # refunded only when no code ever arrived
    if status is OrderStatus.COMPLETED:
        return False
    return None  # still live: nothing to say yet


def _purchased(response: httpx.Response) -> RemoteOrder:
    """The order from a 2xx purchase answer.

    A 2xx means the provider bought something, so an unreadable answer is not a plain
    UnexpectedResponse: the bot must treat it as "may have charged" and reconcile.
    """
    try:
        return _rental(_dict(_json(response), "rental"))
    except UnexpectedResponse:
        raise ProviderUnavailable(
            "The provider confirmed the purchase in an unreadable answer; check /orders.",
            provider=PROVIDER,
            may_have_charged=True,
        ) from None


def _rental(data: Mapping[str, Any]) -> RemoteOrder:
    """A Rental or a RentalCreated (which lacks codes and createdAt)."""
    status = _status(data)
    messages = _messages(data)
    return RemoteOrder(
        order_id=_str(data, "id"),
        phone=_str(data, "phone"),
        service=_str(data, "service"),
        service_name=_str(data, "serviceName"),
        price=_decimal(data, "price"),
        status=status,
        expires_at=_datetime(data, "expiresAt"),
        created_at=_datetime(data, "createdAt") if "createdAt" in data else None,
        messages=messages,
        refunded=_refunded(status, messages),
    )

