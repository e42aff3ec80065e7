"""Chat-level texts: help, welcome, who may talk to the bot, cancel, unknown input, stale buttons."""

from __future__ import annotations

from html import escape

from handlers.i18n import _
from handlers.texts.common import provider_name, provider_words
from providers.models import ProviderId


def private_only() -> str:
    return _("Please talk to me in a private chat: I never handle numbers or credentials in groups.")


def not_allowed() -> str:
    return _("Sorry, this bot is private and you are not on its list of users.")


def internal_error() -> str:
    return _("Something went wrong on our side. Nothing was bought; please try again.")


def unknown_text() -> str:
    return _("I did not understand that. Use the menu below, or /help.")


def cancelled() -> str:
    return _("Cancelled. Use /start to see the menu.")


def nothing_to_cancel() -> str:
    return _("There is nothing to cancel. Use /start to see the menu.")


def outdated_button() -> str:
    return _("This button is outdated.")


def not_your_order() -> str:
    return _("This order is not in this chat.")


def foreign_button() -> str:
    return _("This button is not from this chat.")


def help_text() -> str:
    return _(
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
        "/language — the language I speak to you in (English, Русский)\n"
        "/cancel — leave what you are doing\n"
        "/help — this text\n\n"
        "<b>How codes arrive:</b> after you buy, I watch the order at the provider. Each SMS comes "
        "here as its own message with the code in bold and a Copy button, exactly once, even if I "
        "restart. Your keys are stored encrypted and the messages holding them are deleted."
    )


def welcome(first_name: str | None, connected: bool) -> str:
    hello = _("Hi {name}!").format(name=escape(first_name)) if first_name else _("Hi!")
    lead = (
        _("Rent a number, and I send you every code as it arrives.")
        if connected
        else _("Rent a number, and I send you every code as it arrives. First, connect a provider account.")
    )
    return f"{hello} {lead}"


def action_refused(provider: ProviderId, reason: str) -> str:
    """A provider's refusal of an order action, as an alert (plain text, within its 200 characters)."""
    return _("{provider} did not do it: {reason}.").format(
        provider=provider_name(provider), reason=provider_words(reason).strip().rstrip(".")
    )[:190]


def provider_error(provider: ProviderId, reason: str) -> str:
    """A provider's refusal in a sentence, whichever screen met it."""
    return _("⚠️ {provider} could not do this: {reason}.\nTry again in a moment, or go back.").format(
        provider=provider_name(provider), reason=escape(provider_words(reason).rstrip("."))
    )


def private_chat_only(has_link: bool) -> str:
    return private_only() + " " + _("Tap below to open it.") if has_link else private_only()


def edited_message() -> str:
    return _(
        "I only read new messages, so that edit changed nothing. Send it again as a new message, or use the menu:"
    )


def step_ended() -> str:
    return _("That step has ended, so I did not use your message. Use /connect or /buy to start again.")
