"""The JobQueue job that watches every live order, account by account, each its own way.

A tick reads everything it needs from the database (live orders, rejected accounts, purchases of
unknown outcome); memory holds only scheduling (which account poll is still running, request
budgets): correctness rests on the database, so a restart or a second process changes nothing.
Several workers share the accounts through leases in the database (storage/leases.py): each polls
only the accounts it holds; every other part of a tick is a compare-and-set any worker may run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.config import DEFAULT_CALLBACK_SAFETY_POLL_SECONDS
from bot.feed_poll import poll_feed
from bot.hooks.safety_net import SafetyNet
from bot.reconcile import Reconciler
from bot.request_budget import RequestBudget
from handlers import texts
from handlers.chat_language import speaking_to
from handlers.delivery import Delivery, reminder_key
from handlers.services import Services
from providers.base import OrderListing, ProviderClient, UnreadFeed
from providers.errors import BadCredentials, OrderNotFound, ProviderError, RateLimited
from providers.models import PollStrategy, ProviderId
from providers.registry import capabilities_of
from storage.accounts import AccountStore, fingerprint_key
from storage.database import utcnow
from storage.leases import LeaseStore
from storage.messages import NOTICE_PREFIX
from storage.records import OrderRecord, PurchaseRecord

logger = logging.getLogger(__name__)

MAX_CONCURRENT_ACCOUNTS = 32
# A tick starts its accounts' requests evenly over this fraction of the poll interval instead of
# all at once. Why: at 100 accounts a burst kept the event loop busy for ~0.4 s (httpx costs
# ~2-3 ms CPU per request here), so a code found early waited behind everyone else's parsing;
# spread out, each answer is handled as it arrives (p50 code latency 0.67 s -> 0.51 s at a 1 s
# interval). Each account is still polled once per tick; the rest of the interval is headroom.
SPREAD_FRACTION = 0.7
# An account polled order by order (within a request budget) sends its tick's requests evenly over
# this fraction of the interval, starting at the tick: each order is then checked every n / rate
# seconds, not every one or two whole intervals (p99 code latency 2.0 s -> ~1.5 s for 10 orders
# at 7.5 requests a second). The rest of the interval is slack before the next tick looks.
PER_ORDER_SPREAD = 0.75
# Long rentals are reminded this long before they end (a quarter of shorter terms).
REMINDER_BEFORE = timedelta(hours=24)
# "A day or more", with slack: a 1-day rental is recorded a moment after its term was counted.
REMINDER_MIN_TERM = timedelta(hours=23)

Account = tuple[int, ProviderId]


class Poller:
    def __init__(
        self, services: Services, delivery: Delivery, bot: Bot, *,
        safety_poll_seconds: float = DEFAULT_CALLBACK_SAFETY_POLL_SECONDS,
        leases: LeaseStore | None = None,
    ) -> None:
        self._services = services
        # A worker among several (`python -m bot worker`) polls only the accounts the database
        # leases it (storage/leases.py); alone (`python -m bot`), every account.
        self._leases = leases
        # The accounts this worker leased at its last tick (None: not leasing, it has them all):
        # the auto-cancel job acts on these only, so N workers do not each ask the provider.
        self.held: frozenset[Account] | None = None
        self._balanced_at = 0.0  # event-loop time of the last lease balance
        self._lease_keeper: asyncio.Task[None] | None = None
        self._delivery = delivery
        self._bot = bot
        self._reconciler = Reconciler(services, delivery, bot)
        self._accounts = AccountStore(services.db, fingerprint_key(bot.token))
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_ACCOUNTS)
        # Scheduling only: per-order request budgets, round-robin cursors, account polls under way.
        self._budgets: dict[Account, RequestBudget] = {}
        self._cursors: dict[Account, int] = {}
        self._running: dict[Account, asyncio.Task[None]] = {}
        # Accounts whose callbacks work are polled only every `safety_poll_seconds` (bot/hooks).
        self.safety_net = SafetyNet(services, safety_poll_seconds)
        self.ticks = 0  # finished ticks: tests and health checks wait on this, not on sleeps
        self.last_tick_at: datetime | None = None  # end of the last tick (UTC): /healthz reads it
        self._ticked = asyncio.Condition()

    async def tick(self) -> None:
        """Start a poll of every account with live orders or unresolved purchases."""
        services = self._services
        await services.purchases.expire_stale_placing()  # a placing whose process died: now unknown
        # Orders whose account is gone (disconnected, or replaced by another account) are not
        # polled at all: their cards say why (handlers/accounts.py), and nothing loops on them.
        snapshot = await self._accounts.snapshot()
        rejected = await services.credentials.rejected()
        unresolved: dict[Account, list[PurchaseRecord]] = defaultdict(list)
        for purchase in await services.purchases.unresolved():
            key = (purchase.chat_id, purchase.provider)
            if key not in rejected and key in snapshot.connected:
                unresolved[key].append(purchase)
        if self._leases is None:
            live = await services.orders.all_active()
        else:
            # Share the accounts out first, then read only the held accounts' orders: N workers
            # read the orders once between them, not N times. A rejected account is leased too
            # (its orders still get their reminders, from one worker) but neither polled nor
            # auto-cancelled.
            if self._lease_keeper is None:
                self._lease_keeper = asyncio.create_task(self._keep_leases(self._leases))
            held = await self._leases.balance(await services.orders.live_accounts() | unresolved.keys())
            self.held = held - rejected
            self._balanced_at = asyncio.get_running_loop().time()
            live = await services.orders.active_of(held)
        orders = [o for o in live if snapshot.follows(o.chat_id, o.provider, o.created_at)]
        accounts: dict[Account, list[OrderRecord]] = defaultdict(list)
        for order in orders:
            if (order.chat_id, order.provider) not in rejected:
                accounts[(order.chat_id, order.provider)].append(order)
        for key in unresolved:
            accounts.setdefault(key, [])
        if self.held is not None:
            accounts = {key: batch for key, batch in accounts.items() if key in self.held}
        # An account still busy from an earlier tick is skipped, not waited for: a slow provider
        # (or one paced by its rate limit) never holds up the other accounts' next poll.
        due = {key: batch for key, batch in accounts.items() if key not in self._running}
        due, safety_net = await self.safety_net.due(due, keep_fast=unresolved)
        known = await services.messages.known_ids(o.id for batch in due.values() for o in batch)
        step = SPREAD_FRACTION * services.poll_interval_seconds / max(1, len(due))
        for i, (key, batch) in enumerate(due.items()):
            paces_itself = capabilities_of(key[1]).poll is PollStrategy.PER_ORDER  # see PER_ORDER_SPREAD
            task = asyncio.create_task(
                self._poll_account(*key, batch, known, unresolved.get(key, []),
                                   start_after=0.0 if paces_itself else i * step,
                                   safety_net=key in safety_net)
            )
            self._running[key] = task
            task.add_done_callback(lambda _t, key=key: self._running.pop(key, None))
        await self._remind(orders)
        await self._delivery.flush_outbox()
        self.last_tick_at = utcnow()
        async with self._ticked:
            self.ticks += 1
            self._ticked.notify_all()

    async def wait_ticks(self, count: int = 1, timeout: float = 10.0) -> None:
        """Until `count` more ticks have finished (and with them the outbox flush)."""
        target = self.ticks + count
        async with self._ticked:
            await asyncio.wait_for(self._ticked.wait_for(lambda: self.ticks >= target), timeout)

    async def settle(self, timeout: float = 10.0) -> None:
        """Until the account polls started so far are done (tests)."""
        tasks = list(self._running.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        await asyncio.wait_for(self._delivery.cards.settled(), timeout)  # and the card edits they asked for

    async def close(self) -> None:
        """Cancel account polls still under way (shutdown)."""
        tasks = list(self._running.values())
        if self._lease_keeper is not None:
            tasks.append(self._lease_keeper)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._delivery.cards.close()
        if self._leases is not None:
            try:  # a stopping worker hands its accounts over at once instead of in two intervals
                await self._leases.resign()
            except Exception as exc:  # the database is gone: the leases run out instead
                logger.warning("could not give the account leases back: %s", type(exc).__name__)

    async def _keep_leases(self, leases: LeaseStore) -> None:
        """A tick slower than the lease (a long outbox flush) must not cost the accounts: between
        ticks more than an interval apart, heartbeat and renew on a timer of their own."""
        interval = self._services.poll_interval_seconds
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)  # a timer, as the JobQueue's: nothing to await instead
            if loop.time() - self._balanced_at < interval:
                continue
            try:
                await leases.keep()
            except Exception as exc:  # the database is away: the next tick balances again
                logger.warning("could not renew the account leases: %s", type(exc).__name__)

    async def _poll_account(
        self,
        chat_id: int,
        provider: ProviderId,
        orders: list[OrderRecord],
        known: dict[int, set[str]],
        purchases: list[PurchaseRecord],
        start_after: float = 0.0,
        safety_net: bool = False,
    ) -> None:
        if start_after > 0:
            await asyncio.sleep(start_after)  # pacing (see SPREAD_FRACTION), not waiting for an event
        # A per-order account takes a slot per request instead: it spends the tick mostly waiting.
        paced = capabilities_of(provider).poll is PollStrategy.PER_ORDER
        async with contextlib.nullcontext() if paced else self._limit:
            started = utcnow()
            try:
                client = await self._services.client_for(chat_id, provider)
                if client is None:
                    return  # disconnected: the orders stay as they are until reconnected
                if purchases:
                    await self._reconciler.reconcile(client, chat_id, purchases)
                strategy = client.capabilities.poll
                if strategy is PollStrategy.PER_ORDER:
                    await self._poll_each_order(chat_id, provider, client, orders, known)
                elif strategy is PollStrategy.UNREAD_FEED and isinstance(client, UnreadFeed):
                    await poll_feed(self._services, self._delivery, client, chat_id, orders, known,
                                    purchases_pending=bool(purchases))
                elif strategy is PollStrategy.ACCOUNT_LIST and isinstance(client, OrderListing):
                    await self._poll_list(client, orders, known)
                else:
                    logger.error("%s: poll strategy %s without its ability", provider.value, strategy)
                if safety_net:
                    await self.safety_net.after_poll(chat_id, provider, orders, started)
            except BadCredentials:
                await self._credentials_rejected(chat_id, provider)
            except ProviderError as exc:
                logger.info("poll of %s for chat %s failed: %s", provider.value, chat_id, type(exc).__name__)
            except Exception:
                logger.exception("poll of %s for chat %s crashed", provider.value, chat_id)

    async def _poll_list(self, client: OrderListing, orders: list[OrderRecord], known: dict[int, set[str]]) -> None:
        """One request lists every live order with its codes."""
        if not orders:
            return
        remote = {r.order_id: r for r in await client.active_orders()}
        for order in orders:
            current = remote.get(order.remote_id)
            if current is None:
                # Gone from the live list: ended at the provider; learn how (and any last code).
                assert isinstance(client, ProviderClient)
                try:
                    current = await client.get_order(order.remote_id)
                except OrderNotFound:
                    logger.warning("order %s vanished at %s", order.id, order.provider.value)
                    continue
            await self._delivery.apply(order, current, known.get(order.id, set()))

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
            rate = 0.9 * (client.capabilities.requests_per_minute or 60)
            budget = self._budgets[key] = RequestBudget(rate, rate / 60 * self._services.poll_interval_seconds)
        granted = budget.take(len(orders))
        if granted == 0:
            return
        start = self._cursors.get(key, 0) % len(orders)
        chosen = (orders[start:] + orders[:start])[:granted]
        self._cursors[key] = start + granted
        spacing = PER_ORDER_SPREAD * self._services.poll_interval_seconds / granted
        # Each account at its own phase within one spacing: many such accounts do not all send
        # (and all parse answers) at the same instants.
        phase = spacing * ((chat_id * 2_654_435_761) % 1024) / 1024
        stop: list[BaseException] = []  # a 429 or rejected credentials: the rest of the tick is not sent

        async def poll_one(position: int, order: OrderRecord) -> None:
            await asyncio.sleep(phase + position * spacing)  # pacing (PER_ORDER_SPREAD), not an event
            if stop:
                budget.refund(1)
                return
            async with self._limit:
                try:
                    result = await client.get_order(order.remote_id)
                except RateLimited as exc:
                    budget.block(exc.retry_after or 5.0)
                    stop.append(exc)
                    return
                except BadCredentials as exc:
                    stop.append(exc)
                    return
                except ProviderError as exc:
                    logger.info("poll of %s order %s failed: %s", provider.value, order.id, type(exc).__name__)
                    return
                await self._delivery.apply(order, result, known.get(order.id, set()))

        results = await asyncio.gather(*(poll_one(i, o) for i, o in enumerate(chosen)), return_exceptions=True)
        for failure in [*stop, *results]:
            if isinstance(failure, BadCredentials):
                raise failure
        for result in results:
            if isinstance(result, BaseException):
                raise result  # a crash: _poll_account logs it

    async def _remind(self, orders: list[OrderRecord]) -> None:
        """Long rentals get a reminder before they end, once per term; from the database alone."""
        now = utcnow()
        due = [o for o in orders if capabilities_of(o.provider).reminds_before_end and reminder_due(o, now)]
        if not due:
            return
        known = await self._services.messages.known_ids(o.id for o in due)
        for order in due:
            if f"{NOTICE_PREFIX}{reminder_key(order)}" not in known.get(order.id, set()):
                await self._delivery.remind(order)

    async def _credentials_rejected(self, chat_id: int, provider: ProviderId) -> None:
        """Stop polling the account and tell the chat once; /connect resumes it."""
        logger.warning("chat %s: %s credentials rejected; polling stopped", chat_id, provider.value)
        first = await self._services.credentials.mark_rejected(chat_id, provider)
        self._services.forget_client(chat_id, provider)
        if not first:  # another worker's poll found it first and told the chat
            return
        async with speaking_to(self._services.db, chat_id):  # outside an update: the chat's language
            text = texts.credentials_rejected(provider)
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramError as exc:
            logger.warning("could not tell chat %s: %s", chat_id, type(exc).__name__)


def reminder_due(order: OrderRecord, now: datetime) -> bool:
    """Within the reminder window of a rental of a day or more (a quarter of its term, at most a day)."""
    if order.expires_at is None or order.expires_at <= now:
        return False
    term = order.expires_at - order.created_at
    if term < REMINDER_MIN_TERM:
        return False
    return order.expires_at - min(REMINDER_BEFORE, term / 4) <= now


async def poll_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback."""
    poller: Poller = context.bot_data["poller"]
    await poller.tick()
