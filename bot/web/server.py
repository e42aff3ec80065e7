"""Our uvicorn server around a started Application: what `python -m bot` and the tests both run.

PTB's custom-webhook pattern: the Application does not run a web server of its own (its
Updater stays idle); this one listens, puts Telegram's updates on the update queue and hands
the providers' callbacks to the hook receiver, all in the Application's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import uvicorn
from telegram import Update

from bot.config import Settings
from bot.hooks.receiver import HookReceiver
from bot.web.factory import TELEGRAM_PATH, build_web_app
from bot.web.hooks_route import RECEIVER_KEY
from handlers.services import SERVICES_KEY

if TYPE_CHECKING:
    from bot.app import App

logger = logging.getLogger("bot.web")

WEB_SERVER_KEY = "web_server"
# Requests under way get this long to finish at shutdown; then they are cancelled.
GRACEFUL_SHUTDOWN_SECONDS = 5.0


class WebServerError(Exception):
    """The web server could not start (its reason, e.g. the port in use, is logged by uvicorn)."""


@dataclass(frozen=True)
class WebhookOptions:
    """Where the server listens, the public URL Telegram posts to, and the secret it sends."""

    listen: str
    port: int
    public_url: str
    secret_token: str = field(repr=False)

    @property
    def telegram_url(self) -> str:
        return f"{self.public_url.rstrip('/')}{TELEGRAM_PATH}"


def webhook_options(settings: Settings) -> WebhookOptions:
    """The options of `python -m bot` with PUBLIC_URL set (and of the tests that run it)."""
    assert settings.webhook_url and settings.webhook_secret, "webhook mode always has a secret"
    return WebhookOptions(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        public_url=settings.webhook_url,
        secret_token=settings.webhook_secret,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, minus its signal handling (the host program owns SIGINT and SIGTERM:
    uvicorn would re-raise them after its own shutdown, before the bot's), plus an event set
    once it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.listening.set()


@dataclass(frozen=True)
class WebServer:
    """A running server: `task` ends when it stops (or failed)."""

    server: uvicorn.Server
    task: asyncio.Task[None]


@asynccontextmanager
async def serving_web(app: "App", options: WebhookOptions) -> AsyncIterator[WebServer]:
    """Serve `app` (started, its post_init done) on `options.listen:options.port`, tell Telegram
    where to post, and stop the server on exit. Raises `WebServerError` if it cannot listen."""
    receiver = install_hook_receiver(app)
    config = uvicorn.Config(
        build_web_app(app, telegram_secret=options.secret_token),
        host=options.listen,
        port=options.port,
        lifespan="off",
        log_config=None,  # the bot's logging setup applies (secrets redacted)
        access_log=False,  # an access line would carry the hook URLs' tokens
        server_header=False,
        timeout_graceful_shutdown=int(GRACEFUL_SHUTDOWN_SECONDS),
    )
    server = _Server(config)
    task = asyncio.create_task(_serve(server, options))
    listening = asyncio.create_task(server.listening.wait())
    await asyncio.wait({task, listening}, return_when=asyncio.FIRST_COMPLETED)
    if not listening.done():
        listening.cancel()
        await _release_receiver(app, receiver)
        await task  # raises its WebServerError
        raise WebServerError(f"web server on {options.listen}:{options.port} stopped while starting")
    try:
        await app.bot.set_webhook(
            url=options.telegram_url, secret_token=options.secret_token, allowed_updates=Update.ALL_TYPES
        )
        logger.info("web server listening on %s:%s; Telegram posts to %s", options.listen, options.port, TELEGRAM_PATH)
        yield WebServer(server=server, task=task)
    finally:
        await _stop(server, task)
        await _release_receiver(app, receiver)


async def _serve(server: _Server, options: WebhookOptions) -> None:
    try:
        await server.serve()
    except SystemExit:  # uvicorn exits the process when it cannot bind; here that is an error
        raise WebServerError(f"web server could not listen on {options.listen}:{options.port}") from None


async def _stop(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    try:
        await asyncio.wait_for(asyncio.shield(task), GRACEFUL_SHUTDOWN_SECONDS + 2)
    except TimeoutError:
        server.force_exit = True
        task.cancel()
    except Exception as exc:  # it had stopped on its own; stopping goes on regardless
        logger.warning("web server had stopped: %s", type(exc).__name__)
    await asyncio.gather(task, return_exceptions=True)


def install_hook_receiver(app: "App") -> HookReceiver | None:
    """The one HookReceiver for the providers' callbacks; None when a test put its own."""
    if RECEIVER_KEY in app.bot_data:
        return None
    receiver = HookReceiver(app.bot_data[SERVICES_KEY], app.bot_data["delivery"])
    app.bot_data[RECEIVER_KEY] = receiver
    return receiver


async def _release_receiver(app: "App", receiver: HookReceiver | None) -> None:
    """Cancel callback work still under way (what it stored, the outbox sends; what it had not,
    the next poll finds) and forget the receiver this server installed."""
    if receiver is None:
        return
    await receiver.close()
    if app.bot_data.get(RECEIVER_KEY) is receiver:
        del app.bot_data[RECEIVER_KEY]
