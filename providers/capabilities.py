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


def renew_durations(provider: ProviderId, section: str) -> tuple[str, ...]:
    """Durations a renewal is offered for; empty = renew as is (kiwiSMS: a new session)."""
    return _DURATIONS.get(provider, {}).get(section, ())


_DURATIONS: dict[ProviderId, dict[str, tuple[str, ...]]] = {}
