"""Where the CPU went: seconds per group of processes (the bot's processes, PostgreSQL, the
benchmark's own simulators and fake Telegram) and the machine as a whole, between two samples."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.process import proc_cpu_seconds, self_cpu_seconds


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of every core since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def tree_cpu_seconds(root_pid: int) -> float:
    """A server and every process under it, the exited ones it has reaped included (PostgreSQL's
    backends come and go under its postmaster)."""
    try:
        root = psutil.Process(root_pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
            except psutil.NoSuchProcess:
                continue  # exited between listing and reading: its time is in the reaped figure soon
        return total
    except psutil.NoSuchProcess:
        return 0.0


@dataclass(frozen=True)
class CpuGroup:
    name: str
    seconds: Callable[[], float]  # CPU seconds used so far (cumulative)


def process_group(name: str, pids: Iterable[int]) -> CpuGroup:
    pid_list = list(pids)
    return CpuGroup(name, lambda: sum(proc_cpu_seconds(pid) or 0.0 for pid in pid_list))


def server_group(name: str, root_pid: int) -> CpuGroup:
    return CpuGroup(name, lambda: tree_cpu_seconds(root_pid))


def own_group(name: str) -> CpuGroup:
    return CpuGroup(name, self_cpu_seconds)


@dataclass(frozen=True)
class CpuSample:
    groups: dict[str, float]
    machine_busy: float
    machine_total: float


def sample(groups: Iterable[CpuGroup]) -> CpuSample:
    busy, total = machine_cpu_seconds()
    return CpuSample({g.name: g.seconds() for g in groups}, busy, total)


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds per group between two samples, over `seconds` of wall time."""

    seconds: float
    groups: dict[str, float]
    machine_busy: float  # every process on the machine, ours or not
    cores: int

    def share(self, seconds: float) -> float:
        """As a share of one core."""
        return seconds / self.seconds if self.seconds > 0 else 0.0

    @property
    def machine_share(self) -> float:
        """As a share of the whole machine (all cores)."""
        return self.machine_busy / (self.seconds * self.cores) if self.seconds > 0 else 0.0

    @property
    def unaccounted(self) -> float:
        return max(0.0, self.machine_busy - sum(self.groups.values()))


def split(before: CpuSample, after: CpuSample, wall_seconds: float) -> CpuSplit:
    groups = {name: after.groups[name] - before.groups.get(name, 0.0) for name in after.groups}
    return CpuSplit(wall_seconds, groups, after.machine_busy - before.machine_busy, psutil.cpu_count() or 1)
