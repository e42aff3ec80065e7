"""The bot as its own process (`python -m bot`), started, SIGKILLed and restarted by a test."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.telegram import FakeTelegram

REPO_ROOT = Path(__file__).resolve().parents[2]
# Variables the bot reads: the test runner's own values must not leak into the bot under test.
BOT_ENV_VARS = (
    "TELEGRAM_BOT_TOKEN", "BOT_ENCRYPTION_KEY", "DATABASE_PATH", "DATABASE_URL", "TELEGRAM_API_BASE_URL",
    "NONVOIP_BASE_URL", "KIWI_BASE_URL", "GOTSMS_BASE_URL", "POLL_INTERVAL_SECONDS",
    "PROVIDER_TIMEOUT_SECONDS", "ALLOWED_USER_IDS", "WEBHOOK_URL", "PUBLIC_URL", "WEBHOOK_LISTEN",
    "WEBHOOK_PORT", "WEBHOOK_SECRET", "LOG_LEVEL",
)


@dataclass(frozen=True)
class BotEnvironment:
    workdir: Path  # cwd of the bot (no stray .env) and home of its database and logs
    token: str
    encryption_key: str
    telegram_api_base_url: str
    kiwi_base_url: str
    nonvoip_base_url: str
    gotsms_base_url: str
    poll_interval_seconds: float = 0.3
    provider_timeout_seconds: float = 1.0
    # A row a killed process had claimed (inserted claimed, not yet sent) waits this long for
    # another sender: short here, so a test sees it delivered within its few seconds.
    outbox_lease_seconds: float = 2.0

    @property
    def database_path(self) -> Path:
        return self.workdir / "bot.sqlite3"

    def variables(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in BOT_ENV_VARS}
        env.update(
            TELEGRAM_BOT_TOKEN=self.token,
            BOT_ENCRYPTION_KEY=self.encryption_key,
            DATABASE_PATH=str(self.database_path),
            TELEGRAM_API_BASE_URL=self.telegram_api_base_url,
            KIWI_BASE_URL=self.kiwi_base_url,
            NONVOIP_BASE_URL=self.nonvoip_base_url,
            GOTSMS_BASE_URL=self.gotsms_base_url,
            POLL_INTERVAL_SECONDS=str(self.poll_interval_seconds),
            PROVIDER_TIMEOUT_SECONDS=str(self.provider_timeout_seconds),
            OUTBOX_LEASE_SECONDS=str(self.outbox_lease_seconds),
            LOG_LEVEL="WARNING",
            PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p),
        )
        return env


class BotProcess:
    """One `python -m bot` after another on the same database: `start`, `kill` (SIGKILL), `start` again."""

    def __init__(self, environment: BotEnvironment, tg: FakeTelegram) -> None:
        self.environment = environment
        self._tg = tg
        self._proc: asyncio.subprocess.Process | None = None
        self.runs = 0
        self.killed_at: list[float] = []  # time.time() of every SIGKILL

    @property
    def log_path(self) -> Path:
        return self.environment.workdir / "bot.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self, timeout: float = 20.0) -> None:
        """Start and wait until the bot asks the fake Bot API for updates (it is then serving)."""
        assert not self.alive, "the previous bot process is still running"
        self.runs += 1
        polls_before = len(self._tg.calls("getUpdates"))
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== run {self.runs} =====\n".encode())
            log.flush()
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.environment.workdir, env=self.environment.variables(),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Nothing to await on the fake's side but its call log; the bot process may also die.
        while len(self._tg.calls("getUpdates")) == polls_before:
            if self._proc.returncode is not None:
                raise AssertionError(f"bot exited with {self._proc.returncode} on start:\n{self.log()[-3000:]}")
            if loop.time() > deadline:
                raise AssertionError(f"bot not polling Telegram after {timeout}s:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL, at once (called from inside the proxy the moment its condition is met)."""
        if self._proc is not None and self._proc.returncode is None:
            self.killed_at.append(time.time())
            os.kill(self._proc.pid, signal.SIGKILL)

    async def wait_dead(self, timeout: float = 20.0) -> None:
        assert self._proc is not None
        try:
            await asyncio.wait_for(self._proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"the bot was not killed within {timeout}s (the kill condition never held)") from None
        assert self._proc.returncode == -signal.SIGKILL, f"bot ended with {self._proc.returncode}, not by SIGKILL"

    async def stop(self) -> None:
        """End of a test: SIGKILL (a graceful stop would wait out Telegram's long poll for nothing)."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
