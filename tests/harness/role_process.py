"""One `python -m bot web` or `python -m bot worker` process of a scaled-out bot, on a shared
database: started, SIGKILLed, stopped by a test."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.harness.bot_process import BotEnvironment


@dataclass
class RoleProcess:
    """`role` is "web" or "worker"; `extra` are its own variables (its port, the database URL)."""

    role: str
    name: str
    environment: BotEnvironment
    extra: dict[str, str] = field(default_factory=dict)
    killed_at: float | None = None  # time.time() of the SIGKILL
    _proc: asyncio.subprocess.Process | None = None

    @property
    def log_path(self) -> Path:
        return self.environment.workdir / f"{self.name}.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        """Start; readiness is the test's to await (a web process's /healthz, a worker's heartbeat)."""
        with open(self.log_path, "ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", self.role, cwd=self.environment.workdir,
                env=self.environment.variables() | self.extra,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )

    def exited(self) -> str | None:
        """Why it is no longer running (with its log), or None while it runs."""
        if self._proc is None or self._proc.returncode is None:
            return None
        return f"{self.name} exited with {self._proc.returncode}:\n{self.log()[-3000:]}"

    def kill(self) -> None:
        if self.alive:
            self.killed_at = time.time()
            os.kill(self.pid, signal.SIGKILL)

    async def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()


async def wait_healthy(process: RoleProcess, url: str, timeout: float = 20.0) -> None:
    """Until the web process answers 200 on /healthz (it then serves), or fail with its log."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            if (why := process.exited()) is not None:
                raise AssertionError(why)
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass  # not listening yet
            if loop.time() > deadline:
                raise AssertionError(f"{process.name} not healthy after {timeout}s:\n{process.log()[-3000:]}")
            await asyncio.sleep(0.05)
