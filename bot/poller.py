"""The JobQueue job that watches every live order: one account-wide request per account per tick."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers.delivery import Delivery
from bot.reconcile import adopt
from bot.rent_poll import poll_unread
from handlers.services import Services
from handlers import texts
from bot.request_budget import RequestBudget
from providers.base import ProviderClient
from providers.errors import BadCredentials, OrderNotFound, ProviderError, RateLimited
from providers.models import ProviderId, RemoteOrder
from storage.records import OrderRecord, PurchaseRecord

logger = logging.getLogger(__name__)

MAX_CONCURRENT_ACCOUNTS = 32
# A tick starts its accounts' requests evenly over this fraction of the poll interval instead of
# all at once. Why: at 100 accounts a burst kept the event loop busy for ~0.4 s (httpx costs
# ~2-3 ms CPU per request here), so a code found early waited behind everyone else's parsing;
# spread out, each answer is handled as it arrives (p50 code latency 0.67 s -> 0.51 s at a 1 s
# interval). Each account is still polled once per tick; the rest of the interval is headroom
# so a tick does not overrun into the next one.
SPREAD_FRACTION = 0.7
DELIVERY_KEY = "delivery"


class Poller:
    def __init__(self, services: Services, delivery: Delivery, bot: Bot) -> None:
        self._services = services
        self._delivery = delivery
        self._bot = bot
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_ACCOUNTS)
        # Per-order polling (providers without an account-wide endpoint): budget and round-robin cursor.
        self._budgets: dict[tuple[int, ProviderId], RequestBudget] = {}
        self._cursors: dict[tuple[int, ProviderId], int] = {}
        self._running: dict[tuple[int, ProviderId], asyncio.Task[None]] = {}

    async def tick(self) -> None:
        """Start a poll of every account with live orders; each runs on its own, concurrently."""
        orders = [o for o in await self._services.orders.all_active() if o.id not in self._services.busy_orders]
        accounts: dict[tuple[int, ProviderId], list[OrderRecord]] = defaultdict(list)
        for order in orders:
            if (order.chat_id, order.provider) not in self._services.rejected_accounts:
                accounts[(order.chat_id, order.provider)].append(order)
        # Purchases that may have charged are looked for in their account's live orders.
        unresolved: dict[tuple[int, ProviderId], list[PurchaseRecord]] = defaultdict(list)
        for purchase in await self._services.purchases.unresolved():
            if (purchase.chat_id, purchase.provider) in self._services.rejected_accounts:
                continue
            unresolved[(purchase.chat_id, purchase.provider)].append(purchase)
            accounts.setdefault((purchase.chat_id, purchase.provider), [])
        # An account still busy from an earlier tick is skipped, not waited for: a slow provider
        # (or one paced by its rate limit) never holds up the other accounts' next poll.
        due = {key: batch for key, batch in accounts.items() if key not in self._running}
        known = await self._services.messages.known_ids(o.id for batch in due.values() for o in batch)
        step = SPREAD_FRACTION * self._services.poll_interval_seconds / max(1, len(due))
        for i, (key, batch) in enumerate(due.items()):
            task = asyncio.create_task(
                self._poll_account(*key, batch, known, unresolved.get(key, []), start_after=i * step)
            )
            self._running[key] = task
            task.add_done_callback(lambda _t, key=key: self._running.pop(key, None))
        await self._delivery.flush_outbox()

    async def close(self) -> None:
        """Cancel account polls still under way (shutdown)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _poll_account(
        self,
        chat_id: int,
        provider: ProviderId,
        orders: list[OrderRecord],
        known: dict[int, set[str]],
        purchases: list[PurchaseRecord],
        start_after: float = 0.0,
    ) -> None:
        if start_after > 0:
            await asyncio.sleep(start_after)  # pacing (see SPREAD_FRACTION), not waiting for an event
        async with self._limit:
            try:
                client = await self._services.client_for(chat_id, provider)
                if client is None:
                    return  # disconnected: the orders stay as they are until reconnected
                strategy = getattr(client, "polling", "account")
                if strategy == "order":
                    await self._poll_each_order(chat_id, provider, client, orders, known)
                    return
                if strategy == "messages":
                    if purchases:  # only then is the rent list worth a request
                        await self._reconcile(client, purchases, orders, await client.active_orders())
                    await poll_unread(self._services, self._delivery, client, orders, known)
                    return
                remote = {r.order_id: r for r in await client.active_orders()}
                if purchases:
                    await self._reconcile(client, purchases, orders, list(remote.values()))
                for order in orders:
                    if order.id in self._services.busy_orders:
                        continue
                    current = remote.get(order.remote_id)
                    if current is None:
                        # Gone from the live list: ended at the provider; learn how (and any last code).
                        try:
                            current = await client.get_order(order.remote_id)
                        except OrderNotFound:
                            logger.warning("order %s vanished at %s", order.id, provider.value)
                            continue
                    await self._delivery.apply(order, current, known.get(order.id, set()))
            except BadCredentials:
                await self._credentials_rejected(chat_id, provider)
            except ProviderError as exc:
                logger.info("poll of %s for chat %s failed: %s", provider.value, chat_id, type(exc).__name__)
            except Exception:
                logger.exception("poll of %s for chat %s crashed", provider.value, chat_id)


    async def _reconcile(
        self,
        client: ProviderClient,
        purchases: list[PurchaseRecord],
        orders: list[OrderRecord],
        remote: list[RemoteOrder],
    ) -> None:
        """Adopt purchases of unknown outcome found among the account's live orders."""
        local = {o.remote_id for o in orders}
        by_id = {r.order_id: r for r in remote}
        for order in await adopt(self._services, self._bot, purchases, remote, local):
            await self._delivery.apply(order, by_id[order.remote_id], set())

    async def _poll_each_order(
        self,
        chat_id: int,
        provider: ProviderId,
        client: ProviderClient,
        orders: list[OrderRecord],
        known: dict[int, set[str]],
    ) -> None:
        """One request per order, as many as the account's budget allows, round-robin across ticks."""
        if not orders:
            return
        key = (chat_id, provider)
        budget = self._budgets.get(key)
        if budget is None:
            # 90% of the documented limit: room for the user's own buys and balance checks.
            rate = 0.9 * getattr(client, "requests_per_minute", 60)
            budget = self._budgets[key] = RequestBudget(rate, rate / 60 * self._services.poll_interval_seconds)
        granted = budget.take(len(orders))
        if granted == 0:
            return
        start = self._cursors.get(key, 0) % len(orders)
        chosen = (orders[start:] + orders[:start])[:granted]
        self._cursors[key] = start + granted
        results = await asyncio.gather(*(client.get_order(o.remote_id) for o in chosen), return_exceptions=True)
        for order, result in zip(chosen, results):
            if isinstance(result, RateLimited):
                budget.block(result.retry_after or 5.0)
            elif isinstance(result, BadCredentials):
                raise result
            elif isinstance(result, BaseException):
                logger.info("poll of %s order %s failed: %s", provider.value, order.id, type(result).__name__)
            elif order.id not in self._services.busy_orders:
                await self._delivery.apply(order, result, known.get(order.id, set()))

    async def _credentials_rejected(self, chat_id: int, provider: ProviderId) -> None:
        """Stop polling the account and tell the chat once; /connect resumes it."""
        logger.warning("chat %s: %s credentials rejected; polling stopped", chat_id, provider.value)
        self._services.rejected_accounts.add((chat_id, provider))
        await self._services.credentials.mark_rejected(chat_id, provider)
        try:
            await self._bot.send_message(chat_id, texts.credentials_rejected(provider))
        except TelegramError as exc:
            logger.warning("could not tell chat %s: %s", chat_id, exc)


async def poll_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback."""
    poller: Poller = context.bot_data["poller"]
    await poller.tick()
