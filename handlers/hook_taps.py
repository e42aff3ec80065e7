"""Callback data of the instant-codes screens (provider callbacks per account).

Kept apart from handlers/callbacks.py like screen_taps.py and account_callbacks.py: a prefix of
its own, ids only, within 64 bytes, and `decode` never raises (None for anything else).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from handlers.callbacks import MAX_BYTES
from providers.models import ProviderId

_PREFIX = "hk"
_STEPS: dict[str, Literal["setup", "off"]] = {"s": "setup", "o": "off"}
_LETTERS = {step: letter for letter, step in _STEPS.items()}


@dataclass(frozen=True)
class HookTap:
    """"setup": the account's instant-codes screen (kiwiSMS: URL and secret; NonVoipUsNumber:
    register the URL again); "off": stop them (kiwiSMS: forget the webhook secret)."""

    step: Literal["setup", "off"]
    provider: ProviderId


def setup(provider: ProviderId) -> str:
    return f"{_PREFIX}:{_LETTERS['setup']}:{provider.value}"


def turn_off(provider: ProviderId) -> str:
    return f"{_PREFIX}:{_LETTERS['off']}:{provider.value}"


def decode(data: object) -> HookTap | None:
    if not isinstance(data, str) or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != _PREFIX or parts[1] not in _STEPS:
        return None
    try:
        return HookTap(_STEPS[parts[1]], ProviderId(parts[2]))
    except ValueError:
        return None


def matches() -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern."""
    return lambda data: decode(data) is not None
