"""Instant codes (provider callbacks): setting them up, their state per account, turning them off.

"Instant codes" is the one name the chat uses for callbacks/webhooks; polling is "codes arrive by
polling" everywhere, so the same fact reads the same way on every screen.
"""

from __future__ import annotations

from html import escape

from handlers.i18n import _
from handlers.texts.common import provider_name, provider_words
from providers.models import ProviderId


def setup_instant_codes_button() -> str:
    return _("⚡ Set up instant codes")


def turn_off_button() -> str:
    return _("Turn instant codes off")


def setup_button(provider: ProviderId) -> str:
    """The /providers button of one account."""
    return _("⚡ Instant codes: {provider}").format(provider=provider_name(provider))


def kiwi_setup(url: str, on: bool) -> str:
    """Where to paste the URL, then what to send; the URL is copyable."""
    state = (_("Instant codes are <b>on</b>. To change the secret, send the new one.") + "\n\n") if on else ""
    steps = _(
        "1. In the kiwiSMS dashboard, paste this URL into the webhook setting:\n"
        "<code>{url}</code>\n"
        "2. Send me the <b>webhook secret</b> the dashboard shows. "
        "I will delete your message right after reading it. /cancel to stop."
    ).format(url=escape(url))
    return _("⚡ <b>Instant codes for kiwiSMS</b>") + f"\n{state}{steps}"


def kiwi_on() -> str:
    return _("⚡ Instant codes are <b>on</b> for kiwiSMS: a code reaches you the moment kiwiSMS sends it.")


def secret_deleted() -> str:
    return _("(Your message with the secret was deleted from the chat.)")


def secret_not_deleted() -> str:
    return _("⚠️ I could not delete your message with the secret: please delete it yourself.")


def kiwi_off() -> str:
    return _(
        "Instant codes are <b>off</b> for kiwiSMS: codes arrive by polling. "
        "You may also remove the webhook URL from the kiwiSMS dashboard."
    )


def invalid_secret() -> str:
    return _("That does not look like a webhook secret (one word, no spaces). Send it again, or /cancel.")


def not_connected() -> str:
    return _("{provider} is not connected any more. Connect it first with /connect.")


def polling_only() -> str:
    return _("{provider} has no instant codes: its codes arrive by polling.")


def no_public_url() -> str:
    return _(
        "Instant codes need the bot's public URL (PUBLIC_URL), which this bot does not have: codes arrive by polling."
    )


# -- one line under "connected, balance $X" --------------------------------------------------


def kiwi_offer() -> str:
    return _("⚡ Want each code the moment it arrives? Tap <b>Set up instant codes</b>.")


def instant_codes_on(provider: ProviderId) -> str:
    return _("⚡ Instant codes are <b>on</b>: {provider} sends each code the moment it arrives.").format(
        provider=provider_name(provider)
    )


def instant_codes_refused(provider: ProviderId, reason: str) -> str:
    return _("⚠️ {provider} did not accept the callback URL ({reason}): codes still arrive by polling.").format(
        provider=provider_name(provider), reason=escape(provider_words(reason))
    )


# -- the state of one account on /providers (plain words, escaped by providers_overview) ------


def state_on() -> str:
    return _("⚡ instant codes on")


def state_lagging() -> str:
    return _("⚡ instant codes on, but a recent code came by polling: polling closely until the next one")


def state_off() -> str:
    return _("instant codes off: codes arrive by polling")


def state_no_public_url() -> str:
    return _("instant codes not available without a public URL: codes arrive by polling")


def state_polling_only() -> str:
    return _("codes arrive by polling")


def state_refused(provider: ProviderId) -> str:
    return _("instant codes off ({provider} did not accept the URL): codes arrive by polling").format(
        provider=provider_name(provider)
    )
