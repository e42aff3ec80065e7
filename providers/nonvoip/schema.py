"""NonVoipUsNumber's wire format (`nonvoipusnumber.openapi.json`) as msgspec Structs.

Read liberally (providers/parsing.py): ids and texts as strings or numbers, money as strings or
numbers, stamps as "YYYY-MM-DD HH:MM:SS" (UTC) or ISO 8601. Unknown fields are ignored. Every
answer is an envelope `{"status": "success" | "info" | "error", "message": ...}` whose `message`
is a text, an object, or a list of objects depending on the endpoint.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from providers.parsing import Money, Text, When

Count = Annotated[int, msgspec.Meta(ge=0)]
# Seconds from now in order answers, a stamp in renew answers: both travel under `expiration`.
SecondsOrStamp = int | float | str | None


class Envelope(msgspec.Struct):
    """What every answer has; `message` is read by the endpoint's own Struct."""

    status: str | None = None
    message: Any = None
    # 429 bodies; read laxly apart, so an odd value never hides the error text.
    retry_after: Any = msgspec.field(default=None, name="retryAfter")


class BalanceAnswer(msgspec.Struct):
    balance: Money


class Product(msgspec.Struct):
    """An item of /api/products (`category` when not grouped) or /api/country/products (`country`)."""

    product_id: Text
    name: Text
    price: Money
    available: Count
    category: Text | None = None
    country: Text | None = None

    def __post_init__(self) -> None:
        if not self.product_id.strip():
            raise ValueError("empty product_id")


class OrderEntry(msgspec.Struct):
    """One order of an /api/order, /api/country/order or /api/reuse answer (or an auction_wining item).

    A 30-days bundle (`product_ids`) may answer one entry per service, each with its own order id,
    all on one number; or one entry for the whole bundle."""

    number: Text
    service: Text
    order_id: Text | None = None
    status: Text | None = None
    type: Text | None = None
    expiration: SecondsOrStamp = None
    till_expiration: SecondsOrStamp = None  # reuse answers
    expires: When | None = None  # long-term answers
    expires_at: When | None = None  # country answers
    cost: Money | None = None  # country answers
    country: Text | None = None

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise ValueError("empty number")
        if self.order_id is not None and not self.order_id.strip():
            raise ValueError("empty order_id")


class Decision(msgspec.Struct):
    """A `status: info` order answer item: Price_Change_Required or Premium_Available."""

    info: Text
    quoted_price: Money | None = None
    allowed_price: Money | None = None
    available_price: Money | None = None
    recommended_bid: Money | None = None


class SmsAnswer(msgspec.Struct):
    """A `status: success` /api/getsms answer: the order's latest SMS (fields at the top level)."""

    sms: Text
    number: Text = ""
    service: Text = ""  # the service this SMS is for (one per number, except one-id bundles)
    pin: Text | None = None
    type: Text | None = None


class Activation(msgspec.Struct):
    """An /api/activate answer item; `end_on` is read separately ("" means no window)."""

    online_status: Text = ""
    end_on: Text | None = None
    timezone: Text | None = None


class Renewal(msgspec.Struct):
    """An /api/renew answer: `expiration` (a stamp here), maybe `cost` / `order_id`, at the top or
    in `message`."""

    order_id: Text | None = None
    number: Text = ""
    service: Text = ""
    cost: Money | None = None
    expiration: SecondsOrStamp = None


class IncomingMessage(msgspec.Struct):
    """The `message` of an `incoming_message` callback."""

    order_id: Text
    sms: Text
    number: Text = ""
    service: Text = ""
    sender: Text = ""
    code: Text | None = None
    type: Text | None = None


class CallbackEvent(msgspec.Struct):
    """A callback POSTed to the URL saved with /api/saveurl."""

    event: Text
    message: Any = None
