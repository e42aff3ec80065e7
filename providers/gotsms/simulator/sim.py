"""GotSMS simulator: a real HTTP server with in-memory state, for tests, benchmarks and sandbox mode.

Implements /work/shared/provider-docs/gotsms.openapi.yaml.txt (and the Postman collection) under `/api`;
the Python control API is the "Simulator" section of docs/gotsms.md. Run standalone with
`python -m providers.gotsms.simulator.sim --port 8083` (sandbox mode, automatic SMS after 5 s).
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.gotsms.simulator.catalog import BILLING_TYPES, DURATION_TYPES, Catalog, PhoneFactory, Plan, build_catalog
from providers.gotsms.simulator.http import (
    Invalid,
    RequestContext,
    RuleQueue,
    fail,
    injected_response,
    ok,
    paginate,
    read_context,
)
from providers.gotsms.simulator.models import (
    Account,
    OrderedIds,
    RecordedRequest,
    Rule,
    SimMessage,
    SimRent,
    iso,
    money,
)
from providers.simulation.simulator_base import LoopbackSimulator, run_standalone

__all__ = ["GotSmsSimulator", "SimRent", "SimMessage", "RecordedRequest"]


Handler = Callable[[RequestContext, Account], Response]

SANDBOX_BALANCE = Decimal("50.00")
# Messages clients may match on; docs/gotsms.md lists them.
UNAUTHENTICATED = "Unauthenticated."
RENT_NOT_FOUND = "Rent not found."
NOT_ACTIVE = "Rent is not active."
NO_BALANCE = "Insufficient balance."
OUT_OF_STOCK = "No numbers available for this plan."
NOT_REFUNDABLE = "Refund is not available for this rent."
NOT_DAILY = "Current rent plan must be daily for this transition endpoint."
NOT_MONTHLY = "Auto renewal can be toggled only for monthly 1/3/6/12 plans."

_CODE_RE = re.compile(r"(?<!\d)\d{4,8}(?!\d)")
_AREA_RE = re.compile(r"^[2-9]\d\d$")
_MAX_RENEWALS = 1000  # bound for lazy auto-renewal catching up on a long-idle rent


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _seconds_until(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return max(0, math.ceil((moment - now).total_seconds()))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class GotSmsSimulator(LoopbackSimulator):
    """In-memory GotSMS: accounts, catalogue, rents, messages, plus knobs to inject faults."""

    def __init__(self, sandbox: bool = False, auto_sms_after: float | None = None) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.auto_sms_after = auto_sms_after
        # Extra knobs (plain attributes, documented): windows a test may shorten.
        self.refund_window_seconds = 15 * 60
        self.wake_seconds = 5 * 60
        self.online_seconds = 30 * 60
        self.requests: list[RecordedRequest] = []
        self._catalog: Catalog = build_catalog()
        self._plans: dict[str, Plan] = {p.id: p for p in self._catalog.plans}
        self._accounts: dict[str, Account] = {}
        self._rents: dict[str, SimRent] = {}
        self._failures = RuleQueue()
        self._phones = PhoneFactory()
        self._message_ids = OrderedIds("gotsms-messages")
        self._rng = random.Random("gotsms-sim")
        self.app: Starlette = self._build_app()

    # ------------------------------------------------------------------ control API

    def add_account(self, token: str, balance: Decimal = Decimal("50.00")) -> None:
        old = self._accounts.get(token)
        if old is not None:  # re-adding sets the balance but keeps rents and messages
            old.balance = Decimal(balance)
            return
        self._accounts[token] = Account(token, Decimal(balance))

    def balance_of(self, token: str) -> Decimal:
        account = self._accounts[token]
        self._refresh_account(account)  # auto-renewals charge lazily: make them visible
        return account.balance

    def rents_of(self, token: str) -> list[SimRent]:
        account = self._accounts.get(token)
        if account is None:
            return []
        self._refresh_account(account)
        return list(account.rents)

    def rent(self, rent_id: str) -> SimRent:
        rent = self._rents[rent_id]
        self._refresh(rent, _now())
        return rent

    @property
    def plans(self) -> list[dict[str, Any]]:
        return [plan.to_json() for plan in self._catalog.plans]

    def plan_id(
        self, service_name: str, duration_type: str, billing_type: str = "duration", *,
        duration_in_type: int | None = None, country: str = "USA",
    ) -> str:
        """The first (shortest) matching plan; KeyError when there is none."""
        for plan in self._catalog.plans:
            if (plan.service_name.lower() == service_name.lower() and plan.duration_type == duration_type
                    and plan.billing_type == billing_type and plan.country == country
                    and duration_in_type in (None, plan.duration_in_type)):
                return plan.id
        raise KeyError(f"no {billing_type} plan {duration_type!r} for {service_name!r} in {country}")

    def service_id(self, service_name: str) -> str:
        for service_id, name in self._catalog.services:
            if name.lower() == service_name.lower():
                return service_id
        raise KeyError(service_name)

    def country_id(self, country: str) -> str:
        return next(cid for cid, name in self._catalog.countries.items() if name == country)

    def set_stock(self, plan_id: str, count: int | None) -> None:
        """Extra knob: how many more rents the plan can sell (None = unlimited)."""
        self._plans[plan_id].stock = count

    def receive_sms(self, rent_id: str, body: str, code: str | None = None) -> str:
        rent = self.rent(rent_id)
        if not rent.active:
            raise ValueError(f"rent {rent_id} is {rent.status}; it cannot receive SMS")
        if code is None:
            match = _CODE_RE.search(body)
            code = match.group(0) if match else None
        message = SimMessage(
            id=self._message_ids.new(), body=body, code=code, received_at=_now(), rent_id=rent.id,
            sender=f"+1{self._rng.randint(200, 999)}{self._rng.randint(0, 9_999_999):07d}",
        )
        rent.messages.append(message)
        rent.message_times.append(time.time())
        account = self._accounts[rent.token]
        account.messages.append(message)
        account.unread[message.id] = message
        return message.id

    def finish(self, rent_id: str) -> None:
        """The rent ends now, as if active_till had passed (no auto-renewal)."""
        rent = self._rents[rent_id]
        if rent.active:
            rent.active_till = min(rent.active_till, _now())
            self._end(rent)

    def set_refundable(self, rent_id: str, allowed: bool,
                       message: str = "Refund is not available for this rent.") -> None:
        self._rents[rent_id].refund_override = (allowed, message)

    def fail_next(self, method: str, path_prefix: str, status: int,
                  body: dict[str, Any] | str | None = None, times: int = 1) -> None:
        self._failures.add(Rule(method.upper(), path_prefix, times, status, body))

    def request_count(self, method: str | None = None, path: str | None = None, token: str | None = None) -> int:
        """Requests matching every given filter; `path` is an exact path (no query string)."""
        wanted = method.upper() if method else None
        return sum(
            1 for r in self.requests
            if (wanted is None or r.method == wanted) and (path is None or r.path == path)
            and (token is None or r.token == token)
        )

    # ------------------------------------------------------------------ state helpers

    def _refresh(self, rent: SimRent, now: datetime) -> None:
        """Lazy expiry and auto-renewal, applied whenever a rent is looked at: no sweeper task."""
        if not rent.active or now < rent.active_till:
            return
        plan = self._plans[rent.plan_id]
        account = self._accounts[rent.token]
        renewals = 0
        while rent.auto_renew and plan.monthly and now >= rent.active_till and renewals < _MAX_RENEWALS:
            if account.balance < plan.renew_price:
                break
            account.balance -= plan.renew_price
            rent.active_till += timedelta(minutes=plan.minutes)
            renewals += 1
        if now >= rent.active_till:
            self._end(rent)

    def _refresh_account(self, account: Account) -> None:
        now = _now()
        for rent in [r for r in account.active.values() if now >= r.active_till]:
            self._refresh(rent, now)

    def _end(self, rent: SimRent) -> None:
        rent.status = "finished"
        rent.auto_renew = False
        self._accounts[rent.token].active.pop(rent.id, None)

    def _new_rent(self, account: Account, plan: Plan, area_code: str | None) -> SimRent:
        now = _now()
        phone, e164 = self._phones.new(plan.country, area_code)
        rent = SimRent(
            id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            token=account.token, phone=phone, service_id=plan.service_id, service_name=plan.service_name,
            plan_id=plan.id, status="active", price=plan.price, active_from=now,
            active_till=now + timedelta(minutes=plan.minutes), phone_e164=e164, country_id=plan.country_id,
        )
        account.balance -= plan.price
        if plan.stock is not None:
            plan.stock -= 1
        self._rents[rent.id] = rent
        account.rents.append(rent)
        account.active[rent.id] = rent
        if self.auto_sms_after is not None:
            self._spawn(self._auto_sms(rent.id, self.auto_sms_after))
        return rent

    def _transition_options(self, rent: SimRent) -> list[Plan]:
        """A daily rent may move to a monthly 1/3/6/12 plan of the same service and country."""
        if not rent.active or not self._plans[rent.plan_id].daily:
            return []
        return [p for p in self._catalog.plans
                if p.monthly and p.service_id == rent.service_id and p.country_id == rent.country_id]

    def _can_wake_up(self, rent: SimRent, now: datetime) -> bool:
        """Duration rents sleep between uses; SMS-billed rents stay online for their short life."""
        if not rent.active or self._plans[rent.plan_id].billing_type != "duration":
            return False
        return rent.online_till is None or now >= rent.online_till

    def _refund_refusal(self, rent: SimRent, now: datetime) -> str | None:
        """None when the refund is allowed, else the reason sent with the 422."""
        if rent.refunded:
            return "Rent has already been refunded."
        if not rent.active:
            return NOT_ACTIVE
        if rent.refund_override is not None:
            allowed, message = rent.refund_override
            return None if allowed else message
        if rent.messages:
            return "Refund is not available: the number has already received SMS."
        if (now - rent.active_from).total_seconds() > self.refund_window_seconds:
            minutes = max(1, round(self.refund_window_seconds / 60))
            return f"Refund is only available within {minutes} minutes after purchase."
        return None

    # ------------------------------------------------------------------ JSON views

    def _rent_json(self, rent: SimRent, now: datetime) -> dict[str, Any]:
        plan = self._plans[rent.plan_id]
        return {
            "id": rent.id,
            "service": {"id": rent.service_id, "name": rent.service_name},
            "plan": plan.to_rent_json(),
            "phone": rent.phone,
            "price": money(rent.price),
            "status": rent.status,
            "is_included_for_next_renewal": rent.auto_renew,
            "active_from": iso(rent.active_from),
            "active_till": iso(rent.active_till),
            "wake_from": iso(rent.wake_from),
            "wake_till": iso(rent.wake_till),
            "can_wake_up": self._can_wake_up(rent, now),
            "transition_options": [p.to_rent_json() for p in self._transition_options(rent)],
        }

    def _message_json(self, message: SimMessage, *, listing: bool) -> dict[str, Any]:
        rent = self._rents[message.rent_id]
        body: dict[str, Any] = {"id": message.id}
        if listing:  # the account-wide listings say which rent; the per-number one does not need to
            body.update(rent_id=rent.id, service={"id": rent.service_id, "name": rent.service_name},
                        phone=rent.phone)
        body.update({"from": message.sender, "to": rent.phone_e164, "body": message.body, "code": message.code,
                     "received_at": iso(message.received_at)})
        return body

    # ------------------------------------------------------------------ background work

    async def _auto_sms(self, rent_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        rent = self.rent(rent_id)
        if rent.active and not rent.messages:
            code = f"{self._rng.randint(0, 999_999):06d}"
            self.receive_sms(rent_id, f"Your {rent.service_name} verification code is {code}", code)

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_app(self) -> Starlette:
        ep = self._endpoint
        routes = [
            Route("/api/pricelist", ep(self._h_pricelist, auth=False), methods=["GET"]),
            Route("/api/account", ep(self._h_account), methods=["GET"]),
            Route("/api/services", ep(self._h_services), methods=["GET"]),
            Route("/api/rents/plans", ep(self._h_plans), methods=["GET"]),
            Route("/api/rents", ep(self._h_list_rents), methods=["GET"]),
            Route("/api/rents", ep(self._h_create_rent), methods=["POST"]),
            Route("/api/rents/{rent_id}/transition", ep(self._h_transition), methods=["POST"]),
            Route("/api/rents/{rent_id}/renewal/toggle", ep(self._h_toggle_renewal), methods=["POST"]),
            Route("/api/rents/{rent_id}/refund", ep(self._h_refund), methods=["POST"]),
            Route("/api/messages", ep(self._h_messages), methods=["GET"]),
            Route("/api/messages/unread", ep(self._h_unread), methods=["GET"]),
            Route("/api/numbers/{rent_id}/wake-up", ep(self._h_wake_up), methods=["POST"]),
            Route("/api/numbers/{rent_id}/messages", ep(self._h_number_messages), methods=["GET"]),
            Route("/api/numbers/{rent_id}/status", ep(self._h_number_status), methods=["GET"]),
            Route("/{path:path}", ep(self._h_not_found, auth=False),
                  methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
        return Starlette(routes=routes)

    def _endpoint(self, handler: Handler, *, auth: bool = True) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            ctx = await read_context(request)
            self.requests.append(ctx.record())
            injected = self._failures.take(ctx.method, ctx.path)
            if injected is not None:  # fail_next: answer INSTEAD of processing
                return injected_response(injected)
            account = self._authenticate(ctx.token)
            if auth and account is None:
                return fail(401, UNAUTHENTICATED)
            try:
                return handler(ctx, account or Account("", Decimal(0)))
            except Invalid as exc:
                return fail(422, str(exc))

        return endpoint

    def _authenticate(self, token: str | None) -> Account | None:
        if not token:
            return None
        account = self._accounts.get(token)
        if account is None and self.sandbox and token.startswith("demo"):
            self.add_account(token, SANDBOX_BALANCE)
            account = self._accounts[token]
        return account

    def _own_rent(self, ctx: RequestContext, account: Account) -> SimRent | None:
        rent = self._rents.get(ctx.path_params.get("rent_id", ""))
        if rent is None or rent.token != account.token:
            return None
        self._refresh(rent, _now())
        return rent

    # ------------------------------------------------------------------ handlers: catalogue and account

    def _h_pricelist(self, ctx: RequestContext, account: Account) -> Response:
        groups: dict[str, list[dict[str, Any]]] = {}
        for plan in self._catalog.plans:
            groups.setdefault(plan.service_name, []).append(plan.to_pricelist_json())
        return ok([{"name": name, "plans": plans} for name, plans in groups.items()])

    def _h_account(self, ctx: RequestContext, account: Account) -> Response:
        self._refresh_account(account)
        return ok({"balance": money(account.balance)})

    def _h_services(self, ctx: RequestContext, account: Account) -> Response:
        search = (ctx.text("search") or "").lower()
        services = [{"id": sid, "name": name} for sid, name in self._catalog.services if search in name.lower()]
        page, meta = paginate(ctx, services, 25)
        return ok(page, meta=meta)

    def _h_plans(self, ctx: RequestContext, account: Account) -> Response:
        service_id, country_id = ctx.text("service_id"), ctx.text("country_id")
        duration_type = ctx.choice("duration_type", DURATION_TYPES)
        billing_type = ctx.choice("billing_type", BILLING_TYPES)
        search = (ctx.text("search") or "").lower()
        plans = [
            p for p in self._catalog.plans
            if service_id in (None, p.service_id) and country_id in (None, p.country_id)
            and duration_type in (None, p.duration_type) and billing_type in (None, p.billing_type)
            and search in p.service_name.lower()
        ]
        page, meta = paginate(ctx, plans, 25)
        return ok([p.to_json() for p in page], meta=meta)

    # ------------------------------------------------------------------ handlers: rents

    def _h_list_rents(self, ctx: RequestContext, account: Account) -> Response:
        status = ctx.choice("status", ("active", "finished"))
        service = (ctx.text("service") or "").lower()
        phone = _digits(ctx.text("phone") or "")
        self._refresh_account(account)
        rents = [
            r for r in reversed(account.rents)  # newest first
            if status in (None, r.status) and service in r.service_name.lower() and phone in _digits(r.phone)
        ]
        page, meta = paginate(ctx, rents, 20)
        now = _now()
        return ok([self._rent_json(r, now) for r in page], meta=meta)

    def _h_create_rent(self, ctx: RequestContext, account: Account) -> Response:
        plan_id = ctx.body_text("plan_id")
        area_code = ctx.body_text("area_code")
        if plan_id is None:
            raise Invalid("The plan id field is required.")
        plan = self._plans.get(plan_id)
        if plan is None:
            raise Invalid("The selected plan id is invalid.")
        if area_code is not None and not _AREA_RE.match(area_code):
            raise Invalid("The area code field must be a valid 3-digit area code.")
        if plan.stock is not None and plan.stock <= 0:
            raise Invalid(OUT_OF_STOCK)
        if account.balance < plan.price:
            return fail(402, NO_BALANCE)
        # Area codes exist only for North American numbers; elsewhere the preference is ignored.
        area = area_code if plan.country in ("USA", "Canada") else None
        rent = self._new_rent(account, plan, area)
        return ok(self._rent_json(rent, _now()), message="Rent created successfully.", status=201)

    def _h_transition(self, ctx: RequestContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        plan_id = ctx.body_text("plan_id")
        if plan_id is None:
            raise Invalid("The plan id field is required.")
        target = self._plans.get(plan_id)
        if target is None:
            raise Invalid("The selected plan id is invalid.")
        if not rent.active:
            raise Invalid(NOT_ACTIVE)
        if not self._plans[rent.plan_id].daily:
            raise Invalid(NOT_DAILY)
        if target not in self._transition_options(rent):
            raise Invalid("Target plan must be a monthly 1/3/6/12 plan of the same service and country.")
        if account.balance < target.price:
            return fail(402, NO_BALANCE)
        # The target plan is paid in full; the new term counts from the rent's start.
        account.balance -= target.price
        rent.price += target.price
        rent.plan_id = target.id
        rent.active_till = rent.active_from + timedelta(minutes=target.minutes)
        return ok({"id": rent.id, "status": rent.status}, message="Plan transitioned successfully.")

    def _h_toggle_renewal(self, ctx: RequestContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        if not self._plans[rent.plan_id].monthly:
            raise Invalid(NOT_MONTHLY)
        if not rent.active:
            raise Invalid(NOT_ACTIVE)
        rent.auto_renew = not rent.auto_renew
        message = "Auto renewal enabled." if rent.auto_renew else "Auto renewal disabled."
        return ok({"id": rent.id, "is_included_for_next_renewal": rent.auto_renew}, message=message)

    def _h_refund(self, ctx: RequestContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        refusal = self._refund_refusal(rent, _now())
        if refusal is not None:
            raise Invalid(refusal)
        rent.refunded = True
        account.balance += rent.price
        self._end(rent)
        return ok({"id": rent.id, "status": rent.status}, message="Rent has been refunded successfully.")

    # ------------------------------------------------------------------ handlers: messages

    def _h_messages(self, ctx: RequestContext, account: Account) -> Response:
        service_id = ctx.uuid("service_id")
        phone = _digits(ctx.text("phone", max_length=32) or "")
        newest_first = reversed(account.messages)
        found = self._filter(newest_first, service_id, None, phone)
        page, meta = paginate(ctx, found, 20)
        return ok([self._message_json(m, listing=True) for m in page], meta=meta)

    def _h_unread(self, ctx: RequestContext, account: Account) -> Response:
        service_id, rent_id = ctx.text("service_id"), ctx.text("rent_id")
        phone = _digits(ctx.text("phone") or "")
        mark = ctx.boolean("mark_as_read")
        # Oldest first, and only the unread index is scanned: polling every second stays O(unread).
        found = self._filter(account.unread.values(), service_id, rent_id, phone)
        page, meta = paginate(ctx, found, 20)
        data = [self._message_json(m, listing=True) for m in page]
        if mark:
            for message in page:
                message.read = True
                account.unread.pop(message.id, None)
        return ok(data, meta=meta)

    def _filter(self, messages: Iterable[SimMessage], service_id: str | None, rent_id: str | None,
                phone: str) -> list[SimMessage]:
        if service_id is None and rent_id is None and not phone:
            return list(messages)
        found = []
        for message in messages:
            rent = self._rents[message.rent_id]
            if (service_id in (None, rent.service_id) and rent_id in (None, rent.id)
                    and phone in _digits(rent.phone)):
                found.append(message)
        return found

    # ------------------------------------------------------------------ handlers: numbers

    def _h_wake_up(self, ctx: RequestContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        now = _now()
        if not rent.active:
            raise Invalid(NOT_ACTIVE)
        if self._plans[rent.plan_id].billing_type != "duration":
            raise Invalid("This number is always online and cannot be woken up.")
        if not self._can_wake_up(rent, now):
            raise Invalid("The number is already awake.")
        rent.wake_from = now
        rent.wake_till = now + timedelta(seconds=self.wake_seconds)
        rent.online_till = rent.wake_till + timedelta(seconds=self.online_seconds)
        return ok(message="Wake up request sent.")

    def _h_number_messages(self, ctx: RequestContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        limit = ctx.integer("limit", 20)
        before_id = ctx.uuid("before_id")
        # Ids sort in arrival order, so "id less than before_id" is a string comparison.
        older = [m for m in reversed(rent.messages) if before_id is None or m.id < before_id]
        page = older[:limit]
        next_before_id = page[-1].id if len(older) > limit else None
        return ok([self._message_json(m, listing=False) for m in page],
                  meta={"next_before_id": next_before_id, "count": len(page)})

    def _h_number_status(self, ctx: RequestContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        now = _now()
        wake_left = _seconds_until(rent.wake_till, now)
        online_left = None
        if rent.online_till is not None and rent.wake_till is not None:
            # Online time still to come: it starts when the wake-up window ends.
            online_left = _seconds_until(rent.online_till, max(now, rent.wake_till))
        return ok({
            "rent_id": rent.id,
            "status": rent.status,
            "active_from": iso(rent.active_from),
            "active_till": iso(rent.active_till),
            "wake_from": iso(rent.wake_from),
            "wake_till": iso(rent.wake_till),
            "online_till": iso(rent.online_till),
            "wakeup_time_left_seconds": wake_left,
            "online_time_left_seconds": online_left,
            "can_wake_up": self._can_wake_up(rent, now),
        })

    def _h_not_found(self, ctx: RequestContext, account: Account) -> Response:
        return fail(404, f"The route {ctx.path.lstrip('/')} could not be found.")


def main(argv: list[str] | None = None) -> None:
    run_standalone(lambda delay: GotSmsSimulator(sandbox=True, auto_sms_after=delay), "GotSMS", 8083, argv)


if __name__ == "__main__":
    main()
