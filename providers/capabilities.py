"""What each provider lets a user do to an order in a given state (the order card's buttons).

The rules live with their clients; this maps a stored order to them without building a client.
"""

from __future__ import annotations

from providers.kiwi import KIWI_ACTIONS
from providers.models import Action, OrderStatus, ProviderId
from providers.nonvoip import COUNTRY, GROUPS, nonvoip_actions


def order_actions(provider: ProviderId, status: OrderStatus, section: str = "") -> frozenset[Action]:
    """`section` is the catalogue section the order was bought from (NonVoipUsNumber's order type)."""
    if provider is ProviderId.KIWI:
        return KIWI_ACTIONS.get(status, frozenset())
    if provider is ProviderId.NONVOIP:
        kind = COUNTRY if section == COUNTRY else GROUPS.get(section, ("short_term", 0))[0]
        return nonvoip_actions(kind, status)
    return frozenset()


# NonVoipUsNumber renews long-term numbers for a duration the user picks.
_NONVOIP_DURATIONS = ("1d", "3d", "30d")


def renew_durations(provider: ProviderId, section: str) -> tuple[str, ...]:
    """Durations a renewal is offered for; empty = renew as is (kiwiSMS: a new session)."""
    if provider is ProviderId.NONVOIP and section in ("1-day", "30-days", "3-days"):
        return _NONVOIP_DURATIONS
    return ()
