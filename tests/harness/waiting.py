"""Waiting for a condition that has no event of its own to await: a short poll with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.03


async def eventually(probe: Callable[[], T | None], timeout: float, interval: float = POLL_SECONDS) -> T | None:
    """The first truthy `probe()` within `timeout` seconds, else None."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = probe()
        if found:
            return found
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(interval)
