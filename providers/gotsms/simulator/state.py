"""GotSMS simulator state: accounts, catalogue, rents and messages, and the Python control API over them.

Lazy expiry and auto-renewal are applied whenever a rent is looked at: no sweeper task.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from providers.gotsms.simulator.catalog import Catalog, PhoneFactory, Plan, build_catalog
from providers.gotsms.simulator.http import GotSmsContext
from providers.gotsms.simulator.models import Account, OrderedIds, SimMessage, SimRent, iso, money
from providers.simulation.codes import code_in

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

_MAX_RENEWALS = 1000  # bound for lazy auto-renewal catching up on a long-idle rent


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def seconds_until(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return max(0, math.ceil((moment - now).total_seconds()))


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class SimState:
    """In-memory GotSMS: what the HTTP handlers read and change, and what tests control."""

    _spawn: Callable[[Coroutine[Any, Any, Any]], None]  # LoopbackSimulator's tracked task runner

    def __init__(self, sandbox: bool = False, auto_sms_after: float | None = None) -> None:
        self.sandbox = sandbox
        self.auto_sms_after = auto_sms_after
        # Extra knobs (plain attributes, documented): windows a test may shorten.
        self.refund_window_seconds = 15 * 60
        self.wake_seconds = 5 * 60
        self.online_seconds = 30 * 60
        self._catalog: Catalog = build_catalog()
        self._plans: dict[str, Plan] = {p.id: p for p in self._catalog.plans}
        self._accounts: dict[str, Account] = {}
        self._rents: dict[str, SimRent] = {}
        self._phones = PhoneFactory()
        self._message_ids = OrderedIds("gotsms-messages")
        self._rng = random.Random("gotsms-sim")

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
        self._refresh(rent, now_utc())
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
            code = code_in(body)
        message = SimMessage(
            id=self._message_ids.new(), body=body, code=code, received_at=now_utc(), rent_id=rent.id,
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
            rent.active_till = min(rent.active_till, now_utc())
            self._end(rent)

    def set_refundable(self, rent_id: str, allowed: bool,
                       message: str = "Refund is not available for this rent.") -> None:
        self._rents[rent_id].refund_override = (allowed, message)

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
        now = now_utc()
        for rent in [r for r in account.active.values() if now >= r.active_till]:
            self._refresh(rent, now)

    def _end(self, rent: SimRent) -> None:
        rent.status = "finished"
        rent.auto_renew = False
        self._accounts[rent.token].active.pop(rent.id, None)

    def _new_rent(self, account: Account, plan: Plan, area_code: str | None) -> SimRent:
        now = now_utc()
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


    # ------------------------------------------------------------------ lookups for the handlers

    def _authenticate(self, token: str | None) -> Account | None:
        if not token:
            return None
        account = self._accounts.get(token)
        if account is None and self.sandbox and token.startswith("demo"):
            self.add_account(token, SANDBOX_BALANCE)
            account = self._accounts[token]
        return account

    def _own_rent(self, ctx: GotSmsContext, account: Account) -> SimRent | None:
        rent = self._rents.get(ctx.path_params.get("rent_id", ""))
        if rent is None or rent.token != account.token:
            return None
        self._refresh(rent, now_utc())
        return rent
