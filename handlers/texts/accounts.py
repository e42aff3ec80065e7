"""Connecting, checking and disconnecting provider accounts; balances; orders of a gone account."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from html import escape

from handlers.i18n import N_, _, ngettext
from handlers.texts.common import money, provider_name, provider_words
from providers.models import ProviderId


def no_providers() -> str:
    return _("No provider is connected yet. Connect one to start:")


def choose_provider_connect() -> str:
    return _("Which provider do you want to connect?")


def kiwi_ask_key() -> str:
    return _(
        "Send me your <b>kiwiSMS API key</b> (dashboard → API keys, it starts with <code>lsms_</code>).\n"
        "I will delete your message right after reading it. /cancel to stop."
    )


def nonvoip_ask_email() -> str:
    return _("Send me the <b>email</b> of your NonVoipUsNumber account. /cancel to stop.")


def nonvoip_ask_password() -> str:
    return _(
        "Now send the account's <b>password</b>. I will delete your message right after reading it. /cancel to stop."
    )


def gotsms_ask_token() -> str:
    return _(
        "Send me your <b>GotSMS API token</b> (enable API access, then Generate Token).\n"
        "I will delete your message right after reading it. /cancel to stop."
    )


def checking() -> str:
    return _("Checking with the provider…")


def secret_deleted_note() -> str:
    return _("(Your message with the key was deleted from the chat.)")


def disconnected() -> str:
    return _("{provider} disconnected. Your order history is kept.")


def disconnect_kept() -> str:
    return _("Kept. Nothing changed.")


def connected(provider: ProviderId, balance: Decimal) -> str:
    return _("✅ {provider} connected, balance {amount}.").format(provider=provider_name(provider), amount=money(balance))


def connect_failed(provider: ProviderId, reason: str) -> str:
    return _("❌ {provider} refused these credentials: {reason}\nNothing was stored. Try again, or /cancel.").format(
        provider=provider_name(provider), reason=escape(provider_words(reason))
    )


def connect_unchecked(provider: ProviderId, reason: str) -> str:
    return _(
        "⚠️ Could not check the credentials with {provider}: {reason}\n"
        "Nothing was stored. Send them again in a moment, or /cancel."
    ).format(provider=provider_name(provider), reason=escape(provider_words(reason)))


def credentials_rejected(provider: ProviderId) -> str:
    return _(
        "⚠️ {provider} no longer accepts the stored credentials, so your orders there "
        "are not being watched. /connect it again to resume."
    ).format(provider=provider_name(provider))


def balances(lines: list[tuple[ProviderId, str]]) -> str:
    body = "\n".join(f"<b>{provider_name(p)}</b>: {escape(text)}" for p, text in lines)
    return _("💰 Balances") + "\n" + body


def providers_overview(lines: list[tuple[ProviderId, str]], codes: Mapping[ProviderId, str] | None = None) -> str:
    """Each provider with its balance; with `codes`, how its codes arrive on the line below."""
    body = "\n".join(
        f"• <b>{provider_name(p)}</b> — {escape(text)}" + (f"\n   {escape(codes[p])}" if codes and p in codes else "")
        for p, text in lines
    )
    return _("Connected providers:") + "\n" + body


def disconnect_question(provider: ProviderId, active: int = 0) -> str:
    question = _("Disconnect {provider}? Its credentials are deleted; your order history stays.").format(
        provider=provider_name(provider)
    )
    if not active:
        return question
    return f"{question}\n\n{_active_orders(provider, active)} {_not_followed_while()}"


def _active_orders(provider: ProviderId, active: int) -> str:
    return ngettext(
        "⚠️ {provider} has <b>{count} active order</b>.", "⚠️ {provider} has <b>{count} active orders</b>.", active
    ).format(provider=provider_name(provider), count=active)


def _not_followed_while() -> str:
    return _(
        "They stay in /orders, but while it is disconnected they are not followed: no code reaches this "
        "chat and their buttons say the account is gone. Connect the same account again to follow them again."
    )


def account_switch_question(provider: ProviderId, active: int) -> str:
    belong = _(
        "These credentials belong to <b>another {provider} account</b> than the one your active orders were bought with."
    ).format(provider=provider_name(provider))
    stay = _(
        "If you connect this account, they stay in /orders but are no longer followed: no code reaches this chat "
        "and their buttons say the account is gone."
    )
    question = _("Connect the other account?")
    return f"{belong}\n\n{_active_orders(provider, active)} {stay}\n\n{question}"


def account_switch_kept(provider: ProviderId) -> str:
    return _("Kept: {provider} stays as it was. The new credentials were not stored.").format(
        provider=provider_name(provider)
    )


def account_switch_expired() -> str:
    return _("This question has expired and the credentials were not kept. Use /connect again.")


def account_gone_line(provider: ProviderId, disconnected: bool) -> str:
    """Why an order is not followed: its account is disconnected, or another account replaced it."""
    name = provider_name(provider)
    if disconnected:
        return _("⚠️ {provider} is disconnected: reconnect it to follow this order.").format(provider=name)
    return _(
        "⚠️ Bought with another {provider} account, no longer connected here: this order is not followed."
    ).format(provider=name)


def credential_outside_step() -> str:
    return _(
        "🔒 That looked like an API key or token, so I deleted it. To connect a provider, use /connect first."
    )


# One whole sentence per credential (marked here, translated where shown): the word's case and
# place differ by language.
_NOT_A_CREDENTIAL = {
    "api_key": N_("That does not look like a {provider} API key. Send it again, or /cancel."),
    "token": N_("That does not look like a {provider} API token. Send it again, or /cancel."),
    "email": N_("That does not look like a {provider} email address. Send it again, or /cancel."),
    "password": N_("That does not look like a {provider} password. Send it again, or /cancel."),
}


def invalid_credential(provider: ProviderId, field_key: str) -> str:
    """A typed value that cannot be the asked-for credential (spaces, line breaks, too long)."""
    sentence = _NOT_A_CREDENTIAL.get(field_key)
    if sentence is None:  # a field without its own sentence: its key, as before
        return _("That does not look like a {provider} {credential}. Send it again, or /cancel.").format(
            provider=provider_name(provider), credential=field_key
        )
    return _(sentence).format(provider=provider_name(provider))
