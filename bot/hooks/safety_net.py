"""Polling as the safety net of callbacks: slow while they work, fast again once they miss an SMS.

An account whose callbacks are active (storage/hooks.py: registered, none missed since the last
one arrived) is polled only every `interval` seconds. When such a poll stores an SMS, no callback
brought it: the account is marked as missing callbacks, which makes it inactive, so it is polled at
the normal interval again until the next callback arrives. Whether an account is active lives in
the database; only the time of each account's last poll is kept here (scheduling, not truth).
"""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping
from datetime import datetime

from handlers.services import Services
from providers.models import ProviderId
from storage.database import utcnow
from storage.messages import SOURCE_POLL
from storage.records import OrderRecord

logger = logging.getLogger(__name__)

Account = tuple[int, ProviderId]


class SafetyNet:
    def __init__(self, services: Services, interval: float) -> None:
        self._services = services
        self.interval = interval
        self._polled_at: dict[Account, datetime] = {}  # each hooked account's last poll
        self._started = False  # the first tick polls every account (what came while the bot was down)

    async def due(
        self, accounts: Mapping[Account, list[OrderRecord]], keep_fast: Container[Account]
    ) -> tuple[dict[Account, list[OrderRecord]], set[Account]]:
        """The accounts to poll now, and which of them are safety-net polls. Accounts in `keep_fast`
        (a purchase to reconcile) are polled every tick whatever their callbacks do.

        A hooked account is due `interval` after its last poll or its newest order, whichever is
        later: a new order's code is the callback's to bring (a poll racing it would only find the
        code first and mark the callbacks as missing). At start-up every account is polled at once,
        for what arrived while the bot was down."""
        hooked = await self._services.hooks.active_accounts()
        now = utcnow()
        self._polled_at = {key: at for key, at in self._polled_at.items() if key in hooked}
        chosen: dict[Account, list[OrderRecord]] = {}
        safety: set[Account] = set()
        for key, batch in accounts.items():
            if key in hooked and key not in keep_fast:
                last = self._polled_at.get(key)
                newest = max((o.created_at for o in batch), default=None)
                since = max((t for t in (last, newest) if t is not None), default=None)
                if self._started and since is not None and (now - since).total_seconds() < self.interval:
                    continue
                self._polled_at[key] = now
                safety.add(key)
            chosen[key] = batch
        self._started = True
        return chosen, safety

    async def after_poll(self, chat_id: int, provider: ProviderId, orders: list[OrderRecord], started: datetime) -> None:
        """A safety-net poll that stored an SMS: callbacks missed it, poll fast until the next one."""
        if not orders:
            return
        stored = await self._services.messages.sms_of([o.id for o in orders])
        missed = any(
            m.source == SOURCE_POLL and m.stored_at is not None and m.stored_at >= started
            for messages in stored.values()
            for m in messages
        )
        if missed:
            await self._services.hooks.mark_missed(chat_id, provider)
            logger.info("chat %s: the poll found an SMS no %s callback brought; polling at the normal interval",
                        chat_id, provider.value)
