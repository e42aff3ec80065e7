"""Application wiring: services in post_init, closed in post_shutdown, handlers, the poller job
(what of it a process runs depends on its role: bot/roles.py)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeAlias

from telegram import Bot, BotCommand, Update
from telegram.ext import Application, ApplicationBuilder

from bot.config import Settings
from bot.lifecycle import started
from handlers.callback_setup import SANDBOX_DASHBOARD_KEY
from handlers.delivery import Delivery
from bot.auto_cancel import AUTO_CANCEL_JOB, AUTO_CANCEL_SECONDS, auto_cancel_job
from bot.poller import Poller, poll_job
from bot.web.server import WEB_SERVER_KEY, WebhookOptions, serving_web
from bot.rate_limits import PRUNE_JOB, PRUNE_SECONDS, ReplyFirstRateLimiter, prune_send_slots_job
from bot.roles import ROLE_KEY, Role, lease_store
from bot.update_processor import PerChatUpdateProcessor
from handlers.services import SERVICES_KEY, Services
from handlers import i18n
from handlers.registry import COMMANDS, register
from providers.http import create_http_client
from providers.registry import ProviderEndpoints
from storage.chat_turns import ChatTurns
from storage.chats import ChatStore
from storage.conversations import ConversationStore
from storage.credentials import CredentialStore
from storage.crypto import SecretBox
from storage.database import open_database
from storage.send_slots import BOT_RATE, CHAT_RATE, Rate, SendSlots
from storage.feed_recovery import FeedRecoveryStore
from storage.hooks import HookStore
from storage.messages import MessageStore
from storage.orders import OrderStore
from storage.purchases import PurchaseStore

logger = logging.getLogger(__name__)

# The Application as this bot uses it (PTB's generic parameters are not narrowed here).
App: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

POLLER_JOB = "poller"
CHAT_TURNS_KEY = "chat_turns"  # bot_data: the web role's turns across processes, closed at shutdown
PURCHASE_ATTEMPTS = 3  # RetryPolicy's default: a purchase with an idempotency key is tried at most this often
SANDBOX_KEY = "sandbox_simulators"


def build_application(
    settings: Settings, *, sandbox: bool = False, sandbox_sms_delay: float = 5.0, role: Role = Role.ALL
) -> App:
    """The whole bot as one PTB Application; `sandbox` adds the in-process provider simulators,
    whose numbers each receive a code `sandbox_sms_delay` seconds after they are ordered."""

    async def post_init(app: App) -> None:
        effective = settings
        if sandbox:
            effective = await _start_sandbox(app, settings, sandbox_sms_delay)
        await _open_services(app, effective, role)
        if sandbox:
            _announce_sandbox(app)
        # What start-up built (modules, the libraries' objects) lives as long as the process: out
        # of the collector's sight, a full collection no longer walks it (70-100 ms pauses that
        # were the callback path's p99 tail).
        gc.freeze()

    async def post_shutdown(app: App) -> None:
        poller: Poller | None = app.bot_data.get("poller")
        if poller is not None:
            await poller.close()
        services: Services | None = app.bot_data.get(SERVICES_KEY)
        if services is not None:
            await services.http.aclose()
            turns: ChatTurns | None = app.bot_data.get(CHAT_TURNS_KEY)
            if turns is not None:
                await turns.close()  # its own connection, before the database's pool
            await services.db.close()
        for simulator in app.bot_data.get(SANDBOX_KEY, []):
            await simulator.stop()

    app = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        # Chats concurrently (a slow provider call never holds another chat), one chat in order.
        .concurrent_updates(PerChatUpdateProcessor())
        .rate_limiter(ReplyFirstRateLimiter(max_retries=3))  # Telegram's flood limits; replies first
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    register(app)
    return app


async def _set_commands(bot: Bot) -> None:
    """The command menu in every language: English as the default list, then one list per
    other language, which Telegram shows to users whose app is set to it."""
    for code in i18n.languages():
        with i18n.use_language(code):
            commands = [BotCommand(name, i18n._(description)) for name, description in COMMANDS]
        if code == i18n.DEFAULT_LANGUAGE:
            await bot.set_my_commands(commands)
        else:
            await bot.set_my_commands(commands, language_code=code)


async def _open_services(app: App, settings: Settings, role: Role = Role.ALL) -> None:
    db = await open_database(url=settings.database_url, path=settings.database_path,
                             pool_size=settings.database_pool_size)
    box = SecretBox(settings.encryption_keys)
    services = Services(
        allowed_user_ids=settings.allowed_user_ids,
        poll_interval_seconds=settings.poll_interval_seconds,
        db=db,
        http=create_http_client(timeout=settings.provider_timeout_seconds),
        chats=ChatStore(db),
        credentials=CredentialStore(db, box),
        orders=OrderStore(db),
        purchases=PurchaseStore(db),
        messages=MessageStore(db),
        conversations=ConversationStore(db),
        feed_recovery=FeedRecoveryStore(db),
        hooks=HookStore(db, box),
        public_url=settings.webhook_url,
        endpoints=ProviderEndpoints(
            nonvoip=settings.nonvoip_base_url, kiwi=settings.kiwi_base_url, gotsms=settings.gotsms_base_url
        ),
        outbox_lease=timedelta(seconds=settings.outbox_lease_seconds),
        # Longer than a purchase can take (its request and the retries with the same key).
        purchase_lease=timedelta(seconds=PURCHASE_ATTEMPTS * settings.provider_timeout_seconds + 5),
    )
    delivery = Delivery(services, app.bot)
    limiter = app.bot.rate_limiter
    # Several processes (web, worker) keep Telegram's limits together, in the database; one process
    # alone (`python -m bot`) keeps them in memory: no other process to agree with, and no
    # database transaction per message on its delivery path.
    if isinstance(limiter, ReplyFirstRateLimiter) and role is not Role.ALL:
        limiter.share_limits(SendSlots(
            db,
            bot_rate=Rate(settings.telegram_messages_per_second, burst=BOT_RATE.burst),
            chat_rate=Rate(settings.telegram_chat_messages_per_second, burst=CHAT_RATE.burst),
        ))
    app.bot_data[SERVICES_KEY] = services
    app.bot_data["delivery"] = delivery
    app.bot_data[ROLE_KEY] = role
    # Only the web role takes updates among several processes: one chat's turn across all of them
    # (a PostgreSQL advisory lock per chat; none on SQLite). After SERVICES_KEY: a failure here
    # still closes the database at shutdown.
    processor = app.update_processor
    if role is Role.WEB and isinstance(processor, PerChatUpdateProcessor):
        app.bot_data[CHAT_TURNS_KEY] = turns = await db.chat_turns()
        processor.share_turns(turns)
    if role.takes_updates:
        await _set_commands(app.bot)
    if not role.polls:
        logger.info("web process ready; the workers poll the providers")
        return
    app.bot_data["poller"] = Poller(
        services, delivery, app.bot, safety_poll_seconds=settings.callback_safety_poll_seconds,
        leases=lease_store(db, settings) if role.leases else None,
    )
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        poll_job,
        interval=settings.poll_interval_seconds,
        first=0.05,
        name=POLLER_JOB,
        # A tick that overruns is not stacked: the next one starts when it is done.
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    app.job_queue.run_repeating(
        auto_cancel_job, interval=AUTO_CANCEL_SECONDS, first=AUTO_CANCEL_SECONDS, name=AUTO_CANCEL_JOB,
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    app.job_queue.run_repeating(
        prune_send_slots_job, interval=PRUNE_SECONDS, first=PRUNE_SECONDS, name=PRUNE_JOB,
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
    logger.info("bot ready; polling providers every %ss", settings.poll_interval_seconds)


async def _start_sandbox(app: App, settings: Settings, sms_delay: float) -> Settings:
    # Imported here: the simulators are not part of the production code path.
    from providers.gotsms.simulator.sim import GotSmsSimulator
    from providers.kiwi.simulator.sim import KiwiSimulator
    from providers.nonvoip.simulator.sim import NonVoipSimulator

    # The simulators start empty, so the bot's sandbox database starts empty with them: never
    # orders the simulators forgot (false "expired" notices, orders stuck waiting).
    reset_sandbox_database(settings.database_path)
    kiwi = KiwiSimulator(sandbox=True, auto_sms_after=sms_delay)
    nonvoip = NonVoipSimulator(sandbox=True, auto_sms_after=sms_delay)
    gotsms = GotSmsSimulator(sandbox=True, auto_sms_after=sms_delay)
    app.bot_data[SANDBOX_KEY] = [kiwi, nonvoip, gotsms]
    # kiwiSMS's webhook is set in its dashboard; in the sandbox the simulator stands in for it.
    app.bot_data[SANDBOX_DASHBOARD_KEY] = kiwi
    for simulator in (kiwi, nonvoip, gotsms):
        await simulator.start()
    logger.info("sandbox: provider simulators on 127.0.0.1; credentials starting with 'demo' work")
    return replace(
        settings, kiwi_base_url=kiwi.base_url, nonvoip_base_url=nonvoip.base_url, gotsms_base_url=gotsms.base_url
    )


def reset_sandbox_database(path: Path) -> None:
    """Delete the sandbox's SQLite file with its WAL and shared-memory files (the next open creates it)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    logger.info("sandbox: database reset (the simulators start empty too)")


SANDBOX_FIRST_STEP = (
    "Sandbox ready. Open your bot in Telegram{link} and send /connect, then choose kiwiSMS and send any "
    "key starting with demo (NonVoipUsNumber: any email starting with demo and any password; GotSMS: any "
    "token starting with demo). Each account starts with $50.00; every number gets a code a few seconds "
    "after it is bought. The sandbox starts empty at every start."
)


def _announce_sandbox(app: App) -> None:
    """What to send the bot first, on stdout (for the person who just started it) and in the log."""
    username = app.bot.username if app.bot else None
    line = SANDBOX_FIRST_STEP.format(link=f" (https://t.me/{username})" if username else "")
    print(line, flush=True)
    logger.info("%s", line)


@asynccontextmanager
async def running(
    app: App, *, poll_timeout: float = 1.0, webhook: WebhookOptions | None = None
) -> AsyncIterator[App]:
    """Run the application inside the caller's event loop (tests, benchmark, `python -m bot`):
    polling Telegram as run_polling would, or with `webhook` (`bot.web.server.webhook_options`)
    behind our own web server (bot/web), as `python -m bot` does with PUBLIC_URL set.

    Started in this order, stopped in reverse: services (post_init), the Application, then
    what feeds it updates (the Updater's long poll, or the web server)."""
    async with started(app) as stack:
        if webhook is not None:
            stack.callback(app.bot_data.pop, WEB_SERVER_KEY, None)
            app.bot_data[WEB_SERVER_KEY] = await stack.enter_async_context(serving_web(app, webhook))
        else:
            assert app.updater is not None
            await app.updater.start_polling(
                poll_interval=0.0, timeout=int(max(1, poll_timeout)), allowed_updates=Update.ALL_TYPES
            )
            stack.push_async_callback(app.updater.stop)
        yield app

