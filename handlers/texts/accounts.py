"""Connecting, checking and disconnecting provider accounts; balances; orders of a gone account."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from html import escape

from handlers.texts.common import money, provider_name
from providers.models import ProviderId


NO_PROVIDERS = "No provider is connected yet. Connect one to start:"
CHOOSE_PROVIDER_CONNECT = "Which provider do you want to connect?"
KIWI_ASK_KEY = (
    "Send me your <b>kiwiSMS API key</b> (dashboard → API keys, it starts with <code>lsms_</code>).\n"
    "I will delete your message right after reading it. /cancel to stop."
)
NONVOIP_ASK_EMAIL = "Send me the <b>email</b> of your NonVoipUsNumber account. /cancel to stop."
NONVOIP_ASK_PASSWORD = (
    "Now send the account's <b>password</b>. I will delete your message right after reading it. /cancel to stop."
)
GOTSMS_ASK_TOKEN = (
    "Send me your <b>GotSMS API token</b> (enable API access, then Generate Token).\n"
    "I will delete your message right after reading it. /cancel to stop."
)
CHECKING = "Checking with the provider…"
SECRET_DELETED_NOTE = "(Your message with the key was deleted from the chat.)"
DISCONNECTED = "{provider} disconnected. Your order history is kept."
DISCONNECT_KEPT = "Kept. Nothing changed."


def connected(provider: ProviderId, balance: Decimal) -> str:
    return f"✅ {provider_name(provider)} connected, balance {money(balance)}."


def connect_failed(provider: ProviderId, reason: str) -> str:
    return (
        f"❌ {provider_name(provider)} refused these credentials: {escape(reason)}\n"
        "Nothing was stored. Try again, or /cancel."
    )


def connect_unchecked(provider: ProviderId, reason: str) -> str:
    return (
        f"⚠️ Could not check the credentials with {provider_name(provider)}: {escape(reason)}\n"
        "Nothing was stored. Send them again in a moment, or /cancel."
    )


def credentials_rejected(provider: ProviderId) -> str:
    return (
        f"⚠️ {provider_name(provider)} no longer accepts the stored credentials, so your orders there "
        "are not being watched. /connect it again to resume."
    )


def balances(lines: list[tuple[ProviderId, str]]) -> str:
    body = "\n".join(f"<b>{provider_name(p)}</b>: {escape(text)}" for p, text in lines)
    return f"💰 Balances\n{body}"


def providers_overview(lines: list[tuple[ProviderId, str]], codes: Mapping[ProviderId, str] | None = None) -> str:
    """Each provider with its balance; with `codes`, how its codes arrive on the line below."""
    body = "\n".join(
        f"• <b>{provider_name(p)}</b> — {escape(text)}" + (f"\n   {escape(codes[p])}" if codes and p in codes else "")
        for p, text in lines
    )
    return f"Connected providers:\n{body}"


def disconnect_question(provider: ProviderId, active: int = 0) -> str:
    question = f"Disconnect {provider_name(provider)}? Its credentials are deleted; your order history stays."
    if not active:
        return question
    return f"{question}\n\n{_active_orders(provider, active)} {_NOT_FOLLOWED_WHILE}"


def _active_orders(provider: ProviderId, active: int) -> str:
    return f"⚠️ {provider_name(provider)} has <b>{active} active order{'s' if active != 1 else ''}</b>."


_NOT_FOLLOWED_WHILE = (
    "They stay in /orders, but while it is disconnected they are not followed: no code reaches this "
    "chat and their buttons say the account is gone. Connect the same account again to follow them again."
)


def account_switch_question(provider: ProviderId, active: int) -> str:
    name = provider_name(provider)
    return (
        f"These credentials belong to <b>another {name} account</b> than the one your active orders were "
        f"bought with.\n\n{_active_orders(provider, active)} If you connect this account, they stay in "
        "/orders but are no longer followed: no code reaches this chat and their buttons say the account "
        "is gone.\n\nConnect the other account?"
    )


def account_switch_kept(provider: ProviderId) -> str:
    return f"Kept: {provider_name(provider)} stays as it was. The new credentials were not stored."


ACCOUNT_SWITCH_EXPIRED = "This question has expired and the credentials were not kept. Use /connect again."


def account_gone_line(provider: ProviderId, disconnected: bool) -> str:
    """Why an order is not followed: its account is disconnected, or another account replaced it."""
    name = provider_name(provider)
    if disconnected:
        return f"⚠️ {name} is disconnected: reconnect it to follow this order."
    return f"⚠️ Bought with another {name} account, no longer connected here: this order is not followed."


CREDENTIAL_OUTSIDE_STEP = (
    "🔒 That looked like an API key or token, so I deleted it. To connect a provider, use /connect first."
)
_CREDENTIAL_WORDS = {"api_key": "API key", "token": "API token", "email": "email address", "password": "password"}


def invalid_credential(provider: ProviderId, field_key: str) -> str:
    """A typed value that cannot be the asked-for credential (spaces, line breaks, too long)."""
    word = _CREDENTIAL_WORDS.get(field_key, field_key)
    return f"That does not look like a {provider_name(provider)} {word}. Send it again, or /cancel."
