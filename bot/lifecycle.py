"""An Application started and stopped inside the caller's event loop, whatever feeds it updates
(`bot.app.running`: the Updater or the web server; `bot.roles.running_worker`: nothing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from telegram.ext import Application


@asynccontextmanager
async def started(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[AsyncExitStack]:
    """Services (post_init), then the Application; stopped in reverse. The yielded stack takes
    what the caller starts on top (stopped first)."""
    async with AsyncExitStack() as stack:
        await app.initialize()
        stack.push_async_callback(_shut_down, app)
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        stack.push_async_callback(app.stop)
        yield stack


async def _shut_down(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
