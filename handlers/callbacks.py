"""Callback data: a short prefix plus ids, within Telegram's 64 bytes; built and parsed here only.

Callback data is untrusted input: it carries ids, never prices, and every handler re-reads
what the ids point at and checks that it belongs to the chat.
"""

from __future__ import annotations

from providers.models import Action, ProviderId

MAX_BYTES = 64
SEP = ":"


def _join(*parts: object) -> str:
    data = SEP.join(str(p) for p in parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


# Main menu.
def menu(item: str) -> str:
    return _join("m", item)


# /connect
def connect(provider: ProviderId) -> str:
    return _join("c", provider.value)


# /providers
def disconnect_ask(provider: ProviderId) -> str:
    return _join("p", "ask", provider.value)


def disconnect_yes(provider: ProviderId) -> str:
    return _join("p", "yes", provider.value)


def disconnect_no() -> str:
    return _join("p", "no")


# /buy
def buy_provider(provider: ProviderId) -> str:
    return _join("b", "p", provider.value)


def buy_page(provider: ProviderId, section: str, page: int) -> str:
    return _join("b", "s", provider.value, section, page)


def buy_offer(provider: ProviderId, section: str, service: str) -> str:
    return _join("b", "o", provider.value, section, service)


def buy_plan(provider: ProviderId, section: str, plan_id: str) -> str:
    return _join("b", "pl", provider.value, section, plan_id)


def buy_toggle(provider: ProviderId, section: str, service: str, page: int) -> str:
    return _join("b", "t", provider.value, section, service, page)


def buy_selection_done(provider: ProviderId, section: str) -> str:
    return _join("b", "m", provider.value, section)


def buy_confirm(purchase_id: str) -> str:
    return _join("b", "c", purchase_id)


def buy_accept(purchase_id: str) -> str:
    return _join("b", "a", purchase_id)


def buy_drop(purchase_id: str) -> str:
    return _join("b", "x", purchase_id)


# Order card.
def order_action(action: Action, order_id: int, option: str | None = None) -> str:
    return _join("o", action.value, order_id) if option is None else _join("o", action.value, order_id, option)


# /history
def history_page(page: int) -> str:
    return _join("h", page)


NOOP = "noop"


def parse(data: str | None) -> list[str]:
    return (data or "").split(SEP)
