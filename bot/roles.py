"""What one process does: everything (`python -m bot`), the web side only (`python -m bot web`), or
the background work only (`python -m bot worker`).

* all: as it always was, one process: updates (long polling or our web server), the poller over
  every account, the outbox, auto-cancel.
* web: the ASGI application (Telegram's updates by webhook, provider callbacks, /healthz,
  /metrics), N copies behind a load balancer. It keeps nothing of its own that another copy would
  need: conversation steps, orders, the outbox are in the database; what it holds in memory
  (catalogue and section-title caches, provider clients) is a cache. A callback it receives is
  stored and sent by itself at once (bot/hooks/receiver.py). No poller, no auto-cancel.
* worker: the poller (over the accounts the database leases it, storage/leases.py), the outbox
  flush it ends each tick with, auto-cancel; no web server and no getUpdates.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.lifecycle import started
from storage.database import Database
from storage.leases import LeaseStore

if TYPE_CHECKING:
    from bot.app import App

logger = logging.getLogger(__name__)

ROLE_KEY = "role"  # bot_data: the process's Role
# A worker holds an account this many poll intervals without renewing: one killed loses its
# accounts to the others within that time (its heartbeat stops counting after the same time).
LEASE_INTERVALS = 2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Role(StrEnum):
    ALL = "run"
    WEB = "web"
    WORKER = "worker"

    @property
    def polls(self) -> bool:
        """Runs the poller, the outbox flush and auto-cancel."""
        return self is not Role.WEB

    @property
    def takes_updates(self) -> bool:
        """Receives Telegram's updates (and so sets the command menu)."""
        return self is not Role.WORKER

    @property
    def leases(self) -> bool:
        """Polls only the accounts the database leases it (one of several workers)."""
        return self is Role.WORKER


def role_of(app: "App") -> Role:
    role = app.bot_data.get(ROLE_KEY, Role.ALL)
    return role if isinstance(role, Role) else Role.ALL


def new_worker_id() -> str:
    """Unique per process start (a restarted worker is a new one: its old leases run out)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_store(db: Database, settings: Settings) -> LeaseStore:
    return LeaseStore(db, new_worker_id(), timedelta(seconds=LEASE_INTERVALS * settings.poll_interval_seconds))


@asynccontextmanager
async def running_worker(app: "App") -> AsyncIterator["App"]:
    """Run a worker's application inside the caller's event loop: services and jobs (post_init),
    the Application's job queue, and nothing that takes updates (no Updater, no web server)."""
    async with started(app):
        yield app


async def serve_worker(app: "App") -> None:
    """`python -m bot worker`: until SIGINT or SIGTERM, then an orderly stop (its leases given back)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running_worker(app):
            logger.info("worker running")
            await stop.wait()
            logger.info("stop signal received; stopping")
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
