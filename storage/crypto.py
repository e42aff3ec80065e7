"""Credentials are sealed with Fernet through MultiFernet: the first key encrypts, all decrypt."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class CredentialsUnreadable(Exception):
    """No configured key opens a stored credential (a key was removed too early)."""


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def seal(self, secret: dict[str, str]) -> bytes:
        return self._fernet.encrypt(json.dumps(secret, separators=(",", ":")).encode())

    def open(self, token: bytes) -> dict[str, str]:
        try:
            return json.loads(self._fernet.decrypt(token))
        except InvalidToken:
            raise CredentialsUnreadable("stored credentials cannot be decrypted with the configured keys") from None

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt with the first key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise CredentialsUnreadable("stored credentials cannot be decrypted with the configured keys") from None

    def __repr__(self) -> str:
        return "SecretBox(***)"
