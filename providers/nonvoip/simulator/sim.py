"""NonVoipUsNumber simulator: a real HTTP server with in-memory state, for tests, benchmarks and sandbox mode.

Implements /work/shared/provider-docs/nonvoipusnumber.openapi.json under `/manager/api/...`; the Python
control API is the "Simulator" section of docs/nonvoip.md. Run standalone with
`python -m providers.nonvoip.simulator.sim --port 8082` (sandbox mode, automatic SMS after 5 s).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from providers.simulation.simulator_base import LoopbackSimulator, run_standalone
from providers.nonvoip.simulator.catalog import (
    CATEGORIES,
    COUNTRIES,
    TYPE_TO_CATEGORY,
    NumberFactory,
    Product,
    build_catalog,
)
from providers.nonvoip.simulator.http import (
    RateLimiter,
    RuleQueue,
    fail,
    injected_response,
    masked,
    ok,
    read_body,
)
from providers.nonvoip.simulator.models import (
    CENT,
    Account,
    Premium,
    PriceChange,
    RecordedRequest,
    Rule,
    SimOrder,
    money,
    stamp,
    wire_id,
)

__all__ = ["NonVoipSimulator", "SimOrder", "RecordedRequest"]


Fields = dict[str, Any]
Handler = Callable[[Fields, Account | None], Response]

PREFIX = "/manager"
SANDBOX_BALANCE = Decimal("50.00")
MAX_MULTI = 5
# Messages clients match on; docs/nonvoip.md lists them.
WRONG_AUTH = "Wrong Auth"
NO_BALANCE = "Insufficient balance."
OUT_OF_STOCK = "This product is out of stock."
NOT_FOUND = "Order not found"
NO_SMS = "No SMS received yet"
EXPIRED = "Order expired"
REJECTED = "Order rejected"

_PIN_RE = re.compile(r"(?<!\d)\d{3,8}(?!\d)")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*(d|day|days|m|month|months)?\s*$", re.IGNORECASE)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class NonVoipSimulator(LoopbackSimulator):
    """In-memory NonVoipUsNumber: accounts, catalogue, orders, callbacks, plus knobs to inject faults."""

    url_prefix = PREFIX

    def __init__(
        self, sandbox: bool = False, auto_sms_after: float | None = None, rate_limit_per_minute: int = 500
    ) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.auto_sms_after = auto_sms_after
        # Extra knobs (plain attributes, documented): rental windows a test may shorten.
        self.short_term_seconds = 900
        self.country_seconds = 300
        self.online_minutes = 10  # how long a long-term number stays online after order / activate
        self.auction_callback_delay = 0.05
        self.requests: list[RecordedRequest] = []
        self.callbacks: list[dict[str, Any]] = []
        self._products, self._country = build_catalog()
        self._accounts: dict[str, Account] = {}
        self._by_user: dict[int, Account] = {}
        self._orders: dict[str, SimOrder] = {}
        self._price_changes: dict[str, PriceChange] = {}
        self._premiums: dict[str, Premium] = {}
        self._failures = RuleQueue()
        self._delays = RuleQueue()
        self._limiter = RateLimiter(rate_limit_per_minute)
        self._numbers = NumberFactory()
        self._rng = random.Random("nonvoip-sim")
        self._order_seq = 146184
        self._country_seq = 102029
        self._user_seq = 1233
        self.app: Starlette = self._build_app()

    # ------------------------------------------------------------------ control API

    def add_account(
        self, email: str, password: str, balance: Decimal = Decimal("50.00"), *, user_id: int | None = None
    ) -> None:
        key = email.strip().lower()
        old = self._accounts.get(key)
        if user_id is None:
            user_id = old.user_id if old is not None else self._next_user_id()
        account = Account(key, password, Decimal(balance), user_id)
        if old is not None:  # re-adding reconfigures the account but keeps its orders and callback
            account.orders, account.callback_url = old.orders, old.callback_url
            self._by_user.pop(old.user_id, None)
        self._accounts[key] = account
        self._by_user[user_id] = account

    def balance_of(self, email: str) -> Decimal:
        account = self._accounts[email.strip().lower()]
        self._refresh_account(account)  # so expiry refunds show without a request
        return account.balance

    def orders_of(self, email: str) -> list[SimOrder]:
        account = self._accounts.get(email.strip().lower())
        if account is None:
            return []
        self._refresh_account(account)
        return list(account.orders)

    def order(self, order_id: str | int) -> SimOrder:
        order = self._orders[str(order_id).strip()]
        self._refresh(order)
        return order

    def receive_sms(self, order_id: str | int, text: str, pin: str | None = None) -> str:
        order = self.order(order_id)
        if order.status in ("Rejected", "Expired"):
            raise ValueError(f"order {order.order_id} is {order.status}; it cannot receive SMS")
        if pin is None:
            match = _PIN_RE.search(text)
            if match is None:
                raise ValueError(f"no 3-8 digit code in {text!r}; pass pin= explicitly")
            pin = match.group(0)
        order.sms.append((text, pin))
        order.sms_times.append(time.time())
        if not order.long:  # a short-term rental is done with its SMS; long-term numbers keep receiving
            order.status = "Completed"
        self._notify_sms(order, text, pin)
        return pin

    def expire(self, order_id: str | int) -> None:
        order = self._orders[str(order_id).strip()]
        if order.live:
            self._mark_expired(order)

    def require_price_change(self, product_id: str | int, available_price: Decimal, times: int = 1) -> None:
        self._rule_set(self._price_changes, product_id, PriceChange(Decimal(available_price), times))

    def offer_premium(self, product_id: str | int, recommended_bid: int = 20, times: int = 1) -> None:
        self._rule_set(self._premiums, product_id, Premium(recommended_bid, times))

    def fail_next(
        self,
        path: str,
        status: int,
        body: dict[str, Any] | str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        email: str | None = None,
    ) -> None:
        """`email`: only that account's requests get the failure."""
        self._failures.add(Rule(
            _api_path(path), times, status=status, body=body, headers=headers,
            email=email.strip().lower() if email else None,
        ))

    def delay_next(self, path: str, seconds: float, times: int = 1) -> None:
        self._delays.add(Rule(_api_path(path), times, seconds=seconds))

    def set_rate_limit(self, per_minute: int | None) -> None:
        """Extra knob: change (None = disable) the per-account limit; starts a fresh window."""
        self._limiter.set(per_minute)

    def set_stock(self, product_id: str | int, count: int) -> None:
        self._product(product_id).available = count

    def set_price(self, product_id: str | int, price: Decimal) -> None:
        self._product(product_id).price = Decimal(price)

    def request_count(self, path: str | None = None, email: str | None = None) -> int:
        """Requests matching every given filter; `path` like "/api/getsms" (a "/manager" prefix is fine)."""
        wanted_path = _api_path(path) if path is not None else None
        wanted_email = email.strip().lower() if email is not None else None
        return sum(
            1
            for r in self.requests
            if (wanted_path is None or r.path == wanted_path) and (wanted_email is None or r.email == wanted_email)
        )

    # ------------------------------------------------------------------ state helpers

    def _next_user_id(self) -> int:
        self._user_seq += 1
        while self._user_seq in self._by_user:
            self._user_seq += 1
        return self._user_seq

    def _product(self, product_id: str | int) -> Product:
        pid = str(product_id).strip()
        product = self._products.get(pid) or self._country.get(pid)
        if product is None:
            raise KeyError(f"unknown product {product_id!r}")
        return product

    def _rule_set(self, rules: dict[str, Any], product_id: str | int, rule: PriceChange | Premium) -> None:
        pid = self._product(product_id).product_id
        if rule.times > 0:
            rules[pid] = rule
        else:
            rules.pop(pid, None)

    @staticmethod
    def _rule_use(rules: dict[str, Any], product_id: str) -> None:
        rule = rules.get(product_id)
        if rule is not None:
            rule.times -= 1
            if rule.times <= 0:
                del rules[product_id]

    def _refresh(self, order: SimOrder) -> None:
        """Lazy expiry: applied whenever an order is looked at, so no sweeper task is needed."""
        if order.live and _now() >= order.expires_at:
            self._mark_expired(order)

    def _refresh_account(self, account: Account) -> None:
        for order in account.orders:
            self._refresh(order)

    def _mark_expired(self, order: SimOrder) -> None:
        order.status = "Expired"
        if not order.has_new_sms:  # the provider refunds a rental (or reuse) that never got its SMS
            self._refund(order)

    def _refund(self, order: SimOrder) -> None:
        if not order.refunded and order.charged > 0:
            order.refunded = True
            self._accounts[order.email].balance += order.charged

    def _charge(self, account: Account, order: SimOrder, amount: Decimal) -> None:
        account.balance -= amount
        order.charged = amount
        order.refunded = False

    def _register(self, account: Account, order: SimOrder) -> None:
        self._orders[order.order_id] = order
        account.orders.append(order)
        self._schedule_auto_sms(order)

    def _new_us_order(self, account: Account, products: Sequence[Product], price: Decimal) -> SimOrder:
        first, now = products[0], _now()
        self._order_seq += 1
        long = first.period is not None
        order = SimOrder(
            order_id=str(self._order_seq),
            email=account.email,
            number=self._numbers.new(),
            service=", ".join(p.name for p in products),
            product_id=first.product_id,
            type=first.type,
            status="Active" if long else "Reserved",
            price=price,
            expires_at=now + (first.period if first.period else timedelta(seconds=self.short_term_seconds)),
            online_until=now + timedelta(minutes=self.online_minutes) if long else None,
            product_ids=[p.product_id for p in products],
        )
        for product in products:
            product.available -= 1
        self._charge(account, order, price)
        self._register(account, order)
        return order

    def _new_country_order(self, account: Account, product: Product) -> SimOrder:
        self._country_seq += 1
        order = SimOrder(
            order_id=f"sb_{self._country_seq}",
            email=account.email,
            number=self._numbers.new(product.country),
            service=product.code,
            product_id=product.product_id,
            type="country",
            status="Reserved",
            price=product.price,
            expires_at=_now() + timedelta(seconds=self.country_seconds),
            product_ids=[product.product_id],
            country=COUNTRIES[product.country][0],
        )
        product.available -= 1
        self._charge(account, order, product.price)
        self._register(account, order)
        return order

    # ------------------------------------------------------------------ background work

    def _schedule_auto_sms(self, order: SimOrder) -> None:
        if self.auto_sms_after is not None:
            self._spawn(self._auto_sms(order.order_id, order.cycle_start, self.auto_sms_after))

    async def _auto_sms(self, order_id: str, cycle_start: int, delay: float) -> None:
        await asyncio.sleep(delay)
        order = self.order(order_id)
        # Only the wait this task was started for: a reuse in between schedules its own SMS.
        if order.live and order.cycle_start == cycle_start and not order.has_new_sms:
            code = f"{self._rng.randint(0, 999_999):06d}"
            self.receive_sms(order_id, f"Your {order.service} verification code is {code}", code)

    def _notify_sms(self, order: SimOrder, text: str, pin: str) -> None:
        message = {
            "order_id": wire_id(order.order_id),
            "number": order.number,
            "service": order.service,
            "sender": str(self._rng.randint(1000, 99_999)),
            "sms": text,
            "code": pin,
            "type": "ltr" if order.long else "str",  # the provider's example says "str" (short-term rental)
        }
        self._callback(order.email, {"event": "incoming_message", "message": message})

    def _callback(self, email: str, payload: dict[str, Any], delay: float = 0.0) -> None:
        account = self._accounts[email]
        if not account.callback_url:
            return
        delivery: dict[str, Any] = {"url": account.callback_url, "payload": payload, "status": None, "error": None}
        try:
            self._spawn(self._deliver(delivery, delay))
        except RuntimeError as exc:  # called with no running loop: record it, never raise
            delivery["error"] = repr(exc)
            self.callbacks.append(delivery)

    async def _deliver(self, delivery: dict[str, Any], delay: float) -> None:
        if delay:
            await self._pause(delay)
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        try:
            response = await self._http.post(delivery["url"], json=delivery["payload"])
            delivery["status"] = response.status_code
        except Exception as exc:  # a broken receiver must never break the simulator
            delivery["error"] = repr(exc)
        self.callbacks.append(delivery)

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_app(self) -> Starlette:
        ep = self._endpoint
        handlers: dict[str, tuple[Handler, str]] = {
            "balance": (self._h_balance, "required"),
            "products": (self._h_products, "required"),
            "order": (self._h_order, "required"),
            "country/products": (self._h_country_products, "required"),
            "country/order": (self._h_country_order, "required"),
            "getsms": (self._h_getsms, "required"),
            "reject": (self._h_reject, "required"),
            "reuse": (self._h_reuse, "required"),
            "activate": (self._h_activate, "required"),
            "renew": (self._h_renew, "required"),
            "saveurl": (self._h_saveurl, "optional"),  # documented with userId instead of credentials
        }
        routes = [
            Route(f"{PREFIX}/api/{name}", ep(handler, auth), methods=["POST"])
            for name, (handler, auth) in handlers.items()
        ]
        routes.append(Route(PREFIX + "/api/{path:path}", ep(self._h_not_found, "none"), methods=["POST"]))
        return Starlette(routes=routes)

    def _endpoint(self, handler: Handler, auth: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            path = request.scope["path"].removeprefix(PREFIX)  # cheaper than building request.url
            fields, problem = await read_body(request)
            email = _email_of(fields)
            record = RecordedRequest(path, masked(fields), email, request.headers.get("content-type", ""),
                                     time.monotonic())
            self.requests.append(record)
            bucket = email or _user_bucket(fields) or f"ip:{request.client.host if request.client else '?'}"
            response = await self._process(path, bucket, fields, problem, handler, auth)
            record.status = response.status_code
            return response

        return endpoint

    async def _process(
        self, path: str, bucket: str, fields: Fields | None, problem: str | None, handler: Handler, auth: str
    ) -> Response:
        injected = self._failures.take(path, bucket)
        if injected is not None:  # fail_next: answer INSTEAD of processing
            return injected_response(injected)
        allowed, rate_headers, retry_after = self._limiter.check(bucket)
        if not allowed:
            response: Response = fail("Too many requests", 429, limit=self._limiter.per_minute,
                                      retryAfter=retry_after)
        else:
            delay = self._delays.take(path)
            response = self._dispatch(fields, problem, handler, auth)
            if delay is not None:  # delay_next: the work is done, only the answer is late
                await self._pause(delay.seconds)
        response.headers.update(rate_headers)
        return response

    def _dispatch(self, fields: Fields | None, problem: str | None, handler: Handler, auth: str) -> Response:
        if fields is None:
            return fail(problem or "Invalid request body")
        account: Account | None = None
        if auth == "required" or (auth == "optional" and ("email" in fields or "password" in fields)):
            account = self._authenticate(fields)
            if account is None:
                return fail(WRONG_AUTH)
        return handler(fields, account)

    def _authenticate(self, fields: Fields) -> Account | None:
        email = _email_of(fields)
        password = fields.get("password")
        if not email or not isinstance(password, (str, int)) or isinstance(password, bool):
            return None
        account = self._accounts.get(email)
        demo = self.sandbox and email.startswith("demo")
        if account is None and demo:
            self.add_account(email, str(password), SANDBOX_BALANCE)
            return self._accounts[email]
        if account is None:
            return None
        if demo or hmac.compare_digest(account.password.encode(), str(password).encode()):
            return account
        return None

    def _lookup(self, fields: Fields, account: Account) -> SimOrder | None:
        """By order_id (preferred), else by service + number, as the provider documents."""
        order_id = _id_text(fields.get("order_id", fields.get("id")))
        if order_id:
            order = self._orders.get(order_id)
            return order if order is not None and order.email == account.email else None
        number = re.sub(r"\D", "", str(fields.get("number") or ""))
        service = str(fields.get("service") or "").strip().lower()
        if not number or not service:
            return None
        for order in reversed(account.orders):
            if order.number == number and service in (order.service.lower(), *self._names_of(order)):
                return order
        return None

    def _names_of(self, order: SimOrder) -> list[str]:
        return [self._product(pid).name.lower() for pid in order.product_ids]

    def _live_order(self, fields: Fields, account: Account | None) -> SimOrder | Response:
        assert account is not None
        order = self._lookup(fields, account)
        if order is None:
            return fail(NOT_FOUND)
        self._refresh(order)
        return order

    # ------------------------------------------------------------------ handlers: account and catalogue

    def _h_balance(self, fields: Fields, account: Account | None) -> Response:
        assert account is not None
        return ok(balance=money(account.balance))

    def _h_products(self, fields: Fields, account: Account | None) -> Response:
        items = list(self._products.values())
        kind = fields.get("type")
        if kind not in (None, ""):
            if kind not in TYPE_TO_CATEGORY:
                return fail("Invalid type. Use short_term, long_term, one_day or 3days.")
            items = [p for p in items if p.type == kind]
        raw_id = fields.get("product_id", fields.get("id"))
        if raw_id not in (None, ""):
            pid = _id_text(raw_id)
            items = [p for p in items if p.product_id == pid]
            if not items:
                return fail("Product not found")
        if _truthy(fields.get("grouped")):
            grouped = {
                category: [p.to_json() for p in items if p.category == category] for category in CATEGORIES
            }
            return ok(message={k: v for k, v in grouped.items() if v})
        return ok(message=[p.to_json(with_category=True) for p in items])

    def _h_country_products(self, fields: Fields, account: Account | None) -> Response:
        return ok(message=[p.to_json() for p in self._country.values()])

    # ------------------------------------------------------------------ handlers: ordering

    def _h_order(self, fields: Fields, account: Account | None) -> Response:
        assert account is not None
        if fields.get("product_ids") not in (None, "", []):
            return self._order_multi(fields, account)
        pid = _id_text(fields.get("product_id", fields.get("id")))
        if not pid:
            return fail("product_id is required")
        product = self._products.get(pid)
        if product is None:
            hint = " (country-wise products are ordered with /api/country/order)" if pid in self._country else ""
            return fail("Product not found" + hint)
        try:
            accepted = _decimal(fields.get("accepted_max_price"))
        except ValueError:
            return fail("accepted_max_price must be a number")
        try:
            auction = _whole(fields.get("auction"))
        except ValueError:
            return fail("auction must be a whole number between 10 and 2000")
        if auction is not None:
            if not 10 <= auction <= 2000:
                return fail("auction must be a whole number between 10 and 2000")
            if product.type != "short_term":
                return fail("Auction is only available for 10-minutes products")
        return self._order_single(account, product, accepted, auction)

    def _order_single(
        self, account: Account, product: Product, accepted: Decimal | None, auction: int | None
    ) -> Response:
        if product.available <= 0:
            return fail(OUT_OF_STOCK)
        price = product.price
        change = self._price_changes.get(product.product_id)
        if change is not None:
            if accepted is None or accepted < change.available_price:
                return _price_change_info(product.price, change.available_price)
            price = change.available_price  # the debit is the route price, not the accepted cap
        premium = self._premiums.get(product.product_id)
        if premium is not None and (auction is None or auction < premium.recommended_bid):
            return _info({"info": "Premium_Available", "recommended_bid": premium.recommended_bid})
        if auction is not None:  # the bid is a percentage on top of the route price
            price = (price * (100 + auction) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        if account.balance < price:
            return fail(NO_BALANCE)
        if change is not None:
            self._rule_use(self._price_changes, product.product_id)
        if auction is not None:
            self._rule_use(self._premiums, product.product_id)
        order = self._new_us_order(account, [product], price)
        if auction is not None:
            self._announce_auction_win(order)
        return ok(message=[_order_json(order)])

    def _order_multi(self, fields: Fields, account: Account) -> Response:
        try:
            ids = _id_list(fields.get("product_ids"))
        except ValueError:
            return fail("product_ids must be a list of product ids")
        if len(ids) > MAX_MULTI:
            return fail(f"You can order at most {MAX_MULTI} services at once")
        if len(set(ids)) != len(ids):
            return fail("product_ids must not repeat a product")
        products = [self._products.get(pid) for pid in ids]
        if any(p is None for p in products):
            return fail("Product not found")
        chosen = [p for p in products if p is not None]
        if any(p.type != "long_term" for p in chosen):
            return fail("product_ids is only available for 30-days products")
        if any(p.available <= 0 for p in chosen):
            return fail(OUT_OF_STOCK)
        price = sum((p.price for p in chosen), Decimal("0"))
        if account.balance < price:
            return fail(NO_BALANCE)
        return ok(message=[_order_json(self._new_us_order(account, chosen, price))])

    def _h_country_order(self, fields: Fields, account: Account | None) -> Response:
        assert account is not None
        pid = _id_text(fields.get("product_id", fields.get("id")))
        if not pid:
            return fail("product_id is required")
        product = self._country.get(pid)
        if product is None:
            return fail("Product not found")
        if product.available <= 0:
            return fail(OUT_OF_STOCK)
        if account.balance < product.price:
            return fail(NO_BALANCE)
        return ok(message=_order_json(self._new_country_order(account, product)))

    def _announce_auction_win(self, order: SimOrder) -> None:
        """The premium bid "wins" shortly after the order answer, as a separate callback."""
        win = {"order_id": wire_id(order.order_id), "number": order.number, "service": order.service,
               "expiration": order.seconds_left(_now())}
        self._callback(order.email, {"event": "auction_wining", "message": [win]}, self.auction_callback_delay)

    # ------------------------------------------------------------------ handlers: order actions

    def _h_getsms(self, fields: Fields, account: Account | None) -> Response:
        found = self._live_order(fields, account)
        if isinstance(found, Response):
            return fail(NOT_FOUND, 404)
        order = found
        if order.status == "Rejected":
            return fail(REJECTED, 200)
        if order.status == "Expired":
            return fail(EXPIRED, 200)
        if not order.has_new_sms:  # the country-wise backend answers 404 for "nothing yet"
            return fail(NO_SMS, 404 if order.type == "country" else 200)
        text, pin = order.sms[-1]
        return ok(number=order.number, service=order.service, sms=text, pin=pin, type=order.type)

    def _h_reject(self, fields: Fields, account: Account | None) -> Response:
        found = self._live_order(fields, account)
        if isinstance(found, Response):
            return found
        order = found
        refused = _final_problem(order)
        if refused is not None:
            return refused
        if order.long:
            return fail("Only reserved numbers can be rejected")
        if order.status != "Reserved" or order.has_new_sms:
            return fail("An SMS was already received; the order cannot be rejected")
        order.status = "Rejected"
        self._refund(order)
        return ok(message=f"The rental for {order.service} {order.number} has been stopped and refunded.")

    def _h_reuse(self, fields: Fields, account: Account | None) -> Response:
        found = self._live_order(fields, account)
        if isinstance(found, Response):
            return found
        order = found
        assert account is not None
        if order.type != "short_term":
            return fail("Only short-term numbers can be reused")
        refused = _final_problem(order)
        if refused is not None:
            return refused
        if order.status != "Completed":
            return fail("The number is still waiting for an SMS")
        price = self._products[order.product_id].price
        if account.balance < price:
            return fail(NO_BALANCE)
        # Same order, same number: a new wait that only a NEW SMS completes.
        order.status = "Reserved"
        order.cycle_start = len(order.sms)
        order.expires_at = _now() + timedelta(seconds=self.short_term_seconds)
        self._charge(account, order, price)
        self._schedule_auto_sms(order)
        reused = {"order_id": wire_id(order.order_id), "status": order.status, "number": order.number,
                  "service": order.service, "till_expiration": order.seconds_left(_now()), "type": order.type}
        return ok(message=[reused])

    def _h_activate(self, fields: Fields, account: Account | None) -> Response:
        found = self._live_order(fields, account)
        if isinstance(found, Response):
            return found
        order = found
        if not order.long:
            return fail("Only long-term, 1-day and 3-days numbers can be activated")
        refused = _final_problem(order)
        if refused is not None:
            return refused
        now = _now()
        order.online_until = min(now + timedelta(minutes=self.online_minutes), order.expires_at)
        window = {"online_status": "online", "end_on": stamp(order.online_until), "timezone": "UTC"}
        return ok(message=[window])

    def _h_renew(self, fields: Fields, account: Account | None) -> Response:
        found = self._live_order(fields, account)
        if isinstance(found, Response):
            return found
        order = found
        assert account is not None
        if not order.long:
            return fail("Only long-term, 1-day and 3-days numbers can be renewed")
        refused = _final_problem(order)
        if refused is not None:
            return refused
        products = [self._products[pid] for pid in order.product_ids]
        period_days = (products[0].period or timedelta(days=30)).days
        days = _duration_days(fields.get("duration"), period_days)
        if days is None:
            return fail("Invalid duration. Use a number of days such as 30d.")
        # Priced pro rata from the product's own period ("30d" on a 30-days number = its price).
        cost = (sum((p.price for p in products), Decimal("0")) * days / period_days).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        if account.balance < cost:
            return fail(NO_BALANCE)
        account.balance -= cost
        order.charged += cost
        order.expires_at += timedelta(days=days)
        return ok(message="Number renewed successfully", order_id=wire_id(order.order_id),
                  expiration=stamp(order.expires_at), cost=money(cost))

    def _h_saveurl(self, fields: Fields, account: Account | None) -> Response:
        url = str(fields.get("url") or "").strip()
        if not url.lower().startswith(("http://", "https://")):
            return fail("A valid url is required")
        if account is None:  # documented form: userId names the account
            try:
                user_id = _whole(fields.get("userId", fields.get("user_id")))
            except ValueError:
                user_id = None
            account = self._by_user.get(user_id) if user_id is not None else None
            if account is None:
                return fail("User not found", 404)
        account.callback_url = url
        return ok(message="Callback URL saved successfully")

    def _h_not_found(self, fields: Fields, account: Account | None) -> Response:
        return fail("Not found", 404)


# ---------------------------------------------------------------------- pure helpers


def _api_path(path: str) -> str:
    """Control-API paths are "/api/..."; a "/manager" prefix or a full URL path is accepted too."""
    return path.strip().removeprefix(PREFIX)


def _email_of(fields: Fields | None) -> str | None:
    if not fields:
        return None
    email = fields.get("email")
    if not isinstance(email, str):
        return None
    return email.strip().lower() or None


def _user_bucket(fields: Fields | None) -> str | None:
    user_id = fields.get("userId") if fields else None
    return f"user:{user_id}" if user_id not in (None, "") else None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _id_text(value: Any) -> str | None:
    """Ids arrive as numbers or strings (146185, "146185", "sb_102030"): one canonical text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    if isinstance(value, (int, str)):
        return str(value).strip() or None
    return None


def _id_list(value: Any) -> list[str]:
    """product_ids as a JSON array, a JSON-array string, "9044,8555", or repeated form fields."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ValueError(value) from exc
        else:
            value = [part for part in text.split(",") if part.strip()]
    if not isinstance(value, list):
        value = [value]
    ids = [_id_text(item) for item in value]
    if not ids or any(item is None for item in ids):
        raise ValueError(value)
    return [item for item in ids if item is not None]


def _decimal(value: Any) -> Decimal | None:
    """None when absent; ValueError when not a finite number (string or JSON number)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def _whole(value: Any) -> int | None:
    number = _decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(value)
    return int(number)


def _duration_days(value: Any, default: int) -> int | None:
    """"30d", "30", 30, "1 month" -> days (1..365); None when unreadable."""
    if value is None or value == "":
        return default
    match = _DURATION_RE.match(str(value)) if not isinstance(value, bool) else None
    if match is None:
        return None
    days = int(match.group(1)) * (30 if (match.group(2) or "d").lower().startswith("m") else 1)
    return days if 1 <= days <= 365 else None


def _final_problem(order: SimOrder) -> Response | None:
    if order.status == "Expired":
        return fail(EXPIRED)
    if order.status == "Rejected":
        return fail(REJECTED)
    return None


def _order_json(order: SimOrder) -> dict[str, Any]:
    """The order answer item: short-term has `expiration` seconds, long-term `expires`, country both+cost."""
    now = _now()
    body: dict[str, Any] = {"order_id": wire_id(order.order_id), "status": order.status,
                            "number": order.number, "service": order.service}
    if order.type == "country":
        body.update(country=order.country, expiration=order.seconds_left(now),
                    expires_at=stamp(order.expires_at), cost=money(order.price))
    elif order.long:
        body.update(type=order.type, expires=stamp(order.expires_at))
    else:
        body.update(expiration=order.seconds_left(now), type=order.type)
    return body


def _info(item: dict[str, Any]) -> JSONResponse:
    """A decision state (status: info), not a failure."""
    return JSONResponse({"status": "info", "message": [item]})


def _price_change_info(listed: Decimal, available: Decimal) -> JSONResponse:
    allowed = (listed * Decimal("1.3")).quantize(CENT, rounding=ROUND_HALF_UP)  # the 30% tolerance
    return _info({"info": "Price_Change_Required", "quoted_price": float(listed),
                  "allowed_price": float(allowed), "available_price": float(available)})


def main(argv: list[str] | None = None) -> None:
    run_standalone(lambda delay: NonVoipSimulator(sandbox=True, auto_sms_after=delay), "NonVoipUsNumber", 8082, argv)


if __name__ == "__main__":
    main()
