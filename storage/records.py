"""Rows of the database as typed, immutable records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from providers.models import Action, IncomingSms, OrderRequest, OrderStatus, ProviderId, RemoteOrder
from storage.database import Row, db_time, from_db_time


@dataclass(frozen=True)
class OrderRecord:
    id: int
    chat_id: int
    provider: ProviderId
    remote_id: str
    phone: str
    service: str
    service_name: str
    price: Decimal
    status: OrderStatus
    refunded: bool | None
    expires_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    card_message_id: int | None
    section: str = ""
    plan: str = ""  # the plan in words, where the provider sells plans (GotSMS)
    duration_minutes: int | None = None  # the rental's length as its confirmation card said
    auto_renew: bool | None = None  # as the provider last said; None = unknown or not applicable

    @classmethod
    def from_row(cls, row: Row) -> "OrderRecord":
        return cls(
            id=row["id"],
            chat_id=row["chat_id"],
            provider=ProviderId(row["provider"]),
            remote_id=row["remote_id"],
            phone=row["phone"],
            service=row["service"],
            service_name=row["service_name"],
            price=Decimal(row["price"]),
            status=OrderStatus(row["status"]),
            refunded=None if row["refunded"] is None else bool(row["refunded"]),
            expires_at=from_db_time(row["expires_at"]),
            created_at=db_time(row["created_at"]),
            finished_at=from_db_time(row["finished_at"]),
            card_message_id=row["card_message_id"],
            section=row["section"],
            plan=row["plan"],
            duration_minutes=row["duration_minutes"],
            auto_renew=None if row["auto_renew"] is None else bool(row["auto_renew"]),
        )

    def with_messages(self, messages: Sequence[IncomingSms]) -> RemoteOrder:
        """The order as stored, carrying new messages, for `Delivery.apply`: what brought them (a
        feed item, a callback) says nothing about the order's state, so nothing else changes."""
        return RemoteOrder(
            order_id=self.remote_id,
            phone=self.phone,
            service=self.service,
            service_name=self.service_name,
            price=self.price,
            status=self.status,
            expires_at=None,
            messages=tuple(messages),
        )


class PurchaseState:
    """A purchase's life: each move is a compare-and-set on this column."""

    PENDING = "pending"  # confirmation card shown
    PLACING = "placing"  # Confirm tapped, request under way
    PLACED = "placed"
    FAILED = "failed"  # definite refusal, nothing charged
    UNKNOWN = "unknown"  # may have charged; reconciled by the poller / the user
    DECIDING = "deciding"  # the provider asked for a decision (price change, premium bid)
    DROPPED = "dropped"  # the user pressed Cancel on the card


@dataclass(frozen=True)
class PurchaseRecord:
    id: str
    chat_id: int
    provider: ProviderId
    section: str
    service: str
    service_name: str
    price: Decimal
    stock: int | None
    duration_minutes: int | None
    idempotency_key: str
    state: str
    order_id: int | None
    error: str | None
    created_at: datetime
    decision: str | None = None  # JSON of the provider's price change / premium offer
    service_ids: tuple[str, ...] = ()  # what is ordered: one service, or a bundle on one number
    plan_id: str | None = None  # GotSMS: the plan bought
    lease_until: datetime | None = None  # while *placing*: after this the attempt counts as lost
    notified_at: datetime | None = None  # when the chat was told the outcome could not be found
    action: Action | None = None  # a paid action on an existing order; None = a new order
    target_order_id: int | None = None  # the order a paid action is for
    option: str | None = None  # the renewal duration, the plan extended to
    price_known: bool = True  # False: the provider sets the price when it charges

    @property
    def quoted_price(self) -> Decimal | None:
        """What the card said it costs; None where the provider does not say."""
        return self.price if self.price_known else None

    @classmethod
    def from_row(cls, row: Row) -> "PurchaseRecord":
        return cls(
            id=row["id"],
            chat_id=row["chat_id"],
            provider=ProviderId(row["provider"]),
            section=row["section"],
            service=row["service"],
            service_name=row["service_name"],
            price=Decimal(row["price"]),
            stock=row["stock"],
            duration_minutes=row["duration_minutes"],
            idempotency_key=row["idempotency_key"],
            state=row["state"],
            order_id=row["order_id"],
            error=row["error"],
            created_at=db_time(row["created_at"]),
            decision=row["decision"],
            service_ids=tuple(json.loads(row["service_ids"] or "[]")),
            plan_id=row["plan_id"],
            lease_until=from_db_time(row["lease_until"]),
            notified_at=from_db_time(row["notified_at"]),
            action=Action(row["action"]) if row["action"] else None,
            target_order_id=row["target_order_id"],
            option=row["option"],
            price_known=bool(row["price_known"]),
        )

    def order_request(self) -> OrderRequest:
        """What the card promised, typed; max_price: never pay more than the card showed."""
        return OrderRequest(
            section=self.section,
            service_ids=self.service_ids,
            plan_id=self.plan_id,
            max_price=self.price,
            idempotency_key=self.idempotency_key,
        )


@dataclass(frozen=True)
class MessageRecord:
    id: int
    order_id: int
    chat_id: int
    kind: str  # "sms" or "notice"
    provider_message_id: str
    code: str | None
    text: str
    received_at: datetime
    delivered_at: datetime | None
    service_name: str | None = None  # the SMS's own service (one number, several services)
    source: str | None = None  # the path that stored it: "poll" or "callback" (None for notices)
    stored_at: datetime | None = None  # when the bot stored it: code latency is measured from here

    @classmethod
    def from_row(cls, row: Row) -> "MessageRecord":
        return cls(
            id=row["id"],
            order_id=row["order_id"],
            chat_id=row["chat_id"],
            kind=row["kind"],
            provider_message_id=row["provider_message_id"],
            code=row["code"],
            text=row["text"],
            received_at=db_time(row["received_at"]),
            delivered_at=from_db_time(row["delivered_at"]),
            service_name=row["service_name"],
            source=row["source"],
            stored_at=from_db_time(row["stored_at"]),
        )
