"""The JobQueue job that watches every live order: one account-wide request per account per tick."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from telegram.ext import ContextTypes

from bot.delivery import Delivery
from bot.services import Services
from providers.errors import BadCredentials, OrderNotFound, ProviderError
from providers.models import ProviderId
from storage.records import OrderRecord

logger = logging.getLogger(__name__)

MAX_CONCURRENT_ACCOUNTS = 64
DELIVERY_KEY = "delivery"


class Poller:
    def __init__(self, services: Services, delivery: Delivery) -> None:
        self._services = services
        self._delivery = delivery
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_ACCOUNTS)

    async def tick(self) -> None:
        """Poll every account with live orders concurrently; one slow account delays no other."""
        import time as _t
        _a = _t.perf_counter()
        orders = [o for o in await self._services.orders.all_active() if o.id not in self._services.busy_orders]
        _b = _t.perf_counter()
        accounts: dict[tuple[int, ProviderId], list[OrderRecord]] = defaultdict(list)
        for order in orders:
            accounts[(order.chat_id, order.provider)].append(order)
        known = await self._services.messages.known_ids(o.id for o in orders)
        _c = _t.perf_counter()
        await asyncio.gather(
            *(self._poll_account(chat_id, provider, batch, known) for (chat_id, provider), batch in accounts.items())
        )
        _d = _t.perf_counter()
        await self._delivery.flush_outbox()
        _e = _t.perf_counter()
        with open("/tmp/ticks.log", "a") as f:
            f.write(f"{_t.time():.3f} all_active={_b-_a:.3f} known={_c-_b:.3f} poll={_d-_c:.3f} flush={_e-_d:.3f} total={_e-_a:.3f}\n")

    async def _poll_account(
        self,
        chat_id: int,
        provider: ProviderId,
        orders: list[OrderRecord],
        known: dict[int, set[str]],
    ) -> None:
        async with self._limit:
            try:
                client = await self._services.client_for(chat_id, provider)
                if client is None:
                    return  # disconnected: the orders stay as they are until reconnected
                remote = {r.order_id: r for r in await client.active_orders()}
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
                logger.warning("chat %s: %s credentials rejected; not polling", chat_id, provider.value)
            except ProviderError as exc:
                logger.info("poll of %s for chat %s failed: %s", provider.value, chat_id, type(exc).__name__)
            except Exception:
                logger.exception("poll of %s for chat %s crashed", provider.value, chat_id)


async def poll_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback."""
    poller: Poller = context.bot_data["poller"]
    await poller.tick()
