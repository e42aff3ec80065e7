"""What NonVoipUsNumber lets the bot do, as data (read through `client.capabilities` / `capabilities_of`).

An order's row in the actions table is the catalogue section it was bought from, which the bot
stores with the order: no answer of this API has to be remembered by the client.
"""

from __future__ import annotations

from collections.abc import Mapping

from providers.models import Action, Capabilities, OrderStatus, PollStrategy

# Catalogue sections: the grouped-products keys, and the country-wise inventory.
SHORT_TERM = "10-minutes"
ONE_DAY = "1-day"
THREE_DAYS = "3-days"  # a legacy category, shown only when the catalogue offers it
LONG_TERM = "30-days"
COUNTRY = "country"

# Section -> (the API's order `type`, rental minutes), in the order /buy shows them.
SECTIONS: dict[str, tuple[str, int]] = {
    SHORT_TERM: ("short_term", 10),
    ONE_DAY: ("one_day", 1440),
    LONG_TERM: ("long_term", 43200),
    THREE_DAYS: ("3days", 4320),
}
SECTION_OF_TYPE: dict[str, str] = {kind: section for section, (kind, _) in SECTIONS.items()}

BUNDLE_LIMIT = 5  # "product_ids: 30-days only ... Maximum 5 services"
RENEW_DURATIONS = ("1d", "3d", "30d")

_Row = Mapping[OrderStatus, frozenset[Action]]

# Long rentals (1/3/30 days) are live until their term ends, code or not.
_LONG: _Row = {
    OrderStatus.WAITING: frozenset({Action.ACTIVATE, Action.RENEW, Action.REFRESH}),
    OrderStatus.RECEIVED: frozenset({Action.ACTIVATE, Action.RENEW, Action.MESSAGES, Action.REFRESH}),
}
# 10-minutes: reject (refund) before the code, reuse the number after it.
_SHORT: _Row = {
    OrderStatus.WAITING: frozenset({Action.REJECT, Action.REFRESH}),
    OrderStatus.RECEIVED: frozenset({Action.REUSE, Action.MESSAGES, Action.REFRESH}),
}
# Country-wise orders can be rejected while waiting; reuse is a USA short-term feature.
_COUNTRY: _Row = {
    OrderStatus.WAITING: frozenset({Action.REJECT, Action.REFRESH}),
    OrderStatus.RECEIVED: frozenset({Action.MESSAGES, Action.REFRESH}),
}

CAPABILITIES = Capabilities(
    # No "list my orders" endpoint: getsms per order, within the account's rate limit.
    poll=PollStrategy.PER_ORDER,
    # Final statuses have no row: nothing can be done to a finished order.
    actions={
        SHORT_TERM: _SHORT,
        ONE_DAY: _LONG,
        THREE_DAYS: _LONG,
        LONG_TERM: _LONG,
        COUNTRY: _COUNTRY,
        "*": _SHORT,  # an unknown section: the short-term set, the most restricted live one
    },
    requests_per_minute=500,  # the documented per-account limit (the 429 example's `limit`)
    idempotent_purchase=False,  # no idempotency keys: a purchase is sent once
    renew_durations={section: RENEW_DURATIONS for section in (ONE_DAY, THREE_DAYS, LONG_TERM)},
    bundle_limits={LONG_TERM: BUNDLE_LIMIT},
    chooses_plan=False,
    reminds_before_end=True,  # 1/3/30-day rentals end on a date: remind before it
    # The documents only say a rejected rental is "stopped and refunded"; that an order expiring
    # without an SMS is refunded is the provider's practice (and the simulator's), not written.
    refunds_unused_expiry=True,
    # The documents name no orders page; the manager (the docs' server URL) is where orders are.
    order_page_url="https://nonvoipusnumber.com/manager",
)
