"""GotSMS simulator HTTP handlers: one method per documented endpoint, on top of `SimState`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from starlette.responses import Response

from providers.gotsms.simulator.catalog import BILLING_TYPES, DURATION_TYPES, Plan
from providers.gotsms.simulator.http import GotSmsContext, Invalid, fail, ok, paginate
from providers.gotsms.simulator.models import Account, SimMessage, iso, money
from providers.gotsms.simulator.state import (
    NO_BALANCE,
    NOT_ACTIVE,
    NOT_DAILY,
    NOT_MONTHLY,
    OUT_OF_STOCK,
    RENT_NOT_FOUND,
    SimState,
    digits,
    now_utc,
    seconds_until,
)

_AREA_RE = re.compile(r"^[2-9]\d\d$")


class SimHandlers(SimState):
    """The API's endpoints; `sim.py` routes requests to them."""

    # ------------------------------------------------------------------ handlers: catalogue and account

    def _h_pricelist(self, ctx: GotSmsContext, account: Account) -> Response:
        groups: dict[str, list[dict[str, Any]]] = {}
        for plan in self._catalog.plans:
            groups.setdefault(plan.service_name, []).append(plan.to_pricelist_json())
        return ok([{"name": name, "plans": plans} for name, plans in groups.items()])

    def _h_account(self, ctx: GotSmsContext, account: Account) -> Response:
        self._refresh_account(account)
        return ok({"balance": money(account.balance)})

    def _h_services(self, ctx: GotSmsContext, account: Account) -> Response:
        search = (ctx.text("search") or "").lower()
        services = [{"id": sid, "name": name} for sid, name in self._catalog.services if search in name.lower()]
        page, meta = paginate(ctx, services, 25)
        return ok(page, meta=meta)

    def _h_plans(self, ctx: GotSmsContext, account: Account) -> Response:
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

    def _h_list_rents(self, ctx: GotSmsContext, account: Account) -> Response:
        status = ctx.choice("status", ("active", "finished"))
        service = (ctx.text("service") or "").lower()
        phone = digits(ctx.text("phone") or "")
        self._refresh_account(account)
        rents = [
            r for r in reversed(account.rents)  # newest first
            if status in (None, r.status) and service in r.service_name.lower() and phone in digits(r.phone)
        ]
        page, meta = paginate(ctx, rents, 20)
        now = now_utc()
        return ok([self._rent_json(r, now) for r in page], meta=meta)

    def _body_plan(self, ctx: GotSmsContext) -> Plan:
        """The plan the body's `plan_id` names (Invalid when missing or unknown)."""
        plan_id = ctx.body_text("plan_id")
        if plan_id is None:
            raise Invalid("The plan id field is required.")
        plan = self._plans.get(plan_id)
        if plan is None:
            raise Invalid("The selected plan id is invalid.")
        return plan

    def _h_create_rent(self, ctx: GotSmsContext, account: Account) -> Response:
        plan = self._body_plan(ctx)
        area_code = ctx.body_text("area_code")
        if area_code is not None and not _AREA_RE.match(area_code):
            raise Invalid("The area code field must be a valid 3-digit area code.")
        if plan.stock is not None and plan.stock <= 0:
            raise Invalid(OUT_OF_STOCK)
        if account.balance < plan.price:
            return fail(402, NO_BALANCE)
        # Area codes exist only for North American numbers; elsewhere the preference is ignored.
        area = area_code if plan.country in ("USA", "Canada") else None
        rent = self._new_rent(account, plan, area)
        return ok(self._rent_json(rent, now_utc()), message="Rent created successfully.", status=201)

    def _h_transition(self, ctx: GotSmsContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        target = self._body_plan(ctx)
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

    def _h_toggle_renewal(self, ctx: GotSmsContext, account: Account) -> Response:
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

    def _h_refund(self, ctx: GotSmsContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        refusal = self._refund_refusal(rent, now_utc())
        if refusal is not None:
            raise Invalid(refusal)
        rent.refunded = True
        account.balance += rent.price
        self._end(rent)
        return ok({"id": rent.id, "status": rent.status}, message="Rent has been refunded successfully.")

    # ------------------------------------------------------------------ handlers: messages

    def _h_messages(self, ctx: GotSmsContext, account: Account) -> Response:
        service_id = ctx.uuid("service_id")
        phone = digits(ctx.text("phone", max_length=32) or "")
        newest_first = reversed(account.messages)
        found = self._filter(newest_first, service_id, None, phone)
        page, meta = paginate(ctx, found, 20)
        return ok([self._message_json(m, listing=True) for m in page], meta=meta)

    def _h_unread(self, ctx: GotSmsContext, account: Account) -> Response:
        service_id, rent_id = ctx.text("service_id"), ctx.text("rent_id")
        phone = digits(ctx.text("phone") or "")
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
                    and phone in digits(rent.phone)):
                found.append(message)
        return found

    # ------------------------------------------------------------------ handlers: numbers

    def _h_wake_up(self, ctx: GotSmsContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        now = now_utc()
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

    def _h_number_messages(self, ctx: GotSmsContext, account: Account) -> Response:
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

    def _h_number_status(self, ctx: GotSmsContext, account: Account) -> Response:
        rent = self._own_rent(ctx, account)
        if rent is None:
            return fail(404, RENT_NOT_FOUND)
        now = now_utc()
        wake_left = seconds_until(rent.wake_till, now)
        online_left = None
        if rent.online_till is not None and rent.wake_till is not None:
            # Online time still to come: it starts when the wake-up window ends.
            online_left = seconds_until(rent.online_till, max(now, rent.wake_till))
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

    def _h_not_found(self, ctx: GotSmsContext, account: Account) -> Response:
        return fail(404, f"The route {ctx.path.lstrip('/')} could not be found.")
