"""kiwiSMS simulator: a real HTTP server with in-memory state, for tests, benchmarks and sandbox mode.

Implements /work/shared/provider-docs/kiwisms.openapi.json; the Python control API is the contract in
docs/kiwi-simulator-api.md. Run standalone with `python -m providers.kiwi.simulator.sim --port 8081`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from providers.kiwi.simulator.catalog import (
    COUNTRIES,
    DEFAULT_COUNTRY,
    CatalogItem,
    PhoneFactory,
    build_catalog,
    format_price,
)
from providers.kiwi.simulator.http import (
    RateLimiter,
    RequestContext,
    RuleQueue,
    error,
    injected_response,
    read_context,
)
from providers.kiwi.simulator.models import (
    Account,
    IdempotencyRecord,
    RecordedRequest,
    Rule,
    SimRental,
    iso_z,
    money,
)
from providers.simulation.simulator_base import LoopbackSimulator, run_standalone

__all__ = ["KiwiSimulator", "SimRental", "RecordedRequest"]


Handler = Callable[[RequestContext, Account | None], Response]

_CODE_RE = re.compile(r"(?<!\d)\d{4,8}(?!\d)")
_CARRIERS = frozenset({"tmo", "vz", "att"})
_IDEMPOTENCY_TTL = 24 * 3600.0
_SANDBOX_BALANCE = Decimal("50.00")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class KiwiSimulator(LoopbackSimulator):
    """In-memory kiwiSMS: accounts, catalogue, rentals, plus knobs to inject faults."""

    def __init__(
        self, sandbox: bool = False, auto_sms_after: float | None = None, rental_minutes: float = 20.0
    ) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.auto_sms_after = auto_sms_after
        self.rental_minutes = rental_minutes
        self.requests: list[RecordedRequest] = []
        self.webhook_deliveries: list[dict[str, Any]] = []
        self._catalog: dict[str, dict[str, CatalogItem]] = build_catalog()
        self._accounts: dict[str, Account] = {}
        self._rentals: dict[str, SimRental] = {}
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self._failures = RuleQueue()
        self._delays = RuleQueue()
        self._stalls = RuleQueue()
        self._limiter = RateLimiter()
        self._phones = PhoneFactory()
        self._rng = random.Random("kiwi-sim")
        self._external_seq = 700_000_000
        self.app: Starlette = self._build_app()

    # ------------------------------------------------------------------ control API

    def add_account(
        self,
        api_key: str,
        balance: Decimal = Decimal("50.00"),
        *,
        suspended: bool = False,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        old = self._accounts.get(api_key)
        account = Account(api_key, Decimal(balance), suspended, webhook_url, webhook_secret)
        if old is not None:  # re-adding reconfigures the account but keeps its rentals
            account.rentals, account.active = old.rentals, old.active
        self._accounts[api_key] = account

    def balance_of(self, api_key: str) -> Decimal:
        return self._accounts[api_key].balance

    def rentals_of(self, api_key: str) -> list[SimRental]:
        account = self._accounts.get(api_key)
        if account is None:
            return []
        self._refresh_account(account)
        return list(account.rentals)

    def rental(self, rental_id: str) -> SimRental:
        rental = self._rentals[rental_id]
        self._refresh(rental)
        return rental

    def receive_sms(self, rental_id: str, text: str, code: str | None = None) -> str:
        rental = self.rental(rental_id)
        if not rental.active:
            raise ValueError(f"rental {rental_id} is {rental.status}; it cannot receive SMS")
        if code is None:
            match = _CODE_RE.search(text)
            if match is None:
                raise ValueError(f"no 4-8 digit code in {text!r}; pass code= explicitly")
            code = match.group(0)
        rental.codes.append(code)
        rental.sms_texts.append(text)
        rental.code_times.append(time.time())
        rental.status = "RECEIVED"
        self._send_webhook(rental, text, code)
        return code

    def expire(self, rental_id: str) -> None:
        rental = self._rentals[rental_id]
        if rental.active:
            self._mark_expired(rental)

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        body: dict[str, Any] | str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self._failures.add(Rule(method.upper(), path_prefix, times, status=status, body=body, headers=headers))

    def delay_next(self, method: str, path_prefix: str, seconds: float, times: int = 1) -> None:
        self._delays.add(Rule(method.upper(), path_prefix, times, seconds=seconds))

    def stall_next(self, method: str, path_prefix: str, seconds: float, times: int = 1) -> None:
        """Extra knob: wait BEFORE processing (idempotency record pending), so a retry sees 409."""
        self._stalls.add(Rule(method.upper(), path_prefix, times, seconds=seconds))

    def set_rate_limit(self, per_minute: int | None) -> None:
        self._limiter.set(per_minute)

    def set_stock(self, country: str, service: str, count: int) -> None:
        self._catalog_item(country, service).count = count

    def set_price(self, country: str, service: str, price: Decimal) -> None:
        self._catalog_item(country, service).price = Decimal(price)

    def request_count(
        self, method: str | None = None, path: str | None = None, api_key: str | None = None
    ) -> int:
        """Requests matching every given filter; `path` is an exact path (no query string)."""
        wanted = method.upper() if method else None
        return sum(
            1
            for r in self.requests
            if (wanted is None or r.method == wanted)
            and (path is None or r.path == path)
            and (api_key is None or r.api_key == api_key)
        )

    # ------------------------------------------------------------------ state helpers

    def _catalog_item(self, country: str, service: str) -> CatalogItem:
        items = self._catalog[country]  # KeyError for an unknown country is the honest answer
        if service not in items:  # unknown services are created, so tests can add their own
            items[service] = CatalogItem(service, service.upper(), Decimal("1.00"), 0, False)
        return items[service]

    def _refresh(self, rental: SimRental) -> None:
        """Lazy expiry: applied whenever a rental is looked at, so no sweeper task is needed."""
        if rental.active and _now() >= rental.expires_at:
            self._mark_expired(rental)

    def _refresh_account(self, account: Account) -> None:
        now = _now()
        for rental in [r for r in account.active.values() if now >= r.expires_at]:
            self._mark_expired(rental)

    def _mark_expired(self, rental: SimRental) -> None:
        rental.status = "EXPIRED"
        self._accounts[rental.api_key].active.pop(rental.id, None)
        if not rental.codes:  # the provider refunds numbers that never got a code
            self._refund(rental)

    def _finish(self, rental: SimRental, status: str) -> None:
        rental.status = status
        self._accounts[rental.api_key].active.pop(rental.id, None)

    def _refund(self, rental: SimRental) -> None:
        if not rental.refunded:
            rental.refunded = True
            self._accounts[rental.api_key].balance += rental.price

    def _new_id(self) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        while True:  # cuid-looking ids, like the real Prisma backend
            rental_id = "cm" + "".join(self._rng.choice(alphabet) for _ in range(23))
            if rental_id not in self._rentals:
                return rental_id

    def _create_rental(
        self, account: Account, country: str, item: CatalogItem, phone: str
    ) -> SimRental:
        now = _now()
        self._external_seq += 1
        rental = SimRental(
            id=self._new_id(),
            external_id=str(self._external_seq),
            api_key=account.api_key,
            phone=phone,
            country=country,
            service=item.code,
            service_name=item.name,
            price=item.price,
            status="WAITING",
            codes=[],
            sms_texts=[],
            code_times=[],
            created_at=now,
            expires_at=now + timedelta(minutes=self.rental_minutes),
        )
        account.balance -= item.price
        self._rentals[rental.id] = rental
        account.rentals.append(rental)
        account.active[rental.id] = rental
        if self.auto_sms_after is not None:
            self._spawn(self._auto_sms(rental.id, self.auto_sms_after))
        return rental

    # ------------------------------------------------------------------ background work

    async def _auto_sms(self, rental_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        rental = self.rental(rental_id)
        if rental.status == "WAITING":
            self.receive_sms(rental_id, f"Your verification code is {self._rng.randint(0, 999_999):06d}")

    def _send_webhook(self, rental: SimRental, text: str, code: str) -> None:
        account = self._accounts[rental.api_key]
        if not account.webhook_url:
            return
        payload = {
            "event": "sms.received",
            "rentalId": rental.id,
            "serviceCode": rental.service,
            "serviceName": rental.service_name,
            "phone": rental.phone,
            "otpCode": code,
            "smsText": text,
            "receivedAt": iso_z(_now()),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        secret = (account.webhook_secret or "").encode()
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        delivery: dict[str, Any] = {
            "url": account.webhook_url, "body": body, "signature": signature, "status": None, "error": None,
        }
        try:
            self._spawn(self._deliver(delivery))
        except RuntimeError as exc:  # called with no running loop: record it, never raise
            delivery["error"] = repr(exc)
            self.webhook_deliveries.append(delivery)

    async def _deliver(self, delivery: dict[str, Any]) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        try:
            response = await self._http.post(
                delivery["url"],
                content=delivery["body"],
                headers={"Content-Type": "application/json", "X-Webhook-Signature": delivery["signature"]},
            )
            delivery["status"] = response.status_code
        except Exception as exc:  # a broken receiver must never break the simulator
            delivery["error"] = repr(exc)
        self.webhook_deliveries.append(delivery)

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
            ctx = await read_context(request)
            self.requests.append(ctx.record())
            response = await self._process(ctx, handler, auth, idempotent, replay_status)
            for name, value in ctx.rate_headers.items():
                response.headers.setdefault(name, value)
            return response

        return endpoint

    async def _process(
        self, ctx: RequestContext, handler: Handler, auth: bool, idempotent: bool,
        replay_status: int | None,
    ) -> Response:
        injected = self._failures.take(ctx.method, ctx.path)
        if injected is not None:  # fail_next: answer INSTEAD of processing
            return injected_response(injected)
        allowed, ctx.rate_headers = self._limiter.check(ctx.api_key or f"anonymous:{ctx.client}")
        if not allowed:
            return error(429, "Rate limit exceeded", "RATE_LIMITED", headers=ctx.rate_headers)
        account: Account | None = None
        if auth:
            account, denied = self._authenticate(ctx)
            if denied is not None:
                return denied
        stall = self._stalls.take(ctx.method, ctx.path)
        delay = self._delays.take(ctx.method, ctx.path)
        if idempotent and account is not None and ctx.idempotency_key is not None:
            response = await self._idempotent(ctx, account, handler, stall, replay_status)
        else:
            if stall is not None:
                await self._pause(stall.seconds)
            response = handler(ctx, account)
        if delay is not None:  # delay_next: the work is done, only the answer is late
            await self._pause(delay.seconds)
        return response

    def _authenticate(self, ctx: RequestContext) -> tuple[Account | None, Response | None]:
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

    async def _idempotent(
        self, ctx: RequestContext, account: Account, handler: Handler, stall: Rule | None,
        replay_status: int | None,
    ) -> Response:
        key = ctx.idempotency_key or ""
        if len(key) > 256:
            return error(400, "Idempotency-Key must be at most 256 characters", "INVALID_REQUEST")
        scope = (account.api_key, key)
        fingerprint = ctx.fingerprint()
        record = self._idempotency.get(scope)
        if record is not None and time.monotonic() - record.created > _IDEMPOTENCY_TTL:
            record = None
        if record is not None:
            return self._replay(record, fingerprint, replay_status)
        record = IdempotencyRecord(fingerprint, time.monotonic())
        self._idempotency[scope] = record
        try:
            if stall is not None:
                await self._pause(stall.seconds)
            response = handler(ctx, account)
        except BaseException:
            self._idempotency.pop(scope, None)
            raise
        if 200 <= response.status_code < 300:
            record.done, record.status, record.body = True, response.status_code, bytes(response.body)
        else:  # an error changed nothing, so a retry with the same key deserves a fresh attempt
            self._idempotency.pop(scope, None)
        return response

    @staticmethod
    def _replay(record: IdempotencyRecord, fingerprint: str, replay_status: int | None) -> Response:
        if record.fingerprint != fingerprint:
            return error(422, "Idempotency-Key was already used with a different request body",
                         "IDEMPOTENCY_KEY_REUSED")
        if not record.done:
            return error(409, "A request with this Idempotency-Key is still being processed",
                         "IDEMPOTENCY_CONFLICT")
        return Response(record.body, status_code=replay_status or record.status,
                        media_type="application/json", headers={"Idempotent-Replayed": "true"})

    # ------------------------------------------------------------------ handlers

    def _get_balance(self, ctx: RequestContext, account: Account | None) -> Response:
        assert account is not None
        return JSONResponse({"balance": money(account.balance), "currency": "USD"})

    def _get_services(self, ctx: RequestContext, account: Account | None) -> Response:
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

    def _list_rentals(self, ctx: RequestContext, account: Account | None) -> Response:
        assert account is not None
        self._refresh_account(account)
        now = _now()
        rentals = [r.to_json(now) for r in account.active.values()]
        return JSONResponse({"rentals": rentals, "count": len(rentals)})

    def _own_rental(self, ctx: RequestContext, account: Account | None) -> SimRental | None:
        rental = self._rentals.get(ctx.path_params.get("id", ""))
        if rental is None or account is None or rental.api_key != account.api_key:
            return None
        self._refresh(rental)
        return rental

    def _get_rental(self, ctx: RequestContext, account: Account | None) -> Response:
        rental = self._own_rental(ctx, account)
        if rental is None:
            return error(404, "Rental not found", "RENTAL_NOT_FOUND")
        return JSONResponse({"rental": rental.to_json(_now())})

    def _create(self, ctx: RequestContext, account: Account | None) -> Response:
        assert account is not None
        parsed = _parse_rent_request(ctx)
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

    def _cancel(self, ctx: RequestContext, account: Account | None) -> Response:
        rental = self._own_rental(ctx, account)
        if rental is None or rental.status != "WAITING":
            return error(404, "Rental not found or cannot be cancelled (only WAITING rentals)",
                         "CANCEL_NOT_ALLOWED")
        self._finish(rental, "CANCELLED")
        self._refund(rental)
        return _action(rental)

    def _done(self, ctx: RequestContext, account: Account | None) -> Response:
        rental = self._own_rental(ctx, account)
        if rental is None or rental.status not in ("WAITING", "RECEIVED", "COMPLETED"):
            return error(404, "Rental not found", "RENTAL_NOT_FOUND")
        if rental.status != "COMPLETED":
            self._finish(rental, "COMPLETED")
        return _action(rental)

    def _renew(self, ctx: RequestContext, account: Account | None) -> Response:
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

    def _public_pricing(self, ctx: RequestContext, account: Account | None) -> Response:
        top = list(self._catalog[DEFAULT_COUNTRY].values())[:10]
        return JSONResponse(
            {"services": [{"code": i.code, "name": i.name, "price": format_price(i.price)} for i in top]}
        )

    def _not_found(self, ctx: RequestContext, account: Account | None) -> Response:
        return error(404, "Not found", "NOT_FOUND")


def _action(rental: SimRental) -> JSONResponse:
    return JSONResponse({"success": True, "rentalId": rental.id, "status": rental.status})


def _parse_rent_request(
    ctx: RequestContext,
) -> tuple[str, str, Decimal | None, str | None] | Response:
    """Validate a RentRequest: (service, country, max_price, US area code) or a 400 response."""
    body = ctx.json
    if not ctx.json_ok or not isinstance(body, dict):
        return error(400, "Invalid JSON body", "INVALID_REQUEST")
    service = body.get("service")
    if not isinstance(service, str) or not service.strip():
        return error(400, "service is required", "INVALID_REQUEST")
    raw_country = body.get("country", body.get("country_code", DEFAULT_COUNTRY))
    country = str(raw_country)
    if isinstance(raw_country, bool) or country not in COUNTRIES:
        return error(400, "Unsupported country code", "INVALID_REQUEST")
    carrier = body.get("carrier")
    if carrier is not None and carrier not in _CARRIERS:
        return error(400, "carrier must be one of tmo, vz, att", "INVALID_REQUEST")
    try:
        max_price = _parse_max_price(body.get("max_price"))
    except ValueError:
        return error(400, "max_price must be a number", "INVALID_REQUEST")
    return service.strip(), country, max_price, _first_area(body.get("areas"), country)


def _parse_max_price(value: Any) -> Decimal | None:
    """None when absent; ValueError when not a finite number (string or JSON number)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(value)
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not price.is_finite():
        raise ValueError(value)
    return price


def _first_area(areas: Any, country: str) -> str | None:
    """Honour `areas` for US numbers: the first valid 3-digit area code."""
    if country != "187" or not isinstance(areas, str):
        return None
    for part in areas.split(","):
        part = part.strip()
        if len(part) == 3 and part.isdigit() and part[0] not in "01":
            return part
    return None


def main(argv: list[str] | None = None) -> None:
    run_standalone(lambda delay: KiwiSimulator(sandbox=True, auto_sms_after=delay), "kiwiSMS", 8081, argv)


if __name__ == "__main__":
    main()
