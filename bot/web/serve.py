"""`python -m bot` with PUBLIC_URL set: the Application and our web server in one event loop,
until SIGINT or SIGTERM, then an orderly stop (server, Application, services)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.web.server import WEB_SERVER_KEY, WebServer, webhook_options

if TYPE_CHECKING:
    from bot.app import App

logger = logging.getLogger("bot.web")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve(app: "App", settings: Settings) -> None:
    """Run until a stop signal (or until the web server stops on its own)."""
    from bot.app import running  # bot.app imports this package: imported when called

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(app, webhook=webhook_options(settings)):
            web: WebServer = app.bot_data[WEB_SERVER_KEY]
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({stopping, web.task}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if web.task.done():
                logger.error("web server stopped on its own; stopping the bot")
            else:
                logger.info("stop signal received; stopping")
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
