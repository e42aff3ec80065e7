"""What GotSMS lets the bot do, as data (read through `client.capabilities` / `capabilities_of`).

A GotSMS order's kind is its plan's "<billing_type>:<duration_type>" (stored as the order's
section, e.g. "duration:month"); the buttons of a live rent depend on it. A final rent has none.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.models import Action, ActionTable, Capabilities, OrderStatus, PollStrategy

_LIVE = (OrderStatus.WAITING, OrderStatus.RECEIVED)  # the client reads every active rent as WAITING


def _live_row(actions: Iterable[Action]) -> dict[OrderStatus, frozenset[Action]]:
    """The same buttons in every live status, none in a final one."""
    allowed = frozenset(actions)
    return {status: allowed if status in _LIVE else frozenset() for status in OrderStatus}


# Every rent can ask for a refund (the provider decides), list its SMS and be refreshed.
_EVERY_RENT = (Action.REFUND, Action.MESSAGES, Action.REFRESH)

GOTSMS_ACTIONS: ActionTable = {
    # Auto-renewal exists for monthly plans only.
    "duration:month": _live_row((*_EVERY_RENT, Action.WAKE_UP, Action.AUTO_RENEW)),
    # A daily rent can move to a monthly plan (transition).
    "duration:day": _live_row((*_EVERY_RENT, Action.WAKE_UP, Action.EXTEND)),
    # Other duration plans (hour, week, year, ...) sleep between uses: wake-up.
    "duration:*": _live_row((*_EVERY_RENT, Action.WAKE_UP)),
    # SMS-billed numbers are always online: nothing to wake up, renew or extend.
    "sms:*": _live_row(_EVERY_RENT),
    # A rent of unknown plan: the live superset (the provider refuses what does not apply).
    "*": _live_row((*_EVERY_RENT, Action.WAKE_UP, Action.AUTO_RENEW, Action.EXTEND)),
}

CAPABILITIES = Capabilities(
    # GET /api/messages/unread returns the new SMS of every rent and marks them read: one
    # request per account per tick; `order_messages` recovers what a lost answer took.
    poll=PollStrategy.UNREAD_FEED,
    actions=GOTSMS_ACTIONS,
    requests_per_minute=None,  # the documents name no limit (a 429 is honoured when it comes)
    idempotent_purchase=False,  # no idempotency keys: a purchase is sent once, then reconciled
    renew_durations={},  # renewal is the provider's auto-renewal; a longer term is a transition
    bundle_limits={},  # one service per rent
    chooses_plan=True,  # after the service comes the list of its plans
    reminds_before_end=True,  # rents last days or months
    refunds_unused_expiry=False,  # an ended rent is just "finished": nothing says money came back
    order_page_url="https://app.gotsms.org",  # the documents' server; they name no page below it
)
