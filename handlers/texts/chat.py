"""Chat-level texts: help, welcome, who may talk to the bot, cancel, unknown input, stale buttons."""

from __future__ import annotations

from html import escape

from handlers.texts.common import provider_name
from providers.models import ProviderId


PRIVATE_ONLY = "Please talk to me in a private chat: I never handle numbers or credentials in groups."
NOT_ALLOWED = "Sorry, this bot is private and you are not on its list of users."
INTERNAL_ERROR = "Something went wrong on our side. Nothing was bought; please try again."
UNKNOWN_TEXT = "I did not understand that. Use the menu below, or /help."
CANCELLED = "Cancelled. Use /start to see the menu."
NOTHING_TO_CANCEL = "There is nothing to cancel. Use /start to see the menu."
OUTDATED_BUTTON = "This button is outdated."
NOT_YOUR_ORDER = "This order is not in this chat."
FOREIGN_BUTTON = "This button is not from this chat."
HELP = (
    "<b>OTP Rental Bot</b> rents phone numbers from SMS-verification providers and sends you "
    "every one-time code the moment it arrives.\n\n"
    "/start — main menu\n"
    "/connect — connect a provider account (NonVoipUsNumber, kiwiSMS, GotSMS)\n"
    "/providers — connected providers, balances, instant codes, disconnect\n"
    "/balance — balances of all connected providers\n"
    "/buy — rent a number: provider → section → service → confirm\n"
    "/orders — your active orders: open one for its card and buttons\n"
    "/history — past orders, filters, a spending summary and a CSV export\n"
    "/settings — your time zone; auto-cancel of orders that get no code\n"
    "/cancel — leave what you are doing\n"
    "/help — this text\n\n"
    "<b>How codes arrive:</b> after you buy, I watch the order at the provider. Each SMS comes "
    "here as its own message with the code in bold and a Copy button, exactly once, even if I "
    "restart. Your keys are stored encrypted and the messages holding them are deleted."
)


def welcome(first_name: str | None, connected: bool) -> str:
    hello = f"Hi {escape(first_name)}!" if first_name else "Hi!"
    lead = (
        "Rent a number, and I send you every code as it arrives."
        if connected
        else "Rent a number, and I send you every code as it arrives. First, connect a provider account."
    )
    return f"{hello} {lead}"


def action_refused(provider: ProviderId, reason: str) -> str:
    """A provider's refusal of an order action, as an alert (plain text, within its 200 characters)."""
    return f"{provider_name(provider)} did not do it: {reason.strip().rstrip('.')}."[:190]


def provider_error(provider: ProviderId, reason: str) -> str:
    """A provider's refusal in a sentence, whichever screen met it."""
    return f"⚠️ {provider_name(provider)} could not do this: {escape(reason.rstrip('.'))}.\nTry again in a moment, or go back."


def private_chat_only(has_link: bool) -> str:
    return f"{PRIVATE_ONLY} Tap below to open it." if has_link else PRIVATE_ONLY


EDITED_MESSAGE = (
    "I only read new messages, so that edit changed nothing. Send it again as a new message, or use the menu:"
)
STEP_ENDED = "That step has ended, so I did not use your message. Use /connect or /buy to start again."
