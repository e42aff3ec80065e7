"""What each provider lets a user do to an order in a given state (the order card's buttons)."""

from __future__ import annotations

from providers.models import Action, OrderStatus, ProviderId

_KIWI: dict[OrderStatus, frozenset[Action]] = {
    OrderStatus.WAITING: frozenset({Action.CANCEL, Action.REFRESH}),
    OrderStatus.RECEIVED: frozenset({Action.DONE, Action.RENEW, Action.REFRESH}),
    OrderStatus.COMPLETED: frozenset({Action.RENEW}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}

_TABLES: dict[ProviderId, dict[OrderStatus, frozenset[Action]]] = {ProviderId.KIWI: _KIWI}


def order_actions(provider: ProviderId, status: OrderStatus) -> frozenset[Action]:
    return _TABLES.get(provider, {}).get(status, frozenset())
