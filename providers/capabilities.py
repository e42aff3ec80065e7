"""What each provider lets a user do to an order in a given state (the order card's buttons).

The tables live with their clients; this maps a stored order to them without building a client.
"""

from __future__ import annotations

from providers.kiwi import KIWI_ACTIONS
from providers.models import Action, OrderStatus, ProviderId

_TABLES: dict[ProviderId, dict[OrderStatus, frozenset[Action]]] = {ProviderId.KIWI: KIWI_ACTIONS}


def order_actions(provider: ProviderId, status: OrderStatus, section: str = "") -> frozenset[Action]:
    """`section` is the catalogue section the order was bought from (NonVoipUsNumber's order type)."""
    return _TABLES.get(provider, {}).get(status, frozenset())
