"""Which provider account a chat's orders belong to.

A connection is remembered as a keyed fingerprint of the credential that names the account (never
the credential itself) and the moment that account was first connected here (`since`). Orders of
the chat at that provider created before `since` were bought with an earlier account: they stay
visible but are not followed. Rows live in the `settings` table (`account:<provider>`), so no
migration is needed; the row outlives a disconnect, so reconnecting the same account resumes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from providers.models import ProviderId
from storage.database import Database, db_time, to_db_time, utcnow

_PREFIX = "account:"
_LABEL = b"otp-rental-bot account fingerprint v1"
_EVER = datetime(2000, 1, 1, tzinfo=UTC)

Account = tuple[int, ProviderId]


@dataclass(frozen=True)
class AccountRecord:
    fingerprint: str
    since: datetime


@dataclass(frozen=True)
class AccountsSnapshot:
    """Every account the poller may follow, read at once."""

    connected: frozenset[Account]
    since: dict[Account, datetime]

    def follows(self, chat_id: int, provider: ProviderId, created_at: datetime) -> bool:
        """The order's account is the one connected now."""
        key = (chat_id, provider)
        if key not in self.connected:
            return False
        since = self.since.get(key)
        return since is None or created_at >= since


def fingerprint_key(secret: str) -> bytes:
    """The HMAC key, derived from a secret that is not in the database (the bot token)."""
    return hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()


async def read_account(db: Database, chat_id: int, provider: ProviderId) -> AccountRecord | None:
    """The remembered account (reading needs no key: screens that only draw a card use this)."""
    row = await db.fetchone("SELECT value FROM settings WHERE chat_id = ? AND key = ?", (chat_id, _PREFIX + provider.value))
    if row is None:
        return None
    try:
        value = json.loads(row["value"])
        return AccountRecord(str(value["fingerprint"]), db_time(str(value["since"])))
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: as if unknown (the caller then asks)


class AccountStore:
    def __init__(self, db: Database, key: bytes) -> None:
        self._db = db
        self._key = key

    def __repr__(self) -> str:
        return "AccountStore(***)"

    def fingerprint(self, provider: ProviderId, identity: str) -> str:
        """A keyed hash of what names the account: equal for the same account, useless without the key."""
        message = f"{provider.value}\x00{identity}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def get(self, chat_id: int, provider: ProviderId) -> AccountRecord | None:
        return await read_account(self._db, chat_id, provider)

    async def remember(self, chat_id: int, provider: ProviderId, fingerprint: str, *, new_account: bool) -> datetime:
        """Record the connected account; a new account starts a new `since`, the same keeps it."""
        current = await self.get(chat_id, provider)
        if new_account:
            since = utcnow()
        else:  # the same account: its orders, even from before fingerprints were kept, stay followed
            since = current.since if current is not None else _EVER
        value = json.dumps({"fingerprint": fingerprint, "since": to_db_time(since)})
        await self._db.execute(
            "INSERT INTO settings (chat_id, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id, key) DO UPDATE SET value = excluded.value",
            (chat_id, _PREFIX + provider.value, value),
        )
        return since

    async def snapshot(self) -> AccountsSnapshot:
        """Connected accounts and their `since`: two reads per poll tick, however many orders."""
        connected_rows = await self._db.fetchall("SELECT chat_id, provider FROM credentials")
        known = {p.value for p in ProviderId}
        connected = frozenset(
            (r["chat_id"], ProviderId(r["provider"])) for r in connected_rows if r["provider"] in known
        )
        since: dict[Account, datetime] = {}
        for row in await self._db.fetchall("SELECT chat_id, key, value FROM settings WHERE key LIKE 'account:%'"):
            provider = row["key"][len(_PREFIX):]
            if provider not in known:
                continue
            try:
                since[(row["chat_id"], ProviderId(provider))] = db_time(str(json.loads(row["value"])["since"]))
            except (ValueError, KeyError, TypeError):
                continue
        return AccountsSnapshot(connected, since)
