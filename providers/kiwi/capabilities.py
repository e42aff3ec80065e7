"""What kiwiSMS lets the bot do, as data (read through `client.capabilities` / `capabilities_of`)."""

from __future__ import annotations

from providers.models import Action, Capabilities, OrderStatus, PollStrategy

# kiwiSMS sells one kind of order (a ~20 minute session), so every order follows the "*" row.
KIWI_ACTIONS: dict[OrderStatus, frozenset[Action]] = {
    OrderStatus.WAITING: frozenset({Action.CANCEL, Action.REFRESH}),  # cancel refunds, only before a code
    # Messages: every SMS the bot stored for the order, paged (the card shows the latest codes).
    OrderStatus.RECEIVED: frozenset({Action.DONE, Action.RENEW, Action.MESSAGES, Action.REFRESH}),
    OrderStatus.COMPLETED: frozenset({Action.RENEW, Action.MESSAGES}),  # renew keeps the number for a new session
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}

CAPABILITIES = Capabilities(
    # GET /api/v1/rentals lists every live rental of the account with its codes: one request per tick.
    poll=PollStrategy.ACCOUNT_LIST,
    actions={"*": KIWI_ACTIONS},
    requests_per_minute=None,  # the API answers 429 with Retry-After but documents no number
    idempotent_purchase=True,  # Idempotency-Key on rent and renew (24 h, replayed by the provider)
    renew_durations={},  # a renewal is always a new ~20 minute session: nothing to choose
    bundle_limits={},  # one service per number
    chooses_plan=False,
    reminds_before_end=False,
    # A rental that expires without a code is refunded (the client reports it as `refunded`).
    refunds_unused_expiry=True,
    order_page_url="https://kiwisms.com/dashboard",  # the dashboard of the docs' server
)
