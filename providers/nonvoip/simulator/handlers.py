"""The NonVoipUsNumber simulator's endpoints: one method per documented `POST /api/...`.

Each takes the request fields and the authenticated account (None where auth is optional) and
returns the provider's answer; `sim.py` routes requests here.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from starlette.responses import Response

from providers.nonvoip.simulator.answers import (
    EXPIRED,
    NO_BALANCE,
    NO_SMS,
    NOT_FOUND,
    OUT_OF_STOCK,
    REJECTED,
    final_problem,
    info,
    order_json,
    price_change_info,
)
from providers.nonvoip.simulator.catalog import CATEGORIES, TYPE_TO_CATEGORY, Product
from providers.nonvoip.simulator.fields import (
    Fields,
    decimal_field,
    duration_days,
    id_list,
    id_text,
    now,
    truthy,
    whole,
)
from providers.nonvoip.simulator.http import fail, ok
from providers.nonvoip.simulator.models import CENT, Account, SimOrder, money, stamp, wire_id
from providers.nonvoip.simulator.state import SimState

MAX_MULTI = 5


class ApiHandlers(SimState):
    """The endpoints, on the simulator's state."""

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
            pid = id_text(raw_id)
            items = [p for p in items if p.product_id == pid]
            if not items:
                return fail("Product not found")
        if truthy(fields.get("grouped")):
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
        pid = id_text(fields.get("product_id", fields.get("id")))
        if not pid:
            return fail("product_id is required")
        product = self._products.get(pid)
        if product is None:
            hint = " (country-wise products are ordered with /api/country/order)" if pid in self._country else ""
            return fail("Product not found" + hint)
        try:
            accepted = decimal_field(fields.get("accepted_max_price"))
        except ValueError:
            return fail("accepted_max_price must be a number")
        try:
            auction = whole(fields.get("auction"))
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
                return price_change_info(product.price, change.available_price)
            price = change.available_price  # the debit is the route price, not the accepted cap
        premium = self._premiums.get(product.product_id)
        if premium is not None and (auction is None or auction < premium.recommended_bid):
            return info({"info": "Premium_Available", "recommended_bid": premium.recommended_bid})
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
        return ok(message=[order_json(order)])

    def _order_multi(self, fields: Fields, account: Account) -> Response:
        try:
            ids = id_list(fields.get("product_ids"))
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
        return ok(message=[order_json(order) for order in self._new_bundle(account, chosen)])

    def _h_country_order(self, fields: Fields, account: Account | None) -> Response:
        assert account is not None
        pid = id_text(fields.get("product_id", fields.get("id")))
        if not pid:
            return fail("product_id is required")
        product = self._country.get(pid)
        if product is None:
            return fail("Product not found")
        if product.available <= 0:
            return fail(OUT_OF_STOCK)
        if account.balance < product.price:
            return fail(NO_BALANCE)
        return ok(message=order_json(self._new_country_order(account, product)))

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
        # `service` names the service the SMS is for: on a one-order bundle, one of several.
        return ok(number=order.number, service=order.sms_services[-1], sms=text, pin=pin, type=order.type)

    def _h_reject(self, fields: Fields, account: Account | None) -> Response:
        found = self._live_order(fields, account)
        if isinstance(found, Response):
            return found
        order = found
        refused = final_problem(order)
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
        refused = final_problem(order)
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
        order.expires_at = now() + timedelta(seconds=self.short_term_seconds)
        self._charge(account, order, price)
        self._schedule_auto_sms(order)
        reused = {"order_id": wire_id(order.order_id), "status": order.status, "number": order.number,
                  "service": order.service, "till_expiration": order.seconds_left(now()), "type": order.type}
        return ok(message=[reused])

    def _long_order(self, fields: Fields, account: Account | None, action: str) -> SimOrder | Response:
        """The order activate and renew work on: a live long-term one, or the refusal."""
        order = self._live_order(fields, account)
        if isinstance(order, Response):
            return order
        if not order.long:
            return fail(f"Only long-term, 1-day and 3-days numbers can be {action}")
        return final_problem(order) or order

    def _h_activate(self, fields: Fields, account: Account | None) -> Response:
        order = self._long_order(fields, account, "activated")
        if isinstance(order, Response):
            return order
        moment = now()
        order.online_until = min(moment + timedelta(minutes=self.online_minutes), order.expires_at)
        window = {"online_status": "online", "end_on": stamp(order.online_until), "timezone": "UTC"}
        return ok(message=[window])

    def _h_renew(self, fields: Fields, account: Account | None) -> Response:
        order = self._long_order(fields, account, "renewed")
        if isinstance(order, Response):
            return order
        assert account is not None
        products = [self._products[pid] for pid in order.product_ids]
        period_days = (products[0].period or timedelta(days=30)).days
        days = duration_days(fields.get("duration"), period_days)
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
                user_id = whole(fields.get("userId", fields.get("user_id")))
            except ValueError:
                user_id = None
            account = self._by_user.get(user_id) if user_id is not None else None
            if account is None:
                return fail("User not found", 404)
        account.callback_url = url
        return ok(message="Callback URL saved successfully")

    def _h_not_found(self, fields: Fields, account: Account | None) -> Response:
        return fail("Not found", 404)
