"""kiwiSMS simulator: a real HTTP server with in-memory state, for tests, benchmarks and sandbox mode.

Implements /work/shared/provider-docs/kiwisms.openapi.json; the Python control API is the contract in
docs/kiwi-simulator-api.md. Run standalone with `python -m providers.kiwi.simulator.sim --port 8081`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from providers.kiwi.simulator.catalog import DEFAULT_COUNTRY, format_price
from providers.kiwi.simulator.http import KiwiContext, error, read_kiwi_context
from providers.kiwi.simulator.idempotency import IdempotencyStore
from providers.kiwi.simulator.models import Account, RecordedRequest, SimRental, money
from providers.kiwi.simulator.requests import action_answer, parse_rent_request
from providers.kiwi.simulator.state import KiwiState, utc_now
from providers.simulation.faults import Body, Faults, Loss, Rule
from providers.simulation.rate_limit import RateLimiter
from providers.simulation.requests import count_requests
from providers.simulation.simulator_base import run_standalone

__all__ = ["KiwiSimulator", "SimRental", "RecordedRequest"]


Handler = Callable[[KiwiContext, Account | None], Response]

_SANDBOX_BALANCE = Decimal("50.00")


class KiwiSimulator(KiwiState):
    """In-memory kiwiSMS (see KiwiState) behind its HTTP API, plus knobs to inject faults."""

    def __init__(
        self, sandbox: bool = False, auto_sms_after: float | None = None, rental_minutes: float = 20.0
    ) -> None:
        super().__init__(sandbox, auto_sms_after, rental_minutes)
        self.requests: list[RecordedRequest] = []
        self._idempotency = IdempotencyStore()
        self._faults = Faults("prefix", seed="kiwi-faults")
        self._limiter = RateLimiter()
        self.app: Starlette = self._build_app()

    # ------------------------------------------------------------------ fault knobs

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        body: Body = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self._faults.instead.add(Rule(path_prefix, times, method.upper(), status=status, body=body, headers=headers))

    def fail_after_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        body: Body = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next matching requests ARE processed, then answered like `fail_next` (a lost answer)."""
        self._faults.losses.add(Rule(path_prefix, times, method.upper(), status=status, body=body, headers=headers))

    def truncate_next(self, method: str, path_prefix: str, times: int = 1) -> None:
        """The next matching requests ARE processed; their JSON answer is cut in half."""
        self._faults.losses.add(Rule(path_prefix, times, method.upper(), loss=Loss.TRUNCATED))

    def delay_next(self, method: str, path_prefix: str, seconds: float, times: int = 1) -> None:
        self._faults.delays.add(Rule(path_prefix, times, method.upper(), seconds=seconds))

    def stall_next(self, method: str, path_prefix: str, seconds: float, times: int = 1) -> None:
        """Extra knob: wait BEFORE processing (idempotency record pending), so a retry sees 409."""
        self._faults.stalls.add(Rule(path_prefix, times, method.upper(), seconds=seconds))

    def set_rate_limit(self, per_minute: int | None) -> None:
        self._limiter.set(per_minute)

    def request_count(
        self, method: str | None = None, path: str | None = None, api_key: str | None = None
    ) -> int:
        """Requests matching every given filter; `path` is an exact path (no query string)."""
        return count_requests(self.requests, method, path, api_key)

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_app(self) -> Starlette:
        ep = self._endpoint
        routes = [
            Route("/api/v1/balance", ep(self._get_balance), methods=["GET"]),
            Route("/api/v1/services", ep(self._get_services), methods=["GET"]),
            Route("/api/v1/rentals", ep(self._list_rentals), methods=["GET"]),
            Route("/api/v1/rentals", ep(self._create, idempotent=True), methods=["POST"]),
            Route("/api/v1/rentals/{id}", ep(self._get_rental), methods=["GET"]),
            Route("/api/v1/rentals/{id}/cancel", ep(self._cancel), methods=["POST"]),
            Route("/api/v1/rentals/{id}/done", ep(self._done), methods=["POST"]),
            Route("/api/v1/rentals/{id}/renew", ep(self._renew, idempotent=True, replay_status=200),
                  methods=["POST"]),
            Route("/api/public/pricing", ep(self._public_pricing, auth=False), methods=["GET"]),
            Route("/{path:path}", ep(self._not_found, auth=False),
                  methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
        return Starlette(routes=routes)

    def _endpoint(
        self, handler: Handler, *, auth: bool = True, idempotent: bool = False,
        replay_status: int | None = None,
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            ctx = await read_kiwi_context(request)
            record = ctx.record(RecordedRequest)
            self.requests.append(record)
            response = await self._process(ctx, handler, auth, idempotent, replay_status)
            for name, value in ctx.rate_headers.items():
                response.headers.setdefault(name, value)
            record.status = response.status_code
            return response

        return endpoint

    async def _process(
        self, ctx: KiwiContext, handler: Handler, auth: bool, idempotent: bool,
        replay_status: int | None,
    ) -> Response:
        injected = self._faults.injected(ctx.method, ctx.path)
        if injected is not None:  # fail_next: answer INSTEAD of processing
            return injected
        rate = self._limiter.check(ctx.api_key or f"anonymous:{ctx.client}")
        ctx.rate_headers = rate.headers
        if not rate.allowed:
            headers = {**rate.headers, "Retry-After": str(rate.retry_after)}
            return error(429, "Rate limit exceeded", "RATE_LIMITED", headers=headers)
        account: Account | None = None
        if auth:
            account, denied = self._authenticate(ctx)
            if denied is not None:
                return denied

        async def work() -> Response:
            return handler(ctx, account)

        async def idempotent_work(stalled: Callable[[], Awaitable[Response]]) -> Response:
            assert account is not None
            return await self._idempotency.run(ctx, account.api_key, stalled, replay_status)

        guard = idempotent_work if idempotent and account is not None and ctx.idempotency_key is not None else None
        return await self._faults.around(ctx.method, ctx.path, None, work, self._pause, guard)

    def _authenticate(self, ctx: KiwiContext) -> tuple[Account | None, Response | None]:
        key = ctx.api_key
        account = self._accounts.get(key) if key else None
        if account is None and key and self.sandbox and key.startswith("demo"):
            self.add_account(key, _SANDBOX_BALANCE)
            account = self._accounts[key]
        if account is None:
            return None, error(401, "Invalid API key", "UNAUTHORIZED")
        if account.suspended:
            return None, error(403, "Account suspended", "ACCOUNT_SUSPENDED")
        return account, None

    # ------------------------------------------------------------------ handlers

    def _get_balance(self, ctx: KiwiContext, account: Account | None) -> Response:
        assert account is not None
        return JSONResponse({"balance": money(account.balance), "currency": "USD"})

    def _get_services(self, ctx: KiwiContext, account: Account | None) -> Response:
        country = ctx.query.get("country") or ctx.query.get("country_code") or DEFAULT_COUNTRY
        if country not in self._catalog:
            return error(400, "Unsupported country code", "INVALID_COUNTRY")
        services = [
            {"service": i.code, "name": i.name, "price": format_price(i.price), "count": i.count,
             "multiSms": i.multi_sms}
            for i in self._catalog[country].values()
        ]
        return JSONResponse(
            {"countryCode": country, "catalogMode": False, "count": len(services), "services": services}
        )

    def _list_rentals(self, ctx: KiwiContext, account: Account | None) -> Response:
        assert account is not None
        self._refresh_account(account)
        now = utc_now()
        rentals = [r.to_json(now) for r in account.active.values()]
        return JSONResponse({"rentals": rentals, "count": len(rentals)})

    def _own_rental(self, ctx: KiwiContext, account: Account | None) -> SimRental | None:
        rental = self._rentals.get(ctx.path_params.get("id", ""))
        if rental is None or account is None or rental.api_key != account.api_key:
            return None
        self._refresh(rental)
        return rental

    def _get_rental(self, ctx: KiwiContext, account: Account | None) -> Response:
        rental = self._own_rental(ctx, account)
        if rental is None:
            return error(404, "Rental not found", "RENTAL_NOT_FOUND")
        return JSONResponse({"rental": rental.to_json(utc_now())})

    def _create(self, ctx: KiwiContext, account: Account | None) -> Response:
        assert account is not None
        parsed = parse_rent_request(ctx)
        if isinstance(parsed, Response):
            return parsed
        service, country, max_price, area = parsed
        item = self._catalog[country].get(service)
        if item is None or item.count <= 0:
            return error(404, "Service unavailable", "SERVICE_UNAVAILABLE")
        if max_price is not None and item.price > max_price:
            return error(404, "Service unavailable at or below max_price", "SERVICE_UNAVAILABLE")
        if account.balance < item.price:
            return error(402, "Insufficient balance", "INSUFFICIENT_BALANCE")
        item.count -= 1
        rental = self._create_rental(account, country, item, self._phones.new(country, area))
        return JSONResponse({"rental": rental.to_created_json()}, status_code=201)

    def _cancel(self, ctx: KiwiContext, account: Account | None) -> Response:
        rental = self._own_rental(ctx, account)
        if rental is None or rental.status != "WAITING":
            return error(404, "Rental not found or cannot be cancelled (only WAITING rentals)",
                         "CANCEL_NOT_ALLOWED")
        self._finish(rental, "CANCELLED")
        self._refund(rental)
        return action_answer(rental)

    def _done(self, ctx: KiwiContext, account: Account | None) -> Response:
        rental = self._own_rental(ctx, account)
        if rental is None or rental.status not in ("WAITING", "RECEIVED", "COMPLETED"):
            return error(404, "Rental not found", "RENTAL_NOT_FOUND")
        if rental.status != "COMPLETED":
            self._finish(rental, "COMPLETED")
        return action_answer(rental)

    def _renew(self, ctx: KiwiContext, account: Account | None) -> Response:
        assert account is not None
        old = self._own_rental(ctx, account)
        if old is None or old.status not in ("RECEIVED", "COMPLETED"):
            return error(404, "Rental not found", "NOT_FOUND")
        item = self._catalog_item(old.country, old.service)
        if account.balance < item.price:
            return error(402, "Insufficient balance", "INSUFFICIENT_BALANCE")
        if old.active:
            self._finish(old, "COMPLETED")
        rental = self._create_rental(account, old.country, item, old.phone)
        return JSONResponse({"rental": rental.to_created_json()}, status_code=201)

    def _public_pricing(self, ctx: KiwiContext, account: Account | None) -> Response:
        top = list(self._catalog[DEFAULT_COUNTRY].values())[:10]
        return JSONResponse(
            {"services": [{"code": i.code, "name": i.name, "price": format_price(i.price)} for i in top]}
        )

    def _not_found(self, ctx: KiwiContext, account: Account | None) -> Response:
        return error(404, "Not found", "NOT_FOUND")


def main(argv: list[str] | None = None) -> None:
    run_standalone(lambda delay: KiwiSimulator(sandbox=True, auto_sms_after=delay), "kiwiSMS", 8081, argv)


if __name__ == "__main__":
    main()
