"""Provider callbacks per account: the URL token, a kiwiSMS webhook secret, and whether they work.

A callback URL ends in a random per-account token (`/hooks/<provider>/<token>`). The database keeps
its SHA-256 to find the account by it (a 256-bit random token cannot be found from its hash) and the
token itself sealed with Fernet, like every credential, to show the URL again. kiwiSMS signs its
webhooks with a secret the user sets in its dashboard and gives the bot: sealed in the same blob.

The account's callback health lives here too, so every process sees it: `registered_at` (the
provider accepted the URL, or the user gave the kiwiSMS secret), `last_callback_at`, and
`missed_at` (the safety-net poll found an SMS no callback brought: poll fast again until a
callback arrives after it).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from providers.models import ProviderId
from storage.crypto import SecretBox
from storage.database import Database, Row, from_db_time, to_db_time, utcnow

TOKEN_BYTES = 32  # 256 bits, url-safe base64: unguessable


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class AccountHook:
    chat_id: int
    provider: ProviderId
    token: str = field(repr=False)
    webhook_secret: str | None = field(default=None, repr=False)  # kiwiSMS's signing secret
    registered_at: datetime | None = None
    last_callback_at: datetime | None = None
    missed_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Callbacks are expected: registered, and none missed since the last one arrived."""
        if self.registered_at is None:
            return False
        if self.missed_at is None:
            return True
        return self.last_callback_at is not None and self.last_callback_at > self.missed_at


class HookStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self._db = db
        self._box = box

    def __repr__(self) -> str:
        return "HookStore(***)"

    async def ensure(self, chat_id: int, provider: ProviderId) -> AccountHook:
        """The account's hook, created with a fresh token if it has none (idempotent)."""
        existing = await self.get(chat_id, provider)
        if existing is not None:
            return existing
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self._db.execute(
            "INSERT INTO account_hooks (chat_id, provider, token_hash, sealed, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, provider) DO NOTHING",
            (chat_id, provider.value, token_hash(token), self._box.seal({"token": token}), to_db_time(utcnow())),
        )
        hook = await self.get(chat_id, provider)
        assert hook is not None
        return hook

    async def get(self, chat_id: int, provider: ProviderId) -> AccountHook | None:
        row = await self._db.fetchone(
            "SELECT * FROM account_hooks WHERE chat_id = ? AND provider = ?", (chat_id, provider.value)
        )
        return None if row is None else self._hook(row)

    async def by_token(self, provider: ProviderId, token: str) -> AccountHook | None:
        """The account a callback URL names; None for an unknown token or another provider's."""
        row = await self._db.fetchone(
            "SELECT * FROM account_hooks WHERE token_hash = ? AND provider = ?", (token_hash(token), provider.value)
        )
        return None if row is None else self._hook(row)

    async def set_webhook_secret(self, chat_id: int, provider: ProviderId, secret: str | None) -> AccountHook:
        """Store (or clear) the signing secret; with one, the account's callbacks count as registered."""
        hook = await self.ensure(chat_id, provider)
        sealed: dict[str, str] = {"token": hook.token}
        if secret:
            sealed["webhook_secret"] = secret
        now = to_db_time(utcnow()) if secret else None
        await self._db.execute(
            "UPDATE account_hooks SET sealed = ?, registered_at = ?, missed_at = NULL"
            " WHERE chat_id = ? AND provider = ?",
            (self._box.seal(sealed), now, chat_id, provider.value),
        )
        updated = await self.get(chat_id, provider)
        assert updated is not None
        return updated

    async def mark_registered(self, chat_id: int, provider: ProviderId, registered: bool) -> None:
        """The provider accepted (or refused) the callback URL."""
        await self._db.execute(
            "UPDATE account_hooks SET registered_at = ?, missed_at = NULL WHERE chat_id = ? AND provider = ?",
            (to_db_time(utcnow()) if registered else None, chat_id, provider.value),
        )

    async def mark_callback(self, chat_id: int, provider: ProviderId) -> None:
        await self._db.execute(
            "UPDATE account_hooks SET last_callback_at = ? WHERE chat_id = ? AND provider = ?",
            (to_db_time(utcnow()), chat_id, provider.value),
        )

    async def mark_missed(self, chat_id: int, provider: ProviderId) -> None:
        """The poll found an SMS no callback brought: callbacks are not trusted until the next one."""
        await self._db.execute(
            "UPDATE account_hooks SET missed_at = ? WHERE chat_id = ? AND provider = ?",
            (to_db_time(utcnow()), chat_id, provider.value),
        )

    async def active_accounts(self) -> set[tuple[int, ProviderId]]:
        """Accounts whose callbacks are expected to work (their polling slows to the safety net)."""
        rows = await self._db.fetchall(
            "SELECT chat_id, provider FROM account_hooks WHERE registered_at IS NOT NULL"
            " AND (missed_at IS NULL OR (last_callback_at IS NOT NULL AND last_callback_at > missed_at))"
        )
        known = {p.value for p in ProviderId}
        return {(r["chat_id"], ProviderId(r["provider"])) for r in rows if r["provider"] in known}

    async def delete(self, chat_id: int, provider: ProviderId) -> None:
        """On disconnect: the old URL stops working."""
        await self._db.execute(
            "DELETE FROM account_hooks WHERE chat_id = ? AND provider = ?", (chat_id, provider.value)
        )

    async def rotate_all(self) -> int:
        rows = await self._db.fetchall("SELECT chat_id, provider, sealed FROM account_hooks")
        async with self._db.transaction() as tx:
            for row in rows:
                await tx.execute(
                    "UPDATE account_hooks SET sealed = ? WHERE chat_id = ? AND provider = ?",
                    (self._box.rotate(row["sealed"]), row["chat_id"], row["provider"]),
                )
        return len(rows)

    def _hook(self, row: Row) -> AccountHook:
        sealed = self._box.open(row["sealed"])
        return AccountHook(
            chat_id=row["chat_id"],
            provider=ProviderId(row["provider"]),
            token=sealed["token"],
            webhook_secret=sealed.get("webhook_secret"),
            registered_at=from_db_time(row["registered_at"]),
            last_callback_at=from_db_time(row["last_callback_at"]),
            missed_at=from_db_time(row["missed_at"]),
        )
