"""Queries of "Buy again" and auto-cancel: a chat's recent purchases, and the chats that asked for
idle orders to be cancelled (the `settings` table, key AUTO_CANCEL_MINUTES)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from providers.models import ProviderId
from storage.database import Database, Row

AUTO_CANCEL_MINUTES = "auto_cancel_minutes"
_SCANNED = 40  # recent purchases read to find a few distinct services


@dataclass(frozen=True)
class RecentService:
    """A service the chat bought (newest order first); only ids, the price is fetched at the tap."""

    order_id: int
    provider: ProviderId
    section: str
    service_ids: tuple[str, ...]
    service_name: str


class AgainStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def recent_purchases(self, chat_id: int) -> list[RecentService]:
        """The chat's newest placed purchases (not paid actions on an order), newest first."""
        rows = await self._db.fetchall(
            "SELECT o.id AS order_id, p.provider, p.section, p.service_ids, p.service_name"
            " FROM purchases p JOIN orders o ON o.id = p.order_id"
            " WHERE p.chat_id = ? AND o.chat_id = ? AND p.action IS NULL"
            " ORDER BY o.id DESC LIMIT ?",
            (chat_id, chat_id, _SCANNED),
        )
        return [_recent(row) for row in rows]

    async def purchase_of_order(self, order_id: int, chat_id: int) -> RecentService | None:
        """What this chat's order was bought as; None for another chat's order or one the bot
        found rather than bought (a won auction)."""
        row = await self._db.fetchone(
            "SELECT o.id AS order_id, p.provider, p.section, p.service_ids, p.service_name"
            " FROM purchases p JOIN orders o ON o.id = p.order_id"
            " WHERE o.id = ? AND o.chat_id = ? AND p.chat_id = ? AND p.action IS NULL"
            " ORDER BY p.created_at DESC LIMIT 1",
            (order_id, chat_id, chat_id),
        )
        return None if row is None else _recent(row)

    async def auto_cancel_chats(self) -> dict[int, int]:
        """Chat id -> minutes without a code after which its orders are cancelled (on only)."""
        rows = await self._db.fetchall(
            "SELECT chat_id, value FROM settings WHERE key = ?", (AUTO_CANCEL_MINUTES,)
        )
        chosen = {int(r["chat_id"]): _minutes(r["value"]) for r in rows}
        return {chat: minutes for chat, minutes in chosen.items() if minutes > 0}


def _minutes(value: object) -> int:
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else 0


def _recent(row: Row) -> RecentService:
    ids = json.loads(row["service_ids"] or "[]")
    return RecentService(
        order_id=int(row["order_id"]),
        provider=ProviderId(row["provider"]),
        section=str(row["section"]),
        service_ids=tuple(str(i) for i in ids),
        service_name=str(row["service_name"]),
    )
