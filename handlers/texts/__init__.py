"""Every sentence the bot says, apart from the logic that decides when to say it (HTML parse mode).

One module per concept; every public name is re-exported here, so callers keep using `texts.X`."""

from handlers.texts.common import (
    MESSAGE_LIMIT, clip_message, duration_words, escaped_clip, money, phone, provider_name, time_left,
)
from handlers.texts.chat import (
    CANCELLED, EDITED_MESSAGE, FOREIGN_BUTTON, HELP, INTERNAL_ERROR, NOTHING_TO_CANCEL, NOT_ALLOWED,
    NOT_YOUR_ORDER, OUTDATED_BUTTON, PRIVATE_ONLY, STEP_ENDED, UNKNOWN_TEXT, private_chat_only,
    action_refused,
    provider_error, welcome,
)
from handlers.texts.accounts import (
    ACCOUNT_SWITCH_EXPIRED, CHECKING, CHOOSE_PROVIDER_CONNECT, CREDENTIAL_OUTSIDE_STEP, DISCONNECTED,
    DISCONNECT_KEPT, GOTSMS_ASK_TOKEN, KIWI_ASK_KEY, NONVOIP_ASK_EMAIL, NONVOIP_ASK_PASSWORD, NO_PROVIDERS,
    SECRET_DELETED_NOTE, account_gone_line, account_switch_kept, account_switch_question, balances,
    connect_failed, connect_unchecked, connected, credentials_rejected, disconnect_question,
    invalid_credential, providers_overview,
)
from handlers.texts.buy import (
    ALREADY_PLACED, ALREADY_PLACING, AUCTION_WON, CHOOSE_PROVIDER_BUY, FILTER_HINT, NOTHING_SELECTED, NO_MATCH, PLACING,
    PURCHASE_BEING_CHECKED, PURCHASE_CLOSED, PURCHASE_DROPPED, PURCHASE_PENDING_CHECK, RECONCILED,
    SELECTION_RESTARTED, SOLD_OUT, STALE_SELECTION, TOO_MANY_SERVICES, choose_plan, choose_section,
    confirmation, offer_label, plan_label, premium_bid, price_change, purchase_failed, purchase_unconfirmed,
    services_page,
)
from handlers.texts.orders import (
    ACTION_NOT_AVAILABLE, CARD_CODES_SHOWN, NO_ACTIVE_ORDERS, NO_HISTORY, ORDER_FINISHED, SMS_TEXT_LIMIT,
    STATUS_WORDS, code_message, codes_line, finished_notice, history_entry, number_messages,
    order_card, refund_note, rent_ending,
)
from handlers.texts.rent import (
    NO_EXTENSION, activation, auto_renewal, choose_extension, choose_renewal, extended, refund_question,
    renewed_until, woken,
)
from handlers.texts.hooks import (
    INVALID_SECRET, KIWI_OFF, KIWI_OFFER, KIWI_ON, NO_PUBLIC_URL, NOT_CONNECTED, POLLING_ONLY, SECRET_DELETED,
    SECRET_NOT_DELETED, SETUP_BUTTON, STATE_LAGGING, STATE_NO_PUBLIC_URL, STATE_OFF, STATE_ON, STATE_POLLING_ONLY,
    TURN_OFF_BUTTON, instant_codes_on, instant_codes_refused, kiwi_setup, setup_button, state_refused,
)
from handlers.texts.paid import (
    DURATION_WORDS, NOTHING_CHARGED, RENEW_WHAT, REUSE_WHAT, extend_what, paid_action_card, paid_action_done,
    renew_what,
)

__all__ = [
    "MESSAGE_LIMIT", "clip_message", "duration_words", "escaped_clip", "money", "phone", "provider_name",
    "time_left", "CANCELLED", "EDITED_MESSAGE", "FOREIGN_BUTTON", "HELP", "INTERNAL_ERROR",
    "NOTHING_TO_CANCEL", "NOT_ALLOWED", "NOT_YOUR_ORDER", "OUTDATED_BUTTON", "PRIVATE_ONLY", "STEP_ENDED",
    "UNKNOWN_TEXT", "private_chat_only", "action_refused",
    "provider_error", "welcome", "ACCOUNT_SWITCH_EXPIRED", "CHECKING",
    "CHOOSE_PROVIDER_CONNECT", "CREDENTIAL_OUTSIDE_STEP", "DISCONNECTED", "DISCONNECT_KEPT",
    "GOTSMS_ASK_TOKEN", "KIWI_ASK_KEY", "NONVOIP_ASK_EMAIL", "NONVOIP_ASK_PASSWORD", "NO_PROVIDERS",
    "SECRET_DELETED_NOTE", "account_gone_line", "account_switch_kept", "account_switch_question", "balances",
    "connect_failed", "connect_unchecked", "connected", "credentials_rejected", "disconnect_question",
    "invalid_credential", "providers_overview", "ALREADY_PLACED", "ALREADY_PLACING", "AUCTION_WON", "CHOOSE_PROVIDER_BUY",
    "FILTER_HINT", "NOTHING_SELECTED", "NO_MATCH", "PLACING", "PURCHASE_BEING_CHECKED", "PURCHASE_CLOSED",
    "PURCHASE_DROPPED", "PURCHASE_PENDING_CHECK", "RECONCILED", "SELECTION_RESTARTED", "SOLD_OUT",
    "STALE_SELECTION", "TOO_MANY_SERVICES", "choose_plan", "choose_section", "confirmation", "offer_label",
    "plan_label", "premium_bid", "price_change", "purchase_failed", "purchase_unconfirmed", "services_page",
    "ACTION_NOT_AVAILABLE", "CARD_CODES_SHOWN", "NO_ACTIVE_ORDERS", "NO_HISTORY", "ORDER_FINISHED",
    "SMS_TEXT_LIMIT", "STATUS_WORDS", "code_message", "codes_line", "finished_notice", "history_entry",
    "number_messages", "order_card", "refund_note", "rent_ending", "NO_EXTENSION",
    "activation", "auto_renewal", "choose_extension", "choose_renewal", "extended", "refund_question",
    "renewed_until", "woken", "DURATION_WORDS", "NOTHING_CHARGED", "RENEW_WHAT", "REUSE_WHAT", "extend_what",
    "paid_action_card", "paid_action_done", "renew_what",
]
__all__ += [
    "INVALID_SECRET", "KIWI_OFF", "KIWI_OFFER", "KIWI_ON", "NO_PUBLIC_URL", "NOT_CONNECTED", "POLLING_ONLY",
    "SECRET_DELETED", "SECRET_NOT_DELETED", "SETUP_BUTTON", "STATE_LAGGING", "STATE_NO_PUBLIC_URL", "STATE_OFF",
    "STATE_ON", "STATE_POLLING_ONLY", "TURN_OFF_BUTTON", "instant_codes_on", "instant_codes_refused", "kiwi_setup",
    "setup_button", "state_refused",
]
