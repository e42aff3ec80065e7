"""NonVoipUsNumber client (`../shared/provider-docs/nonvoipusnumber.openapi.json`).

Every call is `POST {base}/api/...` with `email` and `password` in the JSON body (never in
a URL or header, and never logged). Answers are `{"status": "success"|"info"|"error", ...}`.

NonVoipUsNumber has no idempotency keys, so a purchase (order, reuse, renew) is sent ONCE:
an ambiguous failure raises `ProviderUnavailable(may_have_charged=True)` instead of
risking a second charge. activate and reject are sent once too. Reads (balance, products,
getsms, saveurl) are safe and retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

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
from providers.http import RetryPolicy, parse_retry_after, send
from providers.models import (
    Action,
    ActivationWindow,
    Balance,
    IncomingSms,
    Offer,
    OrderOutcome,
    OrderStatus,
    PremiumBidDecision,
    PriceChangeDecision,
    ProviderId,
    RemoteOrder,
    Section,
)

logger = logging.getLogger(__name__)

PROVIDER = ProviderId.NONVOIP.value

COUNTRY = "country"
# Grouped-products key -> (order type, rental minutes), in the order the catalogue shows them.
GROUPS: dict[str, tuple[str, int]] = {
    "10-minutes": ("short_term", 10),
    "1-day": ("one_day", 1440),
    "30-days": ("long_term", 43200),
    "3-days": ("3days", 4320),
}
_TYPE_TO_GROUP = {kind: group for group, (kind, _) in GROUPS.items()}
KINDS = frozenset({*_TYPE_TO_GROUP, COUNTRY})
MAX_SERVICES = 5  # "30-days only ... Maximum 5 services"

_MAX_USER_MESSAGE = 200  # a provider error page must not flood the chat
_MAX_REMEMBERED = 4096  # order kinds / prices kept per client; the oldest are dropped

_LIVE_LONG = frozenset({Action.ACTIVATE, Action.RENEW, Action.REFRESH})


def nonvoip_actions(kind: str, status: OrderStatus) -> frozenset[Action]:
    """What the user may do to an order of this type ("short_term", "long_term", ...) now."""
    if status.is_final:
        return frozenset()
    if kind in ("long_term", "one_day", "3days"):
        return _LIVE_LONG
    if kind == COUNTRY:
        # Country orders can be rejected while waiting; reuse is a USA short-term feature.
        return frozenset({Action.REJECT, Action.REFRESH}) if status is OrderStatus.WAITING \
            else frozenset({Action.REFRESH})
    # short_term (and anything unknown: the most restricted live set)
    if status is OrderStatus.WAITING:
        return frozenset({Action.REJECT, Action.REFRESH})
    return frozenset({Action.REUSE, Action.REFRESH})


# getsms `status: error` texts that end an order (lower-cased substrings, checked in order).
# Anything else with HTTP 200/404 means "no SMS yet".
_FINAL_SMS_TEXTS: tuple[tuple[tuple[str, ...], OrderStatus], ...] = (
    (("reject", "cancel", "refunded", "stopped"), OrderStatus.CANCELLED),
    (("expired",), OrderStatus.EXPIRED),
    (("completed", "finished"), OrderStatus.COMPLETED),
    # The provider forgot the order (or it is not this account's): nothing more will come.
    (("not found", "does not exist", "no such order", "invalid order"), OrderStatus.EXPIRED),
)

# `status: error` message (lower-cased substring) -> error class; the first match wins.
_ERROR_TEXTS: tuple[tuple[tuple[str, ...], type[ProviderError]], ...] = (
    (("wrong auth", "invalid credential", "unauthori", "authentication", "invalid email or password",
      "login failed"), BadCredentials),
    (("suspended", "banned", "blocked", "disabled"), AccountSuspended),
    (("insufficient", "not enough balance", "low balance"), InsufficientBalance),
    (("too many requests", "rate limit"), RateLimited),
    (("out of stock", "not available", "unavailable", "no number", "sold out", "no stock",
      "product not found"), OutOfStock),
    (("not found", "does not exist", "no such order", "invalid order"), OrderNotFound),
    (("expired", "rejected", "already", "cannot", "can't", "not allowed", "not eligible", "not possible",
      "still waiting"), NotAllowedNow),
)

# Errors about the account, not the order: getsms raises these instead of "no SMS yet".
_ACCOUNT_ERRORS = frozenset({BadCredentials, AccountSuspended, RateLimited})


class NonVoipClient(ProviderClient):
    """One NonVoipUsNumber account (email + password) on the shared AsyncClient."""

    provider = ProviderId.NONVOIP
    polling = "order"  # no "list my orders" endpoint: the poller calls check_order per order
    requests_per_minute = 500  # the documented per-account limit

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
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._email = email
        self._password = password
        self._policy = RetryPolicy(
            max_attempts=max(1, max_attempts),
            base_delay=retry_delay,
            max_delay=max(retry_delay * 8, retry_delay),
        )
        # Learned from answers: the order type drives actions(); prices fill order answers
        # that carry no `cost`. Bounded: a long-lived client must not grow forever.
        self._kinds: dict[str, str] = {}
        self._prices: dict[tuple[str, str], Decimal] = {}

    def __repr__(self) -> str:  # never the password (nor the email): reprs end up in logs
        return f"NonVoipClient(base_url={self._base_url!r})"

    __str__ = __repr__

    # ------------------------------------------------------------------ account / catalogue

    async def get_balance(self) -> Balance:
        data = await self._safe("/api/balance")
        return Balance(_decimal(data, "balance"))

    async def products(
        self, *, type: str | None = None, grouped: bool = False, product_id: str | None = None
    ) -> list[Offer]:
        body: dict[str, Any] = {}
        if type is not None:
            body["type"] = type
        if grouped:
            body["grouped"] = True
        if product_id is not None:
            body["product_id"] = _wire_id(product_id)
        data = await self._safe("/api/products", body)
        message = data.get("message")
        if isinstance(message, dict):  # grouped: {"10-minutes": [...], ...}
            return [
                self._offer(item, group)
                for group, items in message.items()
                for item in _as_list(items, "message")
            ]
        default_group = _TYPE_TO_GROUP.get(type or "", "")
        return [
            self._offer(item, _opt_str(_as_dict(item), "category") or default_group)
            for item in _as_list(message, "message")
        ]

    async def list_sections(self) -> list[Section]:
        data = await self._safe("/api/products", {"grouped": True})
        message = data.get("message")
        if not isinstance(message, dict):
            raise _bad("message")
        sections = [Section(group, group) for group in ("10-minutes", "1-day", "30-days")]
        if message.get("3-days"):  # a legacy category: shown only when offered
            sections.append(Section("3-days", "3-days"))
        sections.append(Section(COUNTRY, "Country"))
        return sections

    async def list_offers(self, section: str) -> list[Offer]:
        if section == COUNTRY:
            data = await self._safe("/api/country/products")
            return [self._country_offer(item) for item in _as_list(data.get("message"), "message")]
        if section not in GROUPS:
            raise InvalidRequest(f"Unknown section {section[:40]!r}.", provider=PROVIDER)
        data = await self._safe("/api/products", {"grouped": True})
        message = data.get("message")
        if not isinstance(message, dict):
            raise _bad("message")
        return [self._offer(item, section) for item in _as_list(message.get(section, []), section)]

    # ------------------------------------------------------------------ ordering

    async def place_order(
        self, offer: Offer, *, idempotency_key: str, max_price: Decimal | None = None
    ) -> OrderOutcome:  # type: ignore[override]  # may also answer a decision for the user
        # No idempotency on this API (the key is unused); max_price is NOT sent as
        # accepted_max_price: a higher price is accepted only by the user's explicit tap.
        ids = _product_ids(offer)
        if len(ids) == 1:
            self._remember_price(offer.section, offer.service, offer.price)
        return await self.order(ids, section=offer.section)

    async def accept_decision(
        self, offer: Offer, decision: PriceChangeDecision | PremiumBidDecision
    ) -> OrderOutcome:
        """The user tapped Accept $x / Bid +n%: order once more, on exactly those terms."""
        if isinstance(decision, PriceChangeDecision):
            return await self.order(_product_ids(offer), section=offer.section, accepted_max_price=decision.available_price)
        return await self.order(_product_ids(offer), section=offer.section, auction=decision.recommended_bid)

    async def order(
        self,
        product_ids: Sequence[str],
        *,
        section: str,
        accepted_max_price: Decimal | None = None,
        auction: int | None = None,
    ) -> OrderOutcome:
        ids = [str(p) for p in product_ids]
        body = self._order_body(ids, section, accepted_max_price, auction)
        path = "/api/country/order" if section == COUNTRY else "/api/order"
        response = await self._send_once(path, body, may_charge=True)
        data = self._checked(response, path, charged=True)
        if data.get("status") == "info":
            return _decision(data)
        order = self._purchased(data, path, _kind_of_section(section), default_price=self._order_price(
            ids, section, accepted_max_price, auction))
        logger.info("nonvoip order %s placed (%s)", order.order_id, section)
        return order

    def _order_body(
        self, ids: list[str], section: str, accepted_max_price: Decimal | None, auction: int | None
    ) -> dict[str, Any]:
        # Validated before sending: a refused multi-order must cost nothing.
        if not ids or any(not p for p in ids):
            raise InvalidRequest("No product to order.", provider=PROVIDER)
        if len(ids) > 1 and section != "30-days":
            raise InvalidRequest("Only 30-days numbers can hold several services.", provider=PROVIDER)
        if len(ids) > MAX_SERVICES:
            raise InvalidRequest(f"At most {MAX_SERVICES} services per number.", provider=PROVIDER)
        body: dict[str, Any] = {}
        if len(ids) == 1:
            body["product_id"] = _wire_id(ids[0])
        else:
            body["product_ids"] = [_wire_id(p) for p in ids]
        if accepted_max_price is not None:
            body["accepted_max_price"] = float(accepted_max_price)  # documented as a JSON number
        if auction is not None:
            body["auction"] = int(auction)
        return body

    def _order_price(
        self, ids: list[str], section: str, accepted_max_price: Decimal | None, auction: int | None
    ) -> Decimal:
        """The price to record when the answer has no `cost` (best knowledge, not a quote)."""
        if accepted_max_price is not None:
            return accepted_max_price  # the user accepted this route price
        known = [self._prices.get((section, p)) for p in ids]
        if any(price is None for price in known):
            return Decimal("0")  # never listed by this client: unknown
        total = sum((p for p in known if p is not None), Decimal("0"))
        if auction:
            total = (total * (100 + auction) / 100).quantize(Decimal("0.01"))  # bid = % above price
        return total

    # ------------------------------------------------------------------ orders

    async def check_order(self, order_id: str) -> RemoteOrder:
        order_id = str(order_id)
        # No 429 retries here: the poller paces getsms per account and backs off on RateLimited,
        # so a rate-limit storm is not multiplied by retries.
        response = await self._send_safe("/api/getsms", {"order_id": order_id}, retry_429=False)
        data = self._body(response, "/api/getsms")
        status = data.get("status")
        if status == "success" and 200 <= response.status_code < 300:
            return self._sms_order(order_id, data)
        message = _opt_str(data, "message") or ""
        if status == "error" and message and _error_class(message) not in _ACCOUNT_ERRORS:
            final = _final_status(message)
            if final is not None:  # rejected orders are refunded; expiry refunds only without SMS
                return self._bare_order(order_id, final, refunded=True if final is OrderStatus.CANCELLED
                                        else None)
            if response.status_code in (200, 404):  # "No SMS received yet" (404 on country orders)
                return self._bare_order(order_id, OrderStatus.WAITING)
        raise self._error(response, data, "/api/getsms")

    async def get_order(self, order_id: str) -> RemoteOrder:
        return await self.check_order(order_id)

    async def active_orders(self) -> list[RemoteOrder]:
        raise NotImplementedError("NonVoipUsNumber has no order list: poll check_order per order")

    async def reject(self, order_id: str) -> RemoteOrder:
        order_id = str(order_id)
        data = await self._action("/api/reject", order_id)
        phone = _phone_in(_opt_str(data, "message") or "")
        self._forget(order_id)
        return self._bare_order(order_id, OrderStatus.CANCELLED, refunded=True, phone=phone)

    async def cancel(self, order_id: str) -> RemoteOrder:
        return await self.reject(order_id)

    async def reuse(self, order_id: str) -> RemoteOrder:
        order_id = str(order_id)
        path = "/api/reuse"
        response = await self._send_once(path, {"order_id": order_id}, may_charge=True)
        data = self._checked(response, path, charged=True)
        kind = self._kinds.get(order_id, "short_term")
        order = self._purchased(data, path, kind, default_price=Decimal("0"), default_id=order_id)
        logger.info("nonvoip order %s reused as %s", order_id, order.order_id)
        return order

    async def activate(self, order_id: str) -> ActivationWindow:
        data = await self._action("/api/activate", str(order_id))
        item = _first_item(data.get("message"))
        online = _opt_str(item, "online_status") or ""
        ends = item.get("end_on")
        return ActivationWindow(
            online=online.strip().lower() == "online",
            ends_at=_when(ends, "end_on") if ends not in (None, "") else None,
            message=online,
        )

    async def renew(  # type: ignore[override]  # duration is NonVoip-specific
        self, order_id: str, *, idempotency_key: str = "", duration: str | None = None
    ) -> RemoteOrder:
        # No idempotency on this API: sent once, like an order.
        order_id = str(order_id)
        path = "/api/renew"
        body: dict[str, Any] = {"order_id": order_id}
        if duration is not None:
            body["duration"] = duration
        response = await self._send_once(path, body, may_charge=True)
        data = self._checked(response, path, charged=True)
        try:
            return _renewed(order_id, data)
        except UnexpectedResponse:
            raise _unreadable_purchase() from None  # renewed (charged) but unreadable

    async def save_url(self, url: str, user_id: int | None = None) -> None:
        body: dict[str, Any] = {"url": url}
        if user_id is not None:
            body["userId"] = user_id
        # Idempotent (it overwrites the saved URL): safe to retry.
        response = await self._send_safe("/api/saveurl", body)
        self._checked(response, "/api/saveurl")

    def actions(self, order: RemoteOrder) -> frozenset[Action]:
        return nonvoip_actions(self._kind_of(order), order.status)

    # ------------------------------------------------------------------ answers -> domain

    def _offer(self, item: object, group: str) -> Offer:
        data = _as_dict(item)
        offer = Offer(
            section=group,
            service=_id(data, "product_id"),
            name=_text(data, "name"),
            price=_decimal(data, "price"),
            stock=_count(data, "available"),
            duration_minutes=GROUPS[group][1] if group in GROUPS else None,
        )
        self._remember_price(group, offer.service, offer.price)
        return offer

    def _country_offer(self, item: object) -> Offer:
        data = _as_dict(item)
        country = _opt_str(data, "country")
        name = _text(data, "name")
        offer = Offer(
            section=COUNTRY,
            service=_id(data, "product_id"),
            name=f"{name} ({country})" if country else name,
            price=_decimal(data, "price"),
            stock=_count(data, "available"),
            duration_minutes=None,
        )
        self._remember_price(COUNTRY, offer.service, offer.price)
        return offer

    def _purchased(
        self, data: Mapping[str, Any], path: str, kind: str, *, default_price: Decimal,
        default_id: str | None = None,
    ) -> RemoteOrder:
        """The order from a success answer; unreadable = bought but unknown (may have charged)."""
        if data.get("status") != "success":
            raise _unreadable_purchase()
        try:
            items = data.get("message")
            entries = [_as_dict(i) for i in items] if isinstance(items, list) else [_as_dict(items)]
            if not entries:
                raise _bad("message")
            first = entries[0]
            # A multi-service 30-days order may answer one entry per service, same number.
            services = [_text(e, "service") for e in entries if _opt_str(e, "service")] or [_text(first, "service")]
            order_id = _id(first, "order_id") if "order_id" in first or default_id is None else default_id
            order = RemoteOrder(
                order_id=order_id,
                phone=_text(first, "number"),
                service=", ".join(dict.fromkeys(services)),
                service_name=", ".join(dict.fromkeys(services)),
                price=_decimal(first, "cost") if "cost" in first else default_price,
                status=OrderStatus.WAITING,
                expires_at=_expiry(first),
                created_at=datetime.now(timezone.utc),
            )
        except UnexpectedResponse:
            logger.warning("nonvoip %s: success answer without a readable order", path)
            raise _unreadable_purchase() from None
        answered = _opt_str(first, "type")
        self._remember_kind(order.order_id, answered if answered in KINDS else kind)
        return order

    def _sms_order(self, order_id: str, data: Mapping[str, Any]) -> RemoteOrder:
        text = _text(data, "sms")
        pin = data.get("pin")
        code = str(pin) if isinstance(pin, (str, int)) and not isinstance(pin, bool) and str(pin) else None
        kind = _opt_str(data, "type")
        if kind in KINDS:
            self._remember_kind(order_id, kind)
        service = _opt_text(data, "service")
        return RemoteOrder(
            order_id=order_id,
            phone=_opt_text(data, "number"),
            service=service,
            service_name=service,
            price=Decimal("0"),  # getsms carries no price: the caller keeps the one it stored
            status=OrderStatus.RECEIVED,
            expires_at=None,
            messages=(IncomingSms(message_id=_sms_id(text, code), code=code, text=text),),
        )

    def _bare_order(
        self, order_id: str, status: OrderStatus, *, refunded: bool | None = None, phone: str = ""
    ) -> RemoteOrder:
        # getsms errors and reject answers name no number, service or price: the caller
        # merges this status into the order it stored when buying.
        return RemoteOrder(
            order_id=order_id, phone=phone, service="", service_name="", price=Decimal("0"),
            status=status, expires_at=None, refunded=refunded,
        )

    # ------------------------------------------------------------------ memo

    def _remember_kind(self, order_id: str, kind: str) -> None:
        self._kinds.pop(order_id, None)
        self._kinds[order_id] = kind
        while len(self._kinds) > _MAX_REMEMBERED:
            self._kinds.pop(next(iter(self._kinds)))

    def _remember_price(self, section: str, product_id: str, price: Decimal) -> None:
        self._prices[(section, product_id)] = price
        while len(self._prices) > _MAX_REMEMBERED:
            self._prices.pop(next(iter(self._prices)))

    def _forget(self, order_id: str) -> None:
        self._kinds.pop(order_id, None)

    def _kind_of(self, order: RemoteOrder) -> str:
        known = self._kinds.get(order.order_id)
        if known is not None:
            return known
        # Not seen by this client (e.g. after a restart): country ids look like "sb_102030";
        # a long way to expiry means a long-term rental (short-term ones last 15 minutes).
        if order.order_id.startswith("sb_"):
            return COUNTRY
        if order.expires_at is not None and order.expires_at - datetime.now(timezone.utc) > timedelta(hours=1):
            return "long_term"
        return "short_term"

    # ------------------------------------------------------------------ transport

    def _auth(self, body: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"email": self._email, "password": self._password, **(body or {})}

    async def _safe(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._checked(await self._send_safe(path, body), path)

    async def _action(self, path: str, order_id: str) -> dict[str, Any]:
        # activate/reject charge nothing, but are not blindly repeated either.
        response = await self._send_once(path, {"order_id": order_id}, may_charge=False)
        return self._checked(response, path)

    async def _send_once(self, path: str, body: Mapping[str, Any], *, may_charge: bool) -> httpx.Response:
        response = await send(
            self._http, "POST", self._base_url + path, provider=PROVIDER,
            json=self._auth(body), may_charge=may_charge,
        )
        if response.status_code >= 500 and may_charge:
            logger.warning("nonvoip %s -> %s: outcome unknown, not retried", path, response.status_code)
            raise ProviderUnavailable(
                "The provider did not confirm the purchase; check your orders before buying again.",
                provider=PROVIDER, may_have_charged=True,
            )
        return response

    async def _send_safe(
        self, path: str, body: Mapping[str, Any] | None = None, *, retry_429: bool = True
    ) -> httpx.Response:
        """A read, retried on transport errors, 5xx and short 429s (`retry_429=False`: the caller paces).

        Own loop over `send` (not `send_with_retry`): NonVoipUsNumber may state the wait in
        the body (`retryAfter`) or as an ISO date, which the shared helper cannot see.
        """
        policy = self._policy
        for attempt in range(1, policy.max_attempts + 1):
            last = attempt == policy.max_attempts
            try:
                response = await send(
                    self._http, "POST", self._base_url + path, provider=PROVIDER, json=self._auth(body),
                )
            except ProviderUnavailable:
                if last:
                    raise
                await asyncio.sleep(policy.backoff(attempt))
                continue
            status = response.status_code
            if last or not ((status == 429 and retry_429) or status >= 500):
                return response
            delay = policy.backoff(attempt)
            if status == 429:
                wait = _retry_after(response, _json_or_none(response))
                if wait is not None and wait > policy.retry_after_cap:
                    return response  # not worth blocking a handler: the caller gets RateLimited
                delay = wait if wait is not None else delay
            logger.info("nonvoip %s -> %s, retry %d in %.2fs", path, status, attempt, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises on the last attempt

    # ------------------------------------------------------------------ errors

    def _body(self, response: httpx.Response, path: str) -> dict[str, Any]:
        """The JSON object of an answer; HTTP-level failures raise first."""
        status = response.status_code
        data = _json_or_none(response)
        if status == 429:
            raise self._rate_limited(response, data if isinstance(data, dict) else {})
        if status >= 500:
            raise ProviderUnavailable(self._message_of(data), provider=PROVIDER)
        if not isinstance(data, dict):
            logger.warning("nonvoip %s -> %s: not a JSON object", path, status)
            if status in (401, 403):
                raise BadCredentials(provider=PROVIDER)
            raise UnexpectedResponse(provider=PROVIDER)
        return data

    def _checked(self, response: httpx.Response, path: str, *, charged: bool = False) -> dict[str, Any]:
        """The answer of a call that succeeded ("success", or "info" for orders); raises otherwise."""
        if charged and 200 <= response.status_code < 300 and not isinstance(_json_or_none(response), dict):
            # A 2xx to a purchase that we cannot read: it may well have bought something.
            logger.warning("nonvoip %s -> %s: unreadable purchase answer", path, response.status_code)
            raise _unreadable_purchase()
        data = self._body(response, path)
        status = data.get("status")
        if 200 <= response.status_code < 300 and (status == "success" or (charged and status == "info")):
            return data
        raise self._error(response, data, path)

    def _error(self, response: httpx.Response, data: Mapping[str, Any], path: str) -> ProviderError:
        message = self._message_of(data)
        if data.get("status") != "error" and 200 <= response.status_code < 300:
            logger.warning("nonvoip %s -> %s: unknown answer status", path, response.status_code)
            return UnexpectedResponse(provider=PROVIDER)
        kind = _error_class(message or "")
        if kind is None:
            if response.status_code in (401, 403):
                kind = BadCredentials
            elif message is None:
                logger.warning("nonvoip %s -> %s: error without a message", path, response.status_code)
                return UnexpectedResponse(provider=PROVIDER)
            else:
                kind = InvalidRequest
        logger.info("nonvoip %s -> %s %s", path, response.status_code, kind.__name__)
        if kind is RateLimited:
            return self._rate_limited(response, data)
        return kind(message, provider=PROVIDER)

    def _rate_limited(self, response: httpx.Response, data: Mapping[str, Any]) -> RateLimited:
        return RateLimited(
            self._message_of(data), provider=PROVIDER, retry_after=_retry_after(response, data),
        )

    def _message_of(self, data: object) -> str | None:
        """The provider's error text, fit for the chat; scrubbed of our credentials."""
        if not isinstance(data, dict):
            return None
        message = data.get("message")
        if not isinstance(message, str) or not message.strip():
            return None
        if self._password:  # belt and braces: a provider echoing the password must not leak it
            message = message.replace(self._password, "***")
        return message.strip()[:_MAX_USER_MESSAGE]


# ---------------------------------------------------------------------- helpers


def _error_class(message: str) -> type[ProviderError] | None:
    lowered = message.lower()
    if lowered.startswith("only "):  # "Only short-term numbers can be reused": wrong order for this
        return NotAllowedNow
    for needles, kind in _ERROR_TEXTS:
        if any(n in lowered for n in needles):
            return kind
    return None


def _final_status(message: str) -> OrderStatus | None:
    lowered = message.lower()
    for needles, status in _FINAL_SMS_TEXTS:
        if any(n in lowered for n in needles):
            return status
    return None


def _kind_of_section(section: str) -> str:
    if section == COUNTRY:
        return COUNTRY
    return GROUPS[section][0] if section in GROUPS else "short_term"


def _renewed(order_id: str, data: Mapping[str, Any]) -> RemoteOrder:
    """A renew answer: `expiration` (a date here), maybe `cost`/`order_id`, at the top or in `message`."""
    message = data.get("message")
    item = _first_item(message) if isinstance(message, (list, dict)) else {}
    fields = {**item, **{k: v for k, v in data.items() if k not in ("status", "message")}}
    service = _opt_text(fields, "service")
    return RemoteOrder(
        order_id=_id(fields, "order_id") if "order_id" in fields else order_id,
        phone=_opt_text(fields, "number"),
        service=service,
        service_name=service,
        price=_decimal(fields, "cost") if "cost" in fields else Decimal("0"),  # unknown without cost
        status=OrderStatus.WAITING,
        expires_at=_expiry(fields),
    )


def _decision(data: Mapping[str, Any]) -> PriceChangeDecision | PremiumBidDecision:
    """A `status: info` order answer: a decision for the user, nothing was bought."""
    message = data.get("message")
    item = _first_item(message) if isinstance(message, (list, dict)) else dict(data)
    info = item.get("info", message if isinstance(message, str) else None)
    if info == "Price_Change_Required":
        return PriceChangeDecision(
            quoted_price=_decimal(item, "quoted_price") if item.get("quoted_price") is not None else None,
            allowed_price=_decimal(item, "allowed_price") if item.get("allowed_price") is not None else None,
            available_price=_decimal(item, "available_price"),
        )
    if info == "Premium_Available":
        bid = _decimal(item, "recommended_bid")
        if bid != bid.to_integral_value():
            raise _bad("recommended_bid")
        return PremiumBidDecision(recommended_bid=int(bid))
    logger.warning("nonvoip order: unknown info answer")
    raise UnexpectedResponse(provider=PROVIDER)


def _retry_after(response: httpx.Response, data: object) -> float | None:
    """Seconds to wait: Retry-After, else the body's `retryAfter`, else X-RateLimit-Reset."""
    if "retry-after" in response.headers:
        value = parse_retry_after(response)
        if value is not None:
            return value
    if isinstance(data, dict):
        body_value = data.get("retryAfter")
        if isinstance(body_value, (int, float, str)) and not isinstance(body_value, bool):
            try:
                return max(0.0, float(body_value))
            except ValueError:
                pass
    reset = response.headers.get("x-ratelimit-reset")
    if not reset:
        return None
    try:
        float(reset)
    except ValueError:  # documented as a UTC date-time; the shared parser takes numbers only
        try:
            return max(0.0, _parse_datetime(reset).timestamp() - time.time())
        except ValueError:
            return None
    return parse_retry_after(response)  # epoch or "seconds from now"


def _unreadable_purchase() -> ProviderUnavailable:
    return ProviderUnavailable(
        "The provider confirmed the purchase in an unreadable answer; check your orders.",
        provider=PROVIDER, may_have_charged=True,
    )


def _product_ids(offer: Offer) -> list[str]:
    """A bundled offer (30-days multi-service) carries its product ids joined by commas."""
    return [part for part in offer.service.split(",") if part]


def _sms_id(text: str, code: str | None) -> str:
    """Stable across polls (getsms shows the latest SMS again and again)."""
    return hashlib.sha256(f"{text}\x00{code or ''}".encode()).hexdigest()[:16]


_PHONE = re.compile(r"\b1?\d{10}\b")


def _phone_in(text: str) -> str:
    match = _PHONE.search(text)
    return match.group(0) if match else ""


def _wire_id(product_id: str) -> int | str:
    # The API documents integer ids; keep anything non-numeric as given.
    return int(product_id) if product_id.isdigit() else product_id


def _json_or_none(response: httpx.Response) -> object:
    # Returns instead of raising, so no decoder error (holding the raw text) gets chained.
    try:
        return response.json()
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        return None


# Each helper raises UnexpectedResponse on a missing or ill-typed field.


def _bad(field: str) -> UnexpectedResponse:
    logger.warning("nonvoip response: missing or ill-typed field %r", field)
    return UnexpectedResponse(provider=PROVIDER)


def _as_dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad("object")
    return value


def _as_list(value: object, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(field)
    return value


def _first_item(value: object) -> dict[str, Any]:
    """`message` is a list of one object in most answers, a bare object in some."""
    if isinstance(value, list):
        if not value:
            raise _bad("message")
        return _as_dict(value[0])
    return _as_dict(value)


def _id(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise _bad(key)
    return str(value).strip()  # ids come as numbers or strings ("sb_102030"): always str


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(key)
    return str(value)


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _opt_text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _decimal(data: Mapping[str, Any], key: str) -> Decimal:
    amount = parsing.money(data.get(key))
    if amount is None:
        raise _bad(key)
    return amount


def _count(data: Mapping[str, Any], key: str) -> int:
    amount = _decimal(data, key)
    if amount != amount.to_integral_value() or amount < 0:
        raise _bad(key)
    return int(amount)


def _parse_datetime(value: str) -> datetime:
    """"2100-12-31 23:59:59" or ISO 8601; the API speaks UTC, so a naive stamp is UTC."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _when(value: object, key: str) -> datetime:
    if not isinstance(value, str):
        raise _bad(key)
    try:
        return _parse_datetime(value)
    except ValueError:
        raise _bad(key) from None


def _expiry(data: Mapping[str, Any]) -> datetime | None:
    """`expiration`/`till_expiration` (seconds from now), else `expires_at`/`expires` (UTC)."""
    for key in ("expiration", "till_expiration"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, str) and not _is_number(value):
            return _when(value, key)  # renew answers a date under this name
        seconds = _decimal(data, key)
        return datetime.now(timezone.utc) + timedelta(seconds=float(seconds))
    for key in ("expires_at", "expires"):
        if data.get(key) is not None:
            return _when(data[key], key)
    return None


def _is_number(text: str) -> bool:
    try:
        return Decimal(text.strip()).is_finite()
    except InvalidOperation:
        return False
