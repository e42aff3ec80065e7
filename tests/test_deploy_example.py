"""The README's scale-out example, run for real: `python -m deploy.local_cluster` starts PostgreSQL
(pgserver), migrates, runs two web processes behind its round-robin front and three workers,
against the fake Bot API and the kiwiSMS simulator; it serves a chat through the front, and
SIGTERM stops every process it started.

What the example must give an operator: one line per process (with its pid), a front that answers
/healthz and takes Telegram's webhook, and nothing left running after a stop. Delivery across the
processes is tests/test_scale_out.py's subject, not this file's.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
import pytest
from cryptography.fernet import Fernet

from providers.kiwi.simulator.sim import KiwiSimulator
from tests.fakes.telegram import FakeTelegram
from tests.harness.bot_process import BotEnvironment

STARTED = re.compile(r"^started (\w+):? pid (\d+)")
EXPECTED = {"PostgreSQL", "web1", "web2", "worker1", "worker2", "worker3"}
START_TIMEOUT = 35.0  # PostgreSQL's initdb and five Python processes on two shared cores (~6 s idle)
STOP_TIMEOUT = 15.0
UNUSED_PROVIDER = "http://127.0.0.1:9"  # nonvoip and gotsms are not used here: nothing listens


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _running(pid: int) -> bool:
    """Alive and not a zombie (PostgreSQL's postmaster is not our child: nobody here reaps it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeTelegram, KiwiSimulator]]:
    tg, kiwi = FakeTelegram(), KiwiSimulator()
    await tg.start()
    await kiwi.start()
    try:
        yield tg, kiwi
    finally:
        await kiwi.stop()
        await tg.stop()


async def _read_until_ready(stdout: asyncio.StreamReader, lines: list[str], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not (lines and lines[-1].startswith("ready:")):
        remaining = deadline - time.monotonic()
        try:
            raw = await asyncio.wait_for(stdout.readline(), max(remaining, 0.01))
        except TimeoutError:
            raw = None
        if not raw:
            log_tail = log.read_text(errors="replace")[-3000:]
            pytest.fail(f"the example did not get ready (stdout so far: {lines}):\n{log_tail}")
        lines.append(raw.decode().rstrip("\n"))


async def test_local_cluster_serves_through_its_front_and_stops_every_process(
    world: tuple[FakeTelegram, KiwiSimulator], tmp_path: Path
) -> None:
    tg, kiwi = world
    started_at = time.monotonic()
    front, web_ports = _free_port(), [_free_port(), _free_port()]
    public_url = f"http://127.0.0.1:{front}"
    environment = BotEnvironment(
        workdir=tmp_path, token=tg.token, encryption_key=Fernet.generate_key().decode(),
        telegram_api_base_url=tg.base_url, kiwi_base_url=kiwi.base_url,
        nonvoip_base_url=UNUSED_PROVIDER, gotsms_base_url=UNUSED_PROVIDER, poll_interval_seconds=0.3,
    )
    # Not under pytest's private temp root: run as root, PostgreSQL runs as pgserver's own user.
    data_dir = Path(tempfile.gettempdir()) / f"otp-rental-bot-deploy-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "cluster.log"
    with open(log, "wb") as stderr:
        example = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "deploy.local_cluster", "--port", str(front), "--listen", "127.0.0.1",
            "--web-ports", ",".join(map(str, web_ports)), "--data-dir", str(data_dir),
            cwd=tmp_path, env=environment.variables() | {"PUBLIC_URL": public_url},
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )
    assert example.stdout is not None
    lines: list[str] = []
    pids: dict[str, int] = {}
    try:
        await _read_until_ready(example.stdout, lines, log)
        pids = {m[1]: int(m[2]) for line in lines if (m := STARTED.match(line))}
        assert set(pids) == EXPECTED, lines
        assert all(_running(pid) for pid in pids.values()), lines
        assert f"{public_url}/telegram" in lines[-1], lines[-1]
        secrets = (environment.token, environment.encryption_key, tg.webhook_secret or "")
        assert not [s for s in secrets if s and s in "\n".join(lines)], "a secret reached the example's output"

        # The front answers for the web processes, and Telegram was told to post to it.
        async with httpx.AsyncClient(timeout=5.0) as http:
            answers = [await http.get(f"{public_url}/healthz") for _ in web_ports]  # round robin: each once
        assert [(a.status_code, a.text) for a in answers] == [(200, "ok")] * len(web_ports)
        assert tg.webhook_url == f"{public_url}/telegram"

        # A user's /start goes Telegram -> front -> a web process, and the answer comes back.
        chat_id = 4242
        tg.register_chat(chat_id)
        tg.user_sends(chat_id, "/start")
        await tg.wait_for_text(chat_id, "Hi", timeout=10.0)

        example.send_signal(signal.SIGTERM)
        await asyncio.wait_for(example.wait(), STOP_TIMEOUT)
        rest = (await example.stdout.read()).decode()
        assert example.returncode == 0, f"{rest}\n{log.read_text(errors='replace')[-3000:]}"
        assert [name for name, pid in pids.items() if _running(pid)] == [], rest
        assert [p.pid for p in psutil.process_iter(["cmdline"]) if str(data_dir) in " ".join(p.info["cmdline"] or [])
                and p.status() != psutil.STATUS_ZOMBIE] == [], "a PostgreSQL process outlived the example"
    finally:
        if example.returncode is None:
            example.kill()
            await example.wait()
        for pid in pids.values():
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)
    # ~10 s on an idle machine; the bound leaves room for a loaded one (the suite runs 4 at once).
    assert time.monotonic() - started_at < 45, "the deploy example test is meant to stay fast"
