"""The NonVoipUsNumber simulator's state: accounts, catalogue, orders, and how money moves.

`SimState` is the base of `NonVoipSimulator` (sim.py); the HTTP handlers (handlers.py) and the
control API both work on it. Background work (auto SMS, callbacks) is the simulator's: the hooks
at the bottom are implemented there.
"""

from __future__ import annotations

import hmac
import random
import re
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from providers.nonvoip.simulator.catalog import COUNTRIES, NumberFactory, Product, build_catalog
from providers.nonvoip.simulator.fields import Fields, email_of, id_text, now
from providers.nonvoip.simulator.models import Account, Premium, PriceChange, SimOrder

SANDBOX_BALANCE = Decimal("50.00")

# How a 30-days bundle (`product_ids`) is answered: one order per service, each with its own
# order id, all on one number; or one order (one id) for the whole bundle.
BundleAnswer = Literal["per_service", "one_order"]


class SimState:
    """Accounts, catalogue and orders in memory; every money movement goes through here."""

    def __init__(self, sandbox: bool = False) -> None:
        super().__init__()
        self.sandbox = sandbox
        # Extra knobs (plain attributes, documented): rental windows a test may shorten.
        self.short_term_seconds = 900
        self.country_seconds = 300
        self.online_minutes = 10  # how long a long-term number stays online after order / activate
        self.auction_callback_delay = 0.05
        self.bundle_answer: BundleAnswer = "per_service"
        self._products, self._country = build_catalog()
        self._accounts: dict[str, Account] = {}
        self._by_user: dict[int, Account] = {}
        self._orders: dict[str, SimOrder] = {}
        self._price_changes: dict[str, PriceChange] = {}
        self._premiums: dict[str, Premium] = {}
        self._numbers = NumberFactory()
        self._rng = random.Random("nonvoip-sim")
        self._order_seq = 146184
        self._country_seq = 102029
        self._user_seq = 1233

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

    # ------------------------------------------------------------------ lookups

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

    def _authenticate(self, fields: Fields) -> Account | None:
        email = email_of(fields)
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
        order_id = id_text(fields.get("order_id", fields.get("id")))
        if order_id:
            order = self._orders.get(order_id)
            return order if order is not None and order.email == account.email else None
        number = re.sub(r"\D", "", str(fields.get("number") or ""))
        service = str(fields.get("service") or "").strip().lower()
        if not number or not service:
            return None
        for order in reversed(account.orders):  # a per-service bundle shares its number: the service decides
            if order.number == number and service in (order.service.lower(), *self._names_of(order)):
                return order
        return None

    def _names_of(self, order: SimOrder) -> list[str]:
        return [self._product(pid).name.lower() for pid in order.product_ids]

    # ------------------------------------------------------------------ decision rules

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

    # ------------------------------------------------------------------ lifecycle and money

    def _refresh(self, order: SimOrder) -> None:
        """Lazy expiry: applied whenever an order is looked at, so no sweeper task is needed."""
        if order.live and now() >= order.expires_at:
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

    def _new_us_order(
        self, account: Account, products: Sequence[Product], price: Decimal, number: str | None = None
    ) -> SimOrder:
        """One order of `products` (several: a one-order bundle) on a new number, or on `number`."""
        first, moment = products[0], now()
        self._order_seq += 1
        long = first.period is not None
        order = SimOrder(
            order_id=str(self._order_seq),
            email=account.email,
            number=number or self._numbers.new(),
            service=", ".join(p.name for p in products),
            product_id=first.product_id,
            type=first.type,
            status="Active" if long else "Reserved",
            price=price,
            expires_at=moment + (first.period if first.period else timedelta(seconds=self.short_term_seconds)),
            online_until=moment + timedelta(minutes=self.online_minutes) if long else None,
            product_ids=[p.product_id for p in products],
        )
        for product in products:
            product.available -= 1
        self._charge(account, order, price)
        self._register(account, order)
        return order

    def _new_bundle(self, account: Account, products: Sequence[Product]) -> list[SimOrder]:
        """A 30-days bundle on one number, answered as `bundle_answer` says."""
        if self.bundle_answer == "one_order":
            return [self._new_us_order(account, products, sum((p.price for p in products), Decimal("0")))]
        number = self._numbers.new()
        return [self._new_us_order(account, [product], product.price, number) for product in products]

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
            expires_at=now() + timedelta(seconds=self.country_seconds),
            product_ids=[product.product_id],
            country=COUNTRIES[product.country][0],
        )
        product.available -= 1
        self._charge(account, order, product.price)
        self._register(account, order)
        return order

    # ------------------------------------------------------------------ hooks (sim.py)

    def _schedule_auto_sms(self, order: SimOrder) -> None:
        raise NotImplementedError

    def _notify_sms(self, order: SimOrder, text: str, pin: str, service: str) -> None:
        raise NotImplementedError

    def _announce_auction_win(self, order: SimOrder) -> None:
        raise NotImplementedError
