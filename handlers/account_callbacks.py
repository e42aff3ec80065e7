"""Callback data of the account questions (connect another account?, why is this order not
followed?), in the style of handlers/callbacks.py: a prefix plus ids, parsed back to a typed value
or None; never raises. Kept apart so the shared codec needs no edit for this screen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from providers.models import ProviderId

_PREFIX = "a"
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,22}")


@dataclass(frozen=True)
class SwitchTap:
    """Yes / No on "connect another account?"; the nonce names the question asked."""

    step: Literal["yes", "no"]
    provider: ProviderId
    nonce: str


@dataclass(frozen=True)
class GoneTap:
    """The "account gone" button of an order whose account is not connected."""

    provider: ProviderId


AccountTap = SwitchTap | GoneTap


def switch_yes(provider: ProviderId, nonce: str) -> str:
    return f"{_PREFIX}:y:{provider.value}:{nonce}"


def switch_no(provider: ProviderId, nonce: str) -> str:
    return f"{_PREFIX}:n:{provider.value}:{nonce}"


def gone(provider: ProviderId) -> str:
    return f"{_PREFIX}:g:{provider.value}"


def decode(data: object) -> AccountTap | None:
    if not isinstance(data, str) or len(data) > 64:
        return None
    parts = data.split(":")
    try:
        if parts[0] != _PREFIX:
            return None
        if len(parts) == 4 and parts[1] in ("y", "n") and _NONCE.fullmatch(parts[3]):
            return SwitchTap("yes" if parts[1] == "y" else "no", ProviderId(parts[2]), parts[3])
        if len(parts) == 3 and parts[1] == "g":
            return GoneTap(ProviderId(parts[2]))
    except ValueError:
        return None
    return None


def is_account_tap(data: object) -> bool:
    """A CallbackQueryHandler pattern."""
    return decode(data) is not None
