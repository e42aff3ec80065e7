"""Sentences a provider module hands to the chat (its errors' `user_message`, section titles) are
English, marked here for the chat's gettext catalogue; the chat translates them where it shows
them (handlers/texts), and a provider's own words, which no catalogue holds, pass unchanged.
`providers` never imports `handlers`, so the marker is its own."""

from __future__ import annotations


def N_(text: str) -> str:
    """Marks `text` for extraction (babel.cfg); returns it unchanged."""
    return text
