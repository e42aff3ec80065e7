"""What /buy's screens show of a provider's catalogue, remembered briefly per account.

Paging a services list, going Back to the sections, or re-opening a GotSMS service's plans within
a minute shows what was fetched a moment ago instead of asking the provider again; taps of many
chats asking for the same thing at once share one request per account. Only screens use it: the
confirmation card is priced from a fresh fetch (`fresh=True`, handlers/buy.py), and the purchase
itself is bounded by that card's price at the provider (`max_price`), so money never moves on a
remembered price. A fresh fetch also refreshes what the screens show (a new sold-out mark).

An entry belongs to the client object that fetched it: after /connect or a disconnect the chat
gets a new client (Services.forget_client), and nothing of the old account is shown. Errors are
never remembered. Memory is bounded: the least recently used entries go first.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram.ext import ContextTypes

T = TypeVar("T")

TTL_SECONDS = 60.0  # a list is reused while the user pages through it
MAX_ENTRIES = 10_000
_KEY = "catalogue_cache"


@dataclass
class _Entry:
    owner: object  # the client that fetched it
    fetched_at: float
    value: Any


class CatalogueCache:
    """(chat, provider, what, section, ...) -> a fetched catalogue part, for `ttl` seconds."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._inflight: dict[Hashable, tuple[object, asyncio.Future[Any]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, owner: object, fetch: Callable[[], Awaitable[T]], *, fresh: bool = False) -> T:
        """The remembered value of `key` fetched by `owner`, else `fetch()` (shared with any
        identical fetch already under way); `fresh` always fetches, and remembers the result."""
        if not fresh:
            entry = self._entries.get(key)
            if entry is not None and entry.owner is owner and self._clock() - entry.fetched_at < self._ttl:
                self._entries.move_to_end(key)
                return entry.value  # type: ignore[no-any-return]
            running = self._inflight.get(key)
            if running is not None and running[0] is owner:
                shared = running[1]
                try:
                    return await asyncio.shield(shared)  # type: ignore[no-any-return]
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if not shared.cancelled() or (task is not None and task.cancelling()):
                        raise  # this caller was cancelled, not only the fetch it waited for
        return await self._fetch(key, owner, fetch)

    async def _fetch(self, key: Hashable, owner: object, fetch: Callable[[], Awaitable[T]]) -> T:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = (owner, future)
        try:
            value = await fetch()
        except asyncio.CancelledError:
            future.cancel()  # whoever shared it fetches for itself
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        else:
            future.set_result(value)
            self._remember(key, owner, value)
            return value
        finally:
            if self._inflight.get(key, (None, None))[1] is future:
                del self._inflight[key]

    def _remember(self, key: Hashable, owner: object, value: object) -> None:
        self._entries[key] = _Entry(owner, self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


def catalogue_cache(context: ContextTypes.DEFAULT_TYPE) -> CatalogueCache:
    """The process's one cache, kept with the Application's data."""
    cache = context.bot_data.get(_KEY)
    if cache is None:
        cache = context.bot_data[_KEY] = CatalogueCache()
    return cache  # type: ignore[no-any-return]
