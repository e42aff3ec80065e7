"""GotSMS client (`../shared/provider-docs/gotsms.openapi.yaml.txt`, contract: `docs/gotsms.md`).

REST under `/api` with `Authorization: Bearer <token>`. Answers are
`{"success": true, "data": ..., "meta": {...}}` or `{"success": false, "message": "..."}`.

GotSMS has no idempotency keys, so nothing that buys or changes a rent (create, transition,
auto-renewal toggle, refund, wake-up) is ever retried: an ambiguous purchase raises
`ProviderUnavailable(may_have_charged=True)` and the bot reconciles with `list_rents`.
Reads go through `send_with_retry` (transient failures, 429 with Retry-After, 5xx).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
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

PROVIDER = ProviderId.GOTSMS.value

SECTIONS: tuple[Section, ...] = (
    Section("duration", "Rental plans"),
    Section("sms", "SMS-billed plans"),
)

PER_PAGE = 100  # the documented maximum: fewest requests
MAX_PAGES = 200  # a misbehaving `meta` must not make us page forever
_MAX_USER_MESSAGE = 200  # a provider error page must not flood the chat

# Live rents: wake-up (ACTIVATE), auto-renewal / transition to a longer plan (RENEW),
# refund (CANCEL) and refresh. The bot narrows this per rent from `Rent`.
GOTSMS_LIVE_ACTIONS: frozenset[Action] = frozenset(
    {Action.WAKE_UP, Action.AUTO_RENEW, Action.EXTEND, Action.REFUND, Action.MESSAGES, Action.REFRESH}
)

_MINUTES_PER: dict[str, int] = {
    "min": 1, "minute": 1, "hour": 60, "day": 1440, "week": 10080, "month": 43200, "year": 525600,
}
_MONTHLY_PERIODS = frozenset({1, 3, 6, 12})

_STATUSES: dict[str, OrderStatus] = {
    "active": OrderStatus.WAITING,  # the client cannot know whether a code arrived
    "finished": OrderStatus.COMPLETED,
    "completed": OrderStatus.COMPLETED,
    "expired": OrderStatus.EXPIRED,
    "refunded": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "canceled": OrderStatus.CANCELLED,
}

# Lower-cased message substrings that refine a 4xx refusal.
_INSUFFICIENT = ("insufficient", "not enough balance", "not enough funds", "low balance", "top up")
_OUT_OF_STOCK = ("out of stock", "no numbers", "no available number", "no free number", "sold out",
                 "no number available", "numbers are not available")

# What a request is about decides what an unexplained 404 means.
Context = Literal["rent", "purchase", "other"]


def gotsms_actions(status: OrderStatus, plan_kind: str = "") -> frozenset[Action]:
    """What a rent allows now. `plan_kind` is "<billing_type>:<duration_type>" of its plan
    (e.g. "duration:month"); without it, the superset for a live rent."""
    if status.is_final:
        return frozenset()
    if not plan_kind:
        return GOTSMS_LIVE_ACTIONS
    billing, _, duration = plan_kind.partition(":")
    allowed = {Action.REFUND, Action.MESSAGES, Action.REFRESH}
    if billing == "duration":
        allowed.add(Action.WAKE_UP)  # SMS-billed numbers cannot be woken up
        if duration == "month":
            allowed.add(Action.AUTO_RENEW)  # auto-renewal exists for monthly plans only
        elif duration == "day":
            allowed.add(Action.EXTEND)  # a daily rent can move to a monthly plan
    return frozenset(allowed)


# ---------------------------------------------------------------------- typed results


@dataclass(frozen=True)
class Plan:
    id: str
    service_id: str
    service_name: str
    country: str
    billing_type: str  # "duration" | "sms"
    duration_type: str
    duration_in_type: int
    duration_minutes: int | None
    duration_label: str
    price: Decimal
    renew_price: Decimal
    monthly: bool


@dataclass(frozen=True)
class Rent:
    order: RemoteOrder
    plan: Plan | None
    auto_renew: bool
    can_wake_up: bool
    wake_from: datetime | None
    wake_till: datetime | None
    transition_options: list[Plan | dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class NumberStatus:
    rent_id: str
    status: str
    active_till: datetime | None
    wake_from: datetime | None
    wake_till: datetime | None
    online_till: datetime | None
    wakeup_seconds_left: int | None
    online_seconds_left: int | None
    can_wake_up: bool


@dataclass(frozen=True)
class MessagePage:
    messages: list[IncomingSms]
    next_before_id: str | None


# ---------------------------------------------------------------------- the client


class GotSmsClient(ProviderClient):
    """One GotSMS account (API token) on the shared AsyncClient."""

    provider = ProviderId.GOTSMS
    polling = "messages"  # the poller calls unread_messages() once per account per tick
    page_size = PER_PAGE  # per_page of list requests (tests shrink it to exercise paging)

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        token: str,
        *,
        retry_delay: float = 0.5,
        max_attempts: int = 3,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._policy = RetryPolicy(
            max_attempts=max(1, max_attempts),
            base_delay=retry_delay,
            max_delay=max(retry_delay * 8, retry_delay),
        )

    def __repr__(self) -> str:  # never the token: reprs end up in logs
        return f"GotSmsClient(base_url={self._base_url!r})"

    __str__ = __repr__

    # ------------------------------------------------------------------ account / catalogue

    async def get_balance(self) -> Balance:
        data = _as_dict(await self._get("/api/account"))
        return Balance(_decimal(data, "balance"), currency=_opt_str(data, "currency") or "USD")

    async def pricelist(self) -> list[Plan]:
        """The public price list (no auth): plans without ids, grouped by service."""
        groups = await self._get("/api/pricelist", auth=False)
        plans: list[Plan] = []
        for group in _as_list(groups, "data"):
            group = _as_dict(group)
            name = _opt_str(group, "name") or ""
            for item in _list(group, "plans"):
                plans.append(_public_plan(_as_dict(item), name))
        return plans

    async def services(self, search: str | None = None) -> list[tuple[str, str]]:
        items = await self._get_all("/api/services", _params(search=search))
        return [(_str(d, "id"), _str(d, "name")) for d in map(_as_dict, items)]

    async def plans(
        self,
        *,
        service_id: str | None = None,
        country_id: str | None = None,
        duration_type: str | None = None,
        billing_type: str | None = None,
        search: str | None = None,
    ) -> list[Plan]:
        params = _params(service_id=service_id, country_id=country_id, duration_type=duration_type,
                         billing_type=billing_type, search=search)
        return [_plan(_as_dict(item)) for item in await self._get_all("/api/rents/plans", params)]

    async def list_sections(self) -> list[Section]:
        return list(SECTIONS)  # the two billing types

    async def list_offers(self, section: str) -> list[Offer]:
        """One offer per service with plans of this billing type, at its cheapest plan's price."""
        if section not in {s.id for s in SECTIONS}:
            raise InvalidRequest(f"Unknown section {section[:40]!r}.", provider=PROVIDER)
        cheapest: dict[str, Plan] = {}
        for plan in await self.plans(billing_type=section):
            if plan.billing_type != section:  # liberal: a server ignoring the filter
                continue
            best = cheapest.get(plan.service_id)
            if best is None or plan.price < best.price:
                cheapest[plan.service_id] = plan
        offers = [
            Offer(section=section, service=p.service_id, name=p.service_name, price=p.price,
                  stock=None, duration_minutes=None)
            for p in cheapest.values()
        ]
        return sorted(offers, key=lambda o: o.name.lower())

    # ------------------------------------------------------------------ rents

    async def create_rent(self, plan_id: str, area_code: str | None = None) -> RemoteOrder:
        """Buy a rent. Sent ONCE: no idempotency key exists, so a retry could charge twice."""
        body: dict[str, Any] = {"plan_id": str(plan_id)}
        if area_code:
            body["area_code"] = str(area_code)
        response = await self._post_once("/api/rents", body, may_charge=True)
        if response.status_code >= 500 or response.status_code == 408:
            logger.warning("gotsms create_rent -> %s: outcome unknown", response.status_code)
            raise _ambiguous_purchase()
        if not 200 <= response.status_code < 300:
            raise self._error(response, "purchase")
        order = self._created(response)
        logger.info("gotsms rent %s created", order.order_id)
        return order

    def _created(self, response: httpx.Response) -> RemoteOrder:
        """The rent from a 2xx purchase answer: unreadable means bought-but-unknown, not a plain error."""
        try:
            payload = _json(response)
            if payload.get("success") is False:  # an explicit refusal: nothing was bought
                raise self._refusal(self._message(payload), "purchase", 422)
            return _rent(_as_dict(payload.get("data"))).order
        except UnexpectedResponse:
            raise _ambiguous_purchase("The provider confirmed the rent in an unreadable answer; "
                                      "check /orders.") from None

    async def place_order(
        self, offer: Offer, *, idempotency_key: str, max_price: Decimal | None = None
    ) -> RemoteOrder:
        # offer.service is a PLAN id here; the API has neither idempotency keys nor a price cap.
        return await self.create_rent(offer.service)

    async def list_rents(
        self, status: str | None = None, service: str | None = None, phone: str | None = None
    ) -> list[Rent]:
        items = await self._get_all("/api/rents", _params(status=status, service=service, phone=phone))
        return [_rent(_as_dict(item)) for item in items]

    async def get_rent(self, rent_id: str) -> Rent:
        # No single-rent endpoint returns the phone and price: search the list.
        rent_id = str(rent_id)
        for rent in await self.list_rents():
            if rent.order.order_id == rent_id:
                return rent
        raise OrderNotFound(provider=PROVIDER)

    async def get_order(self, order_id: str) -> RemoteOrder:
        return (await self.get_rent(order_id)).order

    async def active_orders(self) -> list[RemoteOrder]:
        return [rent.order for rent in await self.list_rents(status="active")]

    async def transition(self, rent_id: str, plan_id: str) -> RemoteOrder:
        """Move a daily rent to a longer (monthly) plan. Charges, so it is sent once."""
        response = await self._post_once(
            _rent_path(rent_id, "transition"), {"plan_id": str(plan_id)}, may_charge=True
        )
        if response.status_code >= 500:
            raise _ambiguous_purchase()
        self._checked(response, "rent")
        return await self.get_order(rent_id)

    async def toggle_auto_renewal(self, rent_id: str) -> bool:
        """Flip auto-renewal (monthly plans only); returns the new state. Not retried: a
        repeated toggle would flip it back."""
        response = await self._post_once(_rent_path(rent_id, "renewal/toggle"))
        data = _as_dict(self._checked(response, "rent").get("data"))
        return _bool(data, "is_included_for_next_renewal")

    async def refund(self, rent_id: str) -> RemoteOrder:
        # Read first: the refund answer holds only id/status, and an unknown rent fails cleanly.
        order = await self.get_order(rent_id)
        response = await self._post_once(_rent_path(rent_id, "refund"))
        self._checked(response, "rent")
        logger.info("gotsms rent %s refunded", order.order_id)
        return dataclasses.replace(order, status=OrderStatus.CANCELLED, refunded=True)

    async def cancel(self, order_id: str) -> RemoteOrder:
        return await self.refund(order_id)

    def actions(self, order: RemoteOrder) -> frozenset[Action]:
        return gotsms_actions(order.status)

    # ------------------------------------------------------------------ messages / numbers

    async def messages(
        self, service_id: str | None = None, phone: str | None = None
    ) -> list[tuple[str, IncomingSms]]:
        items = await self._get_all("/api/messages", _params(service_id=service_id, phone=phone))
        return [_rent_message(_as_dict(item)) for item in items]

    async def unread_messages(self, mark_as_read: bool = True) -> list[tuple[str, IncomingSms]]:
        """Unread messages of every rent: ONE request unless more than a page is waiting."""
        params = {"per_page": str(self.page_size), "mark_as_read": "1" if mark_as_read else "0"}
        found: list[tuple[str, IncomingSms]] = []
        seen: set[str] = set()
        page = 1
        for _ in range(MAX_PAGES):
            payload = await self._get_payload("/api/messages/unread", {**params, "page": str(page)})
            batch = [_rent_message(_as_dict(i)) for i in _list(payload, "data")]
            fresh = [m for m in batch if m[1].message_id not in seen]
            seen.update(m[1].message_id for m in fresh)
            found.extend(fresh)
            current, last = _pages(payload)
            if not batch or current >= last:
                break
            # Marked-as-read messages leave the unread set, so the rest moves up to page 1.
            if mark_as_read:
                if not fresh:
                    break  # the server did not mark them: stop rather than loop
            else:
                page = current + 1
        return found

    async def wake_up(self, rent_id: str) -> str:
        """Ask the provider to bring the number online; returns its message. Sent once."""
        response = await self._post_once(_number_path(rent_id, "wake-up"))
        payload = self._checked(response, "rent")
        return _clip(_opt_str(payload, "message") or "Wake up request sent.")

    async def number_status(self, rent_id: str) -> NumberStatus:
        data = _as_dict(await self._get(_number_path(rent_id, "status"), context="rent"))
        return NumberStatus(
            rent_id=_opt_id(data, "rent_id") or str(rent_id),
            status=_opt_str(data, "status") or "",
            active_till=_opt_datetime(data, "active_till"),
            wake_from=_opt_datetime(data, "wake_from"),
            wake_till=_opt_datetime(data, "wake_till"),
            online_till=_opt_datetime(data, "online_till"),
            wakeup_seconds_left=_opt_int(data, "wakeup_time_left_seconds"),
            online_seconds_left=_opt_int(data, "online_time_left_seconds"),
            can_wake_up=_opt_bool(data, "can_wake_up"),
        )

    async def number_messages(
        self, rent_id: str, limit: int = 10, before_id: str | None = None
    ) -> MessagePage:
        limit = max(1, min(int(limit), 100))
        params = _params(limit=str(limit), before_id=before_id)
        payload = await self._get_payload(_number_path(rent_id, "messages"), params, context="rent")
        messages = [_sms(_as_dict(item)) for item in _list(payload, "data")]
        meta = payload.get("meta")
        next_id = _opt_id(meta, "next_before_id") if isinstance(meta, dict) else None
        # A short page is the last one, whatever the cursor says.
        if not messages or len(messages) < limit:
            next_id = None
        return MessagePage(messages=messages, next_before_id=next_id)

    # ------------------------------------------------------------------ transport

    def _headers(self, auth: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    async def _get_payload(
        self, path: str, params: Mapping[str, str] | None = None, *, auth: bool = True,
        context: Context = "other",
    ) -> dict[str, Any]:
        """A safe GET (retried), checked: the whole envelope."""
        response = await send_with_retry(
            self._http, "GET", self._base_url + path, provider=PROVIDER, policy=self._policy,
            headers=self._headers(auth), params=params,
        )
        return self._checked(response, context)

    async def _get(
        self, path: str, params: Mapping[str, str] | None = None, *, auth: bool = True,
        context: Context = "other",
    ) -> Any:
        payload = await self._get_payload(path, params, auth=auth, context=context)
        if "data" not in payload:
            raise _bad("data")
        return payload["data"]

    async def _get_all(self, path: str, params: Mapping[str, str]) -> list[Any]:
        """Every page of a paginated list (`meta.last_page`), `page_size` items at a time."""
        items: list[Any] = []
        page = 1
        for _ in range(MAX_PAGES):
            query = {**params, "per_page": str(self.page_size), "page": str(page)}
            payload = await self._get_payload(path, query)
            batch = _list(payload, "data")
            items.extend(batch)
            current, last = _pages(payload)
            if not batch or current >= last:
                return items
            page = current + 1
        logger.warning("gotsms %s: stopped after %d pages", path, MAX_PAGES)
        return items

    async def _post_once(
        self, path: str, body: Mapping[str, Any] | None = None, *, may_charge: bool = False
    ) -> httpx.Response:
        # One attempt only: none of GotSMS's POSTs is safe to repeat blindly.
        return await send(
            self._http, "POST", self._base_url + path, provider=PROVIDER,
            headers=self._headers(), json=dict(body) if body is not None else {},
            may_charge=may_charge,
        )

    # ------------------------------------------------------------------ errors

    def _checked(self, response: httpx.Response, context: Context) -> dict[str, Any]:
        """The JSON envelope of a successful answer; the taxonomy error otherwise."""
        if not 200 <= response.status_code < 300:
            raise self._error(response, context)
        payload = _json(response)
        if payload.get("success") is False:  # a refusal dressed as 2xx: still a refusal
            raise self._refusal(self._message(payload), context, 422)
        return payload

    def _error(self, response: httpx.Response, context: Context) -> ProviderError:
        status = response.status_code
        try:
            body: object = response.json()
        except ValueError:
            body = None
        payload = body if isinstance(body, dict) else {}
        message = self._message(payload)
        logger.info("gotsms -> HTTP %s", status)
        if status == 401:
            return BadCredentials(message, provider=PROVIDER)
        if status == 403:
            return AccountSuspended(message, provider=PROVIDER)
        if status == 429:
            return RateLimited(message, provider=PROVIDER, retry_after=parse_retry_after(response))
        if status >= 500:
            return ProviderUnavailable(message, provider=PROVIDER)
        if status == 404:
            if context == "purchase":
                return OutOfStock(message, provider=PROVIDER)  # the plan is gone
            if context == "rent":
                return OrderNotFound(message, provider=PROVIDER)
            return UnexpectedResponse(provider=PROVIDER)  # e.g. a wrong base URL
        if status == 422 and isinstance(payload.get("errors"), dict) \
                and not _matches(message, _INSUFFICIENT + _OUT_OF_STOCK):
            return InvalidRequest(message, provider=PROVIDER)  # Laravel validation failure
        if status in (400, 402, 409, 422) or (400 <= status < 500 and message):
            return self._refusal(message, context, status)
        return UnexpectedResponse(provider=PROVIDER)

    def _refusal(self, message: str | None, context: Context, status: int) -> ProviderError:
        """A business refusal: the provider's message decides the class."""
        if status == 402 or _matches(message, _INSUFFICIENT):
            return InsufficientBalance(message, provider=PROVIDER)
        if context == "purchase" and _matches(message, _OUT_OF_STOCK):
            return OutOfStock(message, provider=PROVIDER)
        if status == 400:
            return InvalidRequest(message, provider=PROVIDER)
        return NotAllowedNow(message, provider=PROVIDER)

    def _message(self, payload: Mapping[str, Any]) -> str | None:
        message = payload.get("message")
        if not isinstance(message, str) or not message.strip():
            return None
        if self._token:  # a provider echoing the token must not put it into our errors
            message = message.replace(self._token, "***")
        return _clip(message.strip())


# ---------------------------------------------------------------------- helpers


def _params(**values: str | None) -> dict[str, str]:
    """Query parameters without the unset ones."""
    return {k: str(v) for k, v in values.items() if v is not None and v != ""}


def _rent_path(rent_id: str, action: str) -> str:
    # Quote the id: it comes back from callback data and must stay one path segment.
    return f"/api/rents/{quote(str(rent_id), safe='')}/{action}"


def _number_path(rent_id: str, action: str) -> str:
    return f"/api/numbers/{quote(str(rent_id), safe='')}/{action}"


def _clip(text: str) -> str:
    return text[:_MAX_USER_MESSAGE]


def _matches(message: str | None, needles: tuple[str, ...]) -> bool:
    lowered = (message or "").lower()
    return any(n in lowered for n in needles)


def _ambiguous_purchase(message: str | None = None) -> ProviderUnavailable:
    return ProviderUnavailable(
        message or "The provider did not confirm the purchase; check /orders before buying again.",
        provider=PROVIDER,
        may_have_charged=True,
    )


def _pages(payload: Mapping[str, Any]) -> tuple[int, int]:
    """(current_page, last_page); a list without meta is a single page."""
    meta = payload.get("meta")
    if not isinstance(meta, dict):
        return 1, 1
    current = _opt_int(meta, "current_page") or 1
    last = _opt_int(meta, "last_page") or current
    return current, last


# ---------------------------------------------------------------------- JSON -> domain
# Each helper raises UnexpectedResponse on a missing or ill-typed field, so a changed API
# surfaces as one clear error. Liberal where it costs nothing: numbers as strings, ids as ints.


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        logger.warning("gotsms answered HTTP %s with a non-JSON body", response.status_code)
        raise UnexpectedResponse(provider=PROVIDER) from None
    return _as_dict(data)


def _bad(field_name: str) -> UnexpectedResponse:
    logger.warning("gotsms response: missing or ill-typed field %r", field_name)
    return UnexpectedResponse(provider=PROVIDER)


def _as_dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad("object")
    return value


def _as_list(value: object, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(name)
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    return _as_list(data.get(key), key)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise _bad(key)
    return str(value)


def _opt_id(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return None
    return str(value)


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))  # 120, 120.0, "120"
    except (TypeError, ValueError, OverflowError):
        raise _bad(key) from None


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1", "true", "false"):
        return value in (1, "1", "true")
    raise _bad(key)


def _opt_bool(data: Mapping[str, Any], key: str) -> bool:
    return False if data.get(key) is None else _bool(data, key)


def _decimal(data: Mapping[str, Any], key: str) -> Decimal:
    amount = parsing.money(data.get(key))
    if amount is None:
        raise _bad(key)
    return amount


def _opt_datetime(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:  # liberal: epoch seconds
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise _bad(key) from None
    if not isinstance(value, str):
        raise _bad(key)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad(key) from None
    if parsed.tzinfo is None:  # the API speaks UTC; a naive stamp is UTC too
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _named(data: Mapping[str, Any], key: str) -> tuple[str, str]:
    """(id, name) of a nested `{"id", "name"}` object, or a bare name string."""
    value = data.get(key)
    if isinstance(value, dict):
        return _opt_id(value, "id") or "", _opt_str(value, "name") or ""
    if isinstance(value, str):
        return "", value
    return _opt_id(data, f"{key}_id") or "", _opt_str(data, f"{key}_name") or ""


def _duration_minutes(duration_type: str, amount: int) -> int | None:
    """Rental length from the plan's unit and count; None when unknown (e.g. SMS-billed plans)."""
    per = _MINUTES_PER.get(duration_type)
    if per is None or amount <= 0:
        return None
    return per * amount


def _is_monthly(duration_type: str, amount: int) -> bool:
    return duration_type == "month" and amount in _MONTHLY_PERIODS


def _plan(data: Mapping[str, Any], service: tuple[str, str] | None = None) -> Plan:
    """A plan from /api/rents/plans, or a rent's embedded plan (pass the rent's service)."""
    service_id, service_name = service or _named(data, "service")
    _, country = _named(data, "country")
    billing = (_opt_str(data, "billing_type") or "duration").lower()
    duration_type = (_opt_str(data, "duration_type") or "").lower()
    amount = _opt_int(data, "duration_in_type") or 0
    minutes = _opt_int(data, "duration_in_minutes")
    monthly = data.get("is_monthly_supported")
    return Plan(
        id=_str(data, "id"),
        service_id=service_id,
        service_name=service_name,
        country=country,
        billing_type=billing,
        duration_type=duration_type,
        duration_in_type=amount,
        duration_minutes=minutes if minutes is not None else _duration_minutes(duration_type, amount),
        duration_label=_opt_str(data, "duration_translation") or "",
        price=_decimal(data, "price"),
        renew_price=_decimal(data, "renew_price") if data.get("renew_price") is not None
        else _decimal(data, "price"),
        monthly=monthly if isinstance(monthly, bool) else _is_monthly(duration_type, amount),
    )


def _public_plan(data: Mapping[str, Any], group_name: str) -> Plan:
    """A public price-list plan: no ids, `period`/`period_type` instead of duration fields."""
    billing = (_opt_str(data, "billing_type") or "duration").lower()
    duration_type = (_opt_str(data, "period_type") or "").lower()
    amount = _opt_int(data, "period") or 0
    return Plan(
        id=_opt_id(data, "id") or "",
        service_id="",
        service_name=_opt_str(data, "service_name") or group_name,
        country=_named(data, "country")[1],
        billing_type=billing,
        duration_type=duration_type,
        duration_in_type=amount,
        duration_minutes=_duration_minutes(duration_type, amount),
        duration_label=_opt_str(data, "duration_translation") or "",
        price=_decimal(data, "price"),
        renew_price=_decimal(data, "renew_price") if data.get("renew_price") is not None
        else _decimal(data, "price"),
        monthly=_is_monthly(duration_type, amount),
    )


def _refunded(data: Mapping[str, Any]) -> bool:
    """The API documents no refund flag; accept the ones a server may add."""
    for key in ("refunded", "is_refunded"):
        if data.get(key) in (True, 1, "1", "true"):
            return True
    return data.get("refunded_at") not in (None, "")


def _order_status(data: Mapping[str, Any]) -> OrderStatus:
    raw = _opt_str(data, "status")
    status = _STATUSES.get((raw or "").strip().lower())
    if status is None:
        raise _bad("status")
    return status


def _rent(data: Mapping[str, Any]) -> Rent:
    service = _named(data, "service")
    plan_data = data.get("plan")
    plan = _plan(plan_data, service) if isinstance(plan_data, dict) and plan_data.get("id") else None
    refunded = _refunded(data)
    status = OrderStatus.CANCELLED if refunded else _order_status(data)
    # The rent's own price is what was charged; fall back to its plan's price.
    price = plan.price if data.get("price") is None and plan else _decimal(data, "price")
    order = RemoteOrder(
        order_id=_str(data, "id"),
        phone=_str(data, "phone"),
        service=service[0],
        service_name=service[1],
        price=price,
        status=status,
        expires_at=_opt_datetime(data, "active_till"),
        created_at=_opt_datetime(data, "active_from"),
        refunded=True if refunded or status is OrderStatus.CANCELLED else None,
    )
    return Rent(
        order=order,
        plan=plan,
        auto_renew=_opt_bool(data, "is_included_for_next_renewal"),
        can_wake_up=_opt_bool(data, "can_wake_up"),
        wake_from=_opt_datetime(data, "wake_from"),
        wake_till=_opt_datetime(data, "wake_till"),
        transition_options=[_option(o, service) for o in data.get("transition_options") or []],
    )


def _option(item: object, service: tuple[str, str]) -> Plan | dict[str, Any]:
    """A transition option as a Plan when it reads as one, else as the provider sent it."""
    if not isinstance(item, dict):
        return {"value": item}
    try:
        has_service = isinstance(item.get("service"), dict)
        return _plan(item, None if has_service else service)
    except UnexpectedResponse:
        return item


def _sms(data: Mapping[str, Any]) -> IncomingSms:
    code = _opt_str(data, "code")
    return IncomingSms(
        message_id=_str(data, "id"),
        code=code or None,
        text=_opt_str(data, "body") or "",
        received_at=_opt_datetime(data, "received_at"),
    )


def _rent_message(data: Mapping[str, Any]) -> tuple[str, IncomingSms]:
    return _str(data, "rent_id"), _sms(data)
