"""The process roles (bot/roles.py): `web` serves without polling, `worker` polls without taking
updates, and `python -m bot web` refuses to start without PUBLIC_URL."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.app import POLLER_JOB, build_application, running
from bot.auto_cancel import AUTO_CANCEL_JOB
from bot.rate_limits import PRUNE_JOB
from bot.config import Settings
from bot.roles import Role, running_worker
from bot.web.server import webhook_options
from handlers.services import SERVICES_KEY, Services
from storage.database import Database
from tests.clients.common import free_port
from tests.conftest import ENCRYPTION_KEY
from tests.harness.bot_process import REPO_ROOT
from tests.fakes.telegram import FakeTelegram
from tests.helpers import Chat


async def test_a_web_process_answers_users_and_is_healthy_without_a_poller(
    make_settings: Callable[..., Settings], tg: FakeTelegram
) -> None:
    port = free_port()
    settings = make_settings(webhook_url=f"http://127.0.0.1:{port}", webhook_listen="127.0.0.1", webhook_port=port)
    async with running(build_application(settings, role=Role.WEB), webhook=webhook_options(settings)) as app:
        chat = Chat(tg, 1001)
        chat.send("/start")
        await chat.expect("connect a provider")
        assert app.job_queue is not None and not app.job_queue.jobs()  # no poller, no auto-cancel
        assert "poller" not in app.bot_data
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as web:
            response = await web.get("/healthz")
        assert (response.status_code, response.text) == (200, "ok")


async def test_a_worker_polls_under_a_lease_heartbeat_and_takes_no_updates(
    settings: Settings, tg: FakeTelegram
) -> None:
    app = build_application(settings, role=Role.WORKER)
    async with running_worker(app):
        await app.bot_data["poller"].wait_ticks(2)
        assert app.job_queue is not None
        assert {job.name for job in app.job_queue.jobs()} == {POLLER_JOB, AUTO_CANCEL_JOB, PRUNE_JOB}
        services: Services = app.bot_data[SERVICES_KEY]
        assert len(await services.db.fetchall("SELECT worker_id FROM workers")) == 1
    assert tg.calls("getUpdates") == [] and tg.webhook_url == ""
    # Stopped in order, it left the database as if it had never run: no heartbeat, no lease.
    reopened = await Database.open(settings.database_path)
    try:
        assert await reopened.fetchall("SELECT * FROM workers") == []
        assert await reopened.fetchall("SELECT * FROM account_leases") == []
    finally:
        await reopened.close()


async def test_python_m_bot_web_without_public_url_refuses_to_start(tg: FakeTelegram, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_URL", "WEBHOOK_URL", "DATABASE_URL")}
    env |= {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": tg.base_url,
            "BOT_ENCRYPTION_KEY": ENCRYPTION_KEY, "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "PYTHONPATH": str(REPO_ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 2
    assert "PUBLIC_URL" in stderr.decode()
