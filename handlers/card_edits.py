"""Order-card edits that give way to messages: codes go out first when Telegram is the bottleneck.

Every Bot API call to a chat waits in the same bot-wide rate limiter (~30 a second). When many
orders get a code at once, each also wants its card edited; sent in turn (code, card, code,
card...) every code would wait behind the cards before it. So delivery does not edit a card on
the spot: it asks for an edit here, and the edits run one at a time, each only once no message is
being sent and no order is being applied (a moment in which no code is waiting for its turn).
Requests for one order are coalesced — the edit draws the order as stored when it runs — and an
edit never waits longer than `MAX_DELAY` (a steady stream of codes does not starve the cards).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from storage.records import OrderRecord

logger = logging.getLogger(__name__)

MAX_DELAY = 5.0  # seconds an edit waits for a quiet moment at most


class CardEdits:
    def __init__(self, edit: Callable[[OrderRecord], Awaitable[None]], max_delay: float = MAX_DELAY) -> None:
        self._edit = edit
        self._max_delay = max_delay
        self._pending: dict[int, OrderRecord] = {}  # order id -> latest snapshot, first asked first
        self._busy = 0  # messages being sent + orders being applied
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._worker: asyncio.Task[None] | None = None

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Around work that sends (or may send) a message: edits wait until none is under way."""
        self._busy += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._quiet.set()

    def request(self, order: OrderRecord) -> None:
        """Edit this order's card soon (once for any number of requests until the edit runs)."""
        self._pending[order.id] = order
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="card-edits")

    async def settled(self) -> None:
        """Until every edit asked for so far has run (tests; shutdown)."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)

    async def close(self) -> None:
        """Drop edits not yet made (shutdown: the card is redrawn when the user next looks)."""
        self._pending.clear()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while self._pending:
            await self._until_quiet()
            if not self._pending:
                break
            order_id = next(iter(self._pending))
            order = self._pending.pop(order_id)
            try:
                await self._edit(order)
            except Exception:  # one failed edit must not stop the others
                logger.exception("order card %s not updated", order_id)

    async def _until_quiet(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_delay
        while self._busy:
            try:
                async with asyncio.timeout_at(deadline):
                    await self._quiet.wait()
            except TimeoutError:
                return  # waited long enough: this edit goes now
            # Someone may have become busy again between the event and this task's turn.
            await asyncio.sleep(0)
