"""Every sentence the bot says, apart from the logic that decides when to say it (HTML parse mode).

One module per concept; every public name is re-exported here, so callers keep using `texts.X`."""

from handlers.texts.common import (
    MESSAGE_LIMIT, clip_message, duration_words, escaped_clip, money, phone, provider_name, time_left,
)
from handlers.texts.chat import (
    cancelled, edited_message, foreign_button, help_text, internal_error, nothing_to_cancel, not_allowed,
    not_your_order, outdated_button, private_only, step_ended, unknown_text, private_chat_only,
    action_refused,
    provider_error, welcome,
)
from handlers.texts.accounts import (
    account_switch_expired, checking, choose_provider_connect, credential_outside_step, disconnected,
    disconnect_kept, gotsms_ask_token, kiwi_ask_key, nonvoip_ask_email, nonvoip_ask_password, no_providers,
    secret_deleted_note, account_gone_line, account_switch_kept, account_switch_question, balances,
    connect_failed, connect_unchecked, connected, credentials_rejected, disconnect_question,
    invalid_credential, providers_overview,
)
from handlers.texts.buy import (
    already_placed, already_placing, auction_won, choose_provider_buy, filter_hint, nothing_selected, no_match, placing,
    purchase_being_checked, purchase_closed, purchase_dropped, purchase_pending_check, reconciled,
    selection_restarted, sold_out, stale_selection, too_many_services, choose_plan, choose_section,
    confirmation, offer_label, plan_label, premium_bid, price_change, purchase_failed, purchase_unconfirmed,
    services_page,
)
from handlers.texts.orders import (
    action_not_available, CARD_CODES_SHOWN, no_active_orders, no_history, order_finished, SMS_TEXT_LIMIT,
    STATUS_WORDS, status_words, code_message, codes_line, finished_notice, history_entry, number_messages,
    order_card, refund_note, rent_ending,
)
from handlers.texts.rent import (
    no_extension, activation, auto_renewal, choose_extension, choose_renewal, refund_question,
    woken,
)
from handlers.texts.hooks import (
    invalid_secret, kiwi_off, kiwi_offer, kiwi_on, no_public_url, not_connected, polling_only, secret_deleted,
    secret_not_deleted, setup_instant_codes_button, state_lagging, state_no_public_url, state_off, state_on, state_polling_only,
    turn_off_button, instant_codes_on, instant_codes_refused, kiwi_setup, setup_button, state_refused,
)
from handlers.texts.paid import (
    DURATION_WORDS, nothing_charged, renew_session_what, reuse_what, extend_what, paid_action_card, paid_action_done,
    renew_what,
)

__all__ = [
    "MESSAGE_LIMIT", "clip_message", "duration_words", "escaped_clip", "money", "phone", "provider_name",
    "time_left", "cancelled", "edited_message", "foreign_button", "help_text", "internal_error",
    "nothing_to_cancel", "not_allowed", "not_your_order", "outdated_button", "private_only", "step_ended",
    "unknown_text", "private_chat_only", "action_refused",
    "provider_error", "welcome", "account_switch_expired", "checking",
    "choose_provider_connect", "credential_outside_step", "disconnected", "disconnect_kept",
    "gotsms_ask_token", "kiwi_ask_key", "nonvoip_ask_email", "nonvoip_ask_password", "no_providers",
    "secret_deleted_note", "account_gone_line", "account_switch_kept", "account_switch_question", "balances",
    "connect_failed", "connect_unchecked", "connected", "credentials_rejected", "disconnect_question",
    "invalid_credential", "providers_overview", "already_placed", "already_placing", "auction_won", "choose_provider_buy",
    "filter_hint", "nothing_selected", "no_match", "placing", "purchase_being_checked", "purchase_closed",
    "purchase_dropped", "purchase_pending_check", "reconciled", "selection_restarted", "sold_out",
    "stale_selection", "too_many_services", "choose_plan", "choose_section", "confirmation", "offer_label",
    "plan_label", "premium_bid", "price_change", "purchase_failed", "purchase_unconfirmed", "services_page",
    "action_not_available", "CARD_CODES_SHOWN", "no_active_orders", "no_history", "order_finished",
    "SMS_TEXT_LIMIT", "STATUS_WORDS", "status_words", "code_message", "codes_line", "finished_notice", "history_entry",
    "number_messages", "order_card", "refund_note", "rent_ending", "no_extension",
    "activation", "auto_renewal", "choose_extension", "choose_renewal", "refund_question",
    "woken", "DURATION_WORDS", "nothing_charged", "renew_session_what", "reuse_what", "extend_what",
    "paid_action_card", "paid_action_done", "renew_what",
]
__all__ += [
    "invalid_secret", "kiwi_off", "kiwi_offer", "kiwi_on", "no_public_url", "not_connected", "polling_only",
    "secret_deleted", "secret_not_deleted", "setup_instant_codes_button", "state_lagging", "state_no_public_url", "state_off",
    "state_on", "state_polling_only", "turn_off_button", "instant_codes_on", "instant_codes_refused", "kiwi_setup",
    "setup_button", "state_refused",
]
