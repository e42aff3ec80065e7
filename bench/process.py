"""The bot under test as its own process: start, wait for its first poll, stop; its RSS and CPU."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Variables the bot reads: the parent's values must not leak into the bot under test.
BOT_ENV_VARS = (
    "TELEGRAM_BOT_TOKEN", "BOT_ENCRYPTION_KEY", "DATABASE_PATH", "TELEGRAM_API_BASE_URL",
    "NONVOIP_BASE_URL", "KIWI_BASE_URL", "GOTSMS_BASE_URL", "POLL_INTERVAL_SECONDS",
    "PROVIDER_TIMEOUT_SECONDS", "ALLOWED_USER_IDS", "WEBHOOK_URL", "WEBHOOK_LISTEN",
    "WEBHOOK_PORT", "WEBHOOK_SECRET", "LOG_LEVEL", "PUBLIC_URL", "CALLBACK_SAFETY_POLL_SECONDS",
    "DATABASE_URL", "OUTBOX_LEASE_SECONDS", "TELEGRAM_MESSAGES_PER_SECOND", "TELEGRAM_CHAT_MESSAGES_PER_SECOND",
)


def proc_status_kb(pid: int, field: str) -> int | None:
    """A "VmRSS:  1234 kB" style field of /proc/<pid>/status."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class BotProcess:
    """`python -m bot [role]` in a temp dir (so no stray .env is loaded), its output in <name>.log,
    its RSS sampled."""

    def __init__(self, proc: asyncio.subprocess.Process, log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path
        self.peak_rss_kb = 0  # max VmRSS sampled once a second
        self.vm_hwm_kb: int | None = None  # the kernel's own peak, read just before stopping
        self._stop_sampling = asyncio.Event()
        self._sampler = asyncio.create_task(self._sample_rss())

    @classmethod
    async def start(cls, workdir: Path, env_values: dict[str, str], profile: str | None = None, *,
                    role: str | None = None, name: str = "bot") -> "BotProcess":
        env = {k: v for k, v in os.environ.items() if k not in BOT_ENV_VARS}
        env.update(env_values)
        # cwd is the temp dir; the package comes from PYTHONPATH.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        log_path = workdir / f"{name}.log"
        profiler = ["-m", "cProfile", "-o", str(Path(profile).resolve())] if profile else []
        with open(log_path, "wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *profiler, "-m", "bot", *([role] if role else []), cwd=workdir, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )
        return cls(proc, log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float | None:
        return proc_cpu_seconds(self.pid)

    async def wait_until(self, ready: Callable[[], bool], timeout: float = 30.0) -> float:
        """Until `ready()` (e.g. every provider saw its first poll); returns seconds waited."""
        start = time.monotonic()
        while not ready():
            if self.proc.returncode is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode} before polling")
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"bot not polling after {timeout:.0f}s")
            await asyncio.sleep(0.02)  # the poll is seen in another process's simulator: no event to await
        return time.monotonic() - start

    async def _sample_rss(self) -> None:
        while not self._stop_sampling.is_set():
            kb = proc_status_kb(self.pid, "VmRSS")
            if kb is not None:
                self.peak_rss_kb = max(self.peak_rss_kb, kb)
            try:
                await asyncio.wait_for(self._stop_sampling.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass

    def read_peak(self) -> None:
        """VmHWM while the process still exists (after exit /proc has nothing)."""
        self.vm_hwm_kb = proc_status_kb(self.pid, "VmHWM")

    @property
    def peak_rss_mb(self) -> float:
        """The larger of the kernel's high-water mark and the sampled maximum."""
        return max(self.peak_rss_kb, self.vm_hwm_kb or 0) / 1024

    async def stop(self) -> int:
        self._stop_sampling.set()
        await self._sampler
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)  # run_polling shuts down gracefully on SIGTERM
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=20.0)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode if self.proc.returncode is not None else -1

    def warnings(self) -> list[str]:
        """The bot's log (LOG_LEVEL=WARNING: every line is a problem)."""
        return [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
