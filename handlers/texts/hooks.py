"""Instant codes (provider callbacks): setting them up, their state per account, turning them off.

"Instant codes" is the one name the chat uses for callbacks/webhooks; polling is "codes arrive by
polling" everywhere, so the same fact reads the same way on every screen.
"""

from __future__ import annotations

from html import escape

from handlers.texts.common import provider_name
from providers.models import ProviderId

SETUP_BUTTON = "⚡ Set up instant codes"
TURN_OFF_BUTTON = "Turn instant codes off"


def setup_button(provider: ProviderId) -> str:
    """The /providers button of one account."""
    return f"⚡ Instant codes: {provider_name(provider)}"


def kiwi_setup(url: str, on: bool) -> str:
    """Where to paste the URL, then what to send; the URL is copyable."""
    state = "Instant codes are <b>on</b>. To change the secret, send the new one.\n\n" if on else ""
    return (
        f"⚡ <b>Instant codes for kiwiSMS</b>\n{state}"
        "1. In the kiwiSMS dashboard, paste this URL into the webhook setting:\n"
        f"<code>{escape(url)}</code>\n"
        "2. Send me the <b>webhook secret</b> the dashboard shows. "
        "I will delete your message right after reading it. /cancel to stop."
    )


KIWI_ON = "⚡ Instant codes are <b>on</b> for kiwiSMS: a code reaches you the moment kiwiSMS sends it."
SECRET_DELETED = "(Your message with the secret was deleted from the chat.)"
SECRET_NOT_DELETED = "⚠️ I could not delete your message with the secret: please delete it yourself."
KIWI_OFF = (
    "Instant codes are <b>off</b> for kiwiSMS: codes arrive by polling. "
    "You may also remove the webhook URL from the kiwiSMS dashboard."
)
INVALID_SECRET = "That does not look like a webhook secret (one word, no spaces). Send it again, or /cancel."
NOT_CONNECTED = "{provider} is not connected any more. Connect it first with /connect."
POLLING_ONLY = "{provider} has no instant codes: its codes arrive by polling."
NO_PUBLIC_URL = (
    "Instant codes need the bot's public URL (PUBLIC_URL), which this bot does not have: codes arrive by polling."
)


# -- one line under "connected, balance $X" --------------------------------------------------

KIWI_OFFER = "⚡ Want each code the moment it arrives? Tap <b>Set up instant codes</b>."


def instant_codes_on(provider: ProviderId) -> str:
    return f"⚡ Instant codes are <b>on</b>: {provider_name(provider)} sends each code the moment it arrives."


def instant_codes_refused(provider: ProviderId, reason: str) -> str:
    return (
        f"⚠️ {provider_name(provider)} did not accept the callback URL ({escape(reason)}): "
        "codes still arrive by polling."
    )


# -- the state of one account on /providers (plain words, escaped by providers_overview) ------

STATE_ON = "⚡ instant codes on"
STATE_LAGGING = "⚡ instant codes on, but a recent code came by polling: polling closely until the next one"
STATE_OFF = "instant codes off: codes arrive by polling"
STATE_NO_PUBLIC_URL = "instant codes not available without a public URL: codes arrive by polling"
STATE_POLLING_ONLY = "codes arrive by polling"


def state_refused(provider: ProviderId) -> str:
    return f"instant codes off ({provider_name(provider)} did not accept the URL): codes arrive by polling"
