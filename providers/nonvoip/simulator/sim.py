"""NonVoipUsNumber simulator: a real HTTP server with in-memory state, for tests, benchmarks and sandbox mode.

Implements /work/shared/provider-docs/nonvoipusnumber.openapi.json under `/manager/api/...`; the Python
control API is the "Simulator" section of docs/nonvoip.md. Run standalone with
`python -m providers.nonvoip.simulator.sim --port 8082` (sandbox mode, automatic SMS after 5 s).

Layout: state.py (accounts, orders, money), handlers.py (the endpoints), answers.py / fields.py /
http.py (wire shapes, request fields, body parsing), catalog.py, models.py; faults, rate limit and
request records are the shared ones of providers/simulation/. This module is the control API,
background work (auto SMS, callbacks) and the HTTP plumbing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.nonvoip.simulator.answers import WRONG_AUTH
from providers.nonvoip.simulator.fields import PREFIX, Fields, api_path, email_of, now, user_bucket
from providers.nonvoip.simulator.handlers import ApiHandlers
from providers.nonvoip.simulator.http import fail, iso_reset, masked, read_body
from providers.nonvoip.simulator.models import Account, Premium, PriceChange, RecordedRequest, SimOrder, wire_id
from providers.simulation.codes import required_code
from providers.simulation.faults import Body, Faults, Loss, Rule
from providers.simulation.rate_limit import RateLimiter
from providers.simulation.requests import count_requests
from providers.simulation.simulator_base import LoopbackSimulator, run_standalone

__all__ = ["NonVoipSimulator", "SimOrder", "RecordedRequest"]

Handler = Callable[[Fields, Account | None], Response]

class NonVoipSimulator(ApiHandlers, LoopbackSimulator):
    """In-memory NonVoipUsNumber: accounts, catalogue, orders, callbacks, plus knobs to inject faults."""

    url_prefix = PREFIX

    def __init__(
        self, sandbox: bool = False, auto_sms_after: float | None = None, rate_limit_per_minute: int = 500
    ) -> None:
        super().__init__(sandbox)
        self.auto_sms_after = auto_sms_after
        self.requests: list[RecordedRequest] = []
        self.callbacks: list[dict[str, Any]] = []
        self._faults = Faults("segments", seed="nonvoip-faults")
        self._limiter = RateLimiter(rate_limit_per_minute, reset=iso_reset)
        self.app: Starlette = self._build_app()

    # ------------------------------------------------------------------ control API

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

    def receive_sms(self, order_id: str | int, text: str, pin: str | None = None, *,
                    service: str | None = None) -> str:
        """`service`: which service of a one-order bundle the SMS is for (getsms and the callback
        name it); default the order's own service."""
        order = self.order(order_id)
        if order.status in ("Rejected", "Expired"):
            raise ValueError(f"order {order.order_id} is {order.status}; it cannot receive SMS")
        if service is not None and service.lower() not in (order.service.lower(), *self._names_of(order)):
            raise ValueError(f"order {order.order_id} has no service {service!r}")
        pin = required_code(text, pin, shortest=3, keyword="pin")
        order.sms.append((text, pin))
        order.sms_services.append(service or order.service)
        order.sms_times.append(time.time())
        if not order.long:  # a short-term rental is done with its SMS; long-term numbers keep receiving
            order.status = "Completed"
        self._notify_sms(order, text, pin, service or order.service)
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
        body: Body = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        email: str | None = None,
        chance: float = 1.0,
    ) -> None:
        """Answer INSTEAD of processing. `email`: only that account's requests; `chance`: that
        share of the matching requests (seeded)."""
        self._faults.instead.add(Rule(
            api_path(path), times, account=_key(email), chance=chance, status=status, body=body, headers=headers,
        ))

    def lose_answer_next(
        self,
        path: str,
        status: int = 500,
        body: Body = None,
        *,
        truncate: bool = False,
        times: int = 1,
        email: str | None = None,
        chance: float = 1.0,
    ) -> None:
        """Process the request (the provider acts, charges, ...), then lose its answer: send
        `status`/`body` instead, or with `truncate` the real JSON body cut in half."""
        self._faults.losses.add(Rule(
            api_path(path), times, account=_key(email), chance=chance, status=status, body=body,
            loss=Loss.TRUNCATED if truncate else Loss.REPLACED,
        ))

    def delay_next(self, path: str, seconds: float, times: int = 1, email: str | None = None) -> None:
        """Process the request, then answer `seconds` late (a client timeout after the provider acted)."""
        self._faults.delays.add(Rule(api_path(path), times, account=_key(email), seconds=seconds))

    def set_rate_limit(self, per_minute: int | None) -> None:
        """Extra knob: change (None = disable) the per-account limit; starts a fresh window."""
        self._limiter.set(per_minute)

    def set_stock(self, product_id: str | int, count: int) -> None:
        self._product(product_id).available = count

    def set_price(self, product_id: str | int, price: Decimal) -> None:
        self._product(product_id).price = Decimal(price)

    def request_count(self, path: str | None = None, email: str | None = None) -> int:
        """Requests matching every given filter; `path` like "/api/getsms" (a "/manager" prefix is fine)."""
        wanted_path = api_path(path) if path is not None else None
        return count_requests(self.requests, path=wanted_path, account=_key(email) if email is not None else None)

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

    def _notify_sms(self, order: SimOrder, text: str, pin: str, service: str) -> None:
        message = {
            "order_id": wire_id(order.order_id),
            "number": order.number,
            "service": service,
            "sender": str(self._rng.randint(1000, 99_999)),
            "sms": text,
            "code": pin,
            "type": "ltr" if order.long else "str",  # the provider's example says "str" (short-term rental)
        }
        self._callback(order.email, {"event": "incoming_message", "message": message})

    def _announce_auction_win(self, order: SimOrder) -> None:
        """The premium bid "wins" shortly after the order answer, as a separate callback."""
        win = {"order_id": wire_id(order.order_id), "number": order.number, "service": order.service,
               "expiration": order.seconds_left(now())}
        self._callback(order.email, {"event": "auction_wining", "message": [win]}, self.auction_callback_delay)

    def _callback(self, email: str, payload: dict[str, Any], delay: float = 0.0) -> None:
        account = self._accounts[email]
        if not account.callback_url:
            return
        delivery: dict[str, Any] = {"url": account.callback_url, "payload": payload, "status": None, "error": None}
        self._post_later(self.callbacks, delivery, {"json": payload}, delay)

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
            email = email_of(fields)
            record = RecordedRequest("POST", path, {}, {}, masked(fields), email, time.monotonic(),
                                     content_type=request.headers.get("content-type", ""))
            self.requests.append(record)
            bucket = email or user_bucket(fields) or f"ip:{request.client.host if request.client else '?'}"
            response = await self._process(path, bucket, fields, problem, handler, auth)
            record.status = response.status_code
            return response

        return endpoint

    async def _process(
        self, path: str, bucket: str, fields: Fields | None, problem: str | None, handler: Handler, auth: str
    ) -> Response:
        injected = self._faults.injected("POST", path, bucket)
        if injected is not None:  # fail_next: answer INSTEAD of processing
            return injected
        rate = self._limiter.check(bucket)
        if not rate.allowed:
            response: Response = fail("Too many requests", 429, limit=self._limiter.per_minute,
                                      retryAfter=rate.retry_after)
        else:
            async def work() -> Response:
                return self._dispatch(fields, problem, handler, auth)

            response = await self._faults.around("POST", path, bucket, work, self._pause)
        response.headers.update(rate.headers)
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


def _key(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def main(argv: list[str] | None = None) -> None:
    run_standalone(lambda delay: NonVoipSimulator(sandbox=True, auto_sms_after=delay), "NonVoipUsNumber", 8082, argv)


if __name__ == "__main__":
    main()
