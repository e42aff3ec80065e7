"""What each provider lets a user do to an order in a given state (the order card's buttons).

The rules live with their clients; this maps a stored order to them without building a client.
"""

from __future__ import annotations

from providers.gotsms.client import gotsms_actions
from providers.kiwi.client import KIWI_ACTIONS
from collections.abc import Sequence
from decimal import Decimal

from providers.models import Action, Offer, OrderStatus, ProviderId
from providers.nonvoip.client import COUNTRY, GROUPS, MAX_SERVICES, nonvoip_actions


def order_actions(provider: ProviderId, status: OrderStatus, section: str = "") -> frozenset[Action]:
    """`section` is the catalogue section the order was bought from (NonVoipUsNumber's order type)."""
    if provider is ProviderId.KIWI:
        return KIWI_ACTIONS.get(status, frozenset())
    if provider is ProviderId.NONVOIP:
        kind = COUNTRY if section == COUNTRY else GROUPS.get(section, ("short_term", 0))[0]
        return nonvoip_actions(kind, status)
    if provider is ProviderId.GOTSMS:
        return gotsms_actions(status, section)  # GotSMS orders store their plan kind as section
    return frozenset()


# NonVoipUsNumber renews long-term numbers for a duration the user picks.
_NONVOIP_DURATIONS = ("1d", "3d", "30d")


def renew_durations(provider: ProviderId, section: str) -> tuple[str, ...]:
    """Durations a renewal is offered for; empty = renew as is (kiwiSMS: a new session)."""
    if provider is ProviderId.NONVOIP and section in ("1-day", "30-days", "3-days"):
        return _NONVOIP_DURATIONS
    return ()


def multi_select_limit(provider: ProviderId, section: str) -> int:
    """How many services one number may bundle in this section; 0 = one service per order."""
    return MAX_SERVICES if provider is ProviderId.NONVOIP and section == "30-days" else 0


BUNDLE_SEPARATOR = ","


def bundle(offers: Sequence[Offer]) -> Offer:
    """Several services on one number, as one offer: ids joined, prices added, the scarcest stock."""
    if len(offers) == 1:
        return offers[0]
    stocks = [o.stock for o in offers if o.stock is not None]
    return Offer(
        section=offers[0].section,
        service=BUNDLE_SEPARATOR.join(o.service for o in offers),
        name=" + ".join(o.name for o in offers),
        price=sum((o.price for o in offers), Decimal("0")),
        stock=min(stocks) if stocks else None,
        duration_minutes=offers[0].duration_minutes,
    )


def chooses_plan(provider: ProviderId) -> bool:
    """GotSMS sells plans: after the service comes the list of its plans."""
    return provider is ProviderId.GOTSMS
