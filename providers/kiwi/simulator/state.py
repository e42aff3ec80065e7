"""The kiwiSMS simulator's provider side: accounts, catalogue, rentals and their rules, webhooks.

`KiwiSimulator` (sim.py) puts the HTTP API and the fault knobs on top of this state.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from providers.kiwi.simulator.catalog import CatalogItem, PhoneFactory, build_catalog
from providers.kiwi.simulator.models import Account, SimRental, iso_z
from providers.simulation.codes import required_code
from providers.simulation.simulator_base import LoopbackSimulator

def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class KiwiState(LoopbackSimulator):
    """In-memory kiwiSMS accounts and rentals with the provider's rules (charge, refund, expiry)."""

    def __init__(
        self, sandbox: bool = False, auto_sms_after: float | None = None, rental_minutes: float = 20.0
    ) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.auto_sms_after = auto_sms_after
        self.rental_minutes = rental_minutes
        self.webhook_deliveries: list[dict[str, Any]] = []
        self._catalog: dict[str, dict[str, CatalogItem]] = build_catalog()
        self._accounts: dict[str, Account] = {}
        self._rentals: dict[str, SimRental] = {}
        self._phones = PhoneFactory()
        self._rng = random.Random("kiwi-sim")
        self._external_seq = 700_000_000

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

    def configure_webhook(self, api_key: str, url: str | None, secret: str | None) -> bool:
        """What a person does in the dashboard: point the account's webhook at `url`, signed with
        `secret` (None turns it off). False for an unknown account. The sandbox bot calls it."""
        account = self._accounts.get(api_key)
        if account is None:
            return False
        account.webhook_url, account.webhook_secret = url, secret
        return True

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
        code = required_code(text, code)
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

    def set_stock(self, country: str, service: str, count: int) -> None:
        self._catalog_item(country, service).count = count

    def set_price(self, country: str, service: str, price: Decimal) -> None:
        self._catalog_item(country, service).price = Decimal(price)

    # ------------------------------------------------------------------ state helpers

    def _catalog_item(self, country: str, service: str) -> CatalogItem:
        items = self._catalog[country]  # KeyError for an unknown country is the honest answer
        if service not in items:  # unknown services are created, so tests can add their own
            items[service] = CatalogItem(service, service.upper(), Decimal("1.00"), 0, False)
        return items[service]

    def _refresh(self, rental: SimRental) -> None:
        """Lazy expiry: applied whenever a rental is looked at, so no sweeper task is needed."""
        if rental.active and utc_now() >= rental.expires_at:
            self._mark_expired(rental)

    def _refresh_account(self, account: Account) -> None:
        now = utc_now()
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
        now = utc_now()
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
            "receivedAt": iso_z(utc_now()),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        secret = (account.webhook_secret or "").encode()
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        delivery: dict[str, Any] = {
            "url": account.webhook_url, "body": body, "signature": signature, "status": None, "error": None,
        }
        headers = {"Content-Type": "application/json", "X-Webhook-Signature": signature}
        self._post_later(self.webhook_deliveries, delivery, {"content": body, "headers": headers})
