"""Callback data: a short prefix plus ids, within Telegram's 64 bytes; built and parsed here only.

Callback data is untrusted input: it carries ids, never prices, and every handler re-reads
what the ids point at and checks that it belongs to the chat. `decode` turns any string into
one typed value and never raises: anything it does not recognise is `Outdated`.

Free-text ids (sections, service and plan ids) are percent-escaped, so an id holding the
separator still parses back to itself; numbers are plain ASCII digits of bounded size, so a
forged "o:cancel:99999999999999999999999" is outdated, not an overflow in the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from providers.models import Action, ProviderId

MAX_BYTES = 64
SEP = ":"
MAX_ORDER_ID = 2**63 - 1  # SQLite's INTEGER
MAX_PAGE = 9_999
_DIGITS = re.compile(r"[0-9]{1,19}")
_ESCAPES = (("%", "%25"), (SEP, "%3A"))
_UNESCAPED = re.compile(r"%(25|3A)")
MenuItem = Literal["start", "buy", "orders", "balance", "providers", "history", "help", "connect"]
MENU_ITEMS: tuple[MenuItem, ...] = ("start", "buy", "orders", "balance", "providers", "history", "help", "connect")


class CallbackTooLong(ValueError):
    """The ids do not fit in 64 bytes: a keyboard must not offer such a button."""


# -- the typed values ------------------------------------------------------------------


@dataclass(frozen=True)
class Menu:
    item: MenuItem


@dataclass(frozen=True)
class ConnectProvider:
    provider: ProviderId


@dataclass(frozen=True)
class Disconnect:
    step: Literal["ask", "yes", "no"]
    provider: ProviderId | None  # None only for "no"


@dataclass(frozen=True)
class BuyProvider:
    provider: ProviderId


@dataclass(frozen=True)
class BuyPage:
    provider: ProviderId
    section: str
    page: int


@dataclass(frozen=True)
class BuyOffer:
    provider: ProviderId
    section: str
    service_id: str


@dataclass(frozen=True)
class BuyPlan:
    provider: ProviderId
    section: str
    plan_id: str


@dataclass(frozen=True)
class BuyToggle:
    provider: ProviderId
    section: str
    service_id: str
    page: int


@dataclass(frozen=True)
class BuySelectionDone:
    provider: ProviderId
    section: str


@dataclass(frozen=True)
class PurchaseTap:
    """Confirm, Accept (a price change or bid) or Cancel on a confirmation card; "again" opens a
    new card for a purchase whose outcome could not be confirmed."""

    step: Literal["confirm", "accept", "drop", "again"]
    purchase_id: str


@dataclass(frozen=True)
class OrderTap:
    action: Action
    order_id: int
    option: str | None = None


@dataclass(frozen=True)
class HistoryPage:
    page: int


@dataclass(frozen=True)
class Noop:
    """The page indicator between ◀ and ▶."""


@dataclass(frozen=True)
class Outdated:
    """Anything else: an old layout, a truncated or forged button."""


Callback = (
    Menu | ConnectProvider | Disconnect | BuyProvider | BuyPage | BuyOffer | BuyPlan | BuyToggle
    | BuySelectionDone | PurchaseTap | OrderTap | HistoryPage | Noop | Outdated
)
OUTDATED = Outdated()
NOOP = "noop"

_PURCHASE_CODES: dict[str, Literal["confirm", "accept", "drop", "again"]] = {
    "c": "confirm", "a": "accept", "x": "drop", "r": "again",
}
_PURCHASE_LETTERS = {step: code for code, step in _PURCHASE_CODES.items()}


# -- building ----------------------------------------------------------------------------


def _escape(value: str) -> str:
    for raw, escaped in _ESCAPES:
        value = value.replace(raw, escaped)
    return value


def _unescape(value: str) -> str:
    return _UNESCAPED.sub(lambda m: "%" if m.group(1) == "25" else SEP, value)


def _join(*parts: object) -> str:
    if any(p == "" for p in parts):
        raise ValueError("empty id")
    data = SEP.join(_escape(p) if isinstance(p, str) else str(p) for p in parts)
    if not data or len(data.encode()) > MAX_BYTES:
        raise CallbackTooLong(f"callback data of {len(data.encode())} bytes")
    return data


def encode(value: Callback) -> str:
    """The callback data of a typed value (raises CallbackTooLong when the ids do not fit)."""
    match value:
        case Menu(item):
            return _join("m", item)
        case ConnectProvider(provider):
            return _join("c", provider.value)
        case Disconnect("no", _):
            return _join("p", "no")
        case Disconnect(step, provider) if provider is not None:
            return _join("p", step, provider.value)
        case BuyProvider(provider):
            return _join("b", "p", provider.value)
        case BuyPage(provider, section, page):
            return _join("b", "s", provider.value, section, _page(page))
        case BuyOffer(provider, section, service_id):
            return _join("b", "o", provider.value, section, service_id)
        case BuyPlan(provider, section, plan_id):
            return _join("b", "pl", provider.value, section, plan_id)
        case BuyToggle(provider, section, service_id, page):
            return _join("b", "t", provider.value, section, service_id, _page(page))
        case BuySelectionDone(provider, section):
            return _join("b", "m", provider.value, section)
        case PurchaseTap(step, purchase_id):
            return _join("b", _PURCHASE_LETTERS[step], purchase_id)
        case OrderTap(action, order_id, option):
            if not 0 <= order_id <= MAX_ORDER_ID:
                raise ValueError("order id out of range")
            return _join("o", action.value, order_id) if option is None else _join("o", action.value, order_id, option)
        case HistoryPage(page):
            return _join("h", _page(page))
        case Noop():
            return NOOP
    raise ValueError(f"cannot encode {type(value).__name__}")


def _page(page: int) -> int:
    if not 0 <= page <= MAX_PAGE:
        raise ValueError("page out of range")
    return page


# The builders keyboards.py calls (one per button kind).
def menu(item: MenuItem) -> str:
    return encode(Menu(item))


def connect(provider: ProviderId) -> str:
    return encode(ConnectProvider(provider))


def disconnect_ask(provider: ProviderId) -> str:
    return encode(Disconnect("ask", provider))


def disconnect_yes(provider: ProviderId) -> str:
    return encode(Disconnect("yes", provider))


def disconnect_no() -> str:
    return encode(Disconnect("no", None))


def buy_provider(provider: ProviderId) -> str:
    return encode(BuyProvider(provider))


def buy_page(provider: ProviderId, section: str, page: int) -> str:
    return encode(BuyPage(provider, section, page))


def buy_offer(provider: ProviderId, section: str, service_id: str) -> str:
    return encode(BuyOffer(provider, section, service_id))


def buy_plan(provider: ProviderId, section: str, plan_id: str) -> str:
    return encode(BuyPlan(provider, section, plan_id))


def buy_toggle(provider: ProviderId, section: str, service_id: str, page: int) -> str:
    return encode(BuyToggle(provider, section, service_id, page))


def buy_selection_done(provider: ProviderId, section: str) -> str:
    return encode(BuySelectionDone(provider, section))


def buy_confirm(purchase_id: str) -> str:
    return encode(PurchaseTap("confirm", purchase_id))


def buy_accept(purchase_id: str) -> str:
    return encode(PurchaseTap("accept", purchase_id))


def buy_drop(purchase_id: str) -> str:
    return encode(PurchaseTap("drop", purchase_id))


def buy_again(purchase_id: str) -> str:
    return encode(PurchaseTap("again", purchase_id))


def order_action(action: Action, order_id: int, option: str | None = None) -> str:
    return encode(OrderTap(action, order_id, option))


def history_page(page: int) -> str:
    return encode(HistoryPage(page))


# -- parsing -----------------------------------------------------------------------------


def decode(data: object) -> Callback:
    """The typed value of any callback data; never raises, `OUTDATED` for anything unknown."""
    if not isinstance(data, str) or not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return OUTDATED
    if data == NOOP:
        return Noop()
    try:
        return _decode(data.split(SEP))
    except (ValueError, KeyError, IndexError):
        return OUTDATED


def _decode(parts: list[str]) -> Callback:
    head, rest = parts[0], parts[1:]
    if head == "m" and len(rest) == 1 and rest[0] in MENU_ITEMS:
        return Menu(rest[0])  # type: ignore[arg-type]
    if head == "c" and len(rest) == 1:
        return ConnectProvider(ProviderId(rest[0]))
    if head == "p":
        if rest == ["no"]:
            return Disconnect("no", None)
        if len(rest) == 2 and rest[0] in ("ask", "yes"):
            return Disconnect(rest[0], ProviderId(rest[1]))  # type: ignore[arg-type]
    if head == "b" and rest:
        return _decode_buy(rest[0], rest[1:])
    if head == "o" and len(rest) in (2, 3):
        option = _text(rest[2]) if len(rest) == 3 else None
        return OrderTap(Action(rest[0]), _number(rest[1], MAX_ORDER_ID), option)
    if head == "h" and len(rest) == 1:
        return HistoryPage(_number(rest[0], MAX_PAGE))
    return OUTDATED


def _decode_buy(kind: str, args: list[str]) -> Callback:
    if kind in _PURCHASE_CODES and len(args) == 1:
        return PurchaseTap(_PURCHASE_CODES[kind], _text(args[0]))
    if not args:
        return OUTDATED
    provider = ProviderId(args[0])
    fields = args[1:]
    if kind == "p" and not fields:
        return BuyProvider(provider)
    if kind == "s" and len(fields) == 2:
        return BuyPage(provider, _text(fields[0]), _number(fields[1], MAX_PAGE))
    if kind == "o" and len(fields) == 2:
        return BuyOffer(provider, _text(fields[0]), _text(fields[1]))
    if kind == "pl" and len(fields) == 2:
        return BuyPlan(provider, _text(fields[0]), _text(fields[1]))
    if kind == "t" and len(fields) == 3:
        return BuyToggle(provider, _text(fields[0]), _text(fields[1]), _number(fields[2], MAX_PAGE))
    if kind == "m" and len(fields) == 1:
        return BuySelectionDone(provider, _text(fields[0]))
    return OUTDATED


def _text(field: str) -> str:
    if not field:
        raise ValueError("empty id")
    return _unescape(field)


def _number(field: str, maximum: int) -> int:
    # Only ASCII digits: str.isdigit() also accepts "²", which int() refuses.
    if not _DIGITS.fullmatch(field) or int(field) > maximum:
        raise ValueError("not a number in range")
    return int(field)


def matches(*kinds: type) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern: data that decodes to one of `kinds`."""
    return lambda data: isinstance(decode(data), kinds)
